/**
 * ClusterUpgrade: plans the upgrade of a kubeadm cluster (planning/plan.ts) and creates one
 * NodeUpgrade per node from the plan, and under each node the `remote.Command`s that carry
 * its steps out (planning/commands.ts), ordered with `dependsOn` exactly as the plan orders
 * the steps. The plan is computed before the component registers,
 * so an impossible upgrade fails the program before any resource exists. During
 * `pulumi preview` the plan's text is logged on the component.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSpec } from "../planning/cluster";
import { commandKey, ExecutionOptions, planCommands, scheduledRebootBootId, shellQuote } from "../planning/commands";
import { planUpgrade } from "../planning/plan";
import type { UpgradePlan } from "../planning/plan-types";
import type { ReleaseCatalogue } from "../planning/releases";
import { renderText } from "../planning/render";
import type { KubeVersion } from "../planning/versions";
import { scriptText } from "./node-scripts";
import { NodeUpgrade } from "./node-upgrade";
import type { Connection } from "./ssh-connection";

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
}

/** Type token `cluster-maintenance:upgrade:ClusterUpgrade`; children `${name}-${node}`. */
export class ClusterUpgrade extends pulumi.ComponentResource {
  /** The plan, as plain data. */
  readonly plan: UpgradePlan;
  /** The plan as text (what `npm run plan` prints). */
  readonly planText: pulumi.Output<string>;
  /** Versions of the hops, in order, e.g. `["1.35.9", "1.36.4", "1.37.1"]`. */
  readonly hops: pulumi.Output<string[]>;
  readonly nodes: readonly NodeUpgrade[];

  /** @throws PlanningError (before anything is registered) when the upgrade cannot be planned. */
  constructor(name: string, args: ClusterUpgradeArgs, opts?: pulumi.ComponentResourceOptions) {
    const plan = planUpgrade(args.cluster, args.target, { catalogue: args.catalogue, ...(args.now ? { now: args.now } : {}) });
    super("cluster-maintenance:upgrade:ClusterUpgrade", name, {}, opts);
    this.plan = plan;
    const commands = planCommands(plan, args.execution);
    const text = renderText(plan, commands);
    this.planText = pulumi.output(text);
    this.hops = pulumi.output(plan.hops.map((h) => h.to.toString()));
    const stepsOf = new Map<string, typeof plan.steps[number][]>();
    for (const step of plan.steps) {
      for (const node of step.nodes) {
        const list = stepsOf.get(node);
        if (list) list.push(step);
        else stepsOf.set(node, [step]);
      }
    }
    const components = new Map(
      plan.initialState.toArray().map((node) => [
        node.name,
        new NodeUpgrade(`${name}-${node.name}`, { node, target: plan.target, steps: stepsOf.get(node.name) ?? [] }, { parent: this }),
      ]),
    );
    this.nodes = [...components.values()];
    const created = new Map<string, command.remote.Command>();
    for (const spec of commands) {
      const parent = components.get(spec.node)!;
      const resource = new command.remote.Command(
        `${name}-${spec.node}-${spec.name}`,
        {
          connection: args.connection(spec.runsOn),
          create: spec.bootIdFrom
            ? pulumi.interpolate`${spec.command} ${created.get(spec.bootIdFrom)!.stdout.apply((out) => shellQuote(scheduledRebootBootId(out)))}`
            : spec.command,
          stdin: scriptText(spec.script),
          logging: "stdoutAndStderr",
          addPreviousOutputInEnv: false,
        },
        { parent, dependsOn: spec.dependsOn.map((key) => created.get(key)!) },
      );
      created.set(commandKey(spec), resource);
    }
    if (pulumi.runtime.isDryRun()) pulumi.log.info(text, this);
    this.registerOutputs({ planText: this.planText, hops: this.hops });
  }
}
