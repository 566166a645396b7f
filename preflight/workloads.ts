/**
 * What the go/no-go check needs of the cluster's workloads: every pod (where it runs, who
 * controls it, what local data it has), every PodDisruptionBudget with the status the
 * disruption controller computed, and which Deployment owns each ReplicaSet. Built from the
 * API's list responses (plain JSON as `kubectl get --raw` shows it, or @kubernetes/client-node's
 * objects) by {@link slimWorkloadPod}, {@link slimBudget} and {@link replicaSetOwner}, page by page.
 * Field reference: https://kubernetes.io/docs/reference/kubernetes-api/
 */
import { Json, obj, strings } from "../discovery/json";

/** A pod as the drain sees it. */
export interface WorkloadPod {
  readonly namespace: string;
  readonly name: string;
  /** `spec.nodeName`; "" when not scheduled. */
  readonly node: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The controller owner reference (`controller: true`), absent for a pod with no controller. */
  readonly controller?: { readonly kind: string; readonly name: string };
  /** Annotation `kubernetes.io/config.mirror`: a static pod's mirror, which a drain leaves alone. */
  readonly mirror: boolean;
  /** `status.phase`. */
  readonly phase: string;
  /** `metadata.deletionTimestamp` is set. */
  readonly terminating: boolean;
  /** The Ready condition is True. */
  readonly ready: boolean;
  /** Names of its emptyDir volumes: their data is deleted with the pod. */
  readonly emptyDirs: readonly string[];
  /** Its containers' command and args, joined (read for etcd's `--quota-backend-bytes`); only for mirror pods. */
  readonly args?: readonly string[];
  /** For a kube-apiserver mirror pod: the `host:port` kubeadm's annotation says it advertises. */
  readonly endpoint?: string;
}

/** The annotation kubeadm writes on each kube-apiserver static pod: the `host:port` it advertises (kubeadm constants.go, KubeAPIServerAdvertiseAddressEndpointAnnotationKey). */
export const ADVERTISE_ENDPOINT_ANNOTATION = "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint";

/** metav1.LabelSelector. https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements */
export interface ObjectSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
}

/** A PodDisruptionBudget (policy/v1). https://kubernetes.io/docs/tasks/run-application/configure-pdb/ */
export interface Budget {
  readonly namespace: string;
  readonly name: string;
  /** Absent (null in the API): selects no pod; `{}`: every pod of the namespace (policy/v1). */
  readonly selector?: ObjectSelector;
  /** `status.disruptionsAllowed`, as the disruption controller last computed it. */
  readonly disruptionsAllowed: number;
  readonly currentHealthy: number;
  readonly desiredHealthy: number;
  readonly expectedPods: number;
}

/** The workloads read. */
export interface Workloads {
  readonly pods: readonly WorkloadPod[];
  readonly budgets: readonly Budget[];
  /** `namespace/replicaset` -> the Deployment that owns it. */
  readonly replicaSetOwners: ReadonlyMap<string, string>;
}

const arr = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** The controller owner reference of an object, if any. */
function controllerOf(meta: Json): { kind: string; name: string } | undefined {
  const ref = arr(meta.ownerReferences).map(obj).find((r) => r.controller === true);
  return ref ? { kind: str(ref.kind), name: str(ref.name) } : undefined;
}

