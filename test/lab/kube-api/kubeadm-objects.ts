/**
 * The objects kubeadm itself keeps in kube-system, in the shapes of the kept real answers
 * (configmap-kubeadm-config.json, daemonsets.json's kube-proxy, deployments.json's coredns,
 * pods.json's kube-proxy pods): shared by clusterObjects (cluster.ts) and the lab overlay
 * (lab-kubeadm.ts). kubeadm writes kubeadm-config at init and at every `kubeadm upgrade apply`,
 * and the kube-proxy DaemonSet and coredns Deployment in its add-on phase
 * (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/).
 */
import type { KubeObject } from "./types";
import { suffixOf } from "./ids";
import { keptFile, withoutBookkeeping } from "./templates";
import { apiTime } from "./store";
import type { PodTemplateFacts } from "./workloads";

/** "1.31.4" or "v1.31.4" -> "v1.31.4". */
export const vTag = (version: string): string => (version.startsWith("v") ? version : `v${version}`);

/** The kube-proxy DaemonSet's pod template (kubeadm's image for `version`, label k8s-app=kube-proxy). */
export function kubeProxyTemplate(version: string): PodTemplateFacts {
  return { labels: { "k8s-app": "kube-proxy" }, image: `registry.k8s.io/kube-proxy:${vTag(version)}`, container: "kube-proxy" };
}

/** A kube-proxy pod's name and labels on `node` (pods.json: kube-proxy-<5 chars>, the DaemonSet's labels). */
export function kubeProxyPod(node: string, template: PodTemplateFacts): { name: string; labels: Record<string, string> } {
  return {
    name: `kube-proxy-${suffixOf(5, "kube-proxy", node)}`,
    labels: { "controller-revision-hash": suffixOf(10, "revision", template.image), ...template.labels, "pod-template-generation": "1" },
  };
}

/** The coredns Deployment's pod template (kubeadm's image, tag `tag` such as "v1.11.3", label k8s-app=kube-dns). */
export function coreDnsTemplate(tag: string): PodTemplateFacts {
  return { labels: { "k8s-app": "kube-dns" }, image: `registry.k8s.io/coredns/coredns:${vTag(tag)}`, container: "coredns" };
}

/**
 * ConfigMap kube-system/kubeadm-config (the kept one) with its ClusterConfiguration's
 * kubernetesVersion and controlPlaneEndpoint ("HOST:PORT") set; no apiVersion and kind.
 */
export function kubeadmConfigMap(m: { uid: string; createdMs: number }, kubernetesVersion: string, endpoint: string): KubeObject {
  const { kind: _k, apiVersion: _a, ...c } = withoutBookkeeping(keptFile<KubeObject>("configmap-kubeadm-config.json"));
  const data = c.data as Record<string, string>;
  data.ClusterConfiguration = data.ClusterConfiguration!
    .replace(/^kubernetesVersion: .*$/m, `kubernetesVersion: ${vTag(kubernetesVersion)}`)
    .replace(/^controlPlaneEndpoint: .*$/m, `controlPlaneEndpoint: ${endpoint}`);
  return { ...c, metadata: { name: "kubeadm-config", namespace: "kube-system", uid: m.uid, creationTimestamp: apiTime(m.createdMs) } };
}
