/**
 * The live cluster as discovery reads it: each node with its labels, taints, addresses,
 * cordon state, readiness and the versions it runs, plus the cluster-wide add-ons. Plain
 * immutable data built by {@link parseLiveCluster} from the API's objects (discovery/raw-objects.ts);
 * discovery/read-cluster.ts fetches them.
 */
import { parse as parseYaml } from "yaml";
import type { ClusterAddons } from "../planning/addon-versions";
import type { KubeVersion } from "../planning/versions";
import { DiscoveryError } from "./errors";
import { COREDNS_TAG, KUBE_RELEASE_FORM, kubeImageVersion, kubeRelease, versionTag } from "./images";
import { CORDONED_ANNOTATION, OPERATOR_CORDONED_ANNOTATION, RawConfigMap, RawNode, RawPod, RawWorkload } from "./raw-objects";
import { nodePods, NodePods, StaticPodVersions } from "./node-pods";

/** One node as the API shows it. */
export interface LiveNode {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `spec.taints`. https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/ */
  readonly taints: readonly { key: string; value?: string; effect: string }[];
  /** `status.addresses` in order. https://kubernetes.io/docs/reference/node/node-status/#addresses */
  readonly addresses: readonly { type: string; address: string }[];
  /** `spec.unschedulable` (cordoned). */
  readonly unschedulable: boolean;
  /** Annotation `cluster-maintenance.io/cordoned` is "true": this program cordoned it (node-scripts/cordon-node.sh). */
  readonly cordonedByUs: boolean;
  /** Annotation `cluster-maintenance.io/operator-cordoned` is "true": an operator had cordoned it before this program. */
  readonly operatorCordoned: boolean;
  /**
   * The Ready condition's status; "Unknown" when the node has none. A stopped kubelet shows as
   * "Unknown" after the node-monitor grace period, never "False" (REFERENCE.md, measured).
   * https://kubernetes.io/docs/reference/node/node-status/#condition
   */
  readonly ready: "True" | "False" | "Unknown";
  /** `status.nodeInfo.kubeletVersion`. */
  readonly kubeletVersion: KubeVersion;
  /** From this node's kubeadm mirror pods in kube-system (image tags); absent when the node has none. */
  readonly staticPods?: StaticPodVersions;
  /** Version of the kube-proxy pod on this node (its image tag), absent when none. */
  readonly kubeProxy?: KubeVersion;
}

/** The cluster as read through one API server. */
export interface LiveCluster {
  /** The API server URL read. */
  readonly server: string;
  /** Sorted by name (code-point order). */
  readonly nodes: readonly LiveNode[];
  /** DaemonSet kube-system/kube-proxy: its container `kube-proxy`'s image and that image's version. */
  readonly kubeProxy?: { readonly image: string; readonly version: KubeVersion };
  /** Deployment kube-system/coredns: its container `coredns`'s image and tag (e.g. `v1.11.3`). */
  readonly coreDns?: { readonly image: string; readonly version: string };
  /** ConfigMap kube-system/kubeadm-config: `kubernetesVersion` of its ClusterConfiguration. */
  readonly kubeadm?: { readonly kubernetesVersion: KubeVersion };
}

/** What the API answered, as {@link parseLiveCluster} takes it. Absent objects were not found (404). */
export interface RawCluster {
  readonly nodes: readonly RawNode[];
  /** Pods of kube-system; those that are neither kubeadm mirror pods nor kube-proxy pods are ignored. */
  readonly pods: readonly RawPod[];
  /** DaemonSet kube-system/kube-proxy. */
  readonly kubeProxy?: RawWorkload;
  /** Deployment kube-system/coredns. */
  readonly coreDns?: RawWorkload;
  /** ConfigMap kube-system/kubeadm-config. */
  readonly kubeadmConfig?: RawConfigMap;
}

/**
 * Builds the LiveCluster `server` answered with `raw`. Mirror pods and kube-proxy pods are
 * matched to nodes as discovery/node-pods.ts says (pods of nodes not in `raw.nodes` are ignored).
 * @throws DiscoveryError listing every problem, each naming the object, what is wrong and the
 *   fix: a kubeletVersion, image tag or kubernetesVersion that is not a version, a digest-pinned
 *   image, a missing container, a Ready status other than True/False/Unknown, two pods of one
 *   component on a node at different versions.
 */
export function parseLiveCluster(server: string, raw: RawCluster): LiveCluster {
  const problems: string[] = [];
  const pods = nodePods(raw.pods, problems);
  const nodes = raw.nodes.flatMap((n) => liveNode(n, pods.get(n.metadata?.name ?? ""), problems));
  nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const kubeProxy = raw.kubeProxy && kubeProxyOf(raw.kubeProxy, problems);
  const coreDns = raw.coreDns && coreDnsOf(raw.coreDns, problems);
  const kubeadm = raw.kubeadmConfig && kubeadmOf(raw.kubeadmConfig, problems);
  if (problems.length > 0) throw new DiscoveryError(`cannot use what the cluster at ${server} answered`, problems);
  return { server, nodes, ...(kubeProxy && { kubeProxy }), ...(coreDns && { coreDns }), ...(kubeadm && { kubeadm }) };
}

/**
 * etcd and CoreDNS as the cluster runs them, for the plan's version table
 * (planning/addon-versions.ts): etcd's tag on every node whose kubeadm etcd mirror pod was read
 * (LiveNode.staticPods.etcd, e.g. `3.5.15-0`), sorted by node name as `live.nodes` is, and the
 * tag of Deployment kube-system/coredns (`v1.11.3`). Bad tags never get here:
 * {@link parseLiveCluster} refuses them. With an external etcd, `etcd` is empty.
 */
