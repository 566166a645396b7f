/**
 * clusterObjects: the objects of a kubeadm cluster in the shapes of the kept real answers, for a
 * double to serve: Nodes (control plane: label node-role.kubernetes.io/control-plane, taint
 * NoSchedule; workers with their labels), their Leases, kubeadm's mirror pods on each control-plane
 * node (etcd-, kube-apiserver-, kube-controller-manager-, kube-scheduler-<node>), the kube-proxy
 * DaemonSet with a pod per node, the coredns Deployment, the kubeadm-config and kubelet-config
 * ConfigMaps, the namespaces, optional workloads with PodDisruptionBudgets, and optional persistent
 * volumes and CSI snapshot classes (snapshots.ts: PVCs bound to CSI, hostPath or local PVs, the
 * external-snapshotter CRDs, VolumeSnapshotClasses). Deterministic
 * (uids and name suffixes derive from the names) and linear in the node count.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { KubeObject } from "./types";
import { suffixOf, uidOf } from "./ids";
import { coreDnsTemplate, kubeadmConfigMap, kubeProxyPod, kubeProxyTemplate, vTag as v } from "./kubeadm-objects";
import { leaseObject, namespaceObject, nodeObject, podObject, type PodFacts } from "./objects";
import { keptFile, withoutBookkeeping } from "./templates";
import { apiTime } from "./store";
import { storageObjects, type StorageSpec } from "./snapshots";
import { budgetObject, daemonSetObject, deploymentObject, replicaSetObject, statefulSetObject, type PodTemplateFacts } from "./workloads";

export interface ControlPlaneSpec {
  readonly name: string;
  /** Its kubelet's and its static pods' version, "1.31.4" or "v1.31.4". */
  readonly version: string;
  /** The etcd image tag (default: what kubeadm of that minor installs, test/lab/standins/lib/kubeadm-etcd-versions). */
  readonly etcdVersion?: string;
}

