/**
 * BlueGreenNodePool: one blue-green worker pool of this stack's EC2 instances. It keeps the
 * pool's instance profile and exactly one color (PoolColor): the color the pool serves with,
 * or, while the pool is replaced, the new (green) color. The old (blue) color is then no
 * longer in the program, so Pulumi terminates its instances at the end of an update in which
 * nothing failed, after the old nodes were cordoned, drained, soaked and deleted from the
 * cluster (planning/replacement-commands.ts, created by ClusterUpgrade under this component).
 *
 * Rollback: setting the pool's targetVersion back to its version drops the green color and
 * the replacement's commands from the program; Pulumi runs their delete hooks in reverse
 * dependency order: blue nodes are uncordoned, green nodes drained and deleted from the
 * cluster, then the green instances terminated. Blue is never touched by a rollback.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AwsPoolSettings } from "../config/blue-green-config";
import { colorTag } from "../planning/blue-green";
import type { DrainOptions } from "../planning/commands";
import type { KubeVersion } from "../planning/versions";
import { PoolColor } from "./pool-color";
import { PoolInstanceProfile } from "./pool-instance-profile";
import type { Connection } from "./ssh-connection";

export interface BlueGreenNodePoolArgs {
  /** The cluster's name (tags). */
  readonly cluster: string;
  /** The pool's name (config pools[i].name). */
  readonly pool: string;
  /** The color kept: its version (the nodes' exact kubelet/kubeadm/kubectl version) and node names. */
  readonly version: KubeVersion;
  readonly nodes: readonly string[];
  /** Instances' AMI, type, subnets, security groups, root volume, role policies (pools[i].aws). */
  readonly aws: AwsPoolSettings;
  /** SSH connection to the control-plane node that creates join tokens and runs kubectl (secret). */
  readonly kubectlConnection: pulumi.Input<Connection>;
  /** Bound on waiting for a new node to be Ready at `version`, seconds. */
  readonly readyTimeoutSeconds: number;
  /** How a node of this pool is drained before it is deleted (also on rollback). */
  readonly drain: DrainOptions;
  /** What must finish before the color's join token is created (the plan's previous steps). */
  readonly after?: pulumi.Resource[];
}

/** Type token `cluster-maintenance:pool:BlueGreenNodePool`; children `${name}-profile`, `${name}-${colorTag}`. */
export class BlueGreenNodePool extends pulumi.ComponentResource {
  readonly profile: PoolInstanceProfile;
  readonly color: PoolColor;

  constructor(name: string, args: BlueGreenNodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cluster-maintenance:pool:BlueGreenNodePool", name, {}, opts);
    this.profile = new PoolInstanceProfile(`${name}-profile`, { cluster: args.cluster, pool: args.pool, policyArns: args.aws.policyArns }, { parent: this });
    this.color = new PoolColor(
      `${name}-${colorTag(args.version)}`,
      {
        cluster: args.cluster, pool: args.pool, version: args.version, nodes: args.nodes, aws: args.aws,
        instanceProfileName: this.profile.name, kubectlConnection: args.kubectlConnection,
        readyTimeoutSeconds: args.readyTimeoutSeconds, drain: args.drain, ...(args.after ? { after: args.after } : {}),
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
