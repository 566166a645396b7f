/**
 * readCluster against test/discovery/static-api.ts, which serves the real v1.31.4 responses:
 * the result equals the pure parse of the same files, lists are paginated and selected by
 * label (never every pod of the cluster), failures name the server, the status and the fix.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiscoveryError } from "../../discovery/errors";
import { parseLiveCluster } from "../../discovery/live-cluster";
import { readCluster } from "../../discovery/read-cluster";
import { InputErrors } from "../../planning/errors";
import { kubeconfigFor, sharedRawCluster, StaticApi, StaticApiOptions, startStaticApi } from "./static-api";

let api: StaticApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});
async function serve(options: StaticApiOptions = {}): Promise<StaticApi> {
  api = await startStaticApi(options);
  return api;
}
async function failure(promise: Promise<unknown>): Promise<DiscoveryError> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DiscoveryError);
  return e as DiscoveryError;
}
const line = (r: { path: string; query: Readonly<Record<string, string>> }) => `${r.path}?${new URLSearchParams(r.query as Record<string, string>).toString()}`;

describe("readCluster", () => {
  test("reads what the pure parse of the same responses gives, with six requests", async () => {
    const { url, requests } = await serve();
    const live = await readCluster(kubeconfigFor(url));
    expect(live).toEqual(parseLiveCluster(url, sharedRawCluster()));
    expect(live.nodes).toHaveLength(8);
    expect(requests.map(line)).toEqual([
      "/api/v1/nodes?limit=500",
      "/api/v1/namespaces/kube-system/pods?labelSelector=tier%3Dcontrol-plane&limit=500",
      "/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-proxy&limit=500",
      "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy?",
      "/apis/apps/v1/namespaces/kube-system/deployments/coredns?",
      "/api/v1/namespaces/kube-system/configmaps/kubeadm-config?",
    ]);
    expect(requests.every((r) => r.method === "GET")).toBe(true);
  });

  test("pages of 2: every list followed to its end with continue, the same result", async () => {
    const { url, requests } = await serve();
    const live = await readCluster(kubeconfigFor(url), { pageSize: 2 });
    expect(live).toEqual(parseLiveCluster(url, sharedRawCluster()));
    const lists = requests.filter((r) => r.query.limit !== undefined);
    expect(lists.every((r) => r.query.limit === "2")).toBe(true);
    const count = (path: string, selector?: string) => lists.filter((r) => r.path === path && r.query.labelSelector === selector).length;
    expect(count("/api/v1/nodes")).toBe(4); // 8 nodes
    expect(count("/api/v1/namespaces/kube-system/pods", "tier=control-plane")).toBe(6); // 12 mirror pods
    expect(count("/api/v1/namespaces/kube-system/pods", "k8s-app=kube-proxy")).toBe(4); // 8 kube-proxy pods
    const nodePages = lists.filter((r) => r.path === "/api/v1/nodes");
    expect(nodePages[0]!.query.continue).toBeUndefined();
    expect(nodePages.slice(1).every((r) => r.query.continue)).toBe(true);
    expect(new Set(nodePages.map((r) => r.query.continue)).size).toBe(4);
  });

  test("never lists every pod of the cluster: pods only in kube-system, always by label", async () => {
    const { url, requests } = await serve();
    await readCluster(kubeconfigFor(url), { pageSize: 3 });
    const podLists = requests.filter((r) => r.path.endsWith("/pods"));
    expect(podLists.length).toBeGreaterThan(0);
    expect(podLists.every((r) => r.path === "/api/v1/namespaces/kube-system/pods" && r.query.labelSelector)).toBe(true);
  });

  test("no kube-proxy DaemonSet, no coredns, no kubeadm-config: absent, not an error", async () => {
    const { url } = await serve({
      missing: ["/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy", "/apis/apps/v1/namespaces/kube-system/deployments/coredns", "/api/v1/namespaces/kube-system/configmaps/kubeadm-config"],
    });
    const live = await readCluster(kubeconfigFor(url));
    expect(live).not.toHaveProperty("kubeProxy");
    expect(live).not.toHaveProperty("coreDns");
    expect(live).not.toHaveProperty("kubeadm");
    expect(live.nodes).toHaveLength(8);
  });

  test("403: the server, the request, the status and the RBAC to grant", async () => {
    const { url } = await serve({ fail: { path: "/api/v1/namespaces/kube-system/pods", code: 403 } });
    const e = await failure(readCluster(kubeconfigFor(url, "alice")));
    expect(e.message).toBe(
      `cannot read the cluster at ${url}: list pods in kube-system with the label tier=control-plane (GET /api/v1/namespaces/kube-system/pods): ` +
        'HTTP 403 (pods is forbidden: User "tester" cannot list resource "pods" in API group ""): ' +
        'the kubeconfig\'s user "alice" may not do this: have a cluster admin grant it the read-only ClusterRole cluster-maintenance-discovery ' +
        "(list nodes; list pods; get configmaps/kubeadm-config; get daemonsets.apps/kube-proxy; get deployments.apps/coredns; " +
        "list poddisruptionbudgets.policy; list replicasets.apps; list persistentvolumeclaims, persistentvolumes; " +
        "list volumesnapshotclasses.snapshot.storage.k8s.io, volumesnapshots.snapshot.storage.k8s.io; get /readyz, /metrics, /api, /apis), " +
        "which \"npm run -s plan -- --print-rbac\" prints with a ClusterRoleBinding for kubectl apply -f -",
    );
  });

  test("403 on an optional object is an error too, not an absence", async () => {
    const { url } = await serve({ fail: { path: "/apis/apps/v1/namespaces/kube-system/deployments/coredns", code: 403 } });
    const e = await failure(readCluster(kubeconfigFor(url)));
    expect(e.message).toContain("get Deployment kube-system/coredns: HTTP 403");
  });

  test("401: the credentials to renew", async () => {
    const { url } = await serve({ fail: { path: "/api/v1/nodes", code: 401 } });
    const e = await failure(readCluster(kubeconfigFor(url, "bob")));
    expect(e.message).toContain(`cannot read the cluster at ${url}: list nodes (GET /api/v1/nodes): HTTP 401`);
    expect(e.message).toContain('the server did not accept the credentials of the kubeconfig\'s user "bob": renew them');
  });

  test("410 while paging, 500: the status and what to do", async () => {
    const { url } = await serve({ fail: { path: "/api/v1/nodes", code: 410 } });
    expect((await failure(readCluster(kubeconfigFor(url)))).message).toContain("HTTP 410 (The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.): the list expired while it was read page by page: run again");
    await api!.close();
    const other = await serve({ fail: { path: "/api/v1/nodes", code: 500 } });
    expect((await failure(readCluster(kubeconfigFor(other.url)))).message).toContain("list nodes (GET /api/v1/nodes): HTTP 500 (Internal error occurred: the test asked for it): check the API server's health");
  });

  test("a refused connection names the server", async () => {
    const port = await freePort();
    const server = `http://127.0.0.1:${port}`;
    const e = await failure(readCluster(kubeconfigFor(server)));
    expect(e.message).toContain(`cannot read the cluster at ${server}: list nodes (GET /api/v1/nodes): request to ${server}/api/v1/nodes?limit=500 failed, reason: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(e.message).toContain("check the server address in the kubeconfig, that the API server is running");
  });

  test("an HTTPS server whose certificate the kubeconfig does not trust: the CA to check", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tls-"));
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1", "-keyout", key, "-out", cert], { stdio: "ignore" });
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => res.end("{}"));
    rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const kc = kubeconfigFor(url);
      kc.clusters[0] = { ...kc.clusters[0]!, skipTLSVerify: false };
      const e = await failure(readCluster(kc));
      expect(e.message).toContain(`cannot read the cluster at ${url}: list nodes (GET /api/v1/nodes): request to ${url}/api/v1/nodes?limit=500 failed, reason: self-signed certificate`);
      expect(e.message).toContain("the server's certificate was not accepted; check the cluster's certificate-authority-data");
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test("a server that never answers: abandoned after requestTimeoutSeconds", async () => {
    const { url } = await serve({ hang: "/apis/apps/v1/namespaces/kube-system/deployments" });
    const started = Date.now();
    const e = await failure(readCluster(kubeconfigFor(url), { requestTimeoutSeconds: 1 }));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(e.message).toBe(
      `cannot read the cluster at ${url}: get Deployment kube-system/coredns: no complete answer within 1 s: check that ${url} is the API server and is not overloaded (kubectl get --raw '/readyz?verbose'), then run again`,
    );
  });

  test("bad options and a kubeconfig without a server", async () => {
    const kc = kubeconfigFor("http://127.0.0.1:1");
    await expect(readCluster(kc, { pageSize: 0 })).rejects.toThrow(InputErrors);
    await expect(readCluster(kc, { pageSize: 2.5 })).rejects.toThrow("pageSize: is not a positive whole number (got 2.5)");
    await expect(readCluster(kc, { requestTimeoutSeconds: -1 })).rejects.toThrow("requestTimeoutSeconds: is not a positive whole number");
    kc.setCurrentContext("nowhere");
    const e = await failure(readCluster(kc));
    expect(e.message).toBe('cannot read the cluster: the kubeconfig\'s current context "nowhere" names no cluster with a server: set current-context to a context whose cluster has one (kubectl config get-contexts)');
  });
});

/** A port nothing listens on (taken, then released). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
