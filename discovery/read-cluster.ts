/**
 * Reads the live cluster through the Kubernetes API, read-only, with
 * @kubernetes/client-node: Nodes, kube-system's kubeadm mirror pods and kube-proxy pods (by
 * label, never every pod of the cluster), the kube-proxy DaemonSet, the coredns Deployment
 * and the kubeadm-config ConfigMap. Lists are read in pages (`limit`/`continue`:
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks);
 * each page is cut to the fields used (discovery/raw-objects.ts) before the next is read.
 * The RBAC this needs: discovery/rbac.ts.
 */
import { AbortError, ApiException, AppsV1Api, ConfigurationOptions, CoreV1Api, FetchError, KubeConfig, Observable } from "@kubernetes/client-node";
import { inputError } from "../planning/errors";
import { DiscoveryError } from "./errors";
import { LiveCluster, parseLiveCluster } from "./live-cluster";
import { POD_SELECTORS } from "./node-pods";
import { DISCOVERY_ROLE_NAME, READ_OBJECTS, rulesSummary } from "./rbac";
import { RawPod, slimNode, slimPod } from "./raw-objects";

/** Objects per list request. @see ReadOptions.pageSize */
export const DEFAULT_PAGE_SIZE = 500;
/** Seconds one request may take, from connecting to its last byte, before it is abandoned. */
export const REQUEST_TIMEOUT_SECONDS = 30;

/** How {@link readCluster} reads. */
export interface ReadOptions {
  /** Objects per list request (`limit`); the rest follows page by page (`continue`). @default {@link DEFAULT_PAGE_SIZE} */
  readonly pageSize?: number;
  /** Seconds each request may take. @default {@link REQUEST_TIMEOUT_SECONDS} */
  readonly requestTimeoutSeconds?: number;
}

/**
 * Reads the cluster the kubeconfig's current context points at. Requests go one after the
 * other: ceil(nodes / pageSize) + one or more per pod selector + 3, each bounded by
 * `requestTimeoutSeconds`. A missing kube-proxy DaemonSet, coredns Deployment or
 * kubeadm-config ConfigMap (404) is absent from the result.
 * @throws InputErrors for a pageSize or requestTimeoutSeconds that is not a positive integer.
 * @throws DiscoveryError naming the server, the request, the HTTP status and the fix when the
 *   kubeconfig has no server, the server cannot be reached, its certificate is not trusted or it does not answer in time, or a
 *   request fails (401: the credentials; 403: the ClusterRole of discovery/rbac.ts; 410: the
 *   list expired between pages); and for what {@link parseLiveCluster} refuses.
 */
export async function readCluster(kubeconfig: KubeConfig, options: ReadOptions = {}): Promise<LiveCluster> {
  const pageSize = positiveInteger(options.pageSize ?? DEFAULT_PAGE_SIZE, "pageSize");
  const timeoutSeconds = positiveInteger(options.requestTimeoutSeconds ?? REQUEST_TIMEOUT_SECONDS, "requestTimeoutSeconds");
  const server = kubeconfig.getCurrentCluster()?.server;
  if (!server) {
    const context = kubeconfig.getCurrentContext();
    throw new DiscoveryError("cannot read the cluster", [`the kubeconfig's current context ${JSON.stringify(context ?? "")} names no cluster with a server: set current-context to a context whose cluster has one (kubectl config get-contexts)`]);
  }
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const apps = kubeconfig.makeApiClient(AppsV1Api);
  const opts = timeoutOptions(timeoutSeconds);
  const failed = (what: string, e: unknown) => requestError(kubeconfig, server, what, e, timeoutSeconds);
  const send = async <T>(what: string, request: () => Promise<T>): Promise<T> => request().catch((e: unknown) => Promise.reject(failed(what, e)));
  const get = async <T>(what: string, request: () => Promise<T>): Promise<T | undefined> =>
    request().catch((e: unknown) => (e instanceof ApiException && e.code === 404 ? undefined : Promise.reject(failed(what, e))));
  const { namespace } = READ_OBJECTS;

  const nodes = await listAll((cont) => send("list nodes (GET /api/v1/nodes)", () => core.listNode({ limit: pageSize, _continue: cont }, opts)), slimNode);
  const pods: RawPod[] = [];
  for (const labelSelector of POD_SELECTORS) {
    const what = `list pods in ${namespace} with the label ${labelSelector} (GET /api/v1/namespaces/${namespace}/pods)`;
    pods.push(...(await listAll((cont) => send(what, () => core.listNamespacedPod({ namespace, labelSelector, limit: pageSize, _continue: cont }, opts)), slimPod)));
  }
  const kubeProxy = await get(`get DaemonSet ${namespace}/${READ_OBJECTS.kubeProxy}`, () => apps.readNamespacedDaemonSet({ namespace, name: READ_OBJECTS.kubeProxy }, opts));
  const coreDns = await get(`get Deployment ${namespace}/${READ_OBJECTS.coreDns}`, () => apps.readNamespacedDeployment({ namespace, name: READ_OBJECTS.coreDns }, opts));
  const kubeadmConfig = await get(`get ConfigMap ${namespace}/${READ_OBJECTS.kubeadmConfig}`, () => core.readNamespacedConfigMap({ namespace, name: READ_OBJECTS.kubeadmConfig }, opts));
  return parseLiveCluster(server, { nodes, pods, kubeProxy, coreDns, kubeadmConfig });
}

