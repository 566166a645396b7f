/**
 * ClusterUpgrade: plans the upgrade of a kubeadm cluster (planning/plan.ts) and creates one
 * NodeUpgrade per node from the plan. The plan is computed before the component registers,
 * so an impossible upgrade fails the program before any resource exists. During
 * `pulumi preview` the plan's text is logged on the component.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSpec } from "../planning/cluster";
import { planUpgrade } from "../planning/plan";
import type { UpgradePlan } from "../planning/plan-types";
import type { ReleaseCatalogue } from "../planning/releases";
import { renderText } from "../planning/render";
import type { KubeVersion } from "../planning/versions";
import { NodeUpgrade } from "./node-upgrade";

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
    const text = renderText(plan);
    this.planText = pulumi.output(text);
    this.hops = pulumi.output(plan.hops.map((h) => h.to.toString()));
    const stepsOf = new Map<string, typeof plan.steps[number][]>();
    for (const step of plan.steps) for (const node of step.nodes) stepsOf.set(node, [...(stepsOf.get(node) ?? []), step]);
    this.nodes = [...plan.initialState].map(
      (node) => new NodeUpgrade(`${name}-${node.name}`, { node, target: plan.target, steps: stepsOf.get(node.name) ?? [] }, { parent: this }),
    );
    if (pulumi.runtime.isDryRun()) pulumi.log.info(text, this);
    this.registerOutputs({ planText: this.planText, hops: this.hops });
  }
}
