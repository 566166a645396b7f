/**
 * Which kubeconfig reads the cluster. Tried in order, the first one set wins:
 * 1. `cluster-maintenance:kubeconfig`, a Pulumi secret holding a kubeconfig's text;
 * 2. `kubernetes:kubeconfig`, the Pulumi Kubernetes provider's key, taken as the provider
 *    takes it: "The contents of a kubeconfig file or the path to a kubeconfig file"
 *    (https://www.pulumi.com/registry/packages/kubernetes/api-docs/provider/, ProviderArgs.kubeconfig);
 *    `~` and `~/...` are the home directory; a value that names an existing file, is an
 *    absolute path or starts with `.` is a path, anything else the text (the provider's
 *    loadKubeconfig, provider/pkg/provider/util.go in pulumi/pulumi-kubernetes); as there, relative
 *    paths inside such a file are left relative to the working directory;
 * 3. `KUBECONFIG`, a list of files (`:`-separated; `;` on Windows) merged as kubectl merges
 *    them: missing files are skipped, the first file to set a cluster, user or context (by
 *    name) or current-context wins, relative file paths inside a file are relative to it
 *    (https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/#merging-kubeconfig-files);
 *    when it is set, ~/.kube/config is not read, as with kubectl;
 * 4. `~/.kube/config`.
 * client-node's loadFromDefault is not used: it fails on a missing file in KUBECONFIG, lets the
 * last file's current-context win, and falls back to in-cluster or localhost silently.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { DiscoveryError } from "./errors";

/** Where a kubeconfig may come from; see the file's comment for the order. */
export interface KubeconfigSources {
  /** `cluster-maintenance:kubeconfig` (a Pulumi secret): the kubeconfig's text. Empty counts as unset. */
  readonly override?: string;
  /** `kubernetes:kubeconfig`: a path or the kubeconfig's text. Empty counts as unset. */
  readonly providerConfig?: string;
  /** Read for KUBECONFIG. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The home directory (for `~/.kube/config` and `~` in kubernetes:kubeconfig). @default env.HOME, else os.homedir() */
  readonly home?: string;
}

/** The kubeconfig found, and one line saying where, e.g. `KUBECONFIG (/a/config, /b/config)`. */
export interface ResolvedKubeconfig {
  readonly kubeconfig: KubeConfig;
  readonly source: string;
}

const OVERRIDE_KEY = "cluster-maintenance:kubeconfig";
const PROVIDER_KEY = "kubernetes:kubeconfig";

/**
 * The kubeconfig of the first source set (order: see the file's comment). Its current
 * context must name a cluster with a server. A kubeconfig's text is never quoted in an error.
 * @throws DiscoveryError naming the source when it cannot be read or parsed or has no usable
 *   current context; when none is set, one DiscoveryError listing the four places in order,
 *   each with how to set it.
 */
export function resolveKubeconfig(sources: KubeconfigSources): ResolvedKubeconfig {
  const found = findKubeconfig(sources);
  if (found) return found;
  const { listed, homeConfig } = places(sources);
  throw new DiscoveryError("no kubeconfig to read the cluster with; looked in this order", [
    `${OVERRIDE_KEY}: not set; set it with: pulumi config set --secret ${OVERRIDE_KEY} < your-kubeconfig`,
    `${PROVIDER_KEY}: not set; set it to a kubeconfig file's path (or its text) with: pulumi config set ${PROVIDER_KEY} /path/to/kubeconfig`,
    listed.length > 0
      ? `KUBECONFIG: lists ${listed.join(", ")}, none of which is a file (kubectl then reads no other file either); point it at your kubeconfig files: export KUBECONFIG=/path/to/kubeconfig`
      : "KUBECONFIG: not set; export KUBECONFIG=/path/to/kubeconfig (several files: separated by ':', merged as kubectl merges them)",
    `~/.kube/config (${homeConfig}): ${listed.length > 0 ? "not read, as KUBECONFIG is set" : "no such file"}; copy a kubeconfig for the cluster there (on kubeadm clusters \`kubeadm kubeconfig user\` on a control-plane node writes one)`,
  ]);
}

/** The home directory, the files KUBECONFIG lists and ~/.kube/config, as {@link findKubeconfig} looks at them. */
function places(sources: KubeconfigSources): { home: string; listed: string[]; homeConfig: string } {
  const env = sources.env ?? process.env;
  const home = sources.home ?? env.HOME ?? homedir();
  return { home, listed: (env.KUBECONFIG ?? "").split(delimiter).filter((f) => f !== ""), homeConfig: join(home, ".kube", "config") };
}

