/**
 * Test helper: a small plain-HTTP server that answers the read requests discovery makes with
 * the real kube-apiserver responses kept in ../shared/data/kube-api/v1.31-kubeadm-ha/, in
 * their shapes: lists paginated with `limit`/`continue` (a continue token as the apiserver
 * writes it: base64 JSON with the key to start after), pod lists filtered by namespace and an
 * equality label selector, a Status body for a missing object (404) or a refusal.
 * It records every request. (The full HTTPS API double is test/lab/kube-api/.)
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, IncomingMessage, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { RawCluster } from "../../discovery/live-cluster";

/** The kept responses. */
export const DATA_DIR = join(__dirname, "../../../shared/data/kube-api/v1.31-kubeadm-ha");

/**
 * The blocking go/no-go findings (preflight/) of the shared cluster's hop to 1.32 with the pool
 * general (selector pool=general, maxUnavailable 1) and no other pool: tests of the program
 * acknowledge them to get past the check.
 */
export const SHARED_HOP_BLOCKERS = [
  "pod-with-local-data/shop/cache-5f4dfd484-nbr6n",
  "pod-without-controller/shop/debug-shell",
  "removed-api-requested/flowschemas.v1beta3.flowcontrol.apiserver.k8s.io",
  "removed-api-requested/prioritylevelconfigurations.v1beta3.flowcontrol.apiserver.k8s.io",
];

/** JSON as the API returns it. */
type Json = Record<string, any>;

/**
 * Built fixtures for PersistentVolumeClaims, PersistentVolumes, VolumeSnapshotClasses and
 * VolumeSnapshots (the shared data has none): ./fixtures/volumes/README.md says how they were built.
 */
export const VOLUME_FIXTURES_DIR = join(__dirname, "fixtures", "volumes");

/** The volume lists the static API serves, by resource. */
export type VolumeResource = "persistentvolumeclaims" | "persistentvolumes" | "volumesnapshotclasses" | "volumesnapshots";

/** A built volume fixture list, parsed. */
export function readVolumeFixture(resource: VolumeResource): Json {
  return JSON.parse(readFileSync(join(VOLUME_FIXTURES_DIR, `${resource}.json`), "utf8")) as Json;
}

/** A kept response file, parsed. */
export function readData(file: string): Json {
  return JSON.parse(readFileSync(join(DATA_DIR, file), "utf8")) as Json;
}

/** The kept responses as parseLiveCluster takes them (every pod of every namespace: it ignores the others). */
export function sharedRawCluster(): RawCluster {
  const inKubeSystem = (list: Json, name: string) => (list.items as Json[]).find((i) => i.metadata.namespace === "kube-system" && i.metadata.name === name);
  return {
    nodes: readData("nodes.json").items,
    pods: readData("pods.json").items,
    kubeProxy: inKubeSystem(readData("daemonsets.json"), "kube-proxy"),
    coreDns: inKubeSystem(readData("deployments.json"), "coredns"),
    kubeadmConfig: readData("configmap-kubeadm-config.json"),
  };
}

/** One request as the server saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
}

/** What an API request asks for, as the authorizer sees it (verb from the method and whether a name is given). */
export interface RequestAttributes {
  readonly verb: string;
  readonly apiGroup: string;
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
}

/**
 * The authorization attributes of a resource request path (`/api/v1/...`, `/apis/GROUP/VERSION/...`).
 * Source: https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb
 */
export function requestAttributes(r: RecordedRequest): RequestAttributes {
  const parts = r.path.split("/").filter((p) => p !== "");
  const [apiGroup, rest] = parts[0] === "api" ? ["", parts.slice(2)] : [parts[1]!, parts.slice(3)];
  const [namespace, tail] = rest[0] === "namespaces" && rest.length > 2 ? [rest[1], rest.slice(2)] : [undefined, rest];
  const [resource, name] = tail;
  const verb = r.method !== "GET" ? r.method.toLowerCase() : name !== undefined ? "get" : r.query.watch === "true" ? "watch" : "list";
  return { verb, apiGroup, resource: resource!, ...(namespace && { namespace }), ...(name && { name }) };
}

