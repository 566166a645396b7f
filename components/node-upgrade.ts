/**
 * NodeUpgrade: one node of the cluster, with its current and target Kubernetes version and
 * the plan steps that change it. The remote commands that carry the steps out are added by
 * the node-maintenance work; until then this component records the plan for the node.
 */
import * as pulumi from "@pulumi/pulumi";
import type { NodeState } from "../planning/cluster";
import type { Step } from "../planning/plan-types";
import type { KubeVersion } from "../planning/versions";

export interface NodeUpgradeArgs {
  /** The node as it is before the upgrade (name, role, pool, every component's version). */
  readonly node: NodeState;
  /** The version every component of the node ends at. */
  readonly target: KubeVersion;
  /** The plan's steps that change this node, in plan order (may be empty). */
  readonly steps: readonly Step[];
}

/** Type token `cluster-maintenance:upgrade:NodeUpgrade`. */
export class NodeUpgrade extends pulumi.ComponentResource {
  /** Kubernetes node name. */
  readonly nodeName: pulumi.Output<string>;
  readonly role: pulumi.Output<string>;
  readonly pool: pulumi.Output<string>;
  /** The oldest component version on the node before the upgrade, e.g. `1.34.6`. */
  readonly currentVersion: pulumi.Output<string>;
  /** Every component's version before the upgrade, by component name. */
  readonly currentVersions: pulumi.Output<Record<string, string>>;
  readonly targetVersion: pulumi.Output<string>;
  /** Ids of the plan steps that change this node, in order. */
  readonly steps: pulumi.Output<string[]>;

  constructor(name: string, args: NodeUpgradeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cluster-maintenance:upgrade:NodeUpgrade", name, {}, opts);
    const versions = Object.entries(args.node.versions).filter((e): e is [string, KubeVersion] => e[1] !== undefined);
    const oldest = versions.map(([, v]) => v).reduce((a, b) => (b.isBefore(a) ? b : a));
    this.nodeName = pulumi.output(args.node.name);
    this.role = pulumi.output(args.node.role);
    this.pool = pulumi.output(args.node.pool);
    this.currentVersion = pulumi.output(oldest.toString());
    this.currentVersions = pulumi.output(Object.fromEntries(versions.map(([c, v]) => [c, v.toString()])));
    this.targetVersion = pulumi.output(args.target.toString());
    this.steps = pulumi.output(args.steps.map((s) => s.id));
    this.registerOutputs({
      nodeName: this.nodeName,
      role: this.role,
      pool: this.pool,
      currentVersion: this.currentVersion,
      currentVersions: this.currentVersions,
      targetVersion: this.targetVersion,
      steps: this.steps,
    });
  }
}
