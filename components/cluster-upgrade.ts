/**
 * ClusterUpgrade: plans the upgrade of a kubeadm cluster (planning/plan.ts) and, for the
 * steps this update carries out (with `maxNodesPerUpdate`: the plan's first wave,
 * planning/waves.ts; without: the whole plan), creates one NodeUpgrade per node they change,
 * and under each node the `remote.Command`s that carry its steps out (planning/commands.ts), ordered with `dependsOn` exactly as the plan orders
 * the steps: between two stages of several steps each (batches of a pool), through one
 * barrier resource that runs nothing, so the dependencies grow with the steps, not with the
 * square of a batch. The plan is computed before the component registers,
 * so an impossible upgrade fails the program before any resource exists. During
 * `pulumi preview` the plan's text is logged on the component.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSpec, NodeState } from "../planning/cluster";
import { commandKey, ExecutionOptions, scheduledRebootBootId, shellQuote, StageBarrier } from "../planning/commands";
import { assemblePlan } from "../planning/assembled-plan";
import type { Step, UpgradePlan } from "../planning/plan-types";
import { describeWave, Wave } from "../planning/waves";
import type { ReleaseCatalogue } from "../planning/releases";
import { reportText } from "../planning/report";
import type { ClusterAddons } from "../planning/addon-versions";
import type { Readiness } from "../preflight/findings";
import { ReadinessContext, refuseNoGo } from "../preflight/readiness";
import type { MaintenanceWindow } from "../config/window-config";
import { estimatePlan, estimateWave } from "../planning/duration";
import { refuseOutsideWindow } from "../preflight/window-gate";
import type { KubeVersion } from "../planning/versions";
import type { AwsPoolSettings } from "../config/blue-green-config";
import { FINISHED_COMMAND_IGNORES } from "./command-intent";
import { BlueGreenNodePool, ColorSpec } from "./blue-green-node-pool";
import { scriptText } from "./node-scripts";
import { NodeUpgrade } from "./node-upgrade";
import type { Connection } from "./ssh-connection";

/**
 * Every input of a `local.Command` (command.local.CommandArgs; pulumi-command
 * provider/pkg/provider/common/inputs.go and local/base.go): a stage barrier sets none and runs
 * nothing (no `create`: the provider's local `Create` returns at once, local/commandController.go),
 * and, like a finished remote command (command-intent.ts), is never updated whatever a later
 * version of this program gives it.
 */
const BARRIER_IGNORES: readonly string[] = [
  "triggers", "create", "update", "delete", "stdin", "logging", "interpreter", "dir", "environment", "assetPaths", "archivePaths", "addPreviousOutputInEnv",
];

export interface ClusterUpgradeArgs {
  /**
   * Nodes (control plane first, in upgrade order) and worker pools. Plain values, not
   * Inputs: the plan must be known during preview.
   */
  readonly cluster: ClusterSpec;
  /** The version every component ends at. */
  readonly target: KubeVersion;
  /** Release catalogue (intermediate hops use each minor's latest patch). */
  readonly catalogue: ReleaseCatalogue;
  /** "Today" for end-of-life warnings. @default new Date() */
  readonly now?: Date;
  /** How the plan is carried out: kubectl node, drain options, etcd settings, waits. */
  readonly execution: ExecutionOptions;
  /** The SSH connection to a node, by node name (a secret: it holds the private key). */
  readonly connection: (node: string) => pulumi.Input<Connection>;
  /** The AWS settings of each blue-green pool (pools[i].aws); pools without are not this stack's instances. */
  readonly blueGreenAws?: ReadonlyMap<string, AwsPoolSettings>;
  /**
   * Most nodes one update changes: only the plan's first wave is registered
   * (planning/waves.ts), and the next `pulumi up`, having read the cluster again, plans what is
   * left. Set it whenever the plan starts from the live cluster. Absent: the whole plan, for a
   * plan from declared versions alone, which cannot tell what a previous update did.
   */
  readonly maxNodesPerUpdate?: number;
  /** Where the versions planned from came from, for the plan's text (config/cluster-source.ts). */
  readonly origin?: string;
  /**
   * etcd and CoreDNS as the cluster runs them, for the plan's version table: pass
   * `clusterAddons(source.live)` (discovery/live-cluster.ts) when the cluster was read.
   */
  readonly addons?: ClusterAddons;
  /**
   * The go/no-go check, when the cluster was read (discovery/read-readiness.ts): the plan is
   * judged with it before anything registers, its report joins the plan's text, and a
   * blocking finding of the first wave's hop (or of the cluster's health) not named in
   * `acknowledge` stops the program (preflight/readiness.ts refuseNoGo). Needs `maxNodesPerUpdate`.
   */
  readonly preflight?: Omit<ReadinessContext, "plan" | "drain">;
  /**
   * The maintenance window: in `pulumi up` (not preview) the update's wave (or, without
   * `maxNodesPerUpdate`, the whole plan) starts only inside it and only when it ends by the
   * window's close (preflight/window-gate.ts); otherwise nothing is registered.
   */
  readonly maintenanceWindow?: MaintenanceWindow;
  /** The moment the window is judged at. @default new Date() */
  readonly windowNow?: Date;
}