/** How the server misbehaves, for error tests. */
export interface StaticApiOptions {
  /** Requests whose path starts with `path` get a Status with this `code` (401, 403, 410, 500, ...). */
  readonly fail?: { readonly path: string; readonly code: number };
  /** Objects that do not exist (404), by path. */
  readonly missing?: readonly string[];
  /** Requests whose path starts with this are never answered. */
  readonly hang?: string;
  /** False: snapshot.storage.k8s.io is not served (its CRDs are not installed): its paths answer 404 page not found. @default true */
  readonly snapshotApi?: boolean;
  /** Items served instead of the built fixtures' (./fixtures/volumes), by resource. */
  readonly volumes?: Partial<Record<VolumeResource, Json[]>>;
}

export interface StaticApi {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

const REASONS: Record<number, string> = { 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 410: "Expired", 500: "InternalError" };

function status(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: REASONS[code] ?? "Unknown", code }));
}

/** `k=v,k2!=v2,k3,!k4` (equality-based and existence only). */
function selects(selector: string | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return true;
  return selector.split(",").every((req) => {
    const exists = /^(!?)([^!=]+)$/.exec(req.trim());
    if (exists) return Object.hasOwn(labels, exists[2]!) === (exists[1] === "");
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(req.trim());
    if (!m) throw new Error(`unsupported selector ${selector}`);
    return m[2] === "!=" ? labels[m[1]!] !== m[3] : labels[m[1]!] === m[3];
  });
}

/** One page of `items` (sorted by key) after the key in `cont`, at most `limit` long. */
function page(kind: string, items: Json[], query: Record<string, string>, resourceVersion: string): Json {
  const key = (i: Json) => `${i.metadata.namespace ?? ""}/${i.metadata.name}`;
  const start = query.continue ? (JSON.parse(Buffer.from(query.continue, "base64").toString()) as { start: string }).start : "";
  const after = items.filter((i) => key(i) >= start).sort((x, y) => (key(x) < key(y) ? -1 : 1));
  const limit = query.limit ? Number(query.limit) : after.length;
  const shown = after.slice(0, limit);
  const metadata: Json = { resourceVersion };
  if (after.length > limit) {
    metadata.continue = Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: Number(resourceVersion), start: `${key(shown[shown.length - 1]!)}\u0000` })).toString("base64");
    metadata.remainingItemCount = after.length - limit;
  }
  return { kind, apiVersion: "v1", metadata, items: shown };
}

function answer(req: RecordedRequest, res: ServerResponse, options: StaticApiOptions): void {
  const json = (body: Json) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const a = requestAttributes(req);
  if (options.fail && req.path.startsWith(options.fail.path)) {
    const messages: Record<number, string> = {
      401: "Unauthorized",
      403: `${a.resource} is forbidden: User "tester" cannot ${a.verb} resource "${a.resource}" in API group "${a.apiGroup}"`,
      410: "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
    };
    return status(res, options.fail.code, messages[options.fail.code] ?? "Internal error occurred: the test asked for it");
  }
  if (options.missing?.includes(req.path) || req.method !== "GET") return status(res, 404, `${a.resource} "${a.name}" not found`);
  const nodes = readData("nodes.json");
  if (req.path === "/api/v1/nodes") return json(page("NodeList", nodes.items, req.query, nodes.metadata.resourceVersion));
  const everywhere: Record<string, [string, string]> = {
    "/api/v1/pods": ["pods.json", "PodList"],
    "/apis/policy/v1/poddisruptionbudgets": ["poddisruptionbudgets.json", "PodDisruptionBudgetList"],
    "/apis/apps/v1/replicasets": ["replicasets.json", "ReplicaSetList"],
  };
  if (everywhere[req.path]) {
    const [file, kind] = everywhere[req.path]!;
    const list = readData(file);
    const items = (list.items as Json[]).filter((i) => selects(req.query.labelSelector, i.metadata.labels));
    return json(page(kind, items, req.query, list.metadata.resourceVersion));
  }
  const volumeLists: Record<string, [VolumeResource, string]> = {
    "/api/v1/persistentvolumeclaims": ["persistentvolumeclaims", "PersistentVolumeClaimList"],
    "/api/v1/persistentvolumes": ["persistentvolumes", "PersistentVolumeList"],
    "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses": ["volumesnapshotclasses", "VolumeSnapshotClassList"],
    "/apis/snapshot.storage.k8s.io/v1/volumesnapshots": ["volumesnapshots", "VolumeSnapshotList"],
  };
  const servedVolumes = volumeLists[req.path] && (options.snapshotApi !== false || !req.path.startsWith("/apis/snapshot.storage.k8s.io/"));
  if (servedVolumes) {
    const [resource, kind] = volumeLists[req.path]!;
    const list = readVolumeFixture(resource);
    const items = ((options.volumes?.[resource] ?? list.items) as Json[]).filter((i) => selects(req.query.labelSelector, i.metadata.labels));
    const shown = page(kind, items, req.query, list.metadata.resourceVersion);
    return json(resource.startsWith("volumesnapshot") ? { ...shown, apiVersion: "snapshot.storage.k8s.io/v1" } : shown);
  }
  const documents: Record<string, [string, string]> = { "/readyz": ["readyz-verbose.txt", "text/plain; charset=utf-8"], "/metrics": ["metrics-excerpt.txt", "text/plain; version=0.0.4; charset=utf-8"], "/api": ["api.json", "application/json"], "/apis": ["apis.json", "application/json"] };
  if (documents[req.path]) {
    const [file, type] = documents[req.path]!;
    res.writeHead(200, { "Content-Type": type });
    return void res.end(readFileSync(join(DATA_DIR, file), "utf8"));
  }
  if (a.apiGroup === "" && a.resource === "pods" && a.namespace && !a.name) {
    const pods = readData("pods.json");
    const items = (pods.items as Json[]).filter((p) => p.metadata.namespace === a.namespace && selects(req.query.labelSelector, p.metadata.labels));
    return json(page("PodList", items, req.query, pods.metadata.resourceVersion));
  }
  const kinds: Record<string, [string, string]> = { daemonsets: ["daemonsets.json", "DaemonSet"], deployments: ["deployments.json", "Deployment"] };
  if (a.apiGroup === "apps" && kinds[a.resource] && a.name) {
    const [file, kind] = kinds[a.resource]!;
    const item = (readData(file).items as Json[]).find((i) => i.metadata.namespace === a.namespace && i.metadata.name === a.name);
    return item ? json({ kind, apiVersion: "apps/v1", ...item }) : status(res, 404, `${a.resource}.apps "${a.name}" not found`);
  }
  if (a.apiGroup === "" && a.resource === "configmaps" && a.namespace === "kube-system" && a.name) {
    try {
      return json(readData(`configmap-${a.name}.json`));
    } catch {
      return status(res, 404, `configmaps "${a.name}" not found`);
    }
  }
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("404 page not found");
}

