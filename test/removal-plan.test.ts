/**
 * Nodes removed for good (planning/removal.ts): etcd's quorum arithmetic for 1 to 7 members,
 * the removal steps the planner places before any hop, their commands, wave and duration, and
 * every refusal.
 */
import { ClusterSpec, NodeState } from "../planning/cluster";
import { ExecutionOptions, planCommands } from "../planning/commands";
import { estimateWave, durationBounds } from "../planning/duration";
import { PlanningError } from "../planning/errors";
import { planUpgrade } from "../planning/plan";
import type { UpgradePlan } from "../planning/plan-types";
import { etcdRemovalProblems, failureTolerance, NodeRemovalSpec, quorum } from "../planning/removal";
import { renderText } from "../planning/render";
import { describeWave, planWaves } from "../planning/waves";
import { thrownBy } from "./helpers/errors";
import { CATALOGUE, controlPlaneNode, devCluster, v, workers } from "./helpers/plan-arbitraries";

const NOW = new Date("2026-11-21");
const remove = (name: string, extra: Partial<NodeRemovalSpec> = {}): NodeRemovalSpec => ({ name, dead: false, gone: false, allowEvenEtcdMembers: false, ...extra });
const plan = (cluster: ClusterSpec, target = "1.35.9"): UpgradePlan => planUpgrade(cluster, v(target), { catalogue: CATALOGUE, now: NOW });
const withRemovals = (removals: NodeRemovalSpec[], cluster: ClusterSpec = devCluster()): ClusterSpec => ({ ...cluster, removals });
const EXECUTION: ExecutionOptions = {
  kubectlNode: "cp-1",
  drain: (pool) => ({ timeoutSeconds: pool === "general" ? 300 : 600, deleteEmptyDirData: false, deleteUnmanagedPods: false, disableEviction: false }),
  etcd: { endpoint: "https://127.0.0.1:2379", caCert: "/etc/kubernetes/pki/etcd/ca.crt", cert: "/etc/kubernetes/pki/etcd/server.crt", key: "/etc/kubernetes/pki/etcd/server.key", backupDir: "/var/lib/cluster-maintenance/etcd-backups", verify: "restore", keep: 5 },
  readyTimeoutSeconds: 600,
};

describe("etcd's quorum arithmetic (https://etcd.io/docs/v3.5/faq/#what-is-failure-tolerance)", () => {
  it("quorum and failure tolerance for 1 to 7 members", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(quorum)).toEqual([1, 2, 2, 3, 3, 4, 4]);
    expect([1, 2, 3, 4, 5, 6, 7].map(failureTolerance)).toEqual([0, 0, 1, 1, 2, 2, 3]);
  });

  it.each([
    // members, every member healthy: refused when none would be left or an even count is left unaccepted
    [1, ["runs the only etcd member"]],
    [2, []],
    [3, ["leaves etcd with 2 members, an even count that tolerates 0 failure(s)"]],
    [4, []],
    [5, ["leaves etcd with 4 members, an even count that tolerates 1 failure(s)"]],
    [6, []],
    [7, ["leaves etcd with 6 members, an even count that tolerates 2 failure(s)"]],
  ] as const)("%i healthy member(s), removing a healthy one", (members, expected) => {
    const problems = etcdRemovalProblems({ node: "cp-x", members, unhealthy: [], removedHealthy: true, allowEven: false });
    expect(problems).toHaveLength(expected.length);
    expected.forEach((text, i) => expect(problems[i]).toContain(text));
    // An accepted even count is no longer a problem; the last member still is.
    expect(etcdRemovalProblems({ node: "cp-x", members, unhealthy: [], removedHealthy: true, allowEven: true })).toHaveLength(members === 1 ? 1 : 0);
  });

  it.each([2, 3, 4, 5, 6, 7])("%i members with another one unhealthy: refused whatever the count", (members) => {
    const problems = etcdRemovalProblems({ node: "cp-x", members, unhealthy: ["cp-y"], removedHealthy: true, allowEven: true });
    expect(problems[0]).toBe("etcd member(s) cp-y not healthy: removing cp-x's member needs every other member healthy");
  });

  it.each([
    // members, the removed (dead) member not healthy: is there a quorum to commit its removal?
    [2, false],
    [3, true],
    [4, true],
    [5, true],
  ] as const)("%i members, removing the dead one: quorum %s", (members, hasQuorum) => {
    const problems = etcdRemovalProblems({ node: "cp-x", members, unhealthy: [], removedHealthy: false, allowEven: true });
    expect(problems.some((p) => p.startsWith("etcd has no quorum"))).toBe(!hasQuorum);
  });
});