/** Every item of a paginated list, each passed through `slim` as its page arrives. */
async function listAll<T, R>(page: (cont: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>, slim: (item: T) => R): Promise<R[]> {
  const all: R[] = [];
  let cont: string | undefined;
  do {
    const result = await page(cont);
    for (const item of result.items) all.push(slim(item));
    cont = result.metadata?._continue || undefined;
  } while (cont !== undefined);
  return all;
}

/** Per-request options: abort after `seconds` (the signal also covers reading the body). */
function timeoutOptions(seconds: number): ConfigurationOptions {
  const pass = <C>(context: C) => new Observable(Promise.resolve(context));
  return {
    middleware: [
      {
        pre: (context) => {
          context.setSignal(AbortSignal.timeout(seconds * 1000));
          return pass(context);
        },
        post: pass,
      },
    ],
    middlewareMergeStrategy: "append",
  };
}

function positiveInteger(value: number, key: string): number {
  if (!Number.isSafeInteger(value) || value < 1) inputError(key, value, "is not a positive whole number", `give a whole number of at least 1 (${key === "pageSize" ? DEFAULT_PAGE_SIZE : REQUEST_TIMEOUT_SECONDS} by default)`);
  return value;
}

/** One DiscoveryError for a failed request, naming the server, the request, the status and the fix. */
function requestError(kubeconfig: KubeConfig, server: string, what: string, e: unknown, timeoutSeconds: number): DiscoveryError {
  const summary = `cannot read the cluster at ${server}`;
  if (e instanceof ApiException) {
    const said = statusMessage(e.body);
    const status = `HTTP ${e.code}${said ? ` (${said})` : ""}`;
    const user = kubeconfig.getCurrentUser()?.name ?? "";
    const fix =
      e.code === 401
        ? `the server did not accept the credentials of the kubeconfig's user ${JSON.stringify(user)}: renew them (an expired client certificate or token is the usual cause)`
        : e.code === 403
          ? `the kubeconfig's user ${JSON.stringify(user)} may not do this: have a cluster admin grant it the read-only ClusterRole ${DISCOVERY_ROLE_NAME} (${rulesSummary()}), which "npm run -s plan -- --print-rbac" prints with a ClusterRoleBinding for kubectl apply -f -`
          : e.code === 410
            ? "the list expired while it was read page by page: run again (a larger pageSize reads it in fewer pages)"
            : "check the API server's health (kubectl get --raw '/readyz?verbose') and run again";
    return new DiscoveryError(summary, [`${what}: ${status}: ${fix}`]);
  }
  if (e instanceof AbortError || (e instanceof Error && e.name === "AbortError")) {
    return new DiscoveryError(summary, [`${what}: no complete answer within ${timeoutSeconds} s: check that ${server} is the API server and is not overloaded (kubectl get --raw '/readyz?verbose'), then run again`]);
  }
  if (e instanceof FetchError && /CERT|SELF_SIGNED|TLS|SSL/.test(e.code ?? "")) {
    return new DiscoveryError(summary, [`${what}: ${e.message}: the server's certificate was not accepted; check the cluster's certificate-authority-data (or certificate-authority) in the kubeconfig (kubeadm's is /etc/kubernetes/pki/ca.crt)`]);
  }
  if (e instanceof FetchError) {
    return new DiscoveryError(summary, [`${what}: ${e.message}: check the server address in the kubeconfig, that the API server is running, and that this machine can reach it (VPN, firewall, proxy)`]);
  }
  return new DiscoveryError(summary, [`${what}: ${e instanceof Error ? e.message : String(e)}`]);
}

/** The `message` of a Kubernetes Status body, cut to 300 characters; the start of any other body. */
function statusMessage(body: unknown): string {
  let message = typeof body === "string" ? body : "";
  try {
    const status: unknown = JSON.parse(message);
    if (typeof status === "object" && status !== null && typeof (status as { message?: unknown }).message === "string") message = (status as { message: string }).message;
  } catch {
    // not JSON: the body as it is
  }
  return message.length > 300 ? `${message.slice(0, 300)}...` : message;
}
