/**
 * parseLiveCluster against the responses of a real kube-apiserver v1.31.4
 * (../shared/data/kube-api/v1.31-kubeadm-ha/), field by field, and its refusals.
 */
import { DiscoveryError } from "../../discovery/errors";
import { LiveCluster, LiveNode, parseLiveCluster, RawCluster } from "../../discovery/live-cluster";
import { RawNode, RawPod, slimNode, slimPod } from "../../discovery/raw-objects";
import { KubeVersion } from "../../planning/versions";
import { readData, sharedRawCluster } from "./static-api";
import { thrownBy } from "../helpers/errors";

const SERVER = "https://127.0.1.1:6443";
const v = (text: string) => KubeVersion.of(...(text.split(".").map(Number) as [number, number, number]));

function parsed(raw: RawCluster = sharedRawCluster()): LiveCluster {
  return parseLiveCluster(SERVER, raw);
}
function node(live: LiveCluster, name: string): LiveNode {
  const found = live.nodes.find((n) => n.name === name);
  if (!found) throw new Error(`no node ${name}`);
  return found;
}
const discoveryError = (fn: () => unknown) => thrownBy(DiscoveryError, fn);
/** The shared data with `change` applied to a deep copy of one node or pod. */
function withNode(name: string, change: (n: Record<string, any>) => void): RawCluster {
  const raw = sharedRawCluster();
  const nodes = raw.nodes.map((n) => (n.metadata?.name === name ? structuredClone(n) : n)) as Record<string, any>[];
  change(nodes.find((n) => n.metadata.name === name)!);
  return { ...raw, nodes: nodes as RawNode[] };
}
function withPod(name: string, change: (p: Record<string, any>) => void): RawCluster {
  const raw = sharedRawCluster();
  const pods = raw.pods.map((p) => (p.metadata?.name === name ? structuredClone(p) : p)) as Record<string, any>[];
  change(pods.find((p) => p.metadata.name === name)!);
  return { ...raw, pods: pods as RawPod[] };
}

