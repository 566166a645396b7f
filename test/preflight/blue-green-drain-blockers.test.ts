/**
 * Regression: a blue-green pool's replacement drains its old nodes (the pool-replace step's
 * `drain-blue` action: pool-node.sh remove runs kubectl drain with the pool's drain settings,
 * evicting unless drain.disableEviction), in batches of the pool's batchSize. The go/no-go
 * check once took only steps with a `drain` action, so a PodDisruptionBudget allowing no
 * disruption over pods on those nodes left the hop GO, and the drain then stopped at its timeout.
 */
import { planUpgrade } from "../../planning/plan";
import { drainBatches, drainFindings } from "../../preflight/drain-blockers";
import { judge } from "../../preflight/findings";
import { judgedHops } from "../../preflight/readiness";
import type { WorkloadPod } from "../../preflight/workloads";
import { CATALOGUE, devCluster, v } from "../helpers/plan-arbitraries";

it("a budget allowing no disruption over a pod on a blue-green pool's old node makes the hop replacing the pool no-go", () => {
  // dev: cp-1..3 and general-1..4 (rolling) and batch-1..3 (blue-green) at 1.34.6, to 1.35.9: batch is replaced in hop 1.
  // The pool's blue-green settings, as the stack config always gives a blue-green pool (without them it has no commands).
  const blueGreen = { size: 3, batchSize: 2, batchSoakSeconds: 0, soakSeconds: 600, managed: true, readyTimeoutSeconds: 600, drainTimeoutSeconds: 600 };
  const dev = devCluster();
  const cluster = { ...dev, pools: dev.pools.map((p) => (p.name === "batch" ? { ...p, blueGreen } : p)) };
  const plan = planUpgrade(cluster, v("1.35.9"), { catalogue: CATALOGUE, now: new Date("2026-11-28") });
  expect(drainBatches(plan).filter((b) => b.pool === "batch").map((b) => `${b.nodes.join(",")}: ${b.label}`)).toEqual([
    "batch-1,batch-2: batch replacement, old nodes batch 1 of 2 (hop 1, to 1.35.9)",
    "batch-3: batch replacement, old nodes batch 2 of 2 (hop 1, to 1.35.9)",
  ]);
  const replace = plan.steps.find((s) => s.kind === "pool-replace" && s.pool === "batch")!;
  expect(replace.hop).toBe(1);
  expect(replace.actions.map((a) => a.kind)).toContain("drain-blue");
  expect(replace.nodes).toContain("batch-1");
  const pod: WorkloadPod = { namespace: "shop", name: "worker-0", node: "batch-1", labels: { app: "worker" }, controller: { kind: "StatefulSet", name: "worker" }, mirror: false, phase: "Running", terminating: false, ready: true, emptyDirs: [] };
  const budget = { namespace: "shop", name: "worker-pdb", selector: { matchLabels: { app: "worker" } }, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 };
  const drain = () => ({ timeoutSeconds: 600, deleteEmptyDirData: false, deleteUnmanagedPods: false, disableEviction: false });
  const readiness = judge(drainFindings(plan, { pods: [pod], budgets: [budget], replicaSetOwners: new Map() }, drain), judgedHops(plan), []);
  expect(readiness.verdicts).toEqual([{ hop: 1, to: "1.35.9", go: false, blockers: ["pdb-blocks-drain/shop/worker-pdb"] }]);
});

it("a budget counts what the whole batch evicts: one pod on each of two nodes drained together exceeds one allowed disruption", () => {
  const plan = planUpgrade(devCluster(), v("1.35.9"), { catalogue: CATALOGUE, now: new Date("2026-11-28") });
  // general is rolling with maxUnavailable 2: general-1 and general-2 are drained together.
  const pod = (name: string, node: string): WorkloadPod => ({ namespace: "shop", name, node, labels: { app: "web" }, controller: { kind: "ReplicaSet", name: "web-1" }, mirror: false, phase: "Running", terminating: false, ready: true, emptyDirs: [] });
  const budget = { namespace: "shop", name: "web-pdb", selector: { matchLabels: { app: "web" } }, disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 };
  const drain = () => ({ timeoutSeconds: 600, deleteEmptyDirData: false, deleteUnmanagedPods: false, disableEviction: false });
  const found = drainFindings(plan, { pods: [pod("web-a", "general-1"), pod("web-b", "general-2"), pod("web-c", "cp-1")], budgets: [budget], replicaSetOwners: new Map() }, drain);
  expect(found.map((f) => `${f.node} ${f.blocking}`)).toEqual(["general-1 false", "general-2 false"]);
  expect(found[0]!.detail).toContain("general batch 1 of 2 (hop 1, to 1.35.9) evicts 2 of its pods (on general-1: web-a)");
});