/** Starts the server on a free port of 127.0.0.1. */
export async function startStaticApi(options: StaticApiOptions = {}): Promise<StaticApi> {
  const requests: RecordedRequest[] = [];
  const server = createServer((incoming: IncomingMessage, res: ServerResponse) => {
    const url = new URL(incoming.url ?? "/", "http://localhost");
    const req: RecordedRequest = { method: incoming.method ?? "GET", path: url.pathname, query: Object.fromEntries(url.searchParams) };
    requests.push(req);
    if (options.hang && req.path.startsWith(options.hang)) return;
    answer(req, res, options);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Writes a kubeconfig file for `url` (into a new temp directory) and returns its path: for the
 * program and `npm run plan`, which take a path. The same settings as {@link kubeconfigFor}.
 */
export function kubeconfigFileFor(url: string, user = "tester"): string {
  const file = join(mkdtempSync(join(tmpdir(), "cm-static-api-")), "config");
  writeFileSync(file, kubeconfigFor(url, user).exportConfig());
  return file;
}

/**
 * The static API for one test file: started before its tests (beforeAll), closed after them
 * (afterAll). Read `api` (its url, the requests it recorded) and `kubeconfig` (a kubeconfig file
 * for it, user tester) inside tests.
 * @throws Error when either is read before the file's tests start.
 */
export function staticApiPerFile(): { readonly api: StaticApi; readonly kubeconfig: string } {
  let started: { api: StaticApi; kubeconfig: string } | undefined;
  beforeAll(async () => {
    const api = await startStaticApi();
    started = { api, kubeconfig: kubeconfigFileFor(api.url) };
  });
  afterAll(() => started?.api.close());
  const get = () => {
    if (!started) throw new Error("the static API starts before the file's tests: read it inside a test");
    return started;
  };
  return { get api() { return get().api; }, get kubeconfig() { return get().kubeconfig; } };
}

/** A kubeconfig for `url`. client-node refuses plain http unless TLS verification is off, hence insecure-skip-tls-verify. */
export function kubeconfigFor(url: string, user = "tester"): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "static", server: url, skipTLSVerify: true }],
    users: [{ name: user, token: "not-a-real-token" }],
    contexts: [{ name: "static", cluster: "static", user }],
    currentContext: "static",
  });
  return kc;
}
