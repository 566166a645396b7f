/**
 * Waves: the plan cut into what one `pulumi up` carries out each (planning/waves.ts).
 */
import { ClusterSpec } from "../planning/cluster";
import { planUpgrade } from "../planning/plan";
import { describeWave, planWaves } from "../planning/waves";
import { cp, v, worker } from "./helpers/cluster-fixtures";
import { ReleaseCatalogue } from "../planning/releases";
import { planCommands } from "../planning/commands";
import { BENCH_EXECUTION as EXECUTION } from "../bench/bench-cluster";

const catalogue = ReleaseCatalogue.embedded();

/** 3 control-plane nodes at 1.35.9 and a rolling pool of `workers` nodes, `maxUnavailable` at once. */
function cluster(workers: number, maxUnavailable: number): ClusterSpec {
  return {
    name: "w",
    pools: [{ name: "general", strategy: "rolling", maxUnavailable }],
    nodes: [cp("cp-1", "1.35.9"), cp("cp-2", "1.35.9"), cp("cp-3", "1.35.9"), ...Array.from({ length: workers }, (_, i) => worker(`general-${i + 1}`, "general", "1.35.9"))],
  };
}

describe("waves", () => {
  it("are the control plane of each hop, then worker batches up to maxNodesPerUpdate, never a batch split", () => {
    const plan = planUpgrade(cluster(40, 3), v("1.37.1"), { catalogue, now: new Date("2026-11-28") });
    const waves = planWaves(plan, { maxNodes: 10 });
    expect(waves.map((w) => [w.kind, w.hop, w.label, w.nodes])).toEqual([
      ["control-plane", 1, "v1.36.4", 3], // the snapshot, 3 kubeadm steps and 3 kubelet steps on 3 nodes
      ["workers", 1, "v1.36.4", 9], ["workers", 1, "v1.36.4", 9], ["workers", 1, "v1.36.4", 9], ["workers", 1, "v1.36.4", 9], ["workers", 1, "v1.36.4", 4],
      ["control-plane", 2, "v1.37.1", 3],
      ["workers", 2, "v1.37.1", 9], ["workers", 2, "v1.37.1", 9], ["workers", 2, "v1.37.1", 9], ["workers", 2, "v1.37.1", 9], ["workers", 2, "v1.37.1", 4],
    ]);
    // Every step in exactly one wave, in plan order.
    expect(waves.flatMap((w) => w.steps)).toEqual(plan.steps.map((s) => s.id));
    expect(waves.map((w) => w.index)).toEqual(waves.map((_, i) => i + 1));
    expect(describeWave(waves[1]!, false)).toBe("wave 2: hop 1 v1.36.4, workers of general: 9 node(s), 9 step(s)");
    expect(describeWave(waves[0]!, true)).toBe("wave 1 (next pulumi up): hop 1 v1.36.4, control plane: 3 node(s), 7 step(s)");
  });

  it("take every batch of a pool in one wave when they fit, and none for a cluster at its target", () => {
    const plan = planUpgrade(cluster(40, 3), v("1.36.4"), { catalogue, now: new Date("2026-11-28") });
    expect(planWaves(plan, { maxNodes: 250 }).map((w) => [w.kind, w.nodes])).toEqual([["control-plane", 3], ["workers", 40]]);
    const done = planUpgrade(cluster(4, 1), v("1.35.9"), { catalogue, now: new Date("2026-11-28") });
    expect(planWaves(done, { maxNodes: 10 })).toEqual([]);
  });

  it("stay within the resources an update may register: its commands, a NodeUpgrade per node and a barrier per batch", () => {
    const plan = planUpgrade(cluster(40, 3), v("1.36.4"), { catalogue, now: new Date("2026-11-28") });
    const { commands } = planCommands(plan, EXECUTION);
    // A worker step: 7 commands (repository, kubeadm package, kubeadm upgrade node, drain, kubelet, wait, uncordon) and its NodeUpgrade.
    expect(commands.filter((c) => c.node === "general-1").length).toBe(7);
    // A batch of 3: 24 resources and a barrier; 100 resources take 4 batches (100 >= 4 * 25).
    const waves = planWaves(plan, { maxNodes: 250, commands, maxResources: 100 });
    expect(waves.map((w) => w.nodes)).toEqual([3, 12, 12, 12, 4]);
  });

  it("refuse a batch larger than a wave", () => {
    const plan = planUpgrade(cluster(40, 20), v("1.36.4"), { catalogue, now: new Date("2026-11-28") });
    expect(() => planWaves(plan, { maxNodes: 10 })).toThrow("a batch of 20 nodes");
  });
});

