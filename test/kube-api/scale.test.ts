/**
 * A generated 5,003-node cluster (clusterObjects) in the API double: lists in pages (limit and
 * continue, as kubectl and client-go page them), label selectors (equality, existence, set) and
 * field selectors, answered quickly enough for a benchmark; real kubectl pages through it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clusterObjects, startKubeApi, type ClusterSpec, type KubeApi } from "../lab/kube-api";
import type { KubeObject } from "../lab/kube-api/types";
import { endpointOf, request, type Endpoint } from "./client";

const WORKERS = 5000;
const SPEC: ClusterSpec = {
  controlPlane: [1, 2, 3].map((i) => ({ name: `cp-${i}`, version: "1.31.4" })),
  workers: Array.from({ length: WORKERS }, (_, i) => ({ name: `w-${String(i).padStart(4, "0")}`, kubeletVersion: i % 10 === 0 ? "1.30.14" : "1.31.4", labels: { pool: i % 2 === 0 ? "a" : "b" } })),
  kubernetesVersion: "1.31.4",
  kubeProxyVersion: "1.31.4",
  coreDnsVersion: "v1.11.3",
  workloads: [{ namespace: "shop", name: "web", replicas: 100, pdb: { minAvailable: 90 } }],
};

let dir: string;
let api: KubeApi;
let ep: Endpoint;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-kube-api-scale-"));
  api = await startKubeApi({ dir, cluster: SPEC });
  ep = endpointOf(api.kubeconfig);
}, 120_000);
afterAll(async () => {
  await api?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Every item of a list, page by page; the pages' metadata too. */
async function pages(p: string, limit: number): Promise<{ items: KubeObject[]; metas: Record<string, unknown>[] }> {
  const items: KubeObject[] = [];
  const metas: Record<string, unknown>[] = [];
  let token: string | undefined;
  do {
    const sep = p.includes("?") ? "&" : "?";
    const r = await request(ep, "GET", `${p}${sep}limit=${limit}${token ? `&continue=${encodeURIComponent(token)}` : ""}`);
    expect(r.status).toBe(200);
    items.push(...r.json.items);
    metas.push(r.json.metadata);
    token = r.json.metadata.continue;
  } while (token);
  return { items, metas };
}
const names = (items: KubeObject[]) => items.map((o) => o.metadata.name);

describe("a 5,003-node cluster", () => {
  test("clusterObjects makes it: nodes, a kube-proxy pod per node, mirror pods, coredns, the workload", () => {
    const started = Date.now();
    const objects = clusterObjects(SPEC);
    expect(Date.now() - started).toBeLessThan(30_000);
    const count = (kind: string) => objects.filter((o) => o.kind === kind).length;
    expect(count("Node")).toBe(WORKERS + 3);
    expect(count("Lease")).toBe(WORKERS + 3);
    expect(count("Pod")).toBe(WORKERS + 3 + 4 * 3 + 2 + 100);
  });

  test("nodes in pages of 500: every node once, in name order, remainingItemCount counting down", async () => {
    const started = Date.now();
    const { items, metas } = await pages("/api/v1/nodes", 500);
    expect(Date.now() - started).toBeLessThan(30_000);
    const all = names(items);
    expect(all).toHaveLength(WORKERS + 3);
    expect(all).toEqual([...all].sort());
    expect(new Set(all).size).toBe(all.length);
    expect(metas).toHaveLength(11);
    expect(metas.slice(0, -1).map((m) => m.remainingItemCount)).toEqual([4503, 4003, 3503, 3003, 2503, 2003, 1503, 1003, 503, 3]);
    expect(metas[10]).toEqual({ resourceVersion: metas[0]!.resourceVersion });
    const token = JSON.parse(Buffer.from(String(metas[0]!.continue), "base64").toString("utf8"));
    expect(token).toEqual({ v: "meta.k8s.io/v1", rv: Number(metas[0]!.resourceVersion), start: `${all[499]}\u0000` });
  });

  test.each([
    ["pool=a", WORKERS / 2],
    ["pool==b", WORKERS / 2],
    ["pool!=a", WORKERS / 2 + 3],
    ["pool", WORKERS],
    ["!pool", 3],
    ["pool in (a,b)", WORKERS],
    ["pool notin (a)", WORKERS / 2 + 3],
    ["node-role.kubernetes.io/control-plane", 3],
    ["pool=a,!node-role.kubernetes.io/control-plane", WORKERS / 2],
  ])("labelSelector %s, in pages of 700: %i nodes", async (selector, expected) => {
    const { items, metas } = await pages(`/api/v1/nodes?labelSelector=${encodeURIComponent(selector)}`, 700);
    expect(items).toHaveLength(expected);
    expect(metas.every((m) => m.remainingItemCount === undefined)).toBe(true);
  });

  test("fieldSelector: one node by name, the pods on a node, Running pods, pods of a namespace; an unknown field is a 400", async () => {
    expect(names((await pages("/api/v1/nodes?fieldSelector=metadata.name%3Dw-0042", 500)).items)).toEqual(["w-0042"]);
    const onNode = (await pages("/api/v1/pods?fieldSelector=spec.nodeName%3Dw-0042", 500)).items;
    expect(onNode.length).toBeGreaterThanOrEqual(1);
    expect(onNode.every((p) => (p.spec as { nodeName: string }).nodeName === "w-0042")).toBe(true);
    expect(names(onNode).some((n) => n.startsWith("kube-proxy-"))).toBe(true);
    expect((await pages("/api/v1/pods?fieldSelector=status.phase%3DRunning", 1000)).items).toHaveLength(WORKERS + 3 + 12 + 2 + 100);
    expect((await pages("/api/v1/pods?fieldSelector=status.phase!%3DRunning", 1000)).items).toHaveLength(0);
    const shop = (await pages("/api/v1/pods?fieldSelector=metadata.namespace%3Dshop&labelSelector=app%3Dweb", 30)).items;
    expect(shop).toHaveLength(100);
    expect((await pages("/api/v1/namespaces/shop/pods", 30)).items).toHaveLength(100);
    const bad = await request(ep, "GET", "/api/v1/pods?fieldSelector=spec.color%3Dblue");
    expect(bad.status).toBe(400);
    expect(bad.json.message).toBe('Unable to find "/v1, Resource=pods" that match label selector "", field selector "spec.color=blue": field label not supported: spec.color');
    expect((await request(ep, "GET", "/api/v1/nodes?limit=10&continue=notatoken")).status).toBe(400);
  });

  test("real kubectl pages through every node (500 a page) and selects by label", () => {
    const kubectl = (...args: string[]) => {
      const r = spawnSync("/usr/bin/kubectl", args, { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: api.kubeconfigPath }, encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
      return r.stdout.trim().split("\n");
    };
    expect(kubectl("get", "nodes", "-o", "name")).toHaveLength(WORKERS + 3);
    expect(kubectl("get", "nodes", "-l", "pool=b", "-o", "name")).toHaveLength(WORKERS / 2);
    expect(kubectl("get", "nodes", "-l", "node-role.kubernetes.io/control-plane", "--no-headers")).toEqual([
      expect.stringMatching(/^cp-1\s+Ready\s+control-plane\s+\S+\s+v1\.31\.4$/),
      expect.stringMatching(/^cp-2\s/),
      expect.stringMatching(/^cp-3\s/),
    ]);
  });
});
