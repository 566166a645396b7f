/** Shared bits of the lab-harness tests: a temp lab dir with a minimal stand-ins dir. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface TempLab {
  readonly labDir: string;
  readonly standinsDir: string;
  readonly root: string;
  remove(): void;
}

/** A temp dir holding `lab/` and `standins/` with a `sudo` stand-in that runs its arguments. */
export function tempLab(prefix: string): TempLab {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const labDir = path.join(root, "lab");
  const standinsDir = path.join(root, "standins");
  fs.mkdirSync(labDir);
  fs.mkdirSync(standinsDir);
  fs.writeFileSync(path.join(standinsDir, "sudo"), '#!/usr/bin/env bash\nexec "$@"\n', { mode: 0o755 });
  fs.writeFileSync(
    path.join(standinsDir, "whereami"),
    '#!/usr/bin/env bash\necho "node=$CM_LAB_NODE root=$CM_NODE_ROOT lab=$CM_LAB_DIR args=$*"\n',
    { mode: 0o755 },
  );
  return { labDir, standinsDir, root, remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** The way a component runs a node script: script text on stdin, arguments after the name. */
export function scriptCommand(name: string, args: readonly string[]): string {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  return `sudo bash -c 's=$(cat) && exec bash -c "$s" "$0" "$@"' ${name} ${quoted}`.trimEnd();
}

/** Lines of a file, [] when it does not exist. */
export function lines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "") : [];
}