describe("removing a worker and a control-plane node of the dev cluster", () => {
  const p = plan(withRemovals([remove("cp-3", { allowEvenEtcdMembers: true }), remove("general-2")]));

  it("removes them before any hop, workers first, and never upgrades them", () => {
    expect(p.removals.map((s) => [s.id, s.hop, s.stage, [...s.nodes]])).toEqual([
      ["remove/general-2/node-removal", 0, 1, ["general-2"]],
      ["remove/cp-3/node-removal", 0, 2, ["cp-3"]],
    ]);
    expect(p.steps.slice(0, 2)).toEqual(p.removals);
    const later = p.steps.slice(2).flatMap((s) => s.nodes);
    expect(later).not.toContain("general-2");
    expect(later).not.toContain("cp-3");
    expect(later).toContain("general-1");
    expect(p.finalState.get("cp-3")).toBeUndefined();
    expect(p.finalState.get("general-2")).toBeUndefined();
    expect(p.finalState.size).toBe(p.initialState.size - 2);
    expect(p.initialState.get("cp-3")).toBeDefined();
  });

  it("drains, resets and deletes a worker; snapshots, checks etcd, drains, resets, confirms the member gone and deletes a control-plane node", () => {
    expect(p.removals.map((s) => s.actions.map((a) => a.kind))).toEqual([
      ["drain", "reset-node", "delete-node"],
      ["etcd-snapshot", "etcd-member-check", "drain", "reset-node", "etcd-member-remove", "delete-node"],
    ]);
  });

  it("runs each command where it belongs: reset on the node, kubectl and etcd on the kubectl node", () => {
    const commands = planCommands(p, EXECUTION).commands.filter((c) => c.name.startsWith("remove-"));
    const etcd = ["https://127.0.0.1:2379", "/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/etcd/server.crt", "/etc/kubernetes/pki/etcd/server.key"];
    expect(commands.map((c) => [c.node, c.name, c.runsOn, c.script, c.args, c.dependsOn])).toEqual([
      ["general-2", "remove-drain", "cp-1", "drain.sh", ["general-2", "any", "300", "false", "false", "false"], []],
      ["general-2", "remove-reset-node", "general-2", "reset-node.sh", ["general-2"], ["general-2/remove-drain"]],
      ["general-2", "remove-delete-node", "cp-1", "delete-nodes.sh", ["general-2"], ["general-2/remove-reset-node"]],
      ["cp-3", "remove-etcd-snapshot", "cp-1", "etcd-snapshot.sh", ["/var/lib/cluster-maintenance/etcd-backups", "before-remove-cp-3", ...etcd, "restore", "5"], ["general-2/remove-delete-node"]],
      ["cp-3", "remove-etcd-member-check", "cp-1", "etcd-member.sh", ["check", "cp-3", "true", ...etcd], ["cp-3/remove-etcd-snapshot"]],
      ["cp-3", "remove-drain", "cp-1", "drain.sh", ["cp-3", "any", "600", "false", "false", "false"], ["cp-3/remove-etcd-member-check"]],
      ["cp-3", "remove-reset-node", "cp-3", "reset-node.sh", ["cp-3"], ["cp-3/remove-drain"]],
      ["cp-3", "remove-etcd-member-remove", "cp-1", "etcd-member.sh", ["remove", "cp-3", "true", ...etcd], ["cp-3/remove-reset-node"]],
      ["cp-3", "remove-delete-node", "cp-1", "delete-nodes.sh", ["cp-3"], ["cp-3/remove-etcd-member-remove"]],
    ]);
    // The first hop's snapshot waits for the removals.
    const hop = planCommands(p, EXECUTION).commands.find((c) => c.name === "v1.35.9-etcd-snapshot")!;
    expect(hop.dependsOn).toEqual(["cp-3/remove-delete-node"]);
  });

  it("uploads the removal's snapshot when backups go off the cluster, but exports nothing and snapshots no volume", () => {
    const withBackup: ExecutionOptions = { ...EXECUTION, upload: { bucket: "b", prefix: "dev/", region: "eu-west-1" }, export: { dir: "/var/lib/cluster-maintenance/exports", secrets: "exclude" } };
    const names = planCommands(p, withBackup).commands.filter((c) => c.node === "cp-3" && c.name.startsWith("remove-")).map((c) => `${c.name}@${c.runsOn}`);
    expect(names.slice(0, 3)).toEqual(["remove-etcd-snapshot@cp-1", "remove-upload-snapshot@cp-1", "remove-etcd-member-check@cp-1"]);
    expect(names.some((n) => n.includes("export"))).toBe(false);
  });

  it("is the first wave, one of its own, with a duration", () => {
    const waves = planWaves(p, { maxNodes: 250 });
    expect(waves[0]).toMatchObject({ kind: "removal", hop: 0, steps: ["remove/general-2/node-removal", "remove/cp-3/node-removal"], nodes: 2 });
    expect(waves[1]!.kind).toBe("control-plane");
    expect(describeWave(waves[0]!, true)).toBe("wave 1 (next pulumi up): removal, nodes removed for good: 2 node(s), 2 step(s)");
    const e = estimateWave(p, waves[0]!, durationBounds(EXECUTION));
    expect(e.stages.map((s) => s.steps)).toEqual([["remove/general-2/node-removal"], ["remove/cp-3/node-removal"]]);
    expect(e.expectedSeconds).toBeGreaterThan(0);
    expect(e.boundSeconds).toBeGreaterThanOrEqual(e.expectedSeconds + 300 + 60);
  });

  it("shows the removal in the plan's text, with every command", () => {
    const text = renderText(p, planCommands(p, EXECUTION).commands);
    expect(text).toContain("REMOVE for good, before any hop: 2 node(s) (general-2, cp-3); no hop or OS patch touches them");
    const section = text.slice(text.indexOf("Removal\n"), text.indexOf("Hop 1:"));
    expect(section).toContain("[on cp-3] reset-node.sh 'cp-3'   # kubeadm reset --force");
    expect(section).toContain("[on cp-1] etcd-member.sh 'remove' 'cp-3' 'true'");
    expect(section.split("\n").filter((l) => l.includes("[on ")).length).toBe(9);
    // The version tables give the removed nodes (and cp-3's etcd member) no target version.
    const tables = renderText(p, [], { etcd: [{ node: "cp-1", version: "3.5.15-0" }, { node: "cp-3", version: "3.5.15-0" }] });
    expect(tables).toMatch(/\nkube-apiserver +cp-3 +v1\.34\.6 +removed\n/);
    expect(tables).toMatch(/\nkubelet +general-2 +v1\.34\.6 +removed\n/);
    expect(tables).toMatch(/\nkubelet +general-1 +v1\.34\.6 +v1\.35\.9\n/);
    expect(tables).toMatch(/\netcd +cp-3 +3\.5\.15-0 +removed\n/);
    expect(tables).not.toMatch(/\netcd +cp-1 +3\.5\.15-0 +removed\n/);
  });
});