describe("parseLiveCluster on a real v1.31.4 kubeadm HA cluster", () => {
  const live = parsed();

  test("server and nodes sorted by name", () => {
    expect(live.server).toBe(SERVER);
    expect(live.nodes.map((n) => n.name)).toEqual(["batch-1", "batch-2", "cp-1", "cp-2", "cp-3", "general-1", "general-2", "general-3"]);
  });

  test("control-plane nodes: labels, taint, addresses, static pods at 1.31.4, etcd 3.5.15-0, kube-proxy", () => {
    const addresses = { "cp-1": "127.0.1.1", "cp-2": "127.0.1.7", "cp-3": "127.0.1.8" };
    for (const [name, ip] of Object.entries(addresses)) {
      const n = node(live, name);
      expect(n.labels).toEqual({
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node-role.kubernetes.io/control-plane": "",
        "node.kubernetes.io/exclude-from-external-load-balancers": "",
      });
      expect(n.taints).toEqual([{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }]);
      expect(n.taints[0]).not.toHaveProperty("value");
      expect(n.addresses).toEqual([
        { type: "InternalIP", address: ip },
        { type: "Hostname", address: name },
      ]);
      expect(n.unschedulable).toBe(false);
      expect(n.cordonedByUs).toBe(false);
      expect(n.operatorCordoned).toBe(false);
      expect(n.ready).toBe("True");
      expect(n.kubeletVersion.tag).toBe("v1.31.4");
      expect(Object.keys(n.staticPods ?? {}).sort()).toEqual(["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]);
      expect(n.staticPods?.["kube-apiserver"]?.tag).toBe("v1.31.4");
      expect(n.staticPods?.["kube-controller-manager"]?.tag).toBe("v1.31.4");
      expect(n.staticPods?.["kube-scheduler"]?.tag).toBe("v1.31.4");
      expect(n.staticPods?.etcd).toBe("3.5.15-0");
      expect(n.kubeProxy?.tag).toBe("v1.31.4");
    }
  });

  test("workers: pool labels, no taints, kubelets 1.31.4 (general) and 1.30.14 (batch), kube-proxy 1.31.4, no static pods", () => {
    const workers = { "general-1": ["general", "127.0.1.2", "v1.31.4"], "general-2": ["general", "127.0.1.3", "v1.31.4"], "general-3": ["general", "127.0.1.4", "v1.31.4"], "batch-1": ["batch", "127.0.1.5", "v1.30.14"], "batch-2": ["batch", "127.0.1.6", "v1.30.14"] };
    for (const [name, [pool, ip, kubelet]] of Object.entries(workers)) {
      const n = node(live, name);
      expect(n.labels).toEqual({ "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", pool });
      expect(n.taints).toEqual([]);
      expect(n.addresses).toEqual([
        { type: "InternalIP", address: ip },
        { type: "Hostname", address: name },
      ]);
      expect(n.kubeletVersion.tag).toBe(kubelet);
      expect(n.kubeProxy?.tag).toBe("v1.31.4");
      expect(n).not.toHaveProperty("staticPods");
      expect(n.ready).toBe("True");
      expect(n.unschedulable).toBe(false);
    }
  });

  test("add-ons: kube-proxy DaemonSet 1.31.4, coredns v1.11.3, kubeadm-config 1.31.4", () => {
    expect(live.kubeProxy?.image).toBe("registry.k8s.io/kube-proxy:v1.31.4");
    expect(live.kubeProxy?.version.equals(v("1.31.4"))).toBe(true);
    expect(live.coreDns).toEqual({ image: "registry.k8s.io/coredns/coredns:v1.11.3", version: "v1.11.3" });
    expect(live.kubeadm?.kubernetesVersion.tag).toBe("v1.31.4");
  });

  test("absent add-ons stay absent", () => {
    const bare = parsed({ ...sharedRawCluster(), kubeProxy: undefined, coreDns: undefined, kubeadmConfig: undefined });
    expect(bare).not.toHaveProperty("kubeProxy");
    expect(bare).not.toHaveProperty("coreDns");
    expect(bare).not.toHaveProperty("kubeadm");
  });

  test("cordon state and annotations", () => {
    const cordoned = parsed(
      withNode("general-1", (n) => {
        n.spec.unschedulable = true;
        n.metadata.annotations["cluster-maintenance.io/cordoned"] = "true";
        n.spec.taints = [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule", timeAdded: "2026-11-28T00:00:00Z" }];
      }),
    );
    const n = node(cordoned, "general-1");
    expect([n.unschedulable, n.cordonedByUs, n.operatorCordoned]).toEqual([true, true, false]);
    expect(n.taints).toEqual([{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }]);
    const byOperator = node(parsed(withNode("general-2", (m) => (m.metadata.annotations["cluster-maintenance.io/operator-cordoned"] = "true"))), "general-2");
    expect([byOperator.cordonedByUs, byOperator.operatorCordoned]).toEqual([false, true]);
    const notTrue = node(parsed(withNode("general-2", (m) => (m.metadata.annotations["cluster-maintenance.io/cordoned"] = "yes"))), "general-2");
    expect(notTrue.cordonedByUs).toBe(false);
  });

  test("the Ready condition: Unknown as measured after a stopped kubelet, Unknown when missing", () => {
    const unknown = withNode("batch-2", (n) => (n.status.conditions.find((c: { type: string }) => c.type === "Ready").status = "Unknown"));
    expect(node(parsed(unknown), "batch-2").ready).toBe("Unknown");
    const missing = withNode("batch-2", (n) => (n.status.conditions = n.status.conditions.filter((c: { type: string }) => c.type !== "Ready")));
    expect(node(parsed(missing), "batch-2").ready).toBe("Unknown");
    const notReady = withNode("batch-2", (n) => (n.status.conditions.find((c: { type: string }) => c.type === "Ready").status = "False"));
    expect(node(parsed(notReady), "batch-2").ready).toBe("False");
  });

  test("the measured captures: batch-2 reads True 20 s after its kubelet stopped, Unknown at 65 s", () => {
    const raw = sharedRawCluster();
    for (const [dir, ready] of [["batch-2-kubelet-stopped-20s", "True"], ["batch-2-kubelet-stopped-65s", "Unknown"]]) {
      const later = readData(`${dir}/node-batch-2.json`);
      const nodes = raw.nodes.map((n) => (n.metadata?.name === "batch-2" ? later : n));
      expect(node(parsed({ ...raw, nodes }), "batch-2").ready).toBe(ready);
    }
  });

  test("pods that are not kubeadm mirror pods do not count: no mirror annotation, wrong tier, terminating, other namespace", () => {
    const noMirror = parsed(withPod("kube-apiserver-cp-2", (p) => delete p.metadata.annotations["kubernetes.io/config.mirror"]));
    expect(node(noMirror, "cp-2").staticPods).not.toHaveProperty("kube-apiserver");
    const wrongTier = parsed(withPod("etcd-cp-3", (p) => (p.metadata.labels.tier = "node")));
    expect(node(wrongTier, "cp-3").staticPods).not.toHaveProperty("etcd");
    const terminating = parsed(withPod("kube-proxy-228nx", (p) => (p.metadata.deletionTimestamp = "2026-11-28T00:00:00Z")));
    expect(node(terminating, "general-1")).not.toHaveProperty("kubeProxy");
    const elsewhere = parsed(withPod("kube-scheduler-cp-1", (p) => (p.metadata.namespace = "shop")));
    expect(node(elsewhere, "cp-1").staticPods).not.toHaveProperty("kube-scheduler");
  });
});

describe("slimNode and slimPod keep everything parseLiveCluster reads", () => {
  test("cordon annotations, unschedulable, a taint with a value, Ready, a terminating pod", () => {
    const nodeChanged = withNode("general-1", (n) => {
      n.spec.unschedulable = true;
      n.spec.taints = [{ key: "dedicated", value: "batch", effect: "NoExecute" }];
      n.metadata.annotations["cluster-maintenance.io/cordoned"] = "true";
      n.metadata.annotations["cluster-maintenance.io/operator-cordoned"] = "true";
      n.status.conditions.find((c: { type: string }) => c.type === "Ready").status = "False";
    });
    const raw = { ...nodeChanged, pods: withPod("kube-proxy-228nx", (p) => (p.metadata.deletionTimestamp = "2026-11-28T00:00:00Z")).pods };
    const slim = { ...raw, nodes: raw.nodes.map(slimNode), pods: raw.pods.map(slimPod) };
    expect(parsed(slim)).toEqual(parsed(raw));
    expect(node(parsed(slim), "general-1")).toMatchObject({ unschedulable: true, cordonedByUs: true, operatorCordoned: true, ready: "False", taints: [{ key: "dedicated", value: "batch", effect: "NoExecute" }] });
    expect(node(parsed(slim), "general-1")).not.toHaveProperty("kubeProxy");
    expect(JSON.stringify(slim.nodes).length).toBeLessThan(JSON.stringify(raw.nodes).length / 4);
  });
});

describe("parseLiveCluster refuses what it cannot read, naming the object and the fix", () => {
  test("a static pod's image pinned by digest", () => {
    const raw = withPod("kube-apiserver-cp-2", (p) => (p.spec.containers[0].image = "registry.k8s.io/kube-apiserver@sha256:" + "a".repeat(64)));
    const e = discoveryError(() => parsed(raw));
    expect(e.reasons).toHaveLength(1);
    expect(e.message).toContain(`cannot use what the cluster at ${SERVER} answered`);
    expect(e.reasons[0]).toContain("pod kube-system/kube-apiserver-cp-2 (the mirror pod of kubeadm's static pod kube-apiserver on node cp-2)");
    expect(e.reasons[0]).toContain("is pinned by digest");
    expect(e.reasons[0]).toContain("/etc/kubernetes/manifests/kube-apiserver.yaml on cp-2");
  });

  test("a tag and a digest: refused too, the digest decides what runs", () => {
    const raw = withPod("kube-scheduler-cp-1", (p) => (p.spec.containers[0].image = "registry.k8s.io/kube-scheduler:v1.31.4@sha256:" + "b".repeat(64)));
    expect(discoveryError(() => parsed(raw)).reasons[0]).toContain("pinned by digest");
  });

  test("a custom tag, no tag, a release candidate; a registry port is not a tag", () => {
    for (const [image, words] of [
      ["registry.k8s.io/kube-controller-manager:my-build", 'has the tag "my-build", which is not a version (vMAJOR.MINOR.PATCH'],
      ["registry.local:5000/kube-controller-manager", 'has no tag (it runs whatever "latest" is)'],
      ["registry.k8s.io/kube-controller-manager:v1.32.0-rc.1", 'has the tag "v1.32.0-rc.1"'],
    ]) {
      const e = discoveryError(() => parsed(withPod("kube-controller-manager-cp-3", (p) => (p.spec.containers[0].image = image))));
      expect(e.reasons[0]).toContain(`pod kube-system/kube-controller-manager-cp-3`);
      expect(e.reasons[0]).toContain(JSON.stringify(image));
      expect(e.reasons[0]).toContain(words);
    }
    const withPort = parsed(withPod("kube-controller-manager-cp-3", (p) => (p.spec.containers[0].image = "registry.local:5000/kube-controller-manager:v1.31.4")));
    expect(node(withPort, "cp-3").staticPods?.["kube-controller-manager"]?.tag).toBe("v1.31.4");
  });

  test("etcd's tag must be a version too", () => {
    const e = discoveryError(() => parsed(withPod("etcd-cp-1", (p) => (p.spec.containers[0].image = "registry.k8s.io/etcd:latest"))));
    expect(e.reasons[0]).toContain('has the tag "latest", which is not a version (MAJOR.MINOR.PATCH-REVISION');
    expect(e.reasons[0]).toContain("registry.k8s.io/etcd:3.5.15-0");
  });

  test("a kube-proxy pod, the DaemonSet and coredns with custom tags", () => {
    const raw = withPod("kube-proxy-hw2v6", (p) => (p.spec.containers[0].image = "registry.k8s.io/kube-proxy:patched"));
    const ds = structuredClone(raw.kubeProxy) as Record<string, any>;
    ds.spec.template.spec.containers[0].image = "registry.k8s.io/kube-proxy:patched";
    const dns = structuredClone(raw.coreDns) as Record<string, any>;
    dns.spec.template.spec.containers[0].image = "registry.k8s.io/coredns/coredns@sha256:" + "c".repeat(64);
    const e = discoveryError(() => parsed({ ...raw, kubeProxy: ds, coreDns: dns }));
    expect(e.reasons).toHaveLength(3);
    expect(e.message).toContain("(3 problems)");
    expect(e.reasons[0]).toContain("pod kube-system/kube-proxy-hw2v6 (kube-proxy on node batch-1)");
    expect(e.reasons[1]).toContain('DaemonSet kube-system/kube-proxy: image "registry.k8s.io/kube-proxy:patched" has the tag "patched"');
    expect(e.reasons[2]).toContain("Deployment kube-system/coredns: image");
    expect(e.reasons[2]).toContain("pinned by digest");
  });

  test("a static pod without the container named after its component", () => {
    const e = discoveryError(() => parsed(withPod("kube-scheduler-cp-2", (p) => (p.spec.containers[0].name = "scheduler"))));
    expect(e.reasons[0]).toContain("pod kube-system/kube-scheduler-cp-2 (the mirror pod of kubeadm's static pod kube-scheduler on node cp-2) has no container named kube-scheduler (it has: scheduler)");
  });

  test("a node with no kubeletVersion, or one that is not a release", () => {
    const e = discoveryError(() => parsed(withNode("general-3", (n) => (n.status.nodeInfo.kubeletVersion = ""))));
    expect(e.reasons[0]).toContain("node general-3: status.nodeInfo.kubeletVersion is empty, not a Kubernetes release (vMAJOR.MINOR.PATCH, e.g. v1.31.4)");
    expect(e.reasons[0]).toContain("kubectl delete node general-3");
    const gone = discoveryError(() => parsed(withNode("general-3", (n) => delete n.status.nodeInfo)));
    expect(gone.reasons[0]).toContain("kubeletVersion is empty");
    const k3s = discoveryError(() => parsed(withNode("general-3", (n) => (n.status.nodeInfo.kubeletVersion = "v1.31.4+k3s1"))));
    expect(k3s.reasons[0]).toContain('kubeletVersion is "v1.31.4+k3s1"');
  });

  test("a Ready status outside True/False/Unknown", () => {
    const raw = withNode("batch-1", (n) => (n.status.conditions.find((c: { type: string }) => c.type === "Ready").status = "Maybe"));
    expect(discoveryError(() => parsed(raw)).reasons[0]).toContain('node batch-1: its Ready condition has the status "Maybe", not True, False or Unknown');
  });

  test("two pods of one component on a node at different versions", () => {
    const raw = sharedRawCluster();
    const second = structuredClone(raw.pods.find((p) => p.metadata?.name === "kube-apiserver-cp-1")) as Record<string, any>;
    second.metadata.name = "kube-apiserver-old-cp-1";
    second.spec.containers[0].image = "registry.k8s.io/kube-apiserver:v1.30.14";
    const e = discoveryError(() => parsed({ ...raw, pods: [...raw.pods, second as RawPod] }));
    expect(e.reasons[0]).toBe(
      "node cp-1 runs two kube-apiserver pods at different versions: kube-system/kube-apiserver-cp-1 (1.31.4) and kube-system/kube-apiserver-old-cp-1 (1.30.14); keep only kubeadm's manifest kube-apiserver.yaml in /etc/kubernetes/manifests on cp-1",
    );
  });

  test("kubeadm-config: no ClusterConfiguration, not YAML, a kubernetesVersion that is not a release", () => {
    const cm = (data: Record<string, string>) => ({ ...sharedRawCluster(), kubeadmConfig: { metadata: { name: "kubeadm-config" }, data } });
    expect(discoveryError(() => parsed(cm({}))).reasons[0]).toContain("ConfigMap kube-system/kubeadm-config has no ClusterConfiguration");
    expect(discoveryError(() => parsed(cm({ ClusterConfiguration: "a: [" }))).reasons[0]).toContain("its ClusterConfiguration is not YAML");
    expect(discoveryError(() => parsed(cm({ ClusterConfiguration: "kubernetesVersion: stable-1.31" }))).reasons[0]).toContain('ClusterConfiguration.kubernetesVersion is "stable-1.31", not a Kubernetes release');
    expect(discoveryError(() => parsed(cm({ ClusterConfiguration: "kind: ClusterConfiguration" }))).reasons[0]).toContain("ClusterConfiguration.kubernetesVersion is missing");
  });
});
