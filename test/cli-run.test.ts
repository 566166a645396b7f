/**
 * cli/run.js, the launcher of `npm run plan` and `npm run restore`: it compiles an entry once
 * into its cache, runs the cached build while no source changed, and compiles again after a
 * change to any source the entry imports.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runPlan } from "../cli/plan";
import { captured, PROJECT_ROOT } from "./helpers/cli";

/** A scratch project: the launcher, an entry cli/hello.ts importing lib/message.ts, and esbuild. */
function scratch(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-run-"));
  fs.mkdirSync(path.join(dir, "cli"));
  fs.mkdirSync(path.join(dir, "lib"));
  fs.mkdirSync(path.join(dir, "node_modules"));
  fs.copyFileSync(path.join(PROJECT_ROOT, "cli", "run.js"), path.join(dir, "cli", "run.js"));
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules", "esbuild"), path.join(dir, "node_modules", "esbuild"));
  fs.writeFileSync(path.join(dir, "cli", "hello.ts"), [
    'import { message } from "../lib/message";',
    "if (require.main === module) {",
    "  process.stdout.write(message(process.argv.slice(2)));",
    "  process.exitCode = 3;",
    "}",
  ].join("\n"));
  write(dir, "one", 1_000_000);
  return dir;
}

/** Writes lib/message.ts saying `word`, with its mtime set to `seconds` (epoch). */
function write(dir: string, word: string, seconds: number): void {
  const file = path.join(dir, "lib", "message.ts");
  fs.writeFileSync(file, `export const message = (args: readonly string[]): string => \`${word} \${args.join(",")}\\n\`;\n`);
  fs.utimesSync(file, seconds, seconds);
}

const run = (dir: string, ...args: string[]) => spawnSync(process.execPath, [path.join(dir, "cli", "run.js"), ...args], { cwd: dir, encoding: "utf8" });

describe("a scratch project", () => {
  let dir = "";
  beforeAll(() => {
    dir = scratch();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const built = () => fs.statSync(path.join(dir, "node_modules", ".cache", "cluster-maintenance-cli", "hello.js")).mtimeMs;

  it("compiles the entry on the first start and runs it as the main module, with its arguments and exit code", async () => {
    const r = run(dir, "hello", "a", "b");
    expect([r.stdout, r.stderr, r.status]).toEqual(["one a,b\n", "", 3]);
  });

  it("runs the cached build while no source changed", async () => {
    const before = built();
    expect(run(dir, "hello", "c").stdout).toBe("one c\n");
    expect(built()).toBe(before);
  });

  it("compiles again after an imported source changed, even to an older mtime", async () => {
    write(dir, "two", 2_000_000);
    expect(run(dir, "hello", "d").stdout).toBe("two d\n");
    write(dir, "three", 500_000);
    expect(run(dir, "hello", "e").stdout).toBe("three e\n");
  });

  it("refuses an entry that is not a file of cli/ (exit 2)", async () => {
    for (const name of ["nope", "../lib/message", ""]) {
      const r = run(dir, name);
      expect([r.status, r.stdout]).toEqual([2, ""]);
      expect(r.stderr).toMatch(/^usage: node cli\/run\.js <name> \[args\.\.\.\], where cli\/<name>\.ts exists/);
    }
  });

  it("fails with esbuild's message and exit 1 when a source does not compile", async () => {
    write(dir, "four`; export const broken = (;", 3_000_000);
    const r = run(dir, "hello");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("lib/message.ts");
    expect(r.stderr).toContain("cli/run.js: cannot compile cli/hello.ts");
  });
});

it("npm run plan's launcher prints what the plan command prints, with its exit codes", async () => {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "cli", "run.js"), "plan", "--stack", "dev", "--json"], { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  const inProcess = await captured((io) => runPlan(["--stack", "dev", "--json"], { ...io, env: { HOME: "/nonexistent" } }));
  expect([r.status, r.stderr]).toEqual([0, ""]);
  expect(r.stdout).toBe(inProcess.out);
  const bad = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "cli", "run.js"), "plan", "--stack", "nope"], { cwd: PROJECT_ROOT, encoding: "utf8" });
  expect([bad.status, bad.stdout]).toEqual([1, ""]);
  expect(bad.stderr).toMatch(/^error: invalid input: --stack: has no stack file/);
});