/** One pod reduced to {@link WorkloadPod}. */
export function slimWorkloadPod(pod: unknown): WorkloadPod {
  const p = obj(pod);
  const meta = obj(p.metadata);
  const spec = obj(p.spec);
  const status = obj(p.status);
  const annotations = strings(meta.annotations);
  const mirror = annotations["kubernetes.io/config.mirror"] !== undefined;
  const controller = controllerOf(meta);
  return {
    namespace: str(meta.namespace),
    name: str(meta.name),
    node: str(spec.nodeName),
    labels: strings(meta.labels),
    ...(controller ? { controller } : {}),
    mirror,
    phase: str(status.phase),
    terminating: meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
    ready: arr(status.conditions).map(obj).some((c) => c.type === "Ready" && c.status === "True"),
    emptyDirs: arr(spec.volumes).map(obj).filter((v) => v.emptyDir !== undefined && v.emptyDir !== null).map((v) => str(v.name)),
    ...(mirror ? { args: arr(spec.containers).flatMap((c) => [...arr(obj(c).command), ...arr(obj(c).args)].map(str)) } : {}),
    ...(mirror && annotations[ADVERTISE_ENDPOINT_ANNOTATION] ? { endpoint: annotations[ADVERTISE_ENDPOINT_ANNOTATION] } : {}),
  };
}

/** One PodDisruptionBudget reduced to {@link Budget}. */
export function slimBudget(pdb: unknown): Budget {
  const b = obj(pdb);
  const meta = obj(b.metadata);
  const spec = obj(b.spec);
  const status = obj(b.status);
  const selector = spec.selector === undefined || spec.selector === null ? undefined : obj(spec.selector);
  return {
    namespace: str(meta.namespace),
    name: str(meta.name),
    ...(selector
      ? {
          selector: {
            ...(selector.matchLabels ? { matchLabels: strings(selector.matchLabels) } : {}),
            ...(selector.matchExpressions
              ? { matchExpressions: arr(selector.matchExpressions).map(obj).map((e) => ({ key: str(e.key), operator: str(e.operator), values: arr(e.values).map(str) })) }
              : {}),
          },
        }
      : {}),
    disruptionsAllowed: num(status.disruptionsAllowed),
    currentHealthy: num(status.currentHealthy),
    desiredHealthy: num(status.desiredHealthy),
    expectedPods: num(status.expectedPods),
  };
}

/** A ReplicaSet's key (`namespace/name`) and the Deployment controlling it, if one does. */
export function replicaSetOwner(rs: unknown): [string, string] | undefined {
  const meta = obj(obj(rs).metadata);
  const owner = controllerOf(meta);
  return owner?.kind === "Deployment" ? [`${str(meta.namespace)}/${str(meta.name)}`, owner.name] : undefined;
}

/**
 * True when `labels` satisfy `selector` (every matchLabels pair and every expression:
 * In, NotIn, Exists, DoesNotExist). An absent selector selects nothing; `{}` selects everything.
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#set-based-requirement
 */
export function selectorMatches(selector: ObjectSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  return (selector.matchExpressions ?? []).every((e) => {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        return has && values.includes(labels[e.key]!);
      case "NotIn":
        return !has || !values.includes(labels[e.key]!);
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
      default:
        return false;
    }
  });
}

/** The workload a pod belongs to, `Deployment shop/web` or `StatefulSet shop/db`; absent for other controllers. */
export function workloadOf(pod: WorkloadPod, replicaSetOwners: ReadonlyMap<string, string>): string | undefined {
  if (!pod.controller) return undefined;
  if (pod.controller.kind === "StatefulSet") return `StatefulSet ${pod.namespace}/${pod.controller.name}`;
  if (pod.controller.kind === "ReplicaSet") {
    const deployment = replicaSetOwners.get(`${pod.namespace}/${pod.controller.name}`);
    return deployment ? `Deployment ${pod.namespace}/${deployment}` : undefined;
  }
  return undefined;
}

/**
 * Whether `kubectl drain` evicts the pod: not a mirror pod, not a DaemonSet's (`--ignore-daemonsets`),
 * not finished (Succeeded/Failed pods are deleted, nothing is lost).
 * https://kubernetes.io/docs/reference/kubectl/generated/kubectl_drain/
 */
export function drainEvicts(pod: WorkloadPod): boolean {
  return !pod.mirror && pod.controller?.kind !== "DaemonSet" && pod.phase !== "Succeeded" && pod.phase !== "Failed";
}