describe("batches, dead nodes, nodes already gone", () => {
  it("removes a pool's workers in batches of its maxUnavailable", () => {
    const p = plan(withRemovals(["general-1", "general-2", "general-3"].map((n) => remove(n))));
    expect(p.removals.map((s) => [s.nodes[0], s.stage, s.batch])).toEqual([
      ["general-1", 1, { index: 1, count: 2 }],
      ["general-2", 1, { index: 1, count: 2 }],
      ["general-3", 2, { index: 2, count: 2 }],
    ]);
    // The pool keeps one node, upgraded in a batch of one.
    expect(p.steps.filter((s) => s.kind === "worker-upgrade").map((s) => s.nodes[0])).toEqual(["general-4"]);
  });

  it("never reaches a dead node: its pods are listed and its Node deleted; a dead control-plane node's member goes from a healthy one", () => {
    const cluster = devCluster();
    const dead = (n: NodeState): NodeState => (n.name === "cp-2" || n.name === "general-4" ? { ...n, notReady: true } : n);
    const p = plan(withRemovals([remove("general-4", { dead: true }), remove("cp-2", { dead: true, allowEvenEtcdMembers: true })], { ...cluster, nodes: cluster.nodes.map(dead) }));
    expect(p.removals.map((s) => s.actions.map((a) => a.kind))).toEqual([["delete-dead-node"], ["etcd-snapshot", "etcd-member-remove", "delete-dead-node"]]);
    const commands = planCommands(p, EXECUTION).commands.filter((c) => c.name.startsWith("remove-"));
    expect(commands.every((c) => c.runsOn === "cp-1")).toBe(true);
    expect(commands.filter((c) => c.script === "delete-nodes.sh").map((c) => c.args)).toEqual([["--dead", "general-4"], ["--dead", "cp-2"]]);
  });

  it("cleans a node already gone of its etcd member only, after the other removals", () => {
    const p = plan(withRemovals([remove("cp-9", { gone: true }), remove("general-1")]));
    expect(p.removals.map((s) => [s.nodes[0], s.actions.map((a) => a.kind)])).toEqual([["general-1", ["drain", "reset-node", "delete-node"]], ["cp-9", ["etcd-member-remove"]]]);
    const cleanup = planCommands(p, EXECUTION).commands.find((c) => c.node === "cp-9")!;
    expect([cleanup.runsOn, cleanup.args.slice(0, 3)]).toEqual(["cp-1", ["remove", "cp-9", "false"]]);
  });

  it("plans the removal alone when the cluster is already at its target", () => {
    const p = plan(withRemovals([remove("general-3")]), "1.34.6");
    expect(p.hops).toEqual([]);
    expect(p.steps.map((s) => s.id)).toEqual(["remove/general-3/node-removal"]);
    expect(renderText(p)).toContain("REMOVE for good, before any hop: 1 node(s) (general-3)");
  });

  it("lets a removal take out the node that holds the plan back: a kubelet too old for the hop", () => {
    const cluster = devCluster();
    const old = { ...cluster, nodes: cluster.nodes.map((n) => (n.name === "general-4" ? { ...n, versions: { ...n.versions, kubelet: v("1.31.4"), kubectl: v("1.31.4") } } : n)) };
    expect(() => plan(old, "1.35.9")).toThrow(PlanningError);
    expect(plan(withRemovals([remove("general-4")], old), "1.35.9").removals).toHaveLength(1);
  });
});

