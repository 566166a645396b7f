/**
 * `removeNodes` (config/removal-config.ts): its shape, and each entry checked against the
 * declared nodes (the dev stack) or against the cluster read (the real responses of
 * ../shared/data/kube-api/v1.31-kubeadm-ha), with one problem per entry naming the key to change.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LiveCluster, parseLiveCluster, RawCluster } from "../discovery/live-cluster";
import { resolveLive } from "../config/live-nodes";
import { driftRows } from "../config/drift";
import { executionOptions, parseStackConfig, planFromConfig, sshTargetsOf, toClusterSpec } from "../config/stack-config";
import { DEFAULT_DRAIN } from "../config/maintenance-config";
import { UNPOOLED } from "../planning/cluster";
import { inputErrorOf } from "./helpers/errors";
import { stackConfig } from "./helpers/pulumi-mocks";

const dev = (removeNodes: unknown, extra: Record<string, unknown> = {}) => parseStackConfig({ ...stackConfig("dev"), removeNodes, ...extra }, "dev");
const problems = (run: () => unknown) => inputErrorOf(run).problems.map((p) => [p.key, p.problem, p.fix]);

const DATA = join(__dirname, "..", "..", "shared", "data", "kube-api", "v1.31-kubeadm-ha");
const items = (file: string) => (JSON.parse(readFileSync(join(DATA, file), "utf8")) as { items: unknown[] }).items;
/** The shared cluster (cp-1..3, general-1..3, batch-1..2), with the nodes named in `notReady` Ready=Unknown. */
function shared(...notReady: string[]): LiveCluster {
  const raw = {
    nodes: items("nodes.json"),
    pods: items("pods.json").filter((p) => (p as { metadata: { namespace: string } }).metadata.namespace === "kube-system"),
  } as RawCluster;
  const live = parseLiveCluster("https://127.0.0.1:6443", raw);
  return { ...live, nodes: live.nodes.map((n) => (notReady.includes(n.name) ? { ...n, ready: "Unknown" as const } : n)) };
}
const liveRaw = (removeNodes: unknown) => ({
  targetVersion: "1.32", controlPlane: { order: ["cp-1"] }, removeNodes,
  pools: [{ name: "general", strategy: "rolling", selector: "pool=general" }],
  ssh: { insecureIgnoreHostKey: true },
});
const live = (removeNodes: unknown, cluster = shared()) => resolveLive(parseStackConfig(liveRaw(removeNodes), "t"), cluster);

describe("the key's shape", () => {
  it("takes node names and objects, false by default", () => {
    expect(dev(["general-2", { name: "cp-3", allowEvenEtcdMembers: true }, { name: "general-4", dead: true }]).removeNodes).toEqual([
      { name: "general-2", dead: false, allowEvenEtcdMembers: false },
      { name: "cp-3", dead: false, allowEvenEtcdMembers: true },
      { name: "general-4", dead: true, allowEvenEtcdMembers: false },
    ]);
    expect(dev(undefined).removeNodes).toEqual([]);
  });

  it("refuses what is not a list of node names, naming each entry's key", () => {
    expect(problems(() => dev("general-2"))).toEqual([["removeNodes", "is not a list", expect.stringContaining("general-7")]]);
    expect(problems(() => dev(["General_2", { name: "general-3", dead: "yes", force: true }, 7, "general-1", "general-1"])).map((p) => `${p[0]}: ${p[1]}`)).toEqual([
      "removeNodes[0]: is not a Kubernetes node name (lowercase DNS name)",
      "removeNodes[1].force: is not a known key",
      "removeNodes[1].dead: is not true or false",
      "removeNodes[2]: is not a mapping",
      "removeNodes[4]: is listed twice",
    ]);
  });
});

describe("checked against the declared nodes", () => {
  it("refuses the first control-plane node, the kubectl node, a blue-green pool's node, an unknown node, and allowEvenEtcdMembers on a worker", () => {
    const found = problems(() => dev(["cp-1", "nope", { name: "general-1", allowEvenEtcdMembers: true }, "batch-v1-34-6-2"]));
    expect(found).toEqual([
      ["removeNodes[0]", "is the first control-plane node, which runs every hop's etcd snapshot and kubeadm upgrade apply", "change controlPlane.nodes first so that another control-plane node comes first, then remove it"],
      ["removeNodes[1]", "is not a node of this config", expect.stringContaining("a node already gone from the cluster is cleaned of its leftovers only in a config that reads its nodes from the cluster")],
      ["removeNodes[2].allowEvenEtcdMembers", "applies to control-plane nodes only; general-1 is a worker", "leave it out"],
      ["removeNodes[3]", "belongs to blue-green pool batch, whose instances are the pool's", "lower the pool's size instead"],
    ]);
    expect(problems(() => dev(["cp-2"], { kubectlNode: "cp-2" }))).toEqual([
      ["removeNodes[0]", "is the kubectl node, which drains the nodes and runs the etcd commands of every removal", "set kubectlNode to another control-plane node first, then remove it"],
    ]);
  });

  it("plans a declared removal: the node leaves the plan's hops", () => {
    const config = dev(["general-2", { name: "cp-3", allowEvenEtcdMembers: true }]);
    expect(toClusterSpec(config).removals).toEqual([
      { name: "general-2", dead: false, gone: false, allowEvenEtcdMembers: false },
      { name: "cp-3", dead: false, gone: false, allowEvenEtcdMembers: true },
    ]);
    const plan = planFromConfig(config, new Date("2026-11-28"));
    expect(plan.removals.map((s) => s.nodes[0])).toEqual(["general-2", "cp-3"]);
    expect(plan.hops.flatMap((h) => h.phases.flatMap((p) => p.steps.flatMap((s) => s.nodes)))).not.toContain("general-2");
  });
});

