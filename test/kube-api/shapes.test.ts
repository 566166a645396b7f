/**
 * The API double against the real kube-apiserver's answers kept in
 * ../shared/data/kube-api/v1.31-kubeadm-ha: for the same objects (clusterObjects of the kept
 * cluster's spec), the same fields at every level and the same values, but for what differs
 * from one cluster to another (uids, times, addresses, hashes, generated name suffixes); the
 * eviction answers and the discovery documents byte for byte in content.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clusterObjects, sharedObjects, startKubeApi, type ClusterSpec, type KubeApi } from "../lab/kube-api";
import { DISCOVERY_DIR, KUBE_API_DATA } from "../lab/kube-api/resources";
import { withoutBookkeeping } from "../lab/kube-api/templates";
import type { KubeObject } from "../lab/kube-api/types";
import { endpointOf, request, type Endpoint } from "./client";

const kept = (file: string) => JSON.parse(fs.readFileSync(path.join(KUBE_API_DATA, file), "utf8"));
const keptItem = (file: string, name: string): KubeObject => withoutBookkeeping(kept(file).items.find((i: KubeObject) => i.metadata.name === name));

/** The kept cluster (its README): 3 control-plane nodes, pools general and batch (one minor behind), the shop namespace. */
const KEPT_CLUSTER: ClusterSpec = {
  controlPlane: ["cp-1", "cp-2", "cp-3"].map((name) => ({ name, version: "1.31.4" })),
  workers: [
    ...["general-1", "general-2", "general-3"].map((name) => ({ name, kubeletVersion: "1.31.4", labels: { pool: "general" } })),
    ...["batch-1", "batch-2"].map((name) => ({ name, kubeletVersion: "1.30.14", labels: { pool: "batch" } })),
  ],
  kubernetesVersion: "1.31.4",
  kubeProxyVersion: "1.31.4",
  coreDnsVersion: "v1.11.3",
  workloads: [
    { namespace: "shop", name: "web", replicas: 6, nodes: ["general-1", "general-2", "general-3"], nodeSelector: { pool: "general" }, pdb: { minAvailable: 5 } },
    { namespace: "shop", name: "batch-worker", container: "worker", replicas: 4, nodes: ["batch-1", "batch-2"], nodeSelector: { pool: "batch" }, pdb: { maxUnavailable: 0 } },
    { namespace: "shop", name: "cache", nodes: ["general-3"], nodeSelector: { pool: "general" }, emptyDir: true },
    { namespace: "shop", name: "node-agent", container: "agent", kind: "DaemonSet", nodes: ["general-1", "general-2", "general-3", "batch-1", "batch-2"] },
    { namespace: "shop", name: "debug-shell", container: "sh", image: "busybox:1.36", command: ["sleep", "86400"], kind: "Pod", nodes: ["general-3"] },
  ],
};