/**
 * The kubeconfig {@link resolveKubeconfig} takes, or undefined when none of the four places
 * gives one (no DiscoveryError for that: a config that declares its versions is then planned
 * without the cluster).
 * @throws DiscoveryError as resolveKubeconfig does for a kubeconfig found but unusable.
 */
export function findKubeconfig(sources: KubeconfigSources): ResolvedKubeconfig | undefined {
  const { home, listed, homeConfig } = places(sources);
  if (sources.override?.trim()) {
    return checked(fromText(sources.override, `${OVERRIDE_KEY} (stack secret)`));
  }
  if (sources.providerConfig?.trim()) {
    const value = sources.providerConfig.trim();
    const path = value === "~" ? home : value.startsWith("~/") ? join(home, value.slice(2)) : value;
    if (existsSync(path) || isAbsolute(path) || path.startsWith(".")) {
      return checked(fromText(readText(path, `${PROVIDER_KEY} (${path})`), `${PROVIDER_KEY} (${path})`));
    }
    return checked(fromText(value, `${PROVIDER_KEY} (its value as kubeconfig text: it names no existing file)`));
  }
  if (listed.length > 0) {
    const files = [...new Set(listed)].filter((f) => existsSync(f) && statSync(f).isFile());
    if (files.length > 0) return checked(merged(files));
  }
  if (listed.length === 0 && existsSync(homeConfig)) {
    return checked({ kubeconfig: fromFile(homeConfig, `~/.kube/config (${homeConfig})`), source: `~/.kube/config (${homeConfig})` });
  }
  return undefined;
}

function readText(path: string, source: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new DiscoveryError(`cannot read the kubeconfig from ${source}`, [`${(e as Error).message}: check the path and that this user may read the file`]);
  }
}

/** Parses one kubeconfig's text; an error quotes only the parser's reason and position, never the text (it holds credentials). */
function fromText(text: string, source: string): ResolvedKubeconfig {
  const kubeconfig = new KubeConfig();
  if (text.trim() === "") return { kubeconfig, source };
  try {
    kubeconfig.loadFromString(text);
  } catch (e) {
    const { reason, mark } = e as { reason?: string; mark?: { line: number } };
    const why = reason ? `${reason}${mark ? ` (line ${mark.line + 1})` : ""}` : (e as Error).message;
    throw new DiscoveryError(`the kubeconfig from ${source} cannot be used`, [`it is not a valid kubeconfig: ${why}; check it with KUBECONFIG=<the file> kubectl config view`]);
  }
  return { kubeconfig, source };
}

/** A kubeconfig file as kubectl reads it: relative file paths in it are relative to its directory. */
function fromFile(path: string, source: string): KubeConfig {
  const { kubeconfig } = fromText(readText(path, source), source);
  kubeconfig.makePathsAbsolute(dirname(path));
  return kubeconfig;
}

/** The files merged as kubectl merges them: the first to set a name (or current-context) wins. */
function merged(files: readonly string[]): ResolvedKubeconfig {
  const source = `KUBECONFIG (${files.join(", ")})`;
  const parts = files.map((file) => fromFile(file, `KUBECONFIG (${file})`));
  const firstByName = <T extends { name: string }>(lists: readonly T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const item of lists.flat()) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromOptions({
    clusters: firstByName(parts.map((p) => p.clusters)),
    users: firstByName(parts.map((p) => p.users)),
    contexts: firstByName(parts.map((p) => p.contexts)),
    currentContext: parts.map((p) => p.currentContext).find((c) => c) ?? "",
  });
  return { kubeconfig, source };
}

/** The kubeconfig when its current context names a cluster with a server. */
function checked(found: ResolvedKubeconfig): ResolvedKubeconfig {
  const problem = contextProblem(found.kubeconfig);
  if (problem) throw new DiscoveryError(`the kubeconfig from ${found.source} cannot be used`, [problem]);
  return found;
}

function contextProblem(kubeconfig: KubeConfig): string | undefined {
  const contexts = kubeconfig.getContexts().map((c) => c.name);
  const context = kubeconfig.getCurrentContext();
  if (contexts.length === 0) return "it holds no contexts: is it a kubeconfig? (kubectl config view shows one)";
  if (!context) return `it sets no current-context; choose one with: kubectl config use-context NAME (contexts: ${contexts.join(", ")})`;
  if (!contexts.includes(context)) return `its current-context ${JSON.stringify(context)} is not one of its contexts (${contexts.join(", ")}); choose one with: kubectl config use-context NAME`;
  if (!kubeconfig.getCurrentCluster()?.server) {
    return `the cluster of its current-context ${JSON.stringify(context)} is missing or has no server; add it: kubectl config set-cluster NAME --server=https://HOST:6443`;
  }
  return undefined;
}
