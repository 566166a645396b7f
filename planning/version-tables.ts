/**
 * The plan's version tables in `kubeadm upgrade plan`'s words (kubeadm 1.30 and later,
 * cmd/kubeadm/app/cmd/upgrade/plan.go printUpgradePlan): a COMPONENT / NODE / CURRENT / TARGET
 * table of the control plane (kube-apiserver, kube-controller-manager, kube-scheduler per
 * control-plane node), kube-proxy, CoreDNS and etcd (per control-plane node), then the kubelets
 * in a table of their own. kubeadm prints, for example:
 *
 *     COMPONENT   NODE      CURRENT   TARGET
 *     kubelet     node-1    v1.30.0   v1.31.0
 *
 *     COMPONENT                 NODE      CURRENT    TARGET
 *     kube-apiserver            node-1    v1.30.0    v1.31.0
 *     kube-proxy                          1.30.0     v1.31.0
 *     CoreDNS                             v1.11.1    v1.11.3
 *     etcd                      node-1    3.5.12-0   3.5.15-0
 *
 * https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/
 */
import { ADDONS_FILE, ClusterAddons, kubeadmAddons } from "./addon-versions";
import { Component, CONTROL_PLANE_COMPONENTS, NodeState } from "./cluster";
import type { UpgradePlan } from "./plan-types";

/** Past this many nodes the kubelet table has one row per version ("N nodes") instead of one per node. */
export const KUBELET_ROWS_PER_NODE_MAX = 50;

/** Rows as columns three spaces apart (kubeadm's tabwriter padding), the last column unpadded. */
export function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 3))).join("").trimEnd());
}

const HEADER = ["COMPONENT", "NODE", "CURRENT", "TARGET"];
const count = (n: number) => `${n} node${n === 1 ? "" : "s"}`;

/** TARGET of a node the plan removes for good (`removeNodes`): it is not in `plan.finalState`. */
export const REMOVED = "removed";

/** The version of `component` on `node` once the plan has run: its TARGET (a node no pool upgrades keeps its own; a removed node has none). */
function after(plan: UpgradePlan, node: NodeState, component: Component): string {
  const final = plan.finalState.get(node.name);
  if (!final) return REMOVED;
  return (final.versions[component] ?? node.versions[component])?.tag ?? plan.target.tag;
}

/** One row per current and target version of `component` over `nodes`, NODE saying how many nodes run it. */
function byVersion(plan: UpgradePlan, component: "kube-proxy" | "kubelet" | "kubectl", nodes: readonly NodeState[]): string[][] {
  const tally = new Map<string, number>();
  for (const n of nodes) {
    const v = n.versions[component];
    if (v) {
      const key = `${v.tag}\t${after(plan, n, component)}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
  }
  return [...tally].sort().map(([key, k]) => [component, count(k), ...key.split("\t")]);
}

/**
 * The version tables and the line saying where etcd's and CoreDNS's TARGET come from. A
 * Kubernetes component's TARGET is its version on that node once the plan has run
 * (`plan.finalState`): the target, except on nodes no pool upgrades, and `removed` on (and
 * for the etcd member of) a node the plan removes for good.
 * - control-plane components: one row per control-plane node (plan order), as kubeadm;
 * - kube-proxy: one row per current version, NODE the number of nodes (kubeadm leaves NODE
 *   blank: a DaemonSet's pods run on every node);
 * - CoreDNS (NODE blank: one Deployment) and etcd (one row per control-plane node running
 *   kubeadm's etcd), CURRENT from `addons`, TARGET what kubeadm of the target minor installs
 *   ({@link ADDONS_FILE}; "unknown" when the file has no value for that minor). Without
 *   `addons` (planned offline or from declared versions) these rows are left out and a line
 *   says so with the target versions;
 * - kubelets: one row per node (kubeadm's kubelet table), or per version past
 *   {@link KUBELET_ROWS_PER_NODE_MAX} nodes; then kubectl, installed with the kubelet by the same
 *   step, one row per version.
 * @param addons etcd and CoreDNS as read from the cluster; absent when it was not read.
 */
export function versionTables(plan: UpgradePlan, addons?: ClusterAddons): string[] {
  const nodes = plan.initialState.toArray();
  const controlPlane = nodes.filter((n) => n.role === "control-plane");
  const data = kubeadmAddons(plan.target.minor);
  const etcdTarget = data?.etcd ?? "unknown";
  const dnsTarget = data?.coreDns ?? "unknown";
  const main: string[][] = [HEADER];
  for (const c of CONTROL_PLANE_COMPONENTS) {
    for (const n of controlPlane) {
      const v = n.versions[c];
      if (v) main.push([c, n.name, v.tag, after(plan, n, c)]);
    }
  }
  main.push(...byVersion(plan, "kube-proxy", nodes));
  if (addons?.coreDns) main.push(["CoreDNS", "", addons.coreDns, dnsTarget]);
  for (const e of addons?.etcd ?? []) main.push(["etcd", e.node, e.version, plan.initialState.get(e.node) && !plan.finalState.get(e.node) ? REMOVED : etcdTarget]);
  const kubelets: string[][] = [
    HEADER,
    ...(nodes.length > KUBELET_ROWS_PER_NODE_MAX ? byVersion(plan, "kubelet", nodes) : nodes.map((n) => ["kubelet", n.name, n.versions.kubelet.tag, after(plan, n, "kubelet")])),
    ...byVersion(plan, "kubectl", nodes),
  ];
  return [...columns(main), "", ...columns(kubelets), "", addonLine(plan.target.minor, addons)];
}

/**
 * Where etcd's and CoreDNS's TARGET come from, e.g. `etcd, CoreDNS TARGET: kubeadm 1.32 installs
 * etcd 3.5.24-0 and CoreDNS v1.11.3 (planning/data/kubeadm-addons.json, ...)`; what the file
 * lacks for the minor; that CURRENT was not read when the plan is not from the cluster.
 */
function addonLine(minor: number, addons: ClusterAddons | undefined): string {
  const data = kubeadmAddons(minor);
  const known = [...(data?.etcd ? [`etcd ${data.etcd}`] : []), ...(data?.coreDns ? [`CoreDNS ${data.coreDns}`] : [])];
  const unknown = [...(data?.etcd ? [] : ["etcd"]), ...(data?.coreDns ? [] : ["CoreDNS"])];
  const parts = [
    ...(known.length > 0 ? [`kubeadm 1.${minor} installs ${known.join(" and ")} (${ADDONS_FILE}, which names where each was read)`] : []),
    ...(unknown.length > 0 ? [`${unknown.join(" and ")} of kubeadm 1.${minor}: not in ${ADDONS_FILE} (it says why), so TARGET unknown`] : []),
  ];
  if (!addons) return `etcd, CoreDNS: not read (the plan is not from the cluster); ${parts.join("; ")}`;
  const external = addons.etcd.length === 0 ? "; no etcd pod of kubeadm's found (an external etcd, which kubeadm does not upgrade)" : "";
  return `etcd, CoreDNS TARGET: ${parts.join("; ")}${external}`;
}
