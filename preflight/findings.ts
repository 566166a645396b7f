/**
 * Findings of the go/no-go check that runs before anything is registered: what would stop a
 * drain, an API a hop removes that is still served or used, the cluster's health. Each finding
 * has a stable `id`, which the stack config's `acknowledge` list names to let a blocking
 * finding through (one entry per finding). Plain data; the checks are in this directory.
 */

/** What a finding is about. */
export type FindingKind =
  /** A PodDisruptionBudget allows fewer disruptions than a batch's drain needs. */
  | "pdb-blocks-drain"
  /** A pod with no controller on a node a batch drains: deleting it loses it for good. */
  | "pod-without-controller"
  /** A pod with emptyDir or local volume data on a node a batch drains. */
  | "pod-with-local-data"
  /** Every running replica of a Deployment or StatefulSet is on one batch's nodes. */
  | "workload-on-one-batch"
  /** The cluster serves an API version that a hop's minor removes. */
  | "removed-api-served"
  /** A client requested an API version a hop's minor removes (apiserver_requested_deprecated_apis). */
  | "removed-api-requested"
  /** A node whose Ready condition is not True. */
  | "node-not-ready"
  /** A kubeadm control-plane mirror pod that is not Ready. */
  | "control-plane-pod-not-ready"
  /** /readyz of the API server did not pass. */
  | "apiserver-not-ready"
  /** A node cordoned by someone else: it is drained as planned and stays cordoned. */
  | "cordoned-by-others"
  /** The etcd database size against its quota (apiserver_storage_size_bytes). */
  | "etcd-size"
  /** The kube-apiserver serving certificate's expiry. */
  | "certificate-expiry"
  /** A kubelet the plan leaves as far behind the kube-apiserver as the version-skew policy allows (a note: the planner refuses any plan that breaks it). */
  | "kubelet-skew"
  /** `backup.volumes`: the PVCs snapshotted before each control-plane hop, in one note (preflight/volumes.ts). */
  | "volume-snapshot"
  /** `backup.volumes`: a selected PVC no VolumeSnapshot can be taken of, with the reason (blocking with `required`). */
  | "volume-not-covered"
  /** A pod with no controller on a dead node being removed: it is lost for good (a note: the node is gone already). */
  | "pod-lost-with-dead-node"
  /** Something the check could not read (it is said, never guessed). */
  | "not-checked";

/** Every kind, for validating `acknowledge` (a Record, so a kind added to the type must be added here). */
const KINDS: Record<FindingKind, true> = {
  "pdb-blocks-drain": true,
  "pod-without-controller": true,
  "pod-with-local-data": true,
  "workload-on-one-batch": true,
  "removed-api-served": true,
  "removed-api-requested": true,
  "node-not-ready": true,
  "control-plane-pod-not-ready": true,
  "apiserver-not-ready": true,
  "cordoned-by-others": true,
  "etcd-size": true,
  "certificate-expiry": true,
  "kubelet-skew": true,
  "volume-snapshot": true,
  "volume-not-covered": true,
  "pod-lost-with-dead-node": true,
  "not-checked": true,
};
export const FINDING_KINDS = Object.keys(KINDS) as readonly FindingKind[];

/** One finding. */
export interface Finding {
  /**
   * What `acknowledge` names: `<kind>/<subject>`, where the subject is the object
   * (`shop/batch-worker-pdb`), the node, or the API (`flowschemas.v1beta3.flowcontrol.apiserver.k8s.io`).
   * Stable across runs while the cluster does not change, so an acknowledgement stays valid.
   */
  readonly id: string;
  readonly kind: FindingKind;
  /** 1-based hop it is about; 0 for the cluster as it is now (it applies to every hop). */
  readonly hop: number;
  /** The node it is about, when it is about one. */
  readonly node?: string;
  /** The object it is about, `Kind namespace/name` (e.g. `PodDisruptionBudget shop/batch-worker-pdb`). */
  readonly object?: string;
  /** What was found and what to do, one or two sentences. */
  readonly detail: string;
  /** True: the hop does not start unless acknowledged. */
  readonly blocking: boolean;
  /** True when a blocking finding is named in `acknowledge`: reported, but no longer stops the hop. */
  readonly acknowledged?: boolean;
}

/** Go or no-go for one hop: no-go while any blocking finding of the hop (or of hop 0) is not acknowledged. */
export interface HopVerdict {
  readonly hop: number;
  /** The version the hop brings the control plane to. */
  readonly to: string;
  readonly go: boolean;
  /** Ids of the unacknowledged blocking findings. */
  readonly blockers: readonly string[];
}

/** The whole go/no-go report. */
export interface Readiness {
  /** Sorted by hop, then blocking first, then id. */
  readonly findings: readonly Finding[];
  readonly verdicts: readonly HopVerdict[];
  /** `acknowledge` entries that name no finding (stale: the cluster changed, or a typo). */
  readonly unusedAcknowledgements: readonly string[];
}

/** The id of a finding: `<kind>/<subject>`. */
export function findingId(kind: FindingKind, subject: string): string {
  return `${kind}/${subject}`;
}

/**
 * Applies `acknowledge` to `findings` and gives a verdict per hop.
 * @param hops each hop's index and version, in order.
 * @param acknowledge finding ids (from the stack config's `acknowledge`); each one lets that
 *   one finding through, wherever it appears.
 */
export function judge(findings: readonly Finding[], hops: readonly { readonly index: number; readonly to: string }[], acknowledge: readonly string[]): Readiness {
  const acked = new Set(acknowledge);
  const used = new Set<string>();
  const marked = findings.map((f) => {
    if (!f.blocking || !acked.has(f.id)) return f;
    used.add(f.id);
    return { ...f, acknowledged: true };
  });
  marked.sort((a, b) => a.hop - b.hop || Number(b.blocking) - Number(a.blocking) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const verdicts = hops.map((h) => {
    const blockers = [...new Set(marked.filter((f) => f.blocking && !f.acknowledged && (f.hop === 0 || f.hop === h.index)).map((f) => f.id))];
    return { hop: h.index, to: h.to, go: blockers.length === 0, blockers };
  });
  return { findings: marked, verdicts, unusedAcknowledgements: acknowledge.filter((a) => !used.has(a)) };
}
