/**
 * Drain blockers against the real responses of ../shared/data/kube-api/v1.31-kubeadm-ha: the
 * shop namespace's budgets, its pod without a controller and its emptyDir pod, on a plan of
 * the shared cluster to 1.32 with both pools rolling.
 */
import { resolveLive } from "../../config/live-nodes";
import { executionOptions, parseStackConfig, planFromConfig } from "../../config/stack-config";
import { parseLiveCluster } from "../../discovery/live-cluster";
import { drainBatches, drainFindings } from "../../preflight/drain-blockers";
import { judge } from "../../preflight/findings";
import { Workloads } from "../../preflight/workloads";
import { sharedRawCluster } from "../discovery/static-api";
import { sharedWorkloads } from "./shared-workloads";

function sharedPlan(pools: unknown[]) {
  const raw = { targetVersion: "1.32", pools, ssh: { insecureIgnoreHostKey: true } };
  const config = resolveLive(parseStackConfig(raw, "t"), parseLiveCluster("https://127.0.0.1:6443", sharedRawCluster()));
  return { plan: planFromConfig(config, new Date("2026-11-28")), drain: executionOptions(config).drain };
}
const POOLS = [
  { name: "general", selector: "pool=general", maxUnavailable: 1 },
  { name: "batch", selector: "pool=batch", maxUnavailable: 1 },
];
const brief = (f: { id: string; hop: number; node?: string; blocking: boolean }) => `hop ${f.hop} ${f.id} ${f.node} ${f.blocking ? "blocks" : "notes"}`;

