/**
 * readReadiness against the real responses of ../shared/data/kube-api/v1.31-kubeadm-ha served
 * by the static API: every pod, budget and ReplicaSet owner, in pages; /readyz; /metrics (the
 * kept apiservers advertise 127.0.0.1:6443, where nothing answers here, so the kubeconfig's
 * server is read instead); /api and /apis.
 */
import { readReadiness } from "../../discovery/read-readiness";
import { DiscoveryError } from "../../discovery/errors";
import { sharedWorkloads } from "../preflight/shared-workloads";
import { kubeconfigFor, readData, startStaticApi } from "./static-api";

it("reads every pod, budget and ReplicaSet owner, page by page, and the documents", async () => {
  const api = await startStaticApi();
  try {
    const read = await readReadiness(kubeconfigFor(api.url), { pageSize: 7 });
    // Every pod but kube-proxy's (k8s-app!=kube-proxy).
    expect(read.workloads.pods).toEqual(sharedWorkloads().pods.filter((p) => p.labels["k8s-app"] !== "kube-proxy"));
    expect(read.workloads.pods.length).toBe(readData("pods.json").items.length - 8);
    expect(read.workloads.budgets).toEqual(sharedWorkloads().budgets);
    expect([...read.workloads.replicaSetOwners]).toEqual([...sharedWorkloads().replicaSetOwners]);
    expect(read.workloads.replicaSetOwners.get("shop/batch-worker-8cbb84846")).toBe("batch-worker");
    const pages = api.requests.filter((r) => r.path === "/api/v1/pods");
    expect(pages.length).toBe(Math.ceil((readData("pods.json").items.length - 8) / 7));
    expect(pages.every((r) => r.query.labelSelector === "k8s-app!=kube-proxy")).toBe(true);
    expect(read.readyz).toEqual({ status: 200, text: expect.stringContaining("readyz check passed") });
    expect(read.certificate).toEqual({ error: `${api.url} is not HTTPS` });
    expect(read.metrics.map((m) => m.source)).toEqual(["kube-apiserver-cp-1", "kube-apiserver-cp-2", "kube-apiserver-cp-3", api.url]);
    expect(read.metrics.slice(0, 3).every((m) => m.url === "https://127.0.0.1:6443/metrics" && "error" in m.result)).toBe(true);
    expect(read.metrics[3]!.result).toEqual({ status: 200, text: expect.stringContaining('apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io"') });
    expect((read.discovery.apis as { kind: string }).kind).toBe("APIGroupList");
    expect((read.discovery.api as { kind: string }).kind).toBe("APIVersions");
  } finally {
    await api.close();
  }
});

it("a list the server refuses is one DiscoveryError naming the request; a document it cannot serve is returned as such", async () => {
  const api = await startStaticApi({ fail: { path: "/apis/policy", code: 403 } });
  try {
    const e = await readReadiness(kubeconfigFor(api.url)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DiscoveryError);
    expect((e as Error).message).toContain("list PodDisruptionBudgets (GET /apis/policy/v1/poddisruptionbudgets): HTTP 403");
  } finally {
    await api.close();
  }
  const down = await startStaticApi({ fail: { path: "/readyz", code: 500 } });
  try {
    expect((await readReadiness(kubeconfigFor(down.url))).readyz).toEqual({ status: 500, text: expect.stringContaining("InternalError") });
  } finally {
    await down.close();
  }
});
