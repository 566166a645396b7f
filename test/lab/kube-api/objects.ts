/**
 * Builders of Nodes, Leases, Pods and Namespaces in the shapes of the kept real answers
 * (templates.ts): what a kubelet registers and posts, what kube-controller-manager adds (taints),
 * what the API server defaults. Used by clusterObjects (cluster.ts) and the lab overlay (lab-state.ts).
 */
import type { KubeObject, OwnerReference } from "./types";
import { template } from "./templates";
import { hexOf, suffixOf } from "./ids";
import { apiTime, microTime } from "./store";

/** One node condition as the kubelet (or, once it stopped, the node lifecycle controller) posted it. */
export interface ConditionFacts {
  readonly status: "True" | "False" | "Unknown";
  readonly reason: string;
  readonly message: string;
  /** Epoch ms of its last transition. */
  readonly sinceMs: number;
}

export interface NodeFacts {
  readonly name: string;
  readonly uid: string;
  readonly createdMs: number;
  /** kubeadm's control-plane label and NoSchedule taint. */
  readonly controlPlane: boolean;
  /** Labels beyond the kubelet's own (kubernetes.io/hostname, os, arch) and kubeadm's role labels, e.g. { pool: "batch" }. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Annotations beyond the two the kubelet and the attach-detach controller set. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Cordoned since that epoch ms (spec.unschedulable and the node.kubernetes.io/unschedulable taint). */
  readonly unschedulableSinceMs?: number;
  /** "v1.31.4". */
  readonly kubeletVersion: string;
  readonly bootID: string;
  readonly address: string;
  readonly ready: ConditionFacts;
  /** Epoch ms of the kubelet's last status post (lastHeartbeatTime). */
  readonly heartbeatMs: number;
}

/** The labels a Node gets from its kubelet and from kubeadm (nodes.json), not from its operator. */
export const NODE_OWN_LABELS = [
  "beta.kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "kubernetes.io/arch",
  "kubernetes.io/hostname",
  "kubernetes.io/os",
  "node-role.kubernetes.io/control-plane",
  "node.kubernetes.io/exclude-from-external-load-balancers",
];

const KUBELET_CONDITIONS = [
  { type: "MemoryPressure", reason: "KubeletHasSufficientMemory", message: "kubelet has sufficient memory available" },
  { type: "DiskPressure", reason: "KubeletHasNoDiskPressure", message: "kubelet has no disk pressure" },
  { type: "PIDPressure", reason: "KubeletHasSufficientPID", message: "kubelet has sufficient PID available" },
];

/**
 * A Node as the API shows it (nodes.json: cp-1 for a control plane, general-1 for a worker).
 * Taints the node lifecycle controller keeps in step with the conditions
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-nodes-by-condition):
 * node.kubernetes.io/unschedulable while cordoned, not-ready (Ready False) and unreachable
 * (Ready Unknown; NoSchedule, then NoExecute 5 s later, as batch-2-kubelet-stopped-65s shows).
 */
