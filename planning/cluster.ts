/**
 * The cluster as the planner sees it: nodes with their role, pool and the version of every
 * Kubernetes component they run. Plain immutable data, no Pulumi.
 */
import type { BlueGreenSpec } from "./blue-green";
import type { NodeRemovalSpec } from "./removal";
import { KubeVersion } from "./versions";

/** Control-plane nodes run kube-apiserver, kube-controller-manager and kube-scheduler. */
export type NodeRole = "control-plane" | "worker";

/** The components whose versions the skew policy constrains. */
export const COMPONENTS = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubelet",
  "kube-proxy",
  "kubectl",
] as const;
export type Component = (typeof COMPONENTS)[number];

/** Components only control-plane nodes run (as kubeadm static pods). */
export const CONTROL_PLANE_COMPONENTS = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;

/**
 * Versions of the components on one node. Control-plane components are present exactly on
 * control-plane nodes. kube-proxy is the node's pod of the kube-proxy DaemonSet.
 */
export type ComponentVersions = {
  readonly [C in Component]?: KubeVersion;
} & { readonly kubelet: KubeVersion; readonly "kube-proxy": KubeVersion; readonly kubectl: KubeVersion };

/** The pool name given to control-plane nodes. */
export const CONTROL_PLANE_POOL = "control-plane";

/**
 * The pool of workers read from the cluster that no pool selects: never changed, but their
 * kubelets constrain the plan (each step keeps them within the version skew).
 */
export const UNPOOLED = "(no pool)";

export interface NodeState {
  /** The Kubernetes node name (`kubectl get nodes`). */
  readonly name: string;
  readonly role: NodeRole;
  /** Worker pool name, or {@link CONTROL_PLANE_POOL}. */
  readonly pool: string;
  readonly versions: ComponentVersions;
  /**
   * A drain of this program's left the node cordoned (read from the cluster: annotation
   * `cluster-maintenance.io/cordoned`); an interrupted step to finish. @default false
   */
  readonly cordonedByUs?: boolean;
  /** Read from the cluster: its Ready condition is not True (a control-plane node's etcd member counts as unhealthy). @default false */
  readonly notReady?: boolean;
}

/**
 * How a worker pool takes a new version.
 * - `rolling`: nodes are upgraded in place, `maxUnavailable` at a time.
 * - `blue-green`: the pool is replaced by new nodes that join at the control plane's version.
 */
export type PoolStrategy = "rolling" | "blue-green";
export const POOL_STRATEGIES: readonly PoolStrategy[] = ["rolling", "blue-green"];

export interface PoolSpec {
  readonly name: string;
  readonly strategy: PoolStrategy;
  /** Nodes of the pool cordoned at once (rolling), at least 1, at most the pool's size. */
  readonly maxUnavailable: number;
  /** Blue-green pools: what shapes a replacement (its own target, batches, soaks, capacity). */
  readonly blueGreen?: BlueGreenSpec;
}

/** What the planner starts from: the cluster's name, its worker pools, every node. */
export interface ClusterSpec {
  readonly name: string;
  readonly pools: readonly PoolSpec[];
  /** Control-plane nodes first, in the order they are upgraded; then workers. */
  readonly nodes: readonly NodeState[];
  /**
   * OS patch revision by pool name (`control-plane` included): a pool listed here has its
   * nodes patched; a node the upgrade drains is patched inside that drain.
   */
  readonly osPatch?: Readonly<Record<string, string>>;
  /**
   * Nodes (and `bastion <host>`) reached over SSH without a host key check
   * (`ssh.insecureIgnoreHostKey`): the plan warns. @default none
   */
  readonly uncheckedHostKeys?: readonly string[];
  /**
   * Nodes removed for good before the hops (planning/removal.ts); each names a node of `nodes`,
   * or one already gone from the cluster (`gone`). No hop or OS patch touches them. @default none
   */
  readonly removals?: readonly NodeRemovalSpec[];
}

/**
 * Returns the node with each of `components` raised to `to`; a component already newer
 * keeps its version (an upgrade never moves a component backwards).
 */
export function raised(node: NodeState, components: readonly Component[], to: KubeVersion): NodeState {
  const changes: Partial<Record<Component, KubeVersion>> = {};
  for (const c of components) {
    const v = node.versions[c];
    if (v !== undefined && v.isBefore(to)) changes[c] = to;
  }
  return { ...node, versions: { ...node.versions, ...changes } };
}