export interface WorkerSpec {
  readonly name: string;
  readonly kubeletVersion: string;
  /** e.g. { pool: "batch" }. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A workload and its pods (a controller's pods have the label app=<name>; bare pods have none). */
export interface WorkloadSpec {
  readonly namespace: string;
  readonly name: string;
  /** Default Deployment (a ReplicaSet and its pods); "Pod": pods without a controller. */
  readonly kind?: "Deployment" | "StatefulSet" | "DaemonSet" | "Pod";
  /** Pods (a DaemonSet has one per node of `nodes`); default 1. */
  readonly replicas?: number;
  /** Nodes its pods run on, in turn (default: the workers, or the control plane when there are none). */
  readonly nodes?: readonly string[];
  /** Default registry.example/<container>:1.0. */
  readonly image?: string;
  /** The container's name (default: the workload's). */
  readonly container?: string;
  /** The container's command (default: the image's). */
  readonly command?: readonly string[];
  /** An emptyDir volume in its pods. */
  readonly emptyDir?: boolean;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /** A PodDisruptionBudget `<name>-pdb` selecting its pods (app=<name>; a bare pod's none). */
  readonly pdb?: { readonly minAvailable?: number | string; readonly maxUnavailable?: number | string };
}

export type { SnapshotClassSpec, StorageSpec, VolumeSpec } from "./snapshots";

export interface ClusterSpec extends StorageSpec {
  readonly controlPlane: readonly ControlPlaneSpec[];
  readonly workers: readonly WorkerSpec[];
  /** kubeadm-config's ClusterConfiguration kubernetesVersion, "1.31.4" or "v1.31.4". */
  readonly kubernetesVersion: string;
  readonly kubeProxyVersion: string;
  /** CoreDNS image tag, e.g. "v1.11.3". */
  readonly coreDnsVersion: string;
  readonly workloads?: readonly WorkloadSpec[];
  /** When everything was created (epoch ms; default 2026-11-27T22:50:00Z); the Leases' renewTime too. */
  readonly createdMs?: number;
}

/** The etcd tag kubeadm of `version`'s minor installs (the lab's table of kubeadm's SupportedEtcdVersion). */
export function kubeadmEtcdTag(version: string): string {
  const minor = v(version).split(".")[1];
  const table = fs.readFileSync(path.resolve(__dirname, "..", "standins", "lib", "kubeadm-etcd-versions"), "utf8");
  const line = table.split("\n").find((l) => l.split(" ")[0] === minor);
  if (line === undefined) throw new Error(`kube-api: no etcd version for ${version} in kubeadm-etcd-versions`);
  return line.split(" ")[1]!;
}

/**
 * The objects of the cluster `spec` describes, apiVersion and kind set, for startKubeApi's seed.
 * Node i (control plane first) has address 10.0.x.y and pod CIDR 10.(128 + i/256).(i%256).0/24.
 * Everything is Running and Ready; a PodDisruptionBudget's status is computed when it is read.
 * 5,000 nodes take well under a second.
 * @throws Error on a duplicate node name or a workload placed on a node the spec does not have.
 */
export function clusterObjects(spec: ClusterSpec): KubeObject[] {
  const created = spec.createdMs ?? Date.parse("2026-11-27T22:50:00Z");
  const out: KubeObject[] = [];
  const add = (apiVersion: string, kind: string, o: KubeObject) => out.push({ apiVersion, kind, ...o });
  const nodes = [
    ...spec.controlPlane.map((c) => ({ name: c.name, controlPlane: true, kubelet: v(c.version), labels: {} })),
    ...spec.workers.map((w) => ({ name: w.name, controlPlane: false, kubelet: v(w.kubeletVersion), labels: w.labels ?? {} })),
  ];
  const index = new Map<string, { i: number; uid: string; address: string; pods: number }>();
  nodes.forEach((n, i) => {
    if (index.has(n.name)) throw new Error(`kube-api: node ${n.name} twice in the cluster spec`);
    index.set(n.name, { i, uid: uidOf("node", n.name), address: `10.0.${(i + 1) >> 8}.${(i + 1) & 255}`, pods: 0 });
  });
  const nodeOf = (name: string) => {
    const n = index.get(name);
    if (n === undefined) throw new Error(`kube-api: no node ${name} in the cluster spec`);
    return n;
  };
  const meta = (kind: string, namespace: string, name: string) => ({ name, namespace, uid: uidOf(kind, namespace, name), createdMs: created });
  const pod = (f: Omit<PodFacts, "uid" | "createdMs" | "hostIP" | "podIP">, hostNetwork = false) => {
    const n = nodeOf(f.nodeName);
    const podIP = hostNetwork ? n.address : `10.${128 + (n.i >> 8)}.${n.i & 255}.${2 + (n.pods++ % 250)}`;
    add("v1", "Pod", podObject({ ...f, uid: uidOf("pod", f.namespace, f.name), createdMs: created, hostIP: n.address, podIP }));
  };

  const namespaces = ["default", "kube-node-lease", "kube-public", "kube-system", ...(spec.workloads ?? []).map((w) => w.namespace), ...(spec.volumes ?? []).map((v) => v.namespace)];
  for (const ns of new Set(namespaces)) add("v1", "Namespace", namespaceObject(ns, uidOf("namespace", ns), created));
  for (const n of nodes) {
    const { uid, address } = nodeOf(n.name);
    const ready = { status: "True" as const, reason: "KubeletReady", message: "kubelet is posting ready status", sinceMs: created };
    add("v1", "Node", nodeObject({ name: n.name, uid, createdMs: created, controlPlane: n.controlPlane, labels: n.labels, kubeletVersion: n.kubelet, bootID: uidOf("boot", n.name), address, ready, heartbeatMs: created }));
    add("coordination.k8s.io/v1", "Lease", leaseObject({ name: n.name, uid, createdMs: created }, uidOf("lease", n.name), created, 40));
  }

  // kubeadm's static pods, mirrored by each control-plane node's kubelet (owned by its Node).
  for (const c of spec.controlPlane) {
    const owner = { kind: "Node", name: c.name, uid: nodeOf(c.name).uid };
    const images: [string, string][] = [
      ["etcd", `registry.k8s.io/etcd:${c.etcdVersion ?? kubeadmEtcdTag(c.version)}`],
      ...["kube-apiserver", "kube-controller-manager", "kube-scheduler"].map((k): [string, string] => [k, `registry.k8s.io/${k}:${v(c.version)}`]),
    ];
    for (const [component, image] of images) pod({ kind: "mirror", name: `${component}-${c.name}`, namespace: "kube-system", nodeName: c.name, owner, image }, true);
  }

  // kube-proxy: a DaemonSet, a pod on every node.
  const proxyTemplate = kubeProxyTemplate(spec.kubeProxyVersion);
  const proxy = meta("daemonset", "kube-system", "kube-proxy");
  add("apps/v1", "DaemonSet", daemonSetObject(proxy, proxyTemplate, nodes.length));
  for (const n of nodes) {
    pod({ kind: "DaemonSet", ...kubeProxyPod(n.name, proxyTemplate), namespace: "kube-system", nodeName: n.name, image: proxyTemplate.image,
      owner: { kind: "DaemonSet", name: "kube-proxy", uid: proxy.uid } }, true);
  }

  // CoreDNS: a Deployment of 2 on the first workers (the control plane when there are none).
  const defaultNodes = (spec.workers.length > 0 ? spec.workers : spec.controlPlane).map((n) => n.name);
  deployment("kube-system", "coredns", 2, defaultNodes, coreDnsTemplate(spec.coreDnsVersion));

  for (const w of spec.workloads ?? []) {
    const container = w.container ?? w.name;
    const facts: PodTemplateFacts = { labels: { app: w.name }, image: w.image ?? `registry.example/${container}:1.0`, container, command: w.command, nodeSelector: w.nodeSelector, emptyDir: w.emptyDir };
    const on = w.nodes ?? defaultNodes;
    const replicas = w.replicas ?? 1;
    const common = { namespace: w.namespace, image: facts.image, container, command: w.command, nodeSelector: w.nodeSelector, emptyDir: w.emptyDir };
    if (w.kind === "DaemonSet") {
      const ds = meta("daemonset", w.namespace, w.name);
      add("apps/v1", "DaemonSet", daemonSetObject(ds, facts, on.length));
      const labels = { ...facts.labels, "controller-revision-hash": suffixOf(10, "revision", w.namespace, w.name), "pod-template-generation": "1" };
      for (const n of on) pod({ ...common, kind: "DaemonSet", name: `${w.name}-${suffixOf(5, w.name, n)}`, nodeName: n, owner: { kind: "DaemonSet", name: w.name, uid: ds.uid }, labels });
    } else if (w.kind === "StatefulSet") {
      const sts = meta("statefulset", w.namespace, w.name);
      add("apps/v1", "StatefulSet", statefulSetObject(sts, facts, replicas));
      for (let i = 0; i < replicas; i++) pod({ ...common, kind: "StatefulSet", name: `${w.name}-${i}`, nodeName: on[i % on.length]!, owner: { kind: "StatefulSet", name: w.name, uid: sts.uid }, labels: facts.labels });
    } else if (w.kind === "Pod") {
      for (let i = 0; i < replicas; i++) pod({ ...common, kind: "none", name: replicas === 1 ? w.name : `${w.name}-${i}`, nodeName: on[i % on.length]! });
    } else {
      deployment(w.namespace, w.name, replicas, on, facts);
    }
    if (w.pdb) add("policy/v1", "PodDisruptionBudget", budgetObject(meta("pdb", w.namespace, `${w.name}-pdb`), facts.labels, w.pdb));
  }

  // kubeadm's ConfigMaps: the ClusterConfiguration (its kubernetesVersion and endpoint) and the kubelet's.
  add("v1", "ConfigMap", kubeadmConfigMap({ uid: uidOf("configmap", "kube-system", "kubeadm-config"), createdMs: created }, spec.kubernetesVersion, `${nodeOf(nodes[0]!.name).address}:6443`));
  add("v1", "ConfigMap", kubeletConfigMap());
  // Persistent volumes and snapshot classes (`volumes`, `snapshotClasses`, `snapshotApi`: snapshots.ts StorageSpec).
  out.push(...storageObjects(spec, created));
  return out;

  function kubeletConfigMap(): KubeObject {
    const { kind: _k, apiVersion: _a, ...c } = withoutBookkeeping(keptFile<KubeObject>("configmap-kubelet-config.json"));
    return { ...c, metadata: { name: "kubelet-config", namespace: "kube-system", uid: uidOf("configmap", "kube-system", "kubelet-config"), creationTimestamp: apiTime(created) } };
  }

  /** A Deployment, its ReplicaSet (pod-template-hash from its template) and its pods on `on` in turn. */
  function deployment(namespace: string, name: string, replicas: number, on: readonly string[], facts: PodTemplateFacts): void {
    const hash = suffixOf(10, "template", namespace, name, facts.image);
    const rsName = `${name}-${hash}`;
    const d = deploymentObject(meta("deployment", namespace, name), facts, replicas, rsName);
    add("apps/v1", "Deployment", d);
    const rs = meta("replicaset", namespace, rsName);
    const podFacts = { ...facts, labels: { ...facts.labels, "pod-template-hash": hash } };
    add("apps/v1", "ReplicaSet", replicaSetObject(rs, podFacts, replicas, { name, uid: d.metadata.uid!, template: (d.spec as { template: unknown }).template }));
    for (let i = 0; i < replicas; i++) {
      pod({ kind: "ReplicaSet", name: `${rsName}-${suffixOf(5, rsName, String(i))}`, namespace, nodeName: on[i % on.length]!, image: facts.image, container: facts.container,
        command: facts.command, nodeSelector: facts.nodeSelector, emptyDir: facts.emptyDir, owner: { kind: "ReplicaSet", name: rsName, uid: rs.uid }, labels: podFacts.labels });
    }
  }
}
