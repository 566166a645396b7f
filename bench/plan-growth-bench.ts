/**
 * `npm run bench`, growth: plans clusters of 5,000, 20,000 and 50,000 nodes (bench-cluster.ts,
 * 1.34.6 -> 1.37.1) and prints, side by side, the steps, the time and the heap each plan retains
 * (every step keeps the cluster state after it), with the retained heap per step: linear growth
 * means the same figure per step at every size. Target: no more than 4 KB per step at 50,000
 * nodes (it was 8.6 KB when the node table copied an index of the whole cluster at every step).
 * Then, for the same plans, the size of `npm run plan -- --json`'s text (MB, and KB per step)
 * and the `dependsOn` edges the program registers (per command; and what linking consecutive
 * batches all-to-all would register). Targets, linear growth: the same JSON per step at every
 * size (within 10% of the 5,000-node figure), and at most 2 edges per command (each command
 * waits for the one before it, and is waited for by one barrier or one step at most).
 * Prints "within targets" or "OVER TARGET"; the exit code says only whether the benchmark broke.
 */
import { planCommands } from "../planning/commands";
import { planUpgrade } from "../planning/plan";
import { ReleaseCatalogue } from "../planning/releases";
import { planToJson } from "../planning/render";
import { KubeVersion } from "../planning/versions";
import { BENCH_EXECUTION, benchCluster } from "./bench-cluster";

const SIZES = [5_000, 20_000, 50_000];
const TARGET_KB_PER_STEP = 4;
const TARGET_JSON_GROWTH = 1.1;
const TARGET_EDGES_PER_COMMAND = 2;

/**
 * Bytes of `JSON.stringify(value, null, 2)` (what `npm run plan -- --json` prints, less its
 * newline), counted value by value down to the elements of the top object's arrays, so that no
 * one string holds the whole text: V8 caps a string at about 512 M characters, near the JSON of
 * a 50,000-node plan. `depth`: the nesting level of `value` (0 for the top object).
 */
function prettyJsonBytes(value: unknown, depth = 0): number {
  const v = typeof (value as { toJSON?: unknown } | null)?.toJSON === "function" ? (value as { toJSON(): unknown }).toJSON() : value;
  const pad = 2 * (depth + 1);
  const close = 1 + 2 * depth + 1; // "\n", the indent, "]" or "}"
  if (depth < 2 && Array.isArray(v) && v.length > 0) {
    return 2 + v.reduce((n: number, e) => n + pad + prettyJsonBytes(e ?? null, depth + 1), 0) + 2 * (v.length - 1) + close;
  }
  if (depth === 0 && typeof v === "object" && v !== null && !Array.isArray(v)) {
    const entries = Object.entries(v).filter(([, e]) => e !== undefined);
    return 2 + entries.reduce((n, [k, e]) => n + pad + Buffer.byteLength(JSON.stringify(k)) + 2 + prettyJsonBytes(e, depth + 1), 0) + 2 * (entries.length - 1) + close;
  }
  const text = JSON.stringify(v, null, 2);
  return Buffer.byteLength(text) + (text.split("\n").length - 1) * 2 * depth;
}

function heapBytes(): number {
  global.gc?.();
  return process.memoryUsage().heapUsed;
}

if (!global.gc) throw new Error("run with node --expose-gc: the retained heap cannot be measured otherwise");
const catalogue = ReleaseCatalogue.embedded();
const target = KubeVersion.of(1, 37, 1);
const now = new Date("2026-11-21");
console.log("growth:   nodes    steps    time   retained   per step      JSON   per step     edges   per command   all-to-all");
let last = 0;
const jsonPerStep: number[] = [];
let edgesPerCommand = 0;
for (const size of SIZES) {
  const spec = benchCluster(size);
  const before = heapBytes();
  const start = process.hrtime.bigint();
  let plan: ReturnType<typeof planUpgrade> | undefined = planUpgrade(spec, target, { catalogue, now });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const retained = heapBytes() - before;
  last = retained / plan.steps.length / 1024;
  const { commands, barriers } = planCommands(plan, BENCH_EXECUTION);
  const fanIn = new Map(barriers.map((b) => [b.key, b.dependsOn.length]));
  const edges = commands.reduce((n, c) => n + c.dependsOn.length, 0) + barriers.reduce((n, b) => n + b.dependsOn.length, 0);
  // Without barriers, each command waiting on a barrier would wait on every command the barrier waits for.
  const allToAll = commands.reduce((n, c) => n + c.dependsOn.reduce((m, d) => m + (fanIn.get(d) ?? 1), 0), 0);
  const jsonBytes = prettyJsonBytes(planToJson(plan, commands));
  jsonPerStep.push(jsonBytes / plan.steps.length / 1024);
  edgesPerCommand = edges / commands.length;
  console.log(
    `        ${String(size).padStart(7)} ${String(plan.steps.length).padStart(8)} ${ms.toFixed(0).padStart(6)} ms ${(retained / 2 ** 20).toFixed(0).padStart(6)} MB ${last.toFixed(1).padStart(6)} KB` +
      ` ${(jsonBytes / 2 ** 20).toFixed(0).padStart(6)} MB ${jsonPerStep[jsonPerStep.length - 1]!.toFixed(2).padStart(7)} KB ${String(edges).padStart(9)} ${edgesPerCommand.toFixed(2).padStart(13)} ${String(allToAll).padStart(12)}`,
  );
  plan = undefined;
}
const jsonGrowth = jsonPerStep[jsonPerStep.length - 1]! / jsonPerStep[0]!;
console.log(`target: at most ${TARGET_KB_PER_STEP} KB retained per step at ${SIZES[SIZES.length - 1]} nodes`);
console.log(`target: linear: JSON per step at ${SIZES[SIZES.length - 1]} nodes within ${TARGET_JSON_GROWTH}x of ${SIZES[0]} nodes' (${jsonGrowth.toFixed(2)}x); at most ${TARGET_EDGES_PER_COMMAND} dependsOn edges per command (${edgesPerCommand.toFixed(2)})`);
const ok = last <= TARGET_KB_PER_STEP && jsonGrowth <= TARGET_JSON_GROWTH && edgesPerCommand <= TARGET_EDGES_PER_COMMAND;
console.log(ok ? "within targets" : "OVER TARGET (a figure, not a failure: the exit code is 0)");
