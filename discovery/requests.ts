/**
 * How discovery talks to the API server: paged lists, a bound on every request, and one
 * DiscoveryError per failed request that names the server, the request, the HTTP status and
 * the fix. Shared by discovery/read-cluster.ts, read-readiness.ts and read-volumes.ts.
 */
import { AbortError, ApiException, ConfigurationOptions, FetchError, KubeConfig, Observable } from "@kubernetes/client-node";
import { DiscoveryError } from "./errors";
import { DISCOVERY_ROLE_NAME, rulesSummary } from "./rbac";

/** How one reader sends its requests to the kubeconfig's server. */
export interface Requester {
  /** The kubeconfig's current server ("" when it names none). */
  readonly server: string;
  /** Per-request options: abort after the reader's timeout ({@link timeoutOptions}). */
  readonly opts: ConfigurationOptions;
  /** The DiscoveryError for request `what` failing with `e` ({@link requestError}). */
  failed(what: string, e: unknown): DiscoveryError;
  /** `request()`, its failure turned into {@link failed}'s DiscoveryError. */
  send<T>(what: string, request: () => Promise<T>): Promise<T>;
}

/** The requester of a reader whose every request is bounded by `timeoutSeconds`. */
export function requester(kubeconfig: KubeConfig, timeoutSeconds: number): Requester {
  const server = kubeconfig.getCurrentCluster()?.server ?? "";
  const failed = (what: string, e: unknown) => requestError(kubeconfig, server, what, e, timeoutSeconds);
  return {
    server,
    opts: timeoutOptions(timeoutSeconds),
    failed,
    send: async <T>(what: string, request: () => Promise<T>): Promise<T> => request().catch((e: unknown) => Promise.reject(failed(what, e))),
  };
}

/** Every item of a paginated list, each passed through `slim` as its page arrives. */
export async function listAll<T, R>(page: (cont: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>, slim: (item: T) => R): Promise<R[]> {
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
export function timeoutOptions(seconds: number): ConfigurationOptions {
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

/** One DiscoveryError for a failed request, naming the server, the request, the status and the fix. */
export function requestError(kubeconfig: KubeConfig, server: string, what: string, e: unknown, timeoutSeconds: number): DiscoveryError {
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