describe("checked against the cluster read", () => {
  it("a declared node that its removal took out of the cluster: the drift says to take it out of the config and of removeNodes", () => {
    const raw = stackConfig("dev");
    const config = parseStackConfig({ ...raw, removeNodes: ["general-3"] }, "dev");
    const cluster = shared();
    const rows = driftRows(config, { ...cluster, nodes: cluster.nodes.filter((n) => n.name !== "general-3") }).filter((r) => r.node === "general-3");
    expect(rows).toEqual([{ node: "general-3", component: "node", declared: "listed", live: "-", fix: "it is removed (removeNodes): take it out of its node list and out of removeNodes" }]);
  });

  it("cleans a node already gone of its leftovers only", () => {
    const config = live(["cp-9"]);
    expect(toClusterSpec(config).removals).toEqual([{ name: "cp-9", dead: false, gone: true, allowEvenEtcdMembers: false }]);
    expect(planFromConfig(config, new Date("2026-11-28")).removals.map((s) => s.actions.map((a) => a.kind))).toEqual([["etcd-member-remove"]]);
  });

  it("refuses dead: true on a Ready node, and a node not Ready without it", () => {
    expect(problems(() => live([{ name: "general-2", dead: true }, "general-3"], shared("general-3")))).toEqual([
      ["removeNodes[0].dead", "but node general-2 is Ready: its kubelet would register it again once deleted", "leave dead out to drain and reset it over SSH, or stop it first"],
      ["removeNodes[1]", "is not Ready: its pods cannot be drained and its machine may not answer over SSH", "if the machine is gone for good, write { name: general-3, dead: true } (no SSH step, its Node deleted); otherwise bring it back Ready first"],
    ]);
  });

  it("a control-plane node removed for good may stay in controlPlane.order: the next plan cleans its leftovers only", () => {
    const cluster = shared();
    const gone = { ...cluster, nodes: cluster.nodes.filter((n) => n.name !== "cp-3") };
    const raw = { ...liveRaw(["cp-3"]), controlPlane: { order: ["cp-1", "cp-2", "cp-3"] } };
    const config = resolveLive(parseStackConfig(raw, "t"), gone);
    expect(config.controlPlane.map((n) => n.name)).toEqual(["cp-1", "cp-2"]);
    expect(planFromConfig(config, new Date("2026-11-28")).removals.map((s) => [s.nodes[0], s.actions.map((a) => a.kind)])).toEqual([["cp-3", ["etcd-member-remove"]]]);
    // Not removed: a name in the order the cluster lacks is still a mistake.
    expect(problems(() => resolveLive(parseStackConfig({ ...raw, removeNodes: [] }, "t"), gone))).toEqual([["controlPlane.order[2]", "is not a control-plane node of the cluster", "name one of cp-1, cp-2"]]);
  });

  it("names controlPlane.order for the first control-plane node", () => {
    expect(problems(() => live(["cp-1"]))[0]).toEqual(["removeNodes[0]", expect.stringContaining("is the first control-plane node"), "change controlPlane.order first so that another control-plane node comes first, then remove it"]);
  });

  it("reaches a dead node over nothing, and a node no pool selects over SSH only to remove it (drained with the defaults)", () => {
    const config = live([{ name: "general-3", dead: true }, "batch-1"], shared("general-3"));
    const targets = sshTargetsOf(config);
    expect(targets.has("general-3")).toBe(false);
    expect(targets.get("batch-1")?.host).toBe(config.unpooled.find((n) => n.name === "batch-1")!.host);
    expect(targets.get("batch-1")?.host).not.toBe("");
    expect(targets.has("batch-2")).toBe(false);
    expect(executionOptions(config).drain(UNPOOLED)).toEqual(DEFAULT_DRAIN);
    const plan = planFromConfig(config, new Date("2026-11-28"));
    expect(plan.removals.map((s) => [s.nodes[0], s.actions.map((a) => a.kind)])).toEqual([
      ["general-3", ["delete-dead-node"]],
      ["batch-1", ["drain", "reset-node", "delete-node"]],
    ]);
  });
});
