/**
 * BlueGreenNodePool: one blue-green worker pool of this stack's EC2 instances. It keeps the
 * pool's instance profile and its colors (PoolColor):
 * - not being replaced: the color it serves with (the pool's config `version` and its nodes);
 * - being replaced: that color (blue), registered exactly as when it was the only one (same
 *   names, same inputs, so Pulumi changes nothing of it), and the new color (green), created
 *   after `after`. The replacement's commands (planning/replacement-commands.ts, created by
 *   ClusterUpgrade under this component) cordon, drain and soak blue and delete its Node objects.
 *
 * Blue's instances are terminated only by the first `pulumi up` after the operator sets the
 * pool's `version` to the new version: blue then leaves the program, and Pulumi deletes it at
 * the end of that update, its removal hooks first (pool-node.sh remove, at most `batchSize` at
 * once; a no-op for Nodes already deleted). So a failed gate or soak never terminates blue, even
 * under `pulumi up --continue-on-error` (which still runs the end-of-update deletes).
 *
 * Rollback: setting the pool's targetVersion back to its version drops the green color and
 * the replacement's commands from the program; Pulumi runs their delete hooks in reverse
 * dependency order: blue nodes are uncordoned, green nodes drained (at most `batchSize` at
 * once) and deleted from the cluster, then the green instances terminated. Blue is never
 * touched by a rollback.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AwsPoolSettings } from "../config/blue-green-config";
import { colorTag } from "../planning/blue-green";
import type { DrainOptions } from "../planning/commands";
import type { KubeVersion } from "../planning/versions";
import { PoolColor } from "./pool-color";
import { PoolInstanceProfile } from "./pool-instance-profile";
import type { Connection } from "./ssh-connection";

/** A color: its version (the nodes' exact kubelet/kubeadm/kubectl version) and node names, in order. */
export interface ColorSpec {
  readonly version: KubeVersion;
  readonly nodes: readonly string[];
}

export interface BlueGreenNodePoolArgs {
  /** The cluster's name (tags). */
  readonly cluster: string;
  /** The pool's name (config pools[i].name). */
  readonly pool: string;
  /** The color serving now (config `version`, its nodes); absent when the pool's nodes are adopted (not this stack's instances). */
  readonly serving?: ColorSpec;
  /** While the pool is replaced: the new color. */
  readonly replacement?: ColorSpec;
  /** Instances' AMI, type, subnets, security groups, root volume, role policies (pools[i].aws). */
  readonly aws: AwsPoolSettings;
  /** SSH connection to the control-plane node that creates join tokens and runs kubectl (secret). */
  readonly kubectlConnection: pulumi.Input<Connection>;
  /** Bound on waiting for a new node to be Ready at its version, seconds. */
  readonly readyTimeoutSeconds: number;
  /** How a node of this pool is drained before it is deleted (also on rollback). */
  readonly drain: DrainOptions;
  /** Nodes drained at once, also when a color is removed (pools[i].batchSize). */
  readonly batchSize: number;
  /** What must finish before the replacement's first join token is created (the plan's previous steps). */
  readonly after?: pulumi.Resource[];
}

/**
 * Type token `cluster-maintenance:pool:BlueGreenNodePool`; children `${name}-profile`,
 * `${name}-${colorTag(serving.version)}` and, while replaced, `${name}-${colorTag(replacement.version)}`.
 */
export class BlueGreenNodePool extends pulumi.ComponentResource {
  readonly profile: PoolInstanceProfile;
  /** The color serving now (blue while the pool is replaced); absent for adopted nodes. */
  readonly serving?: PoolColor;
  /** The new color (green) while the pool is replaced. */
  readonly replacement?: PoolColor;

  /** @throws Error (before anything is registered) when there is no color, or both colors are the same version. */
  constructor(name: string, args: BlueGreenNodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    if (!args.serving && !args.replacement) throw new Error(`BlueGreenNodePool ${JSON.stringify(name)}: neither a serving nor a replacement color`);
    if (args.serving && args.replacement && args.serving.version.compare(args.replacement.version) === 0) {
      throw new Error(`BlueGreenNodePool ${JSON.stringify(name)}: the replacement color is the serving one (${args.serving.version})`);
    }
    super("cluster-maintenance:pool:BlueGreenNodePool", name, {}, opts);
    this.profile = new PoolInstanceProfile(`${name}-profile`, { cluster: args.cluster, pool: args.pool, policyArns: args.aws.policyArns }, { parent: this });
    const color = (c: ColorSpec, after?: pulumi.Resource[]) => new PoolColor(
      `${name}-${colorTag(c.version)}`,
      {
        cluster: args.cluster, pool: args.pool, version: c.version, nodes: c.nodes, aws: args.aws,
        instanceProfileName: this.profile.name, kubectlConnection: args.kubectlConnection,
        readyTimeoutSeconds: args.readyTimeoutSeconds, drain: args.drain, batchSize: args.batchSize, ...(after ? { after } : {}),
      },
      { parent: this },
    );
    // Blue never gets `after`: its inputs and options stay those of the serving color.
    if (args.serving) this.serving = color(args.serving);
    if (args.replacement) this.replacement = color(args.replacement, args.after);
    this.registerOutputs({});
  }
}