/** Fields whose values differ from cluster to cluster: compared by type only. */
const VOLATILE = new Set([
  "uid", "resourceVersion", "creationTimestamp", "lastTransitionTime", "lastHeartbeatTime", "lastUpdateTime", "timeAdded", "startedAt", "startTime", "renewTime",
  "machineID", "systemUUID", "bootID", "containerID", "hostIP", "podIP", "ip", "address",
  "kubernetes.io/config.hash", "kubernetes.io/config.mirror", "kubernetes.io/config.seen", "pod-template-hash", "controller-revision-hash",
]);
/** Generated name parts (k8s.io/apimachinery/pkg/util/rand's alphabet: no vowels, no 0, 1, 3). */
const normalize = (s: string) =>
  s.replace(/-[bcdfghjklmnpqrstvwxz2456789]{9,10}(?=-|"|$)/g, "-HASH").replace(/-[bcdfghjklmnpqrstvwxz2456789]{5}$/g, "-SUFFIX").replace(/kube-api-access-[a-z0-9]{5}/g, "kube-api-access-SUFFIX");

/** Every difference of shape or value between `actual` and `expected`, as "path: why". */
function differences(actual: unknown, expected: unknown, at = "", key = ""): string[] {
  if (VOLATILE.has(key)) return typeof actual === typeof expected ? [] : [`${at}: ${typeof actual}, kept ${typeof expected}`];
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${at}: not an array`];
    if (actual.length !== expected.length) return [`${at}: ${actual.length} items, kept ${expected.length}`];
    return expected.flatMap((e, i) => differences(actual[i], e, `${at}[${i}]`, key));
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return [`${at}: not an object`];
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(a), ...Object.keys(e)])];
    return keys.flatMap((k) => (!(k in a) ? [`${at}.${k}: missing`] : !(k in e) ? [`${at}.${k}: not in the kept answer`] : differences(a[k], e[k], `${at}.${k}`, k)));
  }
  const norm = (v: unknown) => (typeof v === "string" ? normalize(v) : v);
  return norm(actual) === norm(expected) ? [] : [`${at}: ${JSON.stringify(actual)}, kept ${JSON.stringify(expected)}`];
}

let dir: string;
let api: KubeApi;
let ep: Endpoint;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-kube-api-shapes-"));
  api = await startKubeApi({ dir: path.join(dir, "generated"), seed: clusterObjects(KEPT_CLUSTER) });
  ep = endpointOf(api.kubeconfig);
});
afterAll(async () => {
  await api?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const get = async (p: string) => {
  const r = await request(ep, "GET", p);
  expect(r.status).toBe(200);
  return r.json;
};
const podOn = (pods: KubeObject[], prefix: string, node: string) => pods.find((p) => p.metadata.name.startsWith(prefix) && (p.spec as { nodeName: string }).nodeName === node)!;

describe("the comparison itself", () => {
  test("finds a changed value, a missing or extra field, another length; volatile fields by type, generated names by shape", () => {
    expect(differences({ a: 1, b: { c: "x" } }, { a: 1, b: { c: "x" } })).toEqual([]);
    expect(differences({ a: 2 }, { a: 1 })).toEqual([".a: 2, kept 1"]);
    expect(differences({}, { a: 1 })).toEqual([".a: missing"]);
    expect(differences({ a: 1, z: 0 }, { a: 1 })).toEqual([".z: not in the kept answer"]);
    expect(differences({ l: [1] }, { l: [1, 2] })).toEqual([".l: 1 items, kept 2"]);
    expect(differences({ uid: "u-1" }, { uid: "u-2" })).toEqual([]);
    expect(differences({ uid: 1 }, { uid: "u-2" })).toEqual([".uid: number, kept string"]);
    expect(differences({ name: "kube-proxy-4p5vn" }, { name: "kube-proxy-228nx" })).toEqual([]);
    expect(differences({ name: "kube-proxy" }, { name: "kube-proxx" })).not.toEqual([]);
  });
});

describe("the double's objects, field by field against the kept real answers", () => {
  test("GET /api/v1/nodes: a NodeList of every node, each as the kept node of that name", async () => {
    const list = await get("/api/v1/nodes");
    const real = kept("nodes.json");
    expect(Object.keys(list)).toEqual(Object.keys(real));
    expect(list.kind).toBe("NodeList");
    expect(Object.keys(list.metadata)).toEqual(["resourceVersion"]);
    expect(list.items.map((n: KubeObject) => n.metadata.name)).toEqual(real.items.map((n: KubeObject) => n.metadata.name));
    for (const node of list.items) expect(differences(node, keptItem("nodes.json", node.metadata.name))).toEqual([]);
  });

  test("GET /api/v1/namespaces/kube-system/pods: kubeadm's mirror pods, kube-proxy, coredns as the kept ones", async () => {
    const list = await get("/api/v1/namespaces/kube-system/pods");
    const real = kept("pods.json").items.filter((p: KubeObject) => p.metadata.namespace === "kube-system");
    expect(list.items).toHaveLength(real.length);
    // cp-1's mirror pods: the kept cp-2 and cp-3 ones lack the Node owner reference the kubelet sets on mirror pods (cp-1's have it).
    for (const c of ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
      const name = `${c}-cp-1`;
      expect(differences(list.items.find((p: KubeObject) => p.metadata.name === name), keptItem("pods.json", name))).toEqual([]);
      const image = (p: KubeObject) => (p.spec as { containers: { image: string }[] }).containers[0]!.image;
      expect(image(list.items.find((p: KubeObject) => p.metadata.name === `${c}-cp-3`))).toBe(image(keptItem("pods.json", `${c}-cp-3`)));
    }
    const keptPods = real.map(withoutBookkeeping);
    expect(differences(podOn(list.items, "kube-proxy-", "general-1"), podOn(keptPods, "kube-proxy-", "general-1"))).toEqual([]);
    expect(differences(podOn(list.items, "coredns-", "general-2"), podOn(keptPods, "coredns-", "general-2"))).toEqual([]);
  });

  test("the shop's pods (a Deployment's, an emptyDir one, a DaemonSet's, one without a controller) as the kept ones", async () => {
    const list = await get("/api/v1/namespaces/shop/pods");
    const keptPods = kept("pods.json").items.filter((p: KubeObject) => p.metadata.namespace === "shop").map(withoutBookkeeping);
    expect(list.items).toHaveLength(keptPods.length);
    // What the spec does not say of the kept workloads: web's spread constraints and 5 s grace period, cache's node affinity.
    const strip = (p: KubeObject) => {
      const spec = p.spec as Record<string, unknown>;
      delete spec.topologySpreadConstraints;
      delete spec.affinity;
      spec.terminationGracePeriodSeconds = 30;
      return p;
    };
    for (const [prefix, node] of [["web-", "general-1"], ["batch-worker-", "batch-1"], ["cache-", "general-3"], ["debug-shell", "general-3"]] as const) {
      expect(differences(strip(podOn(list.items, prefix, node)), strip(podOn(keptPods, prefix, node)))).toEqual([]);
    }
    expect(differences(podOn(list.items, "node-agent-", "general-2"), podOn(keptPods, "node-agent-", "general-2"))).toEqual([]);
  });

  test("the kube-proxy DaemonSet, the coredns Deployment and its ReplicaSet, the budgets, the kubeadm-config ConfigMap", async () => {
    expect(differences(await get("/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy"), { kind: "DaemonSet", apiVersion: "apps/v1", ...keptItem("daemonsets.json", "kube-proxy") })).toEqual([]);
    expect(differences(await get("/apis/apps/v1/namespaces/kube-system/deployments/coredns"), { kind: "Deployment", apiVersion: "apps/v1", ...keptItem("deployments.json", "coredns") })).toEqual([]);
    const rs = (await get("/apis/apps/v1/namespaces/kube-system/replicasets")).items[0];
    expect(differences(rs, withoutBookkeeping(kept("replicasets.json").items.find((r: KubeObject) => r.metadata.name.startsWith("coredns-"))))).toEqual([]);
    const budgets = await get("/apis/policy/v1/namespaces/shop/poddisruptionbudgets");
    for (const name of ["web-pdb", "batch-worker-pdb"]) {
      expect(differences(budgets.items.find((b: KubeObject) => b.metadata.name === name), keptItem("poddisruptionbudgets.json", name))).toEqual([]);
    }
    expect(differences(await get("/api/v1/namespaces/kube-system/configmaps/kubeadm-config"), withoutBookkeeping(kept("configmap-kubeadm-config.json"))).filter((d) => !d.includes("data.ClusterConfiguration"))).toEqual([]);
    const config = (await get("/api/v1/namespaces/kube-system/configmaps/kubeadm-config")).data.ClusterConfiguration as string;
    expect(config.replace(/controlPlaneEndpoint: .*/, "")).toBe(kept("configmap-kubeadm-config.json").data.ClusterConfiguration.replace(/controlPlaneEndpoint: .*/, ""));
  });

  test("an eviction a budget denies (429) and a dry-run eviction (201): the kept bodies", async () => {
    const pods = (await get("/api/v1/namespaces/shop/pods")).items as KubeObject[];
    const evict = (pod: string, deleteOptions?: unknown) =>
      request(ep, "POST", `/api/v1/namespaces/shop/pods/${pod}/eviction`, {
        body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: pod, namespace: "shop" }, ...(deleteOptions ? { deleteOptions } : {}) },
      });
    const denied = await evict(pods.find((p) => p.metadata.name.startsWith("batch-worker-"))!.metadata.name);
    expect(`HTTP ${denied.status}\n`).toBe(fs.readFileSync(path.join(KUBE_API_DATA, "eviction-denied-by-pdb.status"), "utf8"));
    expect(denied.json).toEqual(kept("eviction-denied-by-pdb.json"));
    const web = pods.find((p) => p.metadata.name.startsWith("web-"))!.metadata.name;
    const dry = await evict(web, { dryRun: ["All"] });
    expect(dry.status).toBe(201);
    expect(dry.json).toEqual(kept("eviction-dry-run-allowed.json"));
    expect((await request(ep, "GET", `/api/v1/namespaces/shop/pods/${web}`)).status).toBe(200); // nothing was evicted
  });

  test("discovery: /version, /api, /apis (aggregated when asked, as kubectl asks), every group version's resource list", async () => {
    expect(await get("/version")).toEqual(kept("version.json"));
    const aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
    for (const [p, file] of [["/api", "aggregated-api.json"], ["/apis", "aggregated-apis.json"]]) {
      const r = await request(ep, "GET", p!, { headers: { Accept: aggregated } });
      expect(r.contentType).toBe("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
      expect(r.json).toEqual(JSON.parse(fs.readFileSync(path.join(DISCOVERY_DIR, file!), "utf8")));
    }
    expect(await get("/apis")).toEqual(kept("apis.json"));
    const versions = await get("/api");
    expect(Object.keys(versions)).toEqual(Object.keys(kept("api.json")));
    for (const file of fs.readdirSync(DISCOVERY_DIR).filter((f) => !f.startsWith("aggregated"))) {
      const p = file.startsWith("api_") ? `/api/${file.slice(4, -5)}` : `/apis/${file.slice(5, -5).replace(/_(v\w+)$/, "/$1")}`;
      expect(await get(p)).toEqual(JSON.parse(fs.readFileSync(path.join(DISCOVERY_DIR, file), "utf8")));
    }
  });
});

describe("the double seeded with the kept objects themselves (sharedObjects)", () => {
  test("answers them unchanged", async () => {
    const shared = await startKubeApi({ dir: path.join(dir, "shared"), seed: sharedObjects() });
    try {
      const e = endpointOf(shared.kubeconfig);
      for (const [p, file] of [["/api/v1/nodes", "nodes.json"], ["/api/v1/pods", "pods.json"], ["/apis/apps/v1/daemonsets", "daemonsets.json"], ["/apis/apps/v1/deployments", "deployments.json"]]) {
        const r = await request(e, "GET", p!);
        expect({ ...r.json, metadata: {} }).toEqual({ ...kept(file!), metadata: {} });
      }
      const budgets = (await request(e, "GET", "/apis/policy/v1/poddisruptionbudgets")).json;
      expect(budgets.items.map((b: KubeObject) => b.status)).toEqual(kept("poddisruptionbudgets.json").items.map((b: KubeObject) => b.status));
      expect((await request(e, "GET", "/api/v1/namespaces/kube-system/configmaps/kubeadm-config")).json).toEqual(kept("configmap-kubeadm-config.json"));
      expect((await request(e, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases")).json.items).toEqual(kept("node-leases.json").items);
    } finally {
      await shared.stop();
    }
  });
});