/**
 * Type token `cluster-maintenance:upgrade:ClusterUpgrade`; children `${name}-${node}`,
 * `${name}-${pool}` (blue-green pools) and the stage barriers, `local.Command`s named
 * `${name}-${barrier}` (StageBarrier.name, e.g. `prod-v1.35.9-general-batch-2`).
 */
export class ClusterUpgrade extends pulumi.ComponentResource {
  /** The plan, as plain data. */
  readonly plan: UpgradePlan;
  /** The plan as text (what `npm run plan` prints). */
  readonly planText: pulumi.Output<string>;
  /** Versions of the hops, in order, e.g. `["1.35.9", "1.36.4", "1.37.1"]`. */
  readonly hops: pulumi.Output<string[]>;
  readonly nodes: readonly NodeUpgrade[];

  /** Blue-green pools of this stack's instances, by pool name. */
  readonly blueGreenPools: ReadonlyMap<string, BlueGreenNodePool>;
  /** The waves of the plan; with maxNodesPerUpdate, only the first is registered. */
  readonly waves: readonly Wave[];
  /** What this update carries out, one line (describeWave), or that nothing is left. */
  readonly wave: string;
  /** The go/no-go report, with `preflight`. */
  readonly readiness?: Readiness;
  /** The waves after this update's, one line each; empty when this update finishes the plan. */
  readonly wavesLeft: readonly string[];