describe("refusals", () => {
  const reasons = (removals: NodeRemovalSpec[], cluster?: ClusterSpec) => thrownBy(PlanningError, () => plan(withRemovals(removals, cluster))).message;

  it("refuses the first control-plane node, a blue-green pool's node, a node not in the cluster, and one listed twice", () => {
    const m = reasons([remove("cp-1"), remove("batch-1"), remove("nope"), remove("general-1"), remove("general-1")]);
    expect(m).toContain("node cp-1 is the first control-plane node, which runs kubeadm upgrade apply and the etcd snapshots: put another control-plane node first");
    expect(m).toContain("node batch-1 belongs to blue-green pool batch, which owns its instances: change the pool's size instead");
    expect(m).toContain("node nope is not a node of the cluster");
    expect(m).toContain("node general-1 is listed twice");
  });

  it("refuses a control-plane removal that leaves an even member count not accepted, naming the key that accepts it", () => {
    const m = reasons([remove("cp-3")]);
    expect(m).toContain("removing cp-3 leaves etcd with 2 members, an even count that tolerates 0 failure(s)");
    expect(m).toContain("set allowEvenEtcdMembers: true on the node's removeNodes entry");
  });

  it("refuses while another control-plane node (its etcd member) is not healthy", () => {
    const cluster = devCluster();
    const sick = { ...cluster, nodes: cluster.nodes.map((n) => (n.name === "cp-2" ? { ...n, notReady: true } : n)) };
    expect(reasons([remove("cp-3", { allowEvenEtcdMembers: true })], sick)).toContain("etcd member(s) cp-2 not healthy: removing cp-3's member needs every other member healthy");
  });

  it("counts the members the removals before leave: the second of two control-plane removals from 3 sees 2", () => {
    const big = { ...devCluster(), nodes: [controlPlaneNode("cp-1", "1.34.6"), controlPlaneNode("cp-2", "1.34.6"), controlPlaneNode("cp-3", "1.34.6"), ...workers("general", 4, "1.34.6"), ...workers("batch", 3, "1.34.6")] };
    const p = plan(withRemovals([remove("cp-2", { allowEvenEtcdMembers: true }), remove("cp-3")], big));
    expect(p.removals.map((s) => s.nodes[0])).toEqual(["cp-2", "cp-3"]);
    expect([...p.finalState].filter((n) => n.role === "control-plane").map((n) => n.name)).toEqual(["cp-1"]);
  });
});
