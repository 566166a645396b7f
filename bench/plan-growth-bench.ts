/**
 * `npm run bench`, growth: plans clusters of 5,000, 20,000 and 50,000 nodes (bench-cluster.ts,
 * 1.34.6 -> 1.37.1) and prints, side by side, the steps, the time and the heap each plan retains
 * (every step keeps the cluster state after it), with the retained heap per step: linear growth
 * means the same figure per step at every size. Target: no more than 4 KB per step at 50,000
 * nodes (it was 8.6 KB when the node table copied an index of the whole cluster at every step).
 * Prints "within targets" or "OVER TARGET"; the exit code says only whether the benchmark broke.
 */
import { planUpgrade } from "../planning/plan";
import { ReleaseCatalogue } from "../planning/releases";
import { KubeVersion } from "../planning/versions";
import { benchCluster } from "./bench-cluster";

const SIZES = [5_000, 20_000, 50_000];
const TARGET_KB_PER_STEP = 4;

function heapBytes(): number {
  global.gc?.();
  return process.memoryUsage().heapUsed;
}

if (!global.gc) throw new Error("run with node --expose-gc: the retained heap cannot be measured otherwise");
const catalogue = ReleaseCatalogue.embedded();
const target = KubeVersion.of(1, 37, 1);
const now = new Date("2026-11-21");
console.log("growth:   nodes    steps    time   retained   per step");
let last = 0;
for (const size of SIZES) {
  const spec = benchCluster(size);
  const before = heapBytes();
  const start = process.hrtime.bigint();
  let plan: ReturnType<typeof planUpgrade> | undefined = planUpgrade(spec, target, { catalogue, now });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const retained = heapBytes() - before;
  last = retained / plan.steps.length / 1024;
  console.log(`        ${String(size).padStart(7)} ${String(plan.steps.length).padStart(8)} ${ms.toFixed(0).padStart(6)} ms ${(retained / 2 ** 20).toFixed(0).padStart(6)} MB ${last.toFixed(1).padStart(6)} KB`);
  plan = undefined;
}
console.log(`target: at most ${TARGET_KB_PER_STEP} KB retained per step at ${SIZES[SIZES.length - 1]} nodes`);
console.log(last <= TARGET_KB_PER_STEP ? "within targets" : "OVER TARGET (a figure, not a failure: the exit code is 0)");
