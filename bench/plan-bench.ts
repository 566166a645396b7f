/**
 * `npm run bench`: plans the upgrade of a 5,000-node cluster (the Kubernetes scalability
 * limit, https://kubernetes.io/docs/setup/best-practices/cluster-large/) across 3 hops
 * (1.34.6 -> 1.37.1) and prints the time and memory it takes.
 * Targets: under 1 s per plan and under 300 MB peak resident memory (CM_BENCH_PLAN_TARGET_MS and
 * CM_BENCH_PLAN_TARGET_MB override them, for the test of this file). Prints every figure with its
 * target and "within targets" or "OVER TARGET"; the exit code says only whether the benchmark
 * itself broke (a busy machine is no failure, and `npm run bench` goes on to its other parts).
 */
import { planUpgrade } from "../planning/plan";
import { benchCluster, CONTROL_PLANE } from "./bench-cluster";
import { ReleaseCatalogue } from "../planning/releases";
import { KubeVersion } from "../planning/versions";

const NODES = 5000;
const TARGET_MS = Number(process.env.CM_BENCH_PLAN_TARGET_MS ?? 1000);
const TARGET_MB = Number(process.env.CM_BENCH_PLAN_TARGET_MB ?? 300);

function heapMb(): number {
  global.gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

const spec = benchCluster(NODES);
const target = KubeVersion.of(1, 37, 1);
const catalogue = ReleaseCatalogue.embedded();
const now = new Date("2026-11-21");

const rssMb = () => process.resourceUsage().maxRSS / 1024;
const baselineMb = rssMb();
const heapBefore = heapMb();
const coldStart = process.hrtime.bigint();
let plan = planUpgrade(spec, target, { catalogue, now });
const coldMs = Number(process.hrtime.bigint() - coldStart) / 1e6;
const peakMb = rssMb();
const retained = heapMb() - heapBefore;
const times: number[] = [];
for (let run = 0; run < 5; run++) {
  global.gc?.();
  const start = process.hrtime.bigint();
  plan = planUpgrade(spec, target, { catalogue, now });
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;

console.log(`plan: ${NODES} nodes (${CONTROL_PLANE} control plane, 4 pools), ${plan.hops.length} hops, ${plan.steps.length} steps, each with the cluster state after it`);
console.log(`time:   first plan ${coldMs.toFixed(0)} ms (cold JIT); then median ${median.toFixed(0)} ms, best ${times[0]!.toFixed(0)} ms, worst ${times[times.length - 1]!.toFixed(0)} ms over ${times.length} runs (target < ${TARGET_MS} ms)`);
console.log(`memory: peak RSS ${peakMb.toFixed(0)} MB during the first plan, of which ${baselineMb.toFixed(0)} MB is the Node.js + tsx runtime before planning; the plan retains ${global.gc ? `${retained.toFixed(0)} MB of heap` : "n/a (run with --expose-gc)"} (target < ${TARGET_MB} MB peak)`);
const ok = coldMs < TARGET_MS && median < TARGET_MS && peakMb < TARGET_MB;
console.log(ok ? "within targets" : "OVER TARGET (a figure, not a failure: the exit code is 0)");
