/**
 * The versions a node's pods in kube-system show: kubeadm's static pods (through their
 * mirror pods) and the node's kube-proxy pod. Through the API these image tags are the only
 * view of a control-plane component's version (REFERENCE.md, "Measured on a real kube-apiserver").
 * Static pods and mirror pods: https://kubernetes.io/docs/tasks/configure-pod-container/static-pod/
 * kubeadm's manifests (`/etc/kubernetes/manifests/<component>.yaml`, labels `component`, `tier: control-plane`):
 * https://kubernetes.io/docs/reference/setup-tools/kubeadm/implementation-details/#generate-static-pod-manifest-for-control-plane-components
 */
import type { KubeVersion } from "../planning/versions";
import { ETCD_TAG, kubeImageVersion, versionTag } from "./images";
import { MIRROR_ANNOTATION, RawPod } from "./raw-objects";

/** kubeadm's static pods, by their `component` label (= container name = manifest file name). */
const STATIC_POD_COMPONENTS = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"] as const;
type StaticComponent = (typeof STATIC_POD_COMPONENTS)[number];

/** The label selectors that list, in kube-system, every pod {@link nodePods} uses (and few others). */
export const POD_SELECTORS = ["tier=control-plane", "k8s-app=kube-proxy"] as const;

/** The versions a node's kubeadm mirror pods show (their image tags). */
export interface StaticPodVersions {
  readonly "kube-apiserver"?: KubeVersion;
  readonly "kube-controller-manager"?: KubeVersion;
  readonly "kube-scheduler"?: KubeVersion;
  /** etcd's image tag as written, e.g. `3.5.15-0`. */
  readonly etcd?: string;
}

/** What one node's pods show. */
export interface NodePods {
  /** Present when the node has at least one kubeadm mirror pod. */
  readonly staticPods?: StaticPodVersions;
  readonly kubeProxy?: KubeVersion;
}

type Kind = StaticComponent | "kube-proxy";

/**
 * The versions the pods show, by node name. A pod counts when it is in kube-system, bound
 * to a node (`spec.nodeName`) and not terminating (no `deletionTimestamp`), and it is either
 * a kubeadm mirror pod (label `component` one of {@link STATIC_POD_COMPONENTS}, label
 * `tier: control-plane`, annotation `kubernetes.io/config.mirror`) or a kube-proxy pod
 * (label `k8s-app: kube-proxy`). The version is the tag of the container named after the
 * component. Other pods are ignored.
 * Each problem (a tag that is not a version, a missing container, two pods of one component
 * on a node at different versions) is pushed to `problems` and that pod is left out.
 */
export function nodePods(pods: readonly RawPod[], problems: string[]): Map<string, NodePods> {
  const found = new Map<string, Map<Kind, { readonly value: KubeVersion | string; readonly pod: string }>>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    const kind = kindOf(pod);
    if (!node || !kind || pod.metadata?.deletionTimestamp) continue;
    const name = `kube-system/${pod.metadata?.name}`;
    const value = versionOf(pod, name, kind, node, problems);
    if (value === undefined) continue;
    const byKind = found.get(node) ?? new Map();
    found.set(node, byKind);
    const earlier = byKind.get(kind);
    if (earlier === undefined) byKind.set(kind, { value, pod: name });
    else if (String(earlier.value) !== String(value)) problems.push(duplicate(node, kind, earlier, { value, pod: name }));
  }
  const result = new Map<string, NodePods>();
  for (const [node, byKind] of found) {
    // etcd's value is its tag (a string), the others' a KubeVersion: versionOf reads each so.
    const staticPods = Object.fromEntries(STATIC_POD_COMPONENTS.flatMap((c) => (byKind.has(c) ? [[c, byKind.get(c)!.value]] : []))) as StaticPodVersions;
    const kubeProxy = byKind.get("kube-proxy")?.value as KubeVersion | undefined;
    result.set(node, { ...(Object.keys(staticPods).length > 0 && { staticPods }), ...(kubeProxy && { kubeProxy }) });
  }
  return result;
}

function kindOf(pod: RawPod): Kind | undefined {
  const m = pod.metadata;
  if (m?.namespace !== "kube-system") return undefined;
  const labels = m.labels ?? {};
  const component = STATIC_POD_COMPONENTS.find((c) => c === labels.component);
  if (component && labels.tier === "control-plane" && m.annotations?.[MIRROR_ANNOTATION] !== undefined) return component;
  return labels["k8s-app"] === "kube-proxy" ? "kube-proxy" : undefined;
}

function versionOf(pod: RawPod, name: string, kind: Kind, node: string, problems: string[]): KubeVersion | string | undefined {
  const what = kind === "kube-proxy" ? `pod ${name} (kube-proxy on node ${node})` : `pod ${name} (the mirror pod of kubeadm's static pod ${kind} on node ${node})`;
  const containers = pod.spec?.containers ?? [];
  const container = containers.find((c) => c.name === kind);
  if (!container) {
    problems.push(`${what} has no container named ${kind} (it has: ${containers.map((c) => c.name).join(", ") || "none"}); kubeadm names the container after the component: check that this pod is kubeadm's`);
    return undefined;
  }
  const read = kind === "etcd" ? versionTag(container.image, ETCD_TAG, "MAJOR.MINOR.PATCH-REVISION, e.g. 3.5.15-0") : kubeImageVersion(container.image);
  if ("problem" in read) {
    problems.push(`${what}: ${read.problem}. ${fixFor(kind, node)}`);
    return undefined;
  }
  return "tag" in read ? read.tag : read.version;
}

function fixFor(kind: Kind, node: string): string {
  if (kind === "kube-proxy") return "Use an image tagged with its Kubernetes version in DaemonSet kube-system/kube-proxy, as kubeadm writes it (registry.k8s.io/kube-proxy:v1.31.4)";
  const example = kind === "etcd" ? "registry.k8s.io/etcd:3.5.15-0" : `registry.k8s.io/${kind}:v1.31.4`;
  return `Give the image its version tag, as kubeadm writes it (${example}), in /etc/kubernetes/manifests/${kind}.yaml on ${node}`;
}

function duplicate(node: string, kind: Kind, a: { value: unknown; pod: string }, b: { value: unknown; pod: string }): string {
  const fix =
    kind === "kube-proxy"
      ? "wait for the DaemonSet's rollout to finish (kubectl -n kube-system rollout status daemonset/kube-proxy) or delete the stale pod"
      : `keep only kubeadm's manifest ${kind}.yaml in /etc/kubernetes/manifests on ${node}`;
  return `node ${node} runs two ${kind} pods at different versions: ${a.pod} (${a.value}) and ${b.pod} (${b.value}); ${fix}`;
}
