/**
 * `npm run plan`: the upgrade plan for a stack, without the Pulumi CLI: what the next
 * `pulumi up` would run and every wave after it.
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml from the working directory; reads the cluster
 * (config/cluster-source.ts) when the config declares no versions, or to compare declared
 * versions with it, unless `--offline`; plans with the same code the Pulumi program uses; with
 * the cluster read, judges every hop go or no-go (preflight/readiness.ts; the verdicts are
 * printed and the exit code stays 0: `pulumi up` is what refuses a no-go wave); prints text
 * (default) or JSON (with `readiness`: every finding and verdict). Exit code 1 with one clear message on bad config, drift, a
 * cluster that cannot be read, or an impossible upgrade.
 */
import { Command } from "commander";
import type { KubeConfig } from "@kubernetes/client-node";
import { readReadiness, ReadinessRead, ReadinessReadOptions } from "../discovery/read-readiness";
import { windowState } from "../preflight/window";
import { estimateWave } from "../planning/duration";
import { InputErrors, PlanningError } from "../planning/errors";
import { planToJson } from "../planning/render";
import { reportText } from "../planning/report";
import { executionOptions, parseStackConfig, toClusterSpec } from "../config/stack-config";
import { clusterSource, ClusterReader } from "../config/cluster-source";
import { DriftError } from "../config/drift";
import { DiscoveryError } from "../discovery/errors";
import { clusterAddons } from "../discovery/live-cluster";
import { rbacManifest } from "../discovery/rbac";
import { assemblePlan } from "../planning/assembled-plan";
import { readStackFiles } from "../config/stack-file";
import { CliIo, parseArgs, processIo } from "./io";

export interface PlanIo extends CliIo {
  /** "Today" for end-of-life warnings. @default new Date() */
  readonly now?: Date;
  /** For KUBECONFIG and ~/.kube/config. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Reads the cluster (tests pass a stub). @default discovery/read-cluster.ts readCluster */
  readonly reader?: ClusterReader;
  /** The go/no-go reads (tests pass a stub); `options.volumes` is true with `backup.volumes`. @default discovery/read-readiness.ts readReadiness */
  readonly readinessReader?: (kubeconfig: KubeConfig, options?: ReadinessReadOptions) => Promise<ReadinessRead>;
}

/**
 * Runs the plan command.
 * @param args the arguments after the program name, e.g. `["--stack", "prod", "--json"]`.
 * @returns the exit code: 0 planned, 1 bad config, drift, an unreadable cluster or an
 *   impossible upgrade, 2 bad usage.
 */
export async function runPlan(args: readonly string[], io: PlanIo): Promise<number> {
  const program = new Command("npm run plan --")
    .description("Print the upgrade plan for a stack: what the next pulumi up runs, and every wave after it.")
    .option("-s, --stack <name>", "stack whose Pulumi.<name>.yaml to read", "dev")
    .option("--json", "print the whole plan as JSON", false)
    .option("--offline", "plan from the versions the stack config declares, without reading the cluster", false)
    .option("--kubeconfig <path>", "read the cluster with this kubeconfig (before kubernetes:kubeconfig, KUBECONFIG and ~/.kube/config)")
    .option("--print-rbac", "print the read-only ClusterRole the cluster is read with, and exit", false);
  const usage = parseArgs(program, args, io);
  if (usage !== undefined) return usage;
  const opts = program.opts<{ stack: string; json: boolean; offline: boolean; kubeconfig?: string; printRbac: boolean }>();
  if (opts.printRbac) {
    io.out(rbacManifest());
    return 0;
  }
  try {
    const files = readStackFiles(io.cwd, opts.stack);
    const declared = parseStackConfig(files.raw, opts.stack);
    // The stack's kubeconfig secret cannot be decrypted without Pulumi: --kubeconfig takes its place.
    const providerConfig = opts.kubeconfig ?? files.providerKubeconfig;
    const source = await clusterSource(declared, { ...(providerConfig ? { providerConfig } : {}), env: io.env ?? process.env }, { offline: opts.offline, ...(io.reader ? { reader: io.reader } : {}) });
    const config = source.config;
    const now = io.now ?? new Date();
    const live = source.live && source.kubeconfig ? { live: source.live, kubeconfig: source.kubeconfig } : undefined;
    const { plan, commands: { commands }, waves, readiness, durations } = assemblePlan({
      cluster: toClusterSpec(config), target: config.target, catalogue: config.catalogue, execution: executionOptions(config), ...(io.now ? { now: io.now } : {}),
      ...(source.live ? { maxNodesPerUpdate: config.maxNodesPerUpdate } : {}),
      ...(live
        ? {
            preflight: {
              live: live.live, read: await (io.readinessReader ?? readReadiness)(live.kubeconfig, { volumes: config.backup?.volumes !== undefined }),
              acknowledge: config.acknowledge, now, ...(config.backup?.volumes ? { volumes: config.backup.volumes } : {}),
            },
          }
        : {}),
    });
    if (opts.json) {
      const timed = source.live ? waves.map((w) => ({ ...w, estimate: estimateWave(plan, w, durations) })) : undefined;
      const window = config.maintenanceWindow ? { maintenanceWindow: { ...config.maintenanceWindow, state: windowState(config.maintenanceWindow, now) } } : {};
      io.out(`${JSON.stringify({ ...planToJson(plan, commands), origin: source.origin, ...(timed ? { waves: timed } : {}), ...(readiness ? { readiness } : {}), ...window }, null, 2)}\n`);
    } else {
      io.out(
        reportText({
          plan, commands, origin: source.origin, ...(source.live ? { waves, maxNodesPerUpdate: config.maxNodesPerUpdate } : {}), ...(source.live ? { addons: clusterAddons(source.live) } : {}),
          ...(readiness ? { readiness } : {}), durations, ...(config.maintenanceWindow ? { window: { window: config.maintenanceWindow, now } } : {}),
        }),
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof InputErrors || e instanceof PlanningError || e instanceof DriftError || e instanceof DiscoveryError) {
      io.err(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  void runPlan(process.argv.slice(2), processIo()).then((code) => (process.exitCode = code));
}
