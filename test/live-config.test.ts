/**
 * A stack config without versions, filled in from the cluster (the real responses of
 * ../shared/data/kube-api/v1.31-kubeadm-ha), and a config with versions compared with it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseLiveCluster, LiveCluster, RawCluster } from "../discovery/live-cluster";
import { clusterSource } from "../config/cluster-source";
import { driftRows, DriftError } from "../config/drift";
import { resolveLive } from "../config/live-nodes";
import { parseSelector, selects } from "../config/selector";
import { parseStackConfig, planFromConfig, sshTargetsOf, toClusterSpec } from "../config/stack-config";
import { InputErrors } from "../planning/errors";
import { UNPOOLED } from "../planning/cluster";

const DATA = join(__dirname, "..", "..", "shared", "data", "kube-api", "v1.31-kubeadm-ha");
const items = (file: string) => (JSON.parse(readFileSync(join(DATA, file), "utf8")) as { items: unknown[] }).items;
const one = (file: string, name: string) => items(file).find((o) => (o as { metadata: { name: string } }).metadata.name === name);

/** The shared cluster: cp-1..3 at 1.31.4, general-1..3 at 1.31.4, batch-1..2 kubelets at 1.30.14. */
function sharedCluster(): LiveCluster {
  const raw = {
    nodes: items("nodes.json"),
    pods: items("pods.json").filter((p) => (p as { metadata: { namespace: string } }).metadata.namespace === "kube-system"),
    kubeProxy: one("daemonsets.json", "kube-proxy"),
    coreDns: one("deployments.json", "coredns"),
    kubeadmConfig: JSON.parse(readFileSync(join(DATA, "configmap-kubeadm-config.json"), "utf8")),
  } as RawCluster;
  return parseLiveCluster("https://127.0.0.1:6443", raw);
}

/** A kubeconfig the reader stubs never use (it only has to parse). */
const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOD/n8wMEVNMYs7TygGUJY0JyGwULOrAfiInHIjf11Ha";
const liveRaw = {
  targetVersion: "1.32",
  controlPlane: { order: ["cp-2"] },
  pools: [{ name: "general", strategy: "rolling", selector: "pool=general", maxUnavailable: "50%" }],
  ssh: { insecureIgnoreHostKey: true },
};

describe("label selectors", () => {
  it("select as kubectl get nodes -l does (equality-based)", () => {
    const s = parseSelector("pool=general,!retired,zone!=b");
    if (typeof s === "string") throw new Error(s);
    expect(selects(s, { pool: "general" })).toBe(true);
    expect(selects(s, { pool: "general", zone: "b" })).toBe(false);
    expect(selects(s, { pool: "general", retired: "" })).toBe(false);
    expect(selects(s, { pool: "batch" })).toBe(false);
    expect(parseSelector("pool in (a,b)")).toMatch(/is not a label key|is not key=value/);
    expect(parseSelector("")).toMatch(/is empty/);
  });
});