export function nodeObject(f: NodeFacts): KubeObject {
  const n = template("nodes.json", f.controlPlane ? "cp-1" : "general-1");
  const { pool: _pool, ...base } = n.metadata.labels!;
  n.metadata.name = f.name;
  n.metadata.uid = f.uid;
  n.metadata.creationTimestamp = apiTime(f.createdMs);
  n.metadata.labels = { ...base, "kubernetes.io/hostname": f.name, ...f.labels };
  n.metadata.annotations = { ...n.metadata.annotations, ...f.annotations };
  const taints: Record<string, unknown>[] = f.controlPlane ? [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }] : [];
  if (f.unschedulableSinceMs !== undefined) taints.push({ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule", timeAdded: apiTime(f.unschedulableSinceMs) });
  const condTaint = f.ready.status === "Unknown" ? "node.kubernetes.io/unreachable" : f.ready.status === "False" ? "node.kubernetes.io/not-ready" : undefined;
  if (condTaint) {
    taints.push({ key: condTaint, effect: "NoSchedule", timeAdded: apiTime(f.ready.sinceMs) });
    taints.push({ key: condTaint, effect: "NoExecute", timeAdded: apiTime(f.ready.sinceMs + 5000) });
  }
  n.spec = { ...(f.unschedulableSinceMs !== undefined ? { unschedulable: true } : {}), ...(taints.length > 0 ? { taints } : {}) };
  const status = n.status as Record<string, unknown> & { nodeInfo: Record<string, string> };
  const heartbeat = apiTime(f.heartbeatMs);
  const created = apiTime(f.createdMs);
  const unknown = f.ready.status === "Unknown";
  status.conditions = [
    ...KUBELET_CONDITIONS.map((c) =>
      unknown
        ? { type: c.type, status: "Unknown", lastHeartbeatTime: heartbeat, lastTransitionTime: apiTime(f.ready.sinceMs), reason: f.ready.reason, message: f.ready.message }
        : { type: c.type, status: "False", lastHeartbeatTime: heartbeat, lastTransitionTime: created, reason: c.reason, message: c.message },
    ),
    { type: "Ready", status: f.ready.status, lastHeartbeatTime: heartbeat, lastTransitionTime: apiTime(f.ready.sinceMs), reason: f.ready.reason, message: f.ready.message },
  ];
  status.addresses = [
    { type: "InternalIP", address: f.address },
    { type: "Hostname", address: f.name },
  ];
  status.nodeInfo = { ...status.nodeInfo, machineID: hexOf(32, "machine", f.name), systemUUID: hexOf(32, "system", f.name), bootID: f.bootID, kubeletVersion: f.kubeletVersion };
  return n;
}

/** The node's Lease in kube-node-lease (node-leases.json), owned by its Node. renewTime is a MicroTime. */
export function leaseObject(node: { name: string; uid: string; createdMs: number }, uid: string, renewMs: number, durationSeconds: number): KubeObject {
  const l = template("node-leases.json", "*");
  l.metadata = {
    ...l.metadata,
    name: node.name,
    uid,
    creationTimestamp: apiTime(node.createdMs),
    ownerReferences: [{ apiVersion: "v1", kind: "Node", name: node.name, uid: node.uid }],
  };
  l.spec = { holderIdentity: node.name, leaseDurationSeconds: durationSeconds, renewTime: microTime(renewMs) };
  return l;
}

/** A Namespace as the API creates one (its name label, the kubernetes finalizer, Active). */
export function namespaceObject(name: string, uid: string, createdMs: number): KubeObject {
  return {
    metadata: { name, uid, creationTimestamp: apiTime(createdMs), labels: { "kubernetes.io/metadata.name": name } },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  };
}

/** What a pod is: a static pod's mirror, a DaemonSet's, a ReplicaSet's or StatefulSet's, or one without a controller. */
export type PodKind = "mirror" | "DaemonSet" | "ReplicaSet" | "StatefulSet" | "none";

export interface PodFacts {
  readonly kind: PodKind;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly createdMs: number;
  readonly nodeName: string;
  readonly hostIP: string;
  /** Host-network pods (mirror pods, kube-proxy) have the host's IP. */
  readonly podIP: string;
  /** The controller (for a mirror pod: its Node). */
  readonly owner?: Pick<OwnerReference, "kind" | "name" | "uid">;
  readonly labels?: Readonly<Record<string, string>>;
  readonly image: string;
  /** The container's name (default: the image's repository name). */
  readonly container?: string;
  /** The container's command (default: the image's own; mirror pods and kube-proxy keep kubeadm's). */
  readonly command?: readonly string[];
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** An emptyDir volume "scratch" mounted at /scratch (as the kept cache pod has). */
  readonly emptyDir?: boolean;
  /** Being deleted: deletionTimestamp and deletionGracePeriodSeconds (its kubelet has not finished it). */
  readonly deletion?: { readonly ms: number; readonly graceSeconds: number };
}

const MIRROR_COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];

/** The kept pod a pod of this kind is made from (pods.json). */
function podTemplate(f: PodFacts): KubeObject {
  if (f.kind === "mirror") {
    const component = MIRROR_COMPONENTS.find((c) => f.name === `${c}-${f.nodeName}`) ?? "kube-apiserver";
    return template("pods.json", `${component}-cp-1`);
  }
  if (f.kind === "DaemonSet") return template("pods.json", f.owner?.name === "kube-proxy" ? "kube-proxy-*" : "node-agent-*");
  if (f.owner?.name.startsWith("coredns-")) return template("pods.json", "coredns-*");
  return template("pods.json", "debug-shell");
}

