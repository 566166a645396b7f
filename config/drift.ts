/**
 * Drift: where the stack config declares versions and the cluster can be read, every
 * difference between the two stops the program before anything is registered. The cluster
 * is the source of truth (../shared/DESIGN.md, "How data flows"); a config that lags it
 * would re-run finished steps, one that leads it would skip steps that never ran.
 */
import type { LiveCluster } from "../discovery/live-cluster";
import { CONTROL_PLANE_COMPONENTS, Component } from "../planning/cluster";
import { StackConfig } from "./stack-config";

/** One difference between the config and the cluster. */
export interface DriftRow {
  readonly node: string;
  /** A component, or `node` when the node itself is missing on one side. */
  readonly component: string;
  /** What the config says ("-" for a node it does not declare). */
  readonly declared: string;
  /** What the cluster runs ("-" for a node it does not have). */
  readonly live: string;
  readonly fix: string;
}

/**
 * Every difference between the nodes `config` declares (all of them in a config with
 * versions; a blue-green pool's in a config without) and `live`: a declared node the cluster
 * lacks, a node of the cluster a declared config does not list, and per node the kubelet
 * and the control-plane static pods (kube-apiserver, kube-controller-manager,
 * kube-scheduler); the kube-proxy DaemonSet when `kubeProxyVersion` is set. kubectl is not
 * compared: its version on a node is not visible through the API (REFERENCE.md, "Measured on
 * a real kube-apiserver").
 * @returns the rows, in config order; empty when they agree.
 */
export function driftRows(config: StackConfig, live: LiveCluster): DriftRow[] {
  const byName = new Map(live.nodes.map((n) => [n.name, n]));
  const rows: DriftRow[] = [];
  const declared = [...(config.live ? [] : config.controlPlane), ...config.pools.filter((p) => !config.live?.pools.has(p.name)).flatMap((p) => p.nodes)];
  for (const node of declared) {
    const n = byName.get(node.name);
    if (!n) {
      const removed = config.removeNodes.some((r) => r.name === node.name);
      rows.push({ node: node.name, component: "node", declared: "listed", live: "-", fix: removed ? "it is removed (removeNodes): take it out of its node list and out of removeNodes" : "remove it from the config (kubectl get nodes does not show it)" });
      continue;
    }
    const compared: [Component, string | undefined][] = [["kubelet", n.kubeletVersion.toString()]];
    if (node.role === "control-plane") {
      for (const c of CONTROL_PLANE_COMPONENTS) compared.push([c, n.staticPods?.[c]?.toString()]);
    }
    for (const [component, running] of compared) {
      const want = (node.components[component] ?? node.version).toString();
      if (running !== want) {
        rows.push({ node: node.name, component, declared: want, live: running ?? "-", fix: `set the node's ${component === "kubelet" ? "version" : `components.${component}`} to ${running ?? "what runs"}, or read the cluster instead (remove the versions)` });
      }
    }
  }
  if (!config.live) {
    const listed = new Set(declared.map((n) => n.name));
    for (const n of live.nodes) {
      if (!listed.has(n.name)) rows.push({ node: n.name, component: "node", declared: "-", live: `kubelet ${n.kubeletVersion}`, fix: "declare it in its pool (or the control plane), with its version" });
    }
  }
  if (config.kubeProxyVersion && live.kubeProxy && !config.kubeProxyVersion.equals(live.kubeProxy.version)) {
    rows.push({ node: "(DaemonSet kube-system/kube-proxy)", component: "kube-proxy", declared: config.kubeProxyVersion.toString(), live: live.kubeProxy.version.toString(), fix: `set kubeProxyVersion to ${live.kubeProxy.version}, or remove it` });
  }
  return rows;
}

/** Thrown when the config and the cluster differ: its message is one table of every difference. */
export class DriftError extends Error {
  constructor(
    readonly rows: readonly DriftRow[],
    server: string,
  ) {
    super(`the stack config does not match the cluster at ${server}; nothing was changed. Fix the config (or let the cluster be the source: remove the versions), then run again:\n${driftTable(rows)}`);
    this.name = "DriftError";
  }
}

/** The rows as an aligned table: NODE, COMPONENT, DECLARED, LIVE, FIX. */
export function driftTable(rows: readonly DriftRow[]): string {
  const table = [["NODE", "COMPONENT", "DECLARED", "LIVE", "FIX"], ...rows.map((r) => [r.node, r.component, r.declared, r.live, r.fix])];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell)).join("  ")).join("\n");
}

/** @throws DriftError when {@link driftRows} finds any difference. */
export function refuseDrift(config: StackConfig, live: LiveCluster): void {
  const rows = driftRows(config, live);
  if (rows.length > 0) throw new DriftError(rows, live.server);
}