describe("a config without versions", () => {
  it("takes the control plane by label in the configured order, pools by selector, versions and addresses from the cluster", () => {
    const config = resolveLive(parseStackConfig(liveRaw, "t"), sharedCluster());
    expect(config.controlPlane.map((n) => [n.name, n.host, n.version.toString(), n.components["kube-apiserver"]?.toString()])).toEqual([
      ["cp-2", "127.0.1.7", "1.31.4", "1.31.4"],
      ["cp-1", "127.0.1.1", "1.31.4", "1.31.4"],
      ["cp-3", "127.0.1.8", "1.31.4", "1.31.4"],
    ]);
    expect(config.kubectlNode).toBe("cp-2");
    const general = config.pools[0]!;
    expect(general.nodes.map((n) => `${n.name}@${n.host}`)).toEqual(["general-1@127.0.1.2", "general-2@127.0.1.3", "general-3@127.0.1.4"]);
    // 50% of 3 nodes, rounded down.
    expect(general.maxUnavailable).toBe(1);
    // The batch pool is selected by no pool: listed, not upgraded, not reached over SSH.
    expect(config.unpooled.map((n) => [n.name, n.pool, n.version.toString(), n.host])).toEqual([
      ["batch-1", UNPOOLED, "1.30.14", ""],
      ["batch-2", UNPOOLED, "1.30.14", ""],
    ]);
    expect([...sshTargetsOf(config).keys()]).toEqual(["cp-2", "cp-1", "cp-3", "general-1", "general-2", "general-3"]);
    expect(config.kubeProxyVersion?.toString()).toBe("1.31.4");
    const spec = toClusterSpec(config);
    expect(spec.nodes.find((n) => n.name === "batch-1")).toMatchObject({ role: "worker", pool: UNPOOLED });
  });

  it("plans only the nodes it selects; the unpooled kubelets constrain the hop", () => {
    const plan = planFromConfig(resolveLive(parseStackConfig(liveRaw, "t"), sharedCluster()), new Date("2026-11-28"));
    const changed = new Set(plan.steps.flatMap((s) => s.nodes));
    expect(changed.has("batch-1")).toBe(false);
    expect([...changed].sort()).toEqual(["cp-1", "cp-2", "cp-3", "general-1", "general-2", "general-3"]);
    // batch-1/2 at 1.30 are two minors behind 1.32 kube-apiservers: within the kubelet skew (3 minors).
    expect(plan.target.toString()).toBe(plan.hops[plan.hops.length - 1]!.to.toString());
    // Two minors further (1.34 and 1.35) would leave 1.30 kubelets 4 and 5 minors behind: refused.
    expect(() => planFromConfig(resolveLive(parseStackConfig({ ...liveRaw, targetVersion: "1.35" }, "t"), sharedCluster()))).toThrow(/batch-1/);
  });

  it("names the key to change when the cluster does not fit the config", () => {
    const fail = (raw: Record<string, unknown>) => {
      try {
        resolveLive(parseStackConfig(raw, "t"), sharedCluster());
      } catch (e) {
        expect(e).toBeInstanceOf(InputErrors);
        return (e as Error).message;
      }
      throw new Error("expected a refusal");
    };
    expect(fail({ ...liveRaw, controlPlane: { order: ["general-1"] } })).toContain('controlPlane.order[0]: is not a control-plane node of the cluster (got "general-1"). name one of cp-1, cp-2, cp-3');
    expect(fail({ ...liveRaw, pools: [{ name: "gpu", selector: "pool=gpu" }] })).toContain('pools[0].selector: selects no worker node of the cluster (got "pool=gpu")');
    expect(fail({ ...liveRaw, pools: [{ name: "a", selector: "pool=general" }, { name: "b", selector: "pool" }] })).toContain("selects node general-1, which pool a selects too");
    expect(fail({ ...liveRaw, kubectlNode: "general-1" })).toContain('kubectlNode: is not a control-plane node of the cluster (got "general-1")');
    expect(fail({ ...liveRaw, ssh: {} })).toContain("hosts.cp-1.hostKey: is required: node cp-1 is reached over SSH and its host key is checked");
    expect(fail({ ...liveRaw, nodeAddressType: "ExternalIP" })).toContain("hosts.cp-1.host: is needed: node cp-1 reports no ExternalIP address");
    expect(fail({ ...liveRaw, maxNodesPerUpdate: 1, pools: [{ name: "general", selector: "pool=general", maxUnavailable: 2 }] })).toContain("pools[0].maxUnavailable: is more than maxNodesPerUpdate (1): a batch must fit in one update (got 2). lower it, or raise maxNodesPerUpdate to at least 2");
    // Host keys per node; an address override.
    const hosts = Object.fromEntries(["cp-1", "cp-2", "cp-3", "general-1", "general-2", "general-3"].map((n) => [n, { hostKey: KEY }]));
    const ok = resolveLive(parseStackConfig({ ...liveRaw, ssh: {}, hosts: { ...hosts, "cp-1": { host: "10.0.0.11", hostKey: KEY } } }, "t"), sharedCluster());
    expect(sshTargetsOf(ok).get("cp-1")).toEqual({ host: "10.0.0.11", hostKey: KEY });
  });

  it("refuses the live-only keys in a config that declares its nodes, and node lists in one that does not", () => {
    const declared = { targetVersion: "1.32", controlPlane: { nodes: [{ name: "cp-1", host: "10.0.0.1", version: "1.31.4" }] }, ssh: { insecureIgnoreHostKey: true } };
    expect(() => parseStackConfig({ ...declared, hosts: {} }, "t")).toThrow("hosts: applies only to nodes read from the cluster (no controlPlane.nodes)");
    const pool = { name: "g", maxUnavailable: "100%", nodes: [{ name: "g-1", host: "10.0.0.2", version: "1.31.4" }, { name: "g-2", host: "10.0.0.3", version: "1.31.4" }] };
    expect(() => parseStackConfig({ ...declared, maxNodesPerUpdate: 1, pools: [pool] }, "t")).toThrow("pools[0].maxUnavailable: is more than maxNodesPerUpdate (1): a batch must fit in one update (got 2)");
    expect(() => parseStackConfig({ ...declared, pools: [{ name: "g", selector: "pool=g", nodes: [{ name: "g-1", host: "10.0.0.2", version: "1.31.4" }] }] }, "t")).toThrow("pools[0].selector: applies only to nodes read from the cluster");
    expect(() => parseStackConfig({ ...liveRaw, pools: [{ name: "g", nodes: [] }] }, "t")).toThrow(/pools\[0\]\.nodes: lists nodes in a config without versions[\s\S]*pools\[0\]\.selector: is required/);
  });
});