/**
 * A Pod as the API shows it once scheduled and Running (pods.json): the kept pod of its kind with
 * its name, node, owner, labels, image, times and IPs; a service-account volume
 * kube-api-access-xxxxx (none on mirror pods); the DaemonSet's node affinity.
 */
export function podObject(f: PodFacts): KubeObject {
  const p = podTemplate(f);
  const created = apiTime(f.createdMs);
  const spec = p.spec as Record<string, any>;
  const status = p.status as Record<string, any>;
  const container = f.container ?? f.image.replace(/[:@].*$/, "").split("/").pop()!;
  p.metadata = {
    name: f.name,
    ...(f.kind === "DaemonSet" || f.kind === "ReplicaSet" ? { generateName: f.name.replace(/[^-]+$/, "") } : {}),
    namespace: f.namespace,
    uid: f.uid,
    creationTimestamp: created,
    ...(f.deletion ? { deletionTimestamp: apiTime(f.deletion.ms), deletionGracePeriodSeconds: f.deletion.graceSeconds } : {}),
    ...(f.kind === "mirror" || !f.labels || Object.keys(f.labels).length === 0 ? {} : { labels: { ...f.labels } }),
    ...(f.kind === "mirror"
      ? {
          labels: { ...p.metadata.labels },
          annotations: {
            ...p.metadata.annotations,
            "kubernetes.io/config.hash": hexOf(32, "config", f.name),
            "kubernetes.io/config.mirror": hexOf(32, "config", f.name),
            "kubernetes.io/config.seen": created,
          },
        }
      : {}),
    ...(f.owner
      ? {
          ownerReferences: [
            f.owner.kind === "Node"
              ? { apiVersion: "v1", kind: "Node", name: f.owner.name, uid: f.owner.uid, controller: true }
              : { apiVersion: "apps/v1", kind: f.owner.kind, name: f.owner.name, uid: f.owner.uid, controller: true, blockOwnerDeletion: true },
          ],
        }
      : {}),
  };
  const first = spec.containers[0];
  first.image = f.image;
  if (f.kind !== "mirror" && !f.owner?.name.startsWith("coredns-") && f.owner?.name !== "kube-proxy") {
    first.name = container;
    if (f.command) first.command = [...f.command];
    else delete first.command;
  }
  if (f.kind === "mirror") first.command = (first.command as string[]).map((a) => a.replaceAll("cp-1", f.nodeName));
  spec.nodeName = f.nodeName;
  if (spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution) {
    spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values = [f.nodeName];
  }
  const sa = (spec.volumes as { name: string; projected?: unknown }[] | undefined)?.find((v) => v.projected);
  if (sa) {
    const name = `kube-api-access-${suffixOf(5, "sa", f.namespace, f.name)}`;
    for (const m of first.volumeMounts ?? []) if (m.name === sa.name) m.name = name;
    sa.name = name;
  }
  if (f.emptyDir) {
    spec.volumes = [{ name: "scratch", emptyDir: {} }, ...(spec.volumes ?? [])];
    first.volumeMounts = [{ name: "scratch", mountPath: "/scratch" }, ...(first.volumeMounts ?? [])];
  }
  for (const c of status.conditions) c.lastTransitionTime = created;
  status.hostIP = f.hostIP;
  status.hostIPs = [{ ip: f.hostIP }];
  status.podIP = f.podIP;
  status.podIPs = [{ ip: f.podIP }];
  status.startTime = created;
  const cs = status.containerStatuses[0];
  cs.name = first.name;
  cs.image = f.image;
  cs.containerID = `containerd://${hexOf(64, "container", f.namespace, f.name)}`;
  cs.state = { running: { startedAt: created } };
  if (f.nodeSelector) {
    const ordered: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(spec)) {
      if (k !== "nodeSelector") ordered[k] = v;
      if (k === "dnsPolicy") ordered.nodeSelector = { ...f.nodeSelector };
    }
    p.spec = ordered;
  }
  return p;
}
