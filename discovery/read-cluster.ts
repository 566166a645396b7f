/**
 * Reads the live cluster through the Kubernetes API, read-only, with
 * @kubernetes/client-node: Nodes, kube-system's kubeadm mirror pods and kube-proxy pods (by
 * label, never every pod of the cluster), the kube-proxy DaemonSet, the coredns Deployment
 * and the kubeadm-config ConfigMap. Lists are read in pages (`limit`/`continue`:
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks);
 * each page is cut to the fields used (discovery/raw-objects.ts) before the next is read.
 * The RBAC this needs: discovery/rbac.ts.
 */
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { inputError } from "../planning/errors";
import { DiscoveryError } from "./errors";
import { LiveCluster, parseLiveCluster } from "./live-cluster";
import { POD_SELECTORS } from "./node-pods";
import { READ_OBJECTS } from "./rbac";
import { listAll, requester } from "./requests";
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
  const { server, opts, failed, send } = requester(kubeconfig, timeoutSeconds);
  if (!server) {
    const context = kubeconfig.getCurrentContext();
    throw new DiscoveryError("cannot read the cluster", [`the kubeconfig's current context ${JSON.stringify(context ?? "")} names no cluster with a server: set current-context to a context whose cluster has one (kubectl config get-contexts)`]);
  }
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const apps = kubeconfig.makeApiClient(AppsV1Api);
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

function positiveInteger(value: number, key: string): number {
  if (!Number.isSafeInteger(value) || value < 1) inputError(key, value, "is not a positive whole number", `give a whole number of at least 1 (${key === "pageSize" ? DEFAULT_PAGE_SIZE : REQUEST_TIMEOUT_SECONDS} by default)`);
  return value;
}
