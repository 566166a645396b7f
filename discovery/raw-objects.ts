/**
 * The fields of Kubernetes API objects that discovery reads, as the API returns them (plain
 * JSON, e.g. `kubectl get --raw`) or as @kubernetes/client-node deserializes them (its
 * V1Node, V1Pod, ... fit these shapes). Every other field is ignored.
 * Field reference: https://kubernetes.io/docs/reference/kubernetes-api/
 */

/** ObjectMeta: the fields read. `deletionTimestamp` is a string in JSON, a Date from client-node. */
export interface RawMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly deletionTimestamp?: unknown;
}

/** A container: its name and image reference (`registry/repository:tag[@digest]`). */
export interface RawContainer {
  readonly name: string;
  readonly image?: string;
}

/** A Node (core/v1). https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/node-v1/ */
export interface RawNode {
  readonly metadata?: RawMeta;
  readonly spec?: {
    readonly unschedulable?: boolean;
    readonly taints?: readonly { readonly key: string; readonly value?: string; readonly effect: string }[];
  };
  readonly status?: {
    readonly conditions?: readonly { readonly type: string; readonly status: string }[];
    readonly addresses?: readonly { readonly type: string; readonly address: string }[];
    readonly nodeInfo?: { readonly kubeletVersion?: string };
  };
}

/** A Pod (core/v1). https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/ */
export interface RawPod {
  readonly metadata?: RawMeta;
  readonly spec?: { readonly nodeName?: string; readonly containers?: readonly RawContainer[] };
}

/** A DaemonSet or Deployment (apps/v1): its pod template's containers. */
export interface RawWorkload {
  readonly metadata?: RawMeta;
  readonly spec?: { readonly template?: { readonly spec?: { readonly containers?: readonly RawContainer[] } } };
}

/** A ConfigMap (core/v1): its string data. */
export interface RawConfigMap {
  readonly metadata?: RawMeta;
  readonly data?: Readonly<Record<string, string>>;
}

/** Annotations this program puts on nodes it cordons (node-scripts/cordon-node.sh). */
export const CORDONED_ANNOTATION = "cluster-maintenance.io/cordoned";
export const OPERATOR_CORDONED_ANNOTATION = "cluster-maintenance.io/operator-cordoned";
/** The annotation the kubelet puts on a static pod's mirror pod. https://kubernetes.io/docs/tasks/configure-pod-container/static-pod/ */
export const MIRROR_ANNOTATION = "kubernetes.io/config.mirror";
/** Pod labels read: kubeadm's static pods (`component`, `tier`), kube-proxy's pods (`k8s-app`). */
const POD_LABELS = ["component", "tier", "k8s-app"] as const;

/**
 * A node reduced to the fields {@link RawNode} names, and only the annotations read: what is
 * kept of each node while a large cluster is read page by page (a node's managedFields alone
 * are kilobytes).
 */
export function slimNode(n: RawNode): RawNode {
  return {
    metadata: { name: n.metadata?.name, labels: n.metadata?.labels, annotations: pick(n.metadata?.annotations, [CORDONED_ANNOTATION, OPERATOR_CORDONED_ANNOTATION]) },
    spec: { unschedulable: n.spec?.unschedulable, taints: n.spec?.taints?.map((t) => ({ key: t.key, value: t.value, effect: t.effect })) },
    status: {
      conditions: n.status?.conditions?.filter((c) => c.type === "Ready").map((c) => ({ type: c.type, status: c.status })),
      addresses: n.status?.addresses?.map((a) => ({ type: a.type, address: a.address })),
      nodeInfo: { kubeletVersion: n.status?.nodeInfo?.kubeletVersion },
    },
  };
}

/** A pod reduced to the fields {@link RawPod} names, the labels {@link POD_LABELS} and the mirror annotation. */
export function slimPod(p: RawPod): RawPod {
  const m = p.metadata;
  return {
    metadata: { name: m?.name, namespace: m?.namespace, labels: pick(m?.labels, POD_LABELS), annotations: pick(m?.annotations, [MIRROR_ANNOTATION]), deletionTimestamp: m?.deletionTimestamp },
    spec: { nodeName: p.spec?.nodeName, containers: p.spec?.containers?.map((c) => ({ name: c.name, image: c.image })) },
  };
}

function pick(record: Readonly<Record<string, string>> | undefined, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) if (record?.[k] !== undefined) out[k] = record[k];
  return out;
}
