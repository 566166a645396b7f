/**
 * `npm run bench` (issue 10 item 11): every part runs and prints its figures and targets; the exit
 * code says only whether a part itself broke, never that a figure is over its target.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..");
const benchLine = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts.bench!;

/** Runs the bench line with stand-ins for node and tsx that print what ran and exit as told. */
function runLine(nodeExit: number, tsxExit: number): { code: number | null; out: string } {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "cm-bench-"));
  try {
    for (const [name, code] of [["node", nodeExit], ["tsx", tsxExit]] as const) {
      fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho "${name} $*"\nexit ${code}\n`, { mode: 0o755 });
    }
    const r = spawnSync("sh", ["-c", benchLine], { cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    return { code: r.status, out: r.stdout };
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
}

describe("npm run bench", () => {
  it("runs the start, snapshot and live parts even when the plan part exits non-zero, and exits non-zero when any part broke", () => {
    const broken = runLine(1, 0);
    expect(broken.out).toContain("node --expose-gc --import tsx bench/plan-bench.ts");
    expect(broken.out).toContain("node --expose-gc --import tsx bench/plan-growth-bench.ts");
    expect(broken.out).toContain("tsx bench/start-bench.ts");
    expect(broken.out).toContain("tsx bench/snapshot-bench.ts");
    expect(broken.out).toContain("tsx bench/live-bench.ts");
    expect(broken.code).not.toBe(0);
    expect(runLine(0, 1).code).not.toBe(0);
    expect(runLine(0, 0).code).toBe(0);
  });

  it("plan-bench over its targets prints every figure with its target and OVER TARGET, and exits 0", () => {
    const r = spawnSync("node", ["--expose-gc", "--import", "tsx", "bench/plan-bench.ts"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, CM_BENCH_PLAN_TARGET_MS: "0", CM_BENCH_PLAN_TARGET_MB: "1" },
      timeout: 120_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^time: .*\(target < 0 ms\)$/m);
    expect(r.stdout).toMatch(/^memory: .*\(target < 1 MB peak\)$/m);
    expect(r.stdout).toContain("OVER TARGET");
  }, 130_000);

  it("start-bench prints npm run plan's start through npm, alone and under tsx, with its target, and exits 0 over it", () => {
    const r = spawnSync("node", ["--import", "tsx", "bench/start-bench.ts"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, CM_BENCH_START_TARGET_MS: "0" },
      timeout: 120_000,
    });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toMatch(/^start: npm run plan -- --stack dev, process start to exit, median of 7: \d+ ms through npm; \d+ ms the launcher alone \(target < 0 ms\), [\d.]+x faster than tsx cli\/plan\.ts \(\d+ ms\)$/m);
    expect(r.stdout).toContain("OVER TARGET");
  }, 130_000);
});
