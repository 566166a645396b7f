/**
 * Reads what the go/no-go check needs beyond readCluster, read-only: every pod (but kube-proxy's), every
 * PodDisruptionBudget and every ReplicaSet's owner (paged, each page cut to the fields used:
 * preflight/workloads.ts), /readyz?verbose and the serving certificate of the kubeconfig's
 * server, /metrics of every kube-apiserver (each at its advertise address, from the
 * annotation kubeadm puts on its mirror pod; the kubeconfig's server when none answers), and
 * the API discovery documents /api and /apis; with `volumes` (the stack config has
 * `backup.volumes`), the PVCs, PVs and snapshot kinds of discovery/read-volumes.ts.
 * The RBAC this needs: discovery/rbac.ts.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { TLSSocket } from "node:tls";
import { AppsV1Api, CoreV1Api, KubeConfig, PolicyV1Api } from "@kubernetes/client-node";
import { replicaSetOwner, slimBudget, slimWorkloadPod, WorkloadPod, Workloads } from "../preflight/workloads";
import { DEFAULT_PAGE_SIZE, REQUEST_TIMEOUT_SECONDS } from "./read-cluster";
import { listAll, requester } from "./requests";
import { readVolumes, VolumesRead } from "./read-volumes";

/**
 * Every pod but kube-proxy's: a DaemonSet's pods, which a drain leaves alone and no other check
 * reads, and one per node (readCluster reads them apart). Half the pods of a large cluster.
 */
export const NOT_KUBE_PROXY = "k8s-app!=kube-proxy";

/** Seconds to wait for one kube-apiserver's /metrics at its advertise address (it may not be reachable from here). */
export const METRICS_TIMEOUT_SECONDS = 5;

/** A non-resource document the server answered, or why not. */
export type Fetched = { readonly status: number; readonly text: string } | { readonly error: string };

/** What {@link readReadiness} returns. */
export interface ReadinessRead {
  readonly workloads: Workloads;
  /** /readyz?verbose of the kubeconfig's server. */
  readonly readyz: Fetched;
  /** The kubeconfig server's TLS certificate's notAfter; an error for a plain-HTTP server or a failed read. */
  readonly certificate: { readonly notAfter: Date } | { readonly error: string };
  /** /metrics per kube-apiserver: `source` is the mirror pod (`kube-apiserver-cp-1`) or the kubeconfig's server. */
  readonly metrics: readonly { readonly source: string; readonly url: string; readonly result: Fetched }[];
  /** /api (APIVersions) and /apis (APIGroupList), parsed; undefined when not read. */
  readonly discovery: { readonly api?: unknown; readonly apis?: unknown };
  /** PVCs, PVs, VolumeSnapshotClasses and our VolumeSnapshots (discovery/read-volumes.ts); only when read with `volumes`. */
  readonly volumes?: VolumesRead;
}

/** How {@link readReadiness} reads. */
export interface ReadinessReadOptions {
  /** Objects per list request. @default DEFAULT_PAGE_SIZE (500) */
  readonly pageSize?: number;
  /** Seconds each request may take. @default REQUEST_TIMEOUT_SECONDS (30) */
  readonly requestTimeoutSeconds?: number;
  /**
   * Also read the volumes (PVCs, PVs, snapshot classes and snapshots) for the volume-snapshot
   * listing: pass true when the stack config has `backup.volumes`, so a cluster without it is
   * read with no more requests (nor RBAC) than before. @default false
   */
  readonly volumes?: boolean;
}

/**
 * Reads the cluster the kubeconfig's current context points at.
 * Requests: ceil(pods / pageSize) + ceil(PDBs / pageSize) + ceil(ReplicaSets / pageSize) lists,
 * then /readyz, /api, /apis and one /metrics per kube-apiserver, in parallel, with (`volumes`)
 * readVolumes' lists.
 * @throws DiscoveryError when a list fails (as readCluster's requests do; a snapshot API not
 *   served is no failure: readVolumes returns it as such); the non-resource
 *   documents never throw: a failure is returned, and the check reports it as not checked.
 */