describe("a config that declares its versions, compared with the cluster", () => {
  const node = (name: string, version: string) => ({ name, host: "10.0.0.1", version });
  const declared = {
    targetVersion: "1.32",
    controlPlane: { nodes: [node("cp-1", "1.31.4"), node("cp-2", "1.31.4"), node("cp-3", "1.31.4")] },
    pools: [
      { name: "general", nodes: [node("general-1", "1.31.4"), node("general-2", "1.31.4"), node("general-3", "1.31.4")] },
      { name: "batch", nodes: [node("batch-1", "1.30.14"), node("batch-2", "1.30.14")] },
    ],
    ssh: { insecureIgnoreHostKey: true },
  };

  it("agrees with the cluster it describes", () => {
    expect(driftRows(parseStackConfig(declared, "t"), sharedCluster())).toEqual([]);
  });

  it("is refused, with one table, when it lags the cluster or lists a node the cluster lacks", async () => {
    const lagging = { ...declared, controlPlane: { nodes: [node("cp-1", "1.30.14"), node("cp-2", "1.31.4"), node("cp-9", "1.31.4")] } };
    const config = parseStackConfig(lagging, "t");
    const failure = clusterSource(config, { override: KUBECONFIG }, { reader: async () => sharedCluster() });
    await expect(failure).rejects.toBeInstanceOf(DriftError);
    await expect(failure).rejects.toThrow(
      [
        "NODE  COMPONENT                DECLARED  LIVE            FIX",
        "cp-1  kubelet                  1.30.14   1.31.4          set the node's version to 1.31.4, or read the cluster instead (remove the versions)",
        "cp-1  kube-apiserver           1.30.14   1.31.4          set the node's components.kube-apiserver to 1.31.4, or read the cluster instead (remove the versions)",
      ].join("\n"),
    );
    const rows = driftRows(config, sharedCluster());
    expect(rows.filter((r) => r.component === "node").map((r) => [r.node, r.declared, r.live])).toEqual([["cp-9", "listed", "-"], ["cp-3", "-", "kubelet 1.31.4"]]);
  });

  it("is planned as declared offline, and without a kubeconfig says it was not compared", async () => {
    const config = parseStackConfig(declared, "t");
    const reader = jest.fn();
    expect((await clusterSource(config, {}, { offline: true, reader })).origin).toBe("the versions declared in the stack config (offline)");
    expect((await clusterSource(config, { env: {}, home: "/nonexistent" }, { reader })).origin).toMatch(/no kubeconfig found: not compared/);
    // A KUBECONFIG naming no file gives no kubeconfig, as for kubectl (discovery/kubeconfig.ts findKubeconfig decides, not a second check).
    expect((await clusterSource(config, { env: { KUBECONFIG: "/nonexistent/config" }, home: "/nonexistent" }, { reader })).origin).toMatch(/no kubeconfig found: not compared/);
    expect(reader).not.toHaveBeenCalled();
  });
});