describe("a run that stopped half way", () => {
  it("resumes a node left cordoned after its upgrade (wait Ready, uncordon) before anything else, first in the next wave", () => {
    // The control plane is at 1.36.4 already; so is general-2, which the stopped run left cordoned.
    const spec = cluster(4, 2);
    const nodes = spec.nodes.map((n) =>
      n.role === "control-plane" ? cp(n.name, "1.36.4")
      : n.name === "general-2" ? { ...worker("general-2", "general", "1.36.4"), cordonedByUs: true }
      : { ...worker(n.name, "general", "1.35.9", { "kube-proxy": "1.36.4" }), ...(n.name === "general-3" ? { cordonedByUs: true } : {}) });
    const plan = planUpgrade({ ...spec, nodes }, v("1.36.4"), { catalogue, now: new Date("2026-11-28") });
    // general-2 is at 1.36.4 already: only its wait and uncordon are left. general-3 is still at
    // 1.35.9, behind the control plane: it was cordoned by its 1.36.4 step, which is still in
    // the plan and drains it (drain.sh goes on with a node we cordoned).
    expect(plan.resume.map((s) => [s.id, s.kind, s.version.toString(), s.actions.map((a) => a.kind)])).toEqual([["resume/general-2/resume", "resume", "1.36.4", ["wait-ready", "uncordon"]]]);
    expect(plan.steps[0]!.id).toBe("resume/general-2/resume");
    expect(plan.steps.filter((s) => s.nodes.includes("general-2")).map((s) => s.id)).toEqual(["resume/general-2/resume"]);
    expect(plan.steps.filter((s) => s.nodes.includes("general-3")).map((s) => [s.id, s.actions[0]!.kind])).toEqual([["v1.36/general-3/worker-upgrade", "switch-repository"]]);
    // In a wave of its own, the next up would leave out general-3's steps that the stopped run
    // finished: their commands would be deleted, and run again by the up after.
    const waves = planWaves(plan, { maxNodes: 10 });
    expect(waves.map((w) => [w.kind, w.label, w.nodes, w.resumes, w.steps[0]])).toEqual([["workers", "v1.36.4", 4, 1, "resume/general-2/resume"]]);
    expect(describeWave(waves[0]!, true)).toBe("wave 1 (next pulumi up): hop 1 v1.36.4, workers of general, first resuming 1 node(s) a stopped run left cordoned: 4 node(s), 4 step(s)");
  });

  it("resumes a cordoned node of a cluster already at its target, and nothing else", () => {
    const spec = cluster(2, 1);
    const nodes = spec.nodes.map((n) => (n.name === "cp-2" ? { ...n, cordonedByUs: true } : n));
    const plan = planUpgrade({ ...spec, nodes }, v("1.35.9"), { catalogue, now: new Date("2026-11-28") });
    expect(plan.hops).toEqual([]);
    expect(plan.steps.map((s) => s.id)).toEqual(["resume/cp-2/resume"]);
    expect(planWaves(plan, { maxNodes: 10 }).map((w) => [w.kind, w.label, w.nodes, w.resumes])).toEqual([["resume", "resume", 1, undefined]]);
  });
});
