/**
 * Where the plan starts from: the stack config, with the cluster read live wherever a
 * kubeconfig is found (../shared/DESIGN.md, "How data flows", point 2). Shared by the
 * Pulumi program and `npm run plan`, so both plan from the same picture.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { findKubeconfig, KubeconfigSources, resolveKubeconfig } from "../discovery/kubeconfig";
import type { LiveCluster } from "../discovery/live-cluster";
import { readCluster } from "../discovery/read-cluster";
import { refuseDrift } from "./drift";
import { resolveLive } from "./live-nodes";
import { inputError } from "../planning/errors";
import { StackConfig } from "./stack-config";

export type { KubeconfigSources } from "../discovery/kubeconfig";

/** The config the planner takes, and what it was read against. */
export interface ClusterSource {
  /** The config with every node's versions: declared, or read from the cluster. */
  readonly config: StackConfig;
  /** The cluster as read; absent when planned offline from declared versions. */
  readonly live?: LiveCluster;
  /** The kubeconfig the cluster was read with (for the go/no-go reads); present with `live`. */
  readonly kubeconfig?: KubeConfig;
  /** One line saying where the versions came from, e.g. `the cluster at https://10.0.0.10:6443 (KUBECONFIG (/home/me/.kube/config))`. */
  readonly origin: string;
}

/** A config that declares its versions, planned as it is: offline, or with no kubeconfig to compare it with. */
function declaredSource(config: StackConfig, offline: boolean): ClusterSource {
  return { config, origin: offline ? "the versions declared in the stack config (offline)" : "the versions declared in the stack config (no kubeconfig found: not compared with the cluster)" };
}

/** Reads the cluster with a kubeconfig; tests pass their own. */
export type ClusterReader = (kubeconfig: KubeConfig) => Promise<LiveCluster>;

/**
 * The config to plan from.
 * - no versions in the config: the cluster is read (a kubeconfig is required) and fills in
 *   the nodes ({@link resolveLive});
 * - declared versions and `offline`: the config as it is;
 * - declared versions and a kubeconfig found: the cluster is read and any difference stops
 *   here (config/drift.ts); without a kubeconfig, the config as it is, said in `origin`.
 * @throws DiscoveryError (no kubeconfig for a config without versions, the cluster unreadable),
 *   DriftError, InputErrors from {@link resolveLive}.
 */
export async function clusterSource(config: StackConfig, sources: KubeconfigSources, options: { readonly offline?: boolean; readonly reader?: ClusterReader } = {}): Promise<ClusterSource> {
  if (config.live && options.offline) {
    inputError("--offline", true, "needs a stack config that declares every node with its version (controlPlane.nodes and each pool's nodes); this one reads its nodes from the cluster", "leave out --offline, or declare the nodes");
  }
  const found = config.live ? resolveKubeconfig(sources) : options.offline ? undefined : findKubeconfig(sources);
  if (!found) return declaredSource(config, options.offline ?? false);
  const { kubeconfig, source } = found;
  const live = await (options.reader ?? ((kc) => readCluster(kc)))(kubeconfig);
  if (!config.live) refuseDrift(config, live);
  return { config: resolveLive(config, live), live, kubeconfig, origin: `the cluster at ${live.server} (kubeconfig: ${source})` };
}