export function clusterAddons(live: LiveCluster): ClusterAddons {
  const etcd = live.nodes.flatMap((n) => (n.staticPods?.etcd ? [{ node: n.name, version: n.staticPods.etcd }] : []));
  return { etcd, ...(live.coreDns && { coreDns: live.coreDns.version }) };
}

const READY = ["True", "False", "Unknown"] as const;

function liveNode(n: RawNode, pods: NodePods | undefined, problems: string[]): LiveNode[] {
  const name = n.metadata?.name;
  if (!name) {
    problems.push("a Node has no metadata.name: check that the kubeconfig points at a Kubernetes API server");
    return [];
  }
  const kubeletText = n.status?.nodeInfo?.kubeletVersion;
  const kubeletVersion = kubeRelease(kubeletText);
  if (!kubeletVersion) {
    problems.push(
      `node ${name}: status.nodeInfo.kubeletVersion is ${kubeletText ? JSON.stringify(kubeletText) : "empty"}, not a Kubernetes release (${KUBE_RELEASE_FORM}). ` +
        `A kubelet reports it when it registers: start the kubelet on ${name} (systemctl start kubelet), or delete the Node if its machine is gone (kubectl delete node ${name})`,
    );
  }
  const readyStatus = n.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "Unknown";
  const ready = READY.find((r) => r === readyStatus);
  if (!ready) {
    problems.push(`node ${name}: its Ready condition has the status ${JSON.stringify(readyStatus)}, not True, False or Unknown. Check the node's kubelet (kubectl describe node ${name})`);
  }
  if (!kubeletVersion || !ready) return [];
  const annotations = n.metadata?.annotations ?? {};
  return [
    {
      name,
      labels: { ...n.metadata?.labels },
      taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key, ...(t.value !== undefined && { value: t.value }), effect: t.effect })),
      addresses: (n.status?.addresses ?? []).map((a) => ({ type: a.type, address: a.address })),
      unschedulable: n.spec?.unschedulable === true,
      cordonedByUs: annotations[CORDONED_ANNOTATION] === "true",
      operatorCordoned: annotations[OPERATOR_CORDONED_ANNOTATION] === "true",
      ready,
      kubeletVersion,
      ...(pods?.staticPods && { staticPods: pods.staticPods }),
      ...(pods?.kubeProxy && { kubeProxy: pods.kubeProxy }),
    },
  ];
}

/** The image of the container named `container` in a workload's pod template, or a problem. */
function templateImage(w: RawWorkload, what: string, container: string, problems: string[]): string | undefined {
  const containers = w.spec?.template?.spec?.containers ?? [];
  const found = containers.find((c) => c.name === container);
  if (!found) {
    problems.push(`${what} has no container named ${container} (it has: ${containers.map((c) => c.name).join(", ") || "none"}); kubeadm names it ${container}: check that this is the object kubeadm installed`);
  }
  return found?.image;
}

function kubeProxyOf(ds: RawWorkload, problems: string[]): LiveCluster["kubeProxy"] {
  const what = "DaemonSet kube-system/kube-proxy";
  const image = templateImage(ds, what, "kube-proxy", problems);
  if (image === undefined) return undefined;
  const read = kubeImageVersion(image);
  if ("problem" in read) {
    problems.push(`${what}: ${read.problem}. Use an image tagged with its Kubernetes version, as kubeadm writes it (registry.k8s.io/kube-proxy:v1.31.4)`);
    return undefined;
  }
  return { image, version: read.version };
}

function coreDnsOf(deployment: RawWorkload, problems: string[]): LiveCluster["coreDns"] {
  const what = "Deployment kube-system/coredns";
  const image = templateImage(deployment, what, "coredns", problems);
  if (image === undefined) return undefined;
  const read = versionTag(image, COREDNS_TAG, "vMAJOR.MINOR.PATCH, e.g. v1.11.3");
  if ("problem" in read) {
    problems.push(`${what}: ${read.problem}. Use an image tagged with its CoreDNS version, as kubeadm writes it (registry.k8s.io/coredns/coredns:v1.11.3)`);
    return undefined;
  }
  return { image, version: read.tag };
}

/**
 * `kubernetesVersion` of the ClusterConfiguration (YAML) in kubeadm-config.
 * https://kubernetes.io/docs/reference/setup-tools/kubeadm/implementation-details/#save-the-kubeadm-clusterconfiguration-in-a-configmap-for-later-reference
 */
function kubeadmOf(cm: RawConfigMap, problems: string[]): LiveCluster["kubeadm"] {
  const where = "ConfigMap kube-system/kubeadm-config";
  const fix = "kubeadm writes it at init and at every `kubeadm upgrade apply`; inspect it with kubectl -n kube-system get configmap kubeadm-config -o yaml";
  const text = cm.data?.ClusterConfiguration;
  if (text === undefined) {
    problems.push(`${where} has no ClusterConfiguration: ${fix}`);
    return undefined;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    problems.push(`${where}: its ClusterConfiguration is not YAML (${(e as Error).message.split("\n")[0]}): ${fix}`);
    return undefined;
  }
  const value = typeof doc === "object" && doc !== null ? (doc as Record<string, unknown>).kubernetesVersion : undefined;
  const kubernetesVersion = typeof value === "string" ? kubeRelease(value) : undefined;
  if (!kubernetesVersion) {
    problems.push(`${where}: ClusterConfiguration.kubernetesVersion is ${JSON.stringify(value) ?? "missing"}, not a Kubernetes release (${KUBE_RELEASE_FORM}): ${fix}`);
    return undefined;
  }
  return { kubernetesVersion };
}
