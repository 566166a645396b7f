/**
 * The lab overlay's kube-system objects of kubeadm (with the lab dir's mirror-static-pods file,
 * createLab's mirrorStaticPods): ConfigMap kubeadm-config, whose kubernetesVersion is the cluster
 * version `kubeadm upgrade apply` last set (cluster/version); the kube-proxy DaemonSet with a pod on
 * every Node and the coredns Deployment, at the versions kubeadm's add-on phase last deployed
 * (cluster/addons, written by createLab and the kubeadm stand-in's upgrade_addons: since kubeadm
 * 1.28 only when the last control-plane node is upgraded, REFERENCE.md "kubeadm upgrade procedure").
 * Shapes: kubeadm-objects.ts. CoreDNS's pods and ReplicaSet are not served.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { KubeObject } from "./types";
import { suffixOf, uidOf } from "./ids";
import { podObject } from "./objects";
import { coreDnsTemplate, kubeadmConfigMap, kubeProxyPod, kubeProxyTemplate } from "./kubeadm-objects";
import { daemonSetObject, deploymentObject } from "./workloads";

/** The kinds of the objects labKubeadmObjects gives. */
export type KubeadmKind = "ConfigMap" | "DaemonSet" | "Deployment";

/** What the lab's kubeadm last set: the cluster version and the add-ons' versions. */
export interface LabKubeadm {
  readonly kubernetesVersion: string;
  readonly kubeProxy: string;
  readonly coreDns: string;
}

const read = (file: string): string => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
};

/**
 * Reads cluster/version and cluster/addons ("kube-proxy vX.Y.Z", "coredns vA.B.C" lines) of lab
 * `dir`; undefined without the mirror-static-pods file or when either is missing.
 */
export function readLabKubeadm(dir: string): LabKubeadm | undefined {
  if (!fs.existsSync(path.join(dir, "mirror-static-pods"))) return undefined;
  const kubernetesVersion = read(path.join(dir, "cluster", "version")).trim();
  const addons = new Map(read(path.join(dir, "cluster", "addons")).split("\n").map((l) => l.trim().split(/\s+/) as [string, string]));
  const kubeProxy = addons.get("kube-proxy");
  const coreDns = addons.get("coredns");
  return kubernetesVersion && kubeProxy && coreDns ? { kubernetesVersion, kubeProxy, coreDns } : undefined;
}

const uid = (dir: string, kind: string, name: string) => uidOf("lab-kubeadm", dir, kind, name);

/** kubeadm's object of `kind` in kube-system, as `k` says, created at `createdMs`; `nodes` is the Node count. */
export function labKubeadmObjects(dir: string, k: LabKubeadm, kind: KubeadmKind, createdMs: number, nodes: number): KubeObject[] {
  const meta = (name: string) => ({ name, namespace: "kube-system", uid: uid(dir, kind, name), createdMs });
  if (kind === "ConfigMap") return [kubeadmConfigMap(meta("kubeadm-config"), k.kubernetesVersion, read(path.join(dir, "cluster", "endpoint")).trim())];
  if (kind === "DaemonSet") return [daemonSetObject(meta("kube-proxy"), kubeProxyTemplate(k.kubeProxy), nodes)];
  const dns = coreDnsTemplate(k.coreDns);
  return [deploymentObject(meta("coredns"), dns, 2, `coredns-${suffixOf(10, "template", "kube-system", "coredns", dns.image)}`)];
}

/** The kube-proxy pod on `node` (a lab Node object), host network, owned by the DaemonSet of labKubeadmObjects. */
export function labKubeProxyPod(dir: string, k: LabKubeadm, node: KubeObject): KubeObject {
  const template = kubeProxyTemplate(k.kubeProxy);
  const { name, labels } = kubeProxyPod(node.metadata.name, template);
  const address = (node.status as { addresses: { address: string }[] }).addresses[0]!.address;
  return podObject({
    kind: "DaemonSet",
    name,
    namespace: "kube-system",
    uid: uidOf("lab-pod", dir, "kube-system", name, node.metadata.uid!),
    createdMs: Date.parse(node.metadata.creationTimestamp!),
    nodeName: node.metadata.name,
    hostIP: address,
    podIP: address,
    owner: { kind: "DaemonSet", name: "kube-proxy", uid: uid(dir, "DaemonSet", "kube-proxy") },
    labels,
    image: template.image,
    container: template.container,
  });
}
