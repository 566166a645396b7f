/**
 * The shape of an upgrade plan: hops -> phases -> steps. Plain data; every step carries the
 * cluster state after it. Built by {@link planUpgrade} in plan.ts.
 */
import type { BlueGreenSpec, ReplacementEstimate } from "./blue-green";
import type { PoolStrategy } from "./cluster";
import type { NodeTable } from "./node-table";
import type { KubeVersion } from "./versions";

/** What one step does to its nodes. */
export type StepKind =
  /** etcd snapshot on the first control-plane node; opens every control-plane hop. */
  | "etcd-snapshot"
  /** One control-plane node's static pods: kubeadm upgrade apply (first) or node (others). */
  | "control-plane-upgrade"
  /** One control-plane node's kubelet, after every kube-apiserver: drain, kubelet/kubectl, uncordon. */
  | "kubelet-upgrade"
  /** One worker of a rolling pool: kubeadm upgrade node, drain, kubelet/kubectl, uncordon. */
  | "worker-upgrade"
  /** A blue-green pool replaced by new nodes joining at the control plane's version. */
  | "pool-replace"
  /** OS patching of a node not drained by the upgrade: drain, patch, reboot if asked, wait Ready, uncordon. */
  | "os-patch"
  /** A node a stopped run left cordoned after its upgrade: wait until Ready, uncordon. */
  | "resume"
  /** A node removed for good (`removeNodes`, planning/removal.ts), before the hops. */
  | "node-removal";

/** The kinds of action inside a step, in the order they run. */
export type ActionKind =
  | "etcd-snapshot"
  | "switch-repository"
  | "upgrade-kubeadm"
  | "kubeadm-upgrade-apply"
  | "kubeadm-upgrade-node"
  | "drain"
  | "upgrade-kubelet"
  | "os-patch"
  | "wait-ready"
  | "uncordon"
  /** Blue-green replacement phases, in order. */
  | "create-green"
  | "wait-green-ready"
  | "cordon-blue"
  | "drain-blue"
  | "soak"
  | "delete-blue-nodes"
  | "terminate-blue"
  /** Node removal (planning/removal.ts), in order. */
  | "etcd-member-check"
  | "reset-node"
  | "etcd-member-remove"
  | "delete-node"
  | "delete-dead-node";

/** One action of a step, with the command or operation it stands for. */
export interface Action {
  readonly kind: ActionKind;
  /** What runs, e.g. `kubeadm upgrade apply v1.35.9 --yes`. */
  readonly summary: string;
  /** For `os-patch`: the OS patch revision. */
  readonly revision?: string;
  /** For `etcd-member-check` and `etcd-member-remove`: an even member count after the removal is accepted. */
  readonly allowEven?: boolean;
}

/** One step of the plan: what it does to which nodes, when it may start, the state after it. */
export interface Step {
  /**
   * Stable id, unique in the plan: `<label>/<node or pool>/<kind>`, where the label is the
   * hop's minor (`v1.35/cp-1/control-plane-upgrade`), the OS patch revision
   * (`os-2026-11/general-1/os-patch`) or `remove` (`remove/general-7/node-removal`).
   */
  readonly id: string;
  /** 1-based position in the plan's total order. */
  readonly index: number;
  /** 1-based hop number; 0 for OS patching after the last hop, resumes and removals. */
  readonly hop: number;
  readonly kind: StepKind;
  /** Worker pool name, or `control-plane`. */
  readonly pool: string;
  /** Nodes the step changes (for an etcd snapshot, the node it runs on). */
  readonly nodes: readonly string[];
  /** The version the step brings its nodes to (for a snapshot: the hop's version; for a removal: the node's kubelet, or the control plane's for a node already gone). */
  readonly version: KubeVersion;
  /** For worker steps: which batch of the pool in this hop, 1-based, and how many batches. */
  readonly batch?: { readonly index: number; readonly count: number };
  readonly actions: readonly Action[];
  /**
   * For `pool-replace`: the new (green) nodes replacing `nodes` (blue), whether blue is made of
   * this stack's instances, and the replacement's duration and extra capacity.
   */
  readonly replacement?: { readonly newNodes: readonly string[]; readonly managed: boolean; readonly estimate: ReplacementEstimate };
  /**
   * 1-based stage number, counted over the whole plan without gaps. A stage is a step alone
   * or a batch of a pool, whose steps run together; a step starts once every step of stage
   * `stage - 1` has finished. So the order is stored once per step, not as a list of the
   * previous batch's ids on every step of the next one.
   */
  readonly stage: number;
  /** The cluster after this step; it passes the version-skew policy (the planner checks). */
  readonly stateAfter: NodeTable;
}

export interface Phase {
  readonly kind: "control-plane" | "workers";
  /** `control-plane` or the worker pool's name. */
  readonly pool: string;
  readonly strategy?: PoolStrategy;
  readonly steps: readonly Step[];
}

/** One minor (or, for the last hop, patch) move of the control plane and its workers. */
export interface Hop {
  readonly index: number;
  /** The oldest kube-apiserver before the hop. */
  readonly from: KubeVersion;
  readonly to: KubeVersion;
  readonly phases: readonly Phase[];
}

export type WarningKind = "host-keys" | "end-of-life" | "unsupported" | "repository" | "add-ons" | "kube-proxy-addon" | "pool-lag";

export interface PlanWarning {
  readonly kind: WarningKind;
  readonly message: string;
}

export interface UpgradePlan {
  readonly cluster: string;
  readonly target: KubeVersion;
  readonly pools: readonly { readonly name: string; readonly strategy: PoolStrategy; readonly maxUnavailable: number; readonly blueGreen?: BlueGreenSpec }[];
  readonly initialState: NodeTable;
  readonly finalState: NodeTable;
  readonly hops: readonly Hop[];
  /** OS patching of nodes the hops do not drain, after the last hop (see ClusterSpec.osPatch). */
  readonly maintenance: readonly Phase[];
  /**
   * Before the hops: nodes a stopped run left cordoned (NodeState.cordonedByUs) after their
   * kubelet caught up with the control plane, each made Ready and uncordoned, one at a time.
   */
  readonly resume: readonly Step[];
  /**
   * After the resume steps, before the hops: the nodes removed for good (`removeNodes`),
   * workers first, in batches of their pool's maxUnavailable, then control-plane nodes one at a
   * time. No later step touches them.
   */
  readonly removals: readonly Step[];
  /** Every step in order (the resume steps, the removals, the hops' steps, then the maintenance steps, flattened). */
  readonly steps: readonly Step[];
  readonly warnings: readonly PlanWarning[];
}