  /**
   * @throws PlanningError (before anything is registered) when the upgrade cannot be planned,
   *   or when a blue-green pool would be replaced more than once; NoGoError (likewise, after
   *   logging the report) when `preflight` finds the first wave's hop no-go; WindowError
   *   (likewise) in `pulumi up` outside the maintenance window or for a wave that would not end in it.
   */
  constructor(name: string, args: ClusterUpgradeArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan, commands: all, waves, readiness, durations: bounds } = assemblePlan(args);
    const now = args.windowNow ?? new Date();
    const text = reportText({
      plan, commands: all.commands, ...(args.origin ? { origin: args.origin } : {}), ...(args.addons ? { addons: args.addons } : {}),
      ...(args.maxNodesPerUpdate !== undefined ? { waves, maxNodesPerUpdate: args.maxNodesPerUpdate } : {}),
      ...(readiness ? { readiness } : {}), durations: bounds, ...(args.maintenanceWindow ? { window: { window: args.maintenanceWindow, now } } : {}),
    });
    try {
      if (readiness) refuseNoGo(readiness, plan, waves[0]);
      const next = args.maxNodesPerUpdate === undefined ? (plan.steps.length > 0 ? { what: "the plan", estimate: estimatePlan(plan, bounds) } : undefined) : waves[0] && { what: describeWave(waves[0], false), estimate: estimateWave(plan, waves[0], bounds) };
      if (args.maintenanceWindow && next && !pulumi.runtime.isDryRun()) refuseOutsideWindow(args.maintenanceWindow, now, next.what, next.estimate);
    } catch (e) {
      pulumi.log.info(text);
      throw e;
    }
    super("cluster-maintenance:upgrade:ClusterUpgrade", name, {}, opts);
    this.plan = plan;
    this.waves = waves;
    if (readiness) this.readiness = readiness;
    // Waves are runs of the plan's steps in order: the first depends on nothing outside itself.
    const inWave = new Set(waves[0]?.steps ?? []);
    const steps = args.maxNodesPerUpdate === undefined ? plan.steps : plan.steps.filter((s) => inWave.has(s.id));
    const stepIds = new Set(steps.map((s) => s.id));
    const commands = all.commands.filter((c) => stepIds.has(c.step));
    this.wave = args.maxNodesPerUpdate === undefined
      ? `the whole plan (${plan.steps.length} step(s)): planned from declared versions, not from the cluster`
      : waves[0] ? describeWave(waves[0], true) : `nothing left: the cluster is at ${plan.target}`;
    this.wavesLeft = waves.slice(1).map((w) => describeWave(w, false));
    this.planText = pulumi.output(text);
    this.hops = pulumi.output(plan.hops.map((h) => h.to.toString()));
    const stepsOf = new Map<string, Step[]>();
    for (const step of steps) {
      for (const node of step.nodes) {
        const list = stepsOf.get(node);
        if (list) list.push(step);
        else stepsOf.set(node, [step]);
      }
    }
    // One NodeUpgrade per node this update changes (every node, for the whole plan).
    const changed = args.maxNodesPerUpdate === undefined ? plan.initialState.toArray() : [...stepsOf.keys()].map((n) => plan.initialState.get(n)).filter((n): n is NodeState => n !== undefined);
    const components = new Map(
      changed.map((node) => [
        node.name,
        new NodeUpgrade(`${name}-${node.name}`, { node, target: plan.target, steps: stepsOf.get(node.name) ?? [] }, { parent: this }),
      ]),
    );
    this.nodes = [...components.values()];
    const created = new Map<string, command.remote.Command>();
    const pools = new Map<string, BlueGreenNodePool>();
    // One connection Output per node, shared by its commands (a node's commands run over the same SSH settings).
    const connections = new Map<string, pulumi.Input<Connection>>();
    const connection = (node: string) => {
      let c = connections.get(node);
      if (c === undefined) connections.set(node, (c = args.connection(node)));
      return c;
    };
    const kubectlConnection = connection(args.execution.kubectlNode);
    // A pool of this stack's instances always registers the color it serves with (its config
    // version and nodes, as the plan starts from): not registering it would terminate it.
    const pool = (poolName: string, replacement?: ColorSpec, after?: pulumi.Resource[]) => {
      const aws = args.blueGreenAws?.get(poolName);
      if (!aws) throw new Error(`blue-green pool ${poolName} has no AWS settings`);
      const spec = args.cluster.pools.find((p) => p.name === poolName)?.blueGreen;
      const current = plan.initialState.toArray().filter((n) => n.pool === poolName);
      const serving = spec?.managed && current.length > 0 ? { version: current[0]!.versions.kubelet, nodes: current.map((n) => n.name) } : undefined;
      const component = new BlueGreenNodePool(`${name}-${poolName}`, {
        cluster: plan.cluster, pool: poolName, aws, kubectlConnection, batchSize: spec?.batchSize ?? 1,
        readyTimeoutSeconds: args.execution.readyTimeoutSeconds, drain: args.execution.drain(poolName),
        ...(serving ? { serving } : {}), ...(replacement ? { replacement } : {}), ...(after ? { after } : {}),
      }, { parent: this });
      pools.set(poolName, component);
      return component;
    };
    const barrierSpecs = new Map(all.barriers.map((b) => [b.key, b]));
    const barrierResources = new Map<string, command.local.Command>();
    // A barrier is registered when the first command of its stage is: after the commands it waits for.
    const barrier = (spec: StageBarrier): command.local.Command => {
      let resource = barrierResources.get(spec.key);
      if (!resource) {
        resource = new command.local.Command(`${name}-${spec.name}`, {}, {
          parent: this, dependsOn: spec.dependsOn.map((key) => created.get(key)!), ignoreChanges: [...BARRIER_IGNORES],
        });
        barrierResources.set(spec.key, resource);
      }
      return resource;
    };
    const resourceOf = (key: string): pulumi.Resource => created.get(key) ?? barrier(barrierSpecs.get(key)!);
    const stepById = new Map(plan.steps.map((s) => [s.id, s]));
    for (const spec of commands) {
      const after = spec.dependsOn.map(resourceOf);
      let green: pulumi.Resource[] = [];
      if (spec.greenOf) {
        const step = stepById.get(spec.step)!;
        const bg = pools.get(spec.greenOf) ?? pool(spec.greenOf, { version: step.version, nodes: step.replacement!.newNodes }, after);
        // After green's gates; and after blue's removal commands, so that when blue is dropped
        // its cordons are undone before its nodes are drained and deleted, not during.
        green = [...bg.replacement!.joined, ...(bg.serving?.registered ?? [])];
      }
      const resource = new command.remote.Command(
        `${name}-${spec.node}-${spec.name}`,
        {
          connection: connection(spec.runsOn),
          create: spec.bootIdFrom
            ? pulumi.interpolate`${spec.command} ${created.get(spec.bootIdFrom)!.stdout.apply((out) => shellQuote(scheduledRebootBootId(out)))}`
            : spec.command,
          ...(spec.undoCommand ? { delete: spec.undoCommand } : {}),
          stdin: scriptText(spec.script),
          logging: "stdoutAndStderr",
          addPreviousOutputInEnv: false,
        },
        {
          // A node already gone from the cluster (its leftovers cleaned) has no NodeUpgrade: the command is this component's.
          parent: spec.pool ? pools.get(spec.pool)! : (components.get(spec.node) ?? this), dependsOn: [...after, ...green],
          ignoreChanges: [...FINISHED_COMMAND_IGNORES],
        },
      );
      created.set(commandKey(spec), resource);
    }
    // Pools not replaced keep the color they serve with (not registering it would terminate it).
    for (const p of args.cluster.pools) {
      if (pools.has(p.name) || !p.blueGreen?.managed || !args.blueGreenAws?.has(p.name)) continue;
      pool(p.name);
    }
    this.blueGreenPools = pools;
    if (pulumi.runtime.isDryRun()) pulumi.log.info(text, this);
    if (args.maxNodesPerUpdate !== undefined) pulumi.log.info(`this update: ${this.wave}${this.wavesLeft.length > 0 ? `; ${this.wavesLeft.length} more wave(s) after it: run pulumi up again` : ""}`, this);
    this.registerOutputs({ planText: this.planText, hops: this.hops, wave: this.wave, wavesLeft: this.wavesLeft });
  }
}