export async function readReadiness(kubeconfig: KubeConfig, options: ReadinessReadOptions = {}): Promise<ReadinessRead> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const timeoutSeconds = options.requestTimeoutSeconds ?? REQUEST_TIMEOUT_SECONDS;
  const { server, opts, send } = requester(kubeconfig, timeoutSeconds);
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  const policy = kubeconfig.makeApiClient(PolicyV1Api);

  const pods = await listAll(
    (cont) => send(`list pods with the label ${NOT_KUBE_PROXY} (GET /api/v1/pods)`, () => core.listPodForAllNamespaces({ labelSelector: NOT_KUBE_PROXY, limit: pageSize, _continue: cont }, opts)),
    slimWorkloadPod,
  );
  const budgets = await listAll((cont) => send("list PodDisruptionBudgets (GET /apis/policy/v1/poddisruptionbudgets)", () => policy.listPodDisruptionBudgetForAllNamespaces({ limit: pageSize, _continue: cont }, opts)), slimBudget);
  const owners = await listAll((cont) => send("list ReplicaSets (GET /apis/apps/v1/replicasets)", () => apps.listReplicaSetForAllNamespaces({ limit: pageSize, _continue: cont }, opts)), replicaSetOwner);
  const workloads: Workloads = { pods, budgets, replicaSetOwners: new Map(owners.filter((o): o is [string, string] => o !== undefined)) };

  const [readyz, api, apis, metrics, volumes] = await Promise.all([
    fetchText(kubeconfig, server, "/readyz?verbose", timeoutSeconds, true),
    fetchText(kubeconfig, server, "/api", timeoutSeconds),
    fetchText(kubeconfig, server, "/apis", timeoutSeconds),
    readMetrics(kubeconfig, server, pods, timeoutSeconds),
    options.volumes ? readVolumes(kubeconfig, { pageSize, requestTimeoutSeconds: timeoutSeconds }) : undefined,
  ]);
  return {
    workloads,
    readyz: readyz.fetched,
    certificate: readyz.certificate ?? { error: server.startsWith("https:") ? "the TLS connection gave no certificate" : `${server} is not HTTPS` },
    metrics,
    discovery: { api: json(api.fetched), apis: json(apis.fetched) },
    ...(volumes ? { volumes } : {}),
  };
}

/** Parsed JSON of a 200 answer, else undefined. */
function json(f: Fetched): unknown {
  if (!("status" in f) || f.status !== 200) return undefined;
  try {
    return JSON.parse(f.text);
  } catch {
    return undefined;
  }
}

/** /metrics of every kube-apiserver at its advertise address; the kubeconfig's server when none answered. */
async function readMetrics(kubeconfig: KubeConfig, server: string, pods: readonly WorkloadPod[], timeoutSeconds: number): Promise<ReadinessRead["metrics"]> {
  const apiservers = pods.filter((p) => p.mirror && p.namespace === "kube-system" && p.labels.component === "kube-apiserver" && p.endpoint);
  const read = await Promise.all(
    apiservers.map(async (p) => {
      const base = `https://${p.endpoint}`;
      return { source: p.name, url: `${base}/metrics`, result: (await fetchText(kubeconfig, base, "/metrics", METRICS_TIMEOUT_SECONDS)).fetched };
    }),
  );
  if (read.some((m) => "status" in m.result && m.result.status === 200)) return read;
  return [...read, { source: server, url: `${server}/metrics`, result: (await fetchText(kubeconfig, server, "/metrics", timeoutSeconds)).fetched }];
}

/**
 * GET `path` from `base` with the kubeconfig's credentials and CA (the same TLS settings the
 * API client uses); with `certificate`, also the server certificate's notAfter.
 */
async function fetchText(kubeconfig: KubeConfig, base: string, path: string, timeoutSeconds: number, certificate = false): Promise<{ fetched: Fetched; certificate?: { notAfter: Date } }> {
  let url: URL;
  try {
    url = new URL(`${base.replace(/\/+$/, "")}${path}`);
  } catch {
    return { fetched: { error: `${base} is not a URL` } };
  }
  const options: https.RequestOptions = { method: "GET", headers: {} };
  await kubeconfig.applyToHTTPSOptions(options);
  // The agent client-node builds is for the kubeconfig's server (its scheme, any proxy-url);
  // another address (a kube-apiserver's own) gets the same credentials and CA without it.
  const { agent, ...tls } = options;
  const sameServer = base === kubeconfig.getCurrentCluster()?.server;
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve) => {
    const req = client.request(url, { ...tls, ...(sameServer ? { agent } : {}), timeout: timeoutSeconds * 1000, signal: AbortSignal.timeout(timeoutSeconds * 1000) }, (res) => {
      const peer = certificate && url.protocol === "https:" ? (res.socket as TLSSocket).getPeerCertificate?.() : undefined;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ fetched: { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }, ...(peer?.valid_to ? { certificate: { notAfter: new Date(peer.valid_to) } } : {}) }),
      );
      res.on("error", (e) => resolve({ fetched: { error: e.message } }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutSeconds} s`)));
    req.on("error", (e) => resolve({ fetched: { error: e.name === "AbortError" ? `no answer within ${timeoutSeconds} s` : e.message } }));
    req.end();
  });
}