describe("drain findings on the shared cluster", () => {
  const { plan, drain } = sharedPlan(POOLS);
  const findings = drainFindings(plan, sharedWorkloads(), drain);

  it("cuts the plan's drains into its batches: hop 1 brings the batch pool's kubelets to 1.31.4, hop 2 drains every node, the control plane one at a time", () => {
    expect(plan.hops.map((h) => h.to.toString())).toEqual(["1.31.4", "1.32.13"]);
    expect(drainBatches(plan).map((b) => `${b.hop} ${b.nodes.join(",")}`)).toEqual(["1 batch-1", "1 batch-2", "2 cp-1", "2 cp-2", "2 cp-3", "2 general-1", "2 general-2", "2 general-3", "2 batch-1", "2 batch-2"]);
    expect(drainBatches(plan)[0]!.label).toBe("batch batch 1 of 2 (hop 1, to 1.31.4)");
  });

  it("names batch-worker-pdb as blocking batch-1 and batch-2, debug-shell as a pod without a controller on general-3, cache as emptyDir", () => {
    expect(findings.filter((f) => f.blocking).map(brief).sort()).toEqual([
      "hop 1 pdb-blocks-drain/shop/batch-worker-pdb batch-1 blocks",
      "hop 1 pdb-blocks-drain/shop/batch-worker-pdb batch-2 blocks",
      "hop 2 pdb-blocks-drain/shop/batch-worker-pdb batch-1 blocks",
      "hop 2 pdb-blocks-drain/shop/batch-worker-pdb batch-2 blocks",
      "hop 2 pod-with-local-data/shop/cache-5f4dfd484-nbr6n general-3 blocks",
      "hop 2 pod-without-controller/shop/debug-shell general-3 blocks",
    ]);
    const pdb = findings.find((f) => f.node === "batch-1" && f.kind === "pdb-blocks-drain")!;
    expect(pdb.object).toBe("PodDisruptionBudget shop/batch-worker-pdb");
    expect(pdb.detail).toContain("allows no disruption (4 healthy of 4, 4 needed)");
    expect(pdb.detail).toContain("would evict batch-worker-8cbb84846-gz6cp, batch-worker-8cbb84846-nxrzv, batch-worker-8cbb84846-rdwmq");
  });

  it("web-pdb, which allows 1 disruption, only slows (does not block) the drains of nodes holding two web pods", () => {
    // general-1, general-2 and general-3 each run two web pods; web-pdb allows 1: those drains go in rounds.
    expect(findings.filter((f) => f.id === "pdb-blocks-drain/shop/web-pdb").map(brief)).toEqual([
      "hop 2 pdb-blocks-drain/shop/web-pdb general-1 notes",
      "hop 2 pdb-blocks-drain/shop/web-pdb general-2 notes",
      "hop 2 pdb-blocks-drain/shop/web-pdb general-3 notes",
    ]);
  });

  it("says when every pod of a workload is on one batch (batch-worker, with both batch nodes in one batch)", () => {
    const together = sharedPlan([POOLS[0], { ...POOLS[1], maxUnavailable: 2 }]);
    const whole = drainFindings(together.plan, sharedWorkloads(), together.drain).filter((f) => f.kind === "workload-on-one-batch");
    expect(whole.map(brief)).toEqual([
      "hop 1 workload-on-one-batch/Deployment/shop/batch-worker batch-1 notes",
      "hop 2 workload-on-one-batch/Deployment/shop/cache general-3 notes",
      "hop 2 workload-on-one-batch/Deployment/shop/batch-worker batch-1 notes",
    ]);
    // cache has one pod, on general-3: a batch of one node holds all of it.
    expect(findings.filter((f) => f.kind === "workload-on-one-batch").map(brief)).toEqual(["hop 2 workload-on-one-batch/Deployment/shop/cache general-3 notes"]);
  });

  it("keeps the finding but does not block when the pool's drain settings allow it", () => {
    const allowed = sharedPlan([{ ...POOLS[0], drain: { deleteUnmanagedPods: true, deleteEmptyDirData: true } }, POOLS[1]]);
    const general3 = drainFindings(allowed.plan, sharedWorkloads(), allowed.drain).filter((f) => f.node === "general-3" && f.kind.startsWith("pod-"));
    expect(general3.map(brief).sort()).toEqual(["hop 2 pod-with-local-data/shop/cache-5f4dfd484-nbr6n general-3 notes", "hop 2 pod-without-controller/shop/debug-shell general-3 notes"]);
    expect(general3.find((f) => f.kind === "pod-without-controller")!.detail).toContain("deletes it for good");
  });

  it("disableEviction bypasses budgets: no budget finding", () => {
    const bypass = sharedPlan([POOLS[0], { ...POOLS[1], drain: { disableEviction: true } }]);
    expect(drainFindings(bypass.plan, sharedWorkloads(), bypass.drain).filter((f) => f.kind === "pdb-blocks-drain" && f.node?.startsWith("batch"))).toEqual([]);
  });

  it("gives each hop a no-go until its blockers are acknowledged by id", () => {
    const hops = plan.hops.map((h) => ({ index: h.index, to: h.to.toString() }));
    expect(judge(findings, hops, []).verdicts).toEqual([
      { hop: 1, to: "1.31.4", go: false, blockers: ["pdb-blocks-drain/shop/batch-worker-pdb"] },
      { hop: 2, to: "1.32.13", go: false, blockers: ["pdb-blocks-drain/shop/batch-worker-pdb", "pod-with-local-data/shop/cache-5f4dfd484-nbr6n", "pod-without-controller/shop/debug-shell"] },
    ]);
    const acked = judge(findings, hops, ["pdb-blocks-drain/shop/batch-worker-pdb", "pod-with-local-data/shop/cache-5f4dfd484-nbr6n", "pod-without-controller/shop/debug-shell", "pdb-blocks-drain/shop/gone"]);
    expect(acked.verdicts.every((v) => v.go)).toBe(true);
    expect(acked.unusedAcknowledgements).toEqual(["pdb-blocks-drain/shop/gone"]);
    expect(acked.findings.filter((f) => f.blocking).every((f) => f.acknowledged)).toBe(true);
  });
});

it("reads no pod as evicted that a drain leaves: mirror, DaemonSet and finished pods; terminating pods are not counted", () => {
  const w = sharedWorkloads();
  const pods = w.pods.map((p) => (p.name === "debug-shell" ? { ...p, phase: "Succeeded" } : p.name === "cache-5f4dfd484-nbr6n" ? { ...p, terminating: true } : p));
  const { plan, drain } = sharedPlan(POOLS);
  const found = drainFindings(plan, { ...w, pods } as Workloads, drain).filter((f) => f.node === "general-3" && f.kind.startsWith("pod-"));
  expect(found).toEqual([]);
});
