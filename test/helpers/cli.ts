/** Running a command-line entry point in-process, and a scratch project for it. */
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliIo } from "../../cli/io";

/** The project's root directory (Pulumi.yaml, the stack files). */
export const PROJECT_ROOT = join(__dirname, "..", "..");

/** What an entry point returned and wrote. */
export interface Captured {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `main` with an io that collects what it writes. */
export function captured(main: (io: CliIo) => number, cwd?: string): Captured;
/** Runs an async `main` (npm run plan) with an io that collects what it writes. */
export function captured(main: (io: CliIo) => Promise<number>, cwd?: string): Promise<Captured>;
export function captured(main: (io: CliIo) => number | Promise<number>, cwd = PROJECT_ROOT): Captured | Promise<Captured> {
  let out = "";
  let err = "";
  const code = main({ cwd, out: (t) => (out += t), err: (t) => (err += t) });
  return typeof code === "number" ? { code, out, err } : code.then((c) => ({ code: c, out, err }));
}

/** A project directory with the real Pulumi.yaml and the given stack file text. */
export function scratchProject(stack: string, yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "cm-project-"));
  copyFileSync(join(PROJECT_ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  writeFileSync(join(dir, `Pulumi.${stack}.yaml`), yaml);
  return dir;
}
