/**
 * PoolColor: one "color" of a blue-green pool, the EC2 instances of one Kubernetes version and
 * their registration in the cluster. Color tag `v1-37-1` for 1.37.1, node names
 * `<pool>-<tag>-<i>` (i = 1..size), each the instance's `Name` tag and its Kubernetes node name.
 *
 * Children (names derive from the component's name N; `a-b` is a batch of launches, nodes a..b,
 * 1-based, {@link JOIN_BATCH_NODES} per batch, planning/blue-green.ts joinBatches):
 * 1. `${N}-join-${a}-${b}` (remote.Command on the kubectl node) per batch of launches:
 *    join-command.sh creates a bootstrap token valid {@link joinTokenTtlMinutes} minutes with the
 *    description "cluster-maintenance pool <pool> v<version> nodes a-b" and prints the join
 *    command. Its stdout is a secret output and nothing is logged; the token never appears in a
 *    command line. Batch 1 waits for `after`; batch k+1 for the readiness gates of batch k, so a
 *    token's validity starts when its nodes launch. Growing a pool changes its last batch's range:
 *    a new token command, so a node launched later never gets an expired token.
 *    See: https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-token/
 * 2. `${N}-template` (aws.ec2.LaunchTemplate): AMI, type, instance profile, security groups,
 *    IMDSv2 only with a hop limit of 1 (pods cannot reach the node's credentials through an
 *    extra network hop) and instance tags in the metadata (the user data reads its node name
 *    from the `Name` tag), an encrypted gp3 root volume, tags. No user data: each instance has
 *    its batch's.
 *    See: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
 * 3. `${N}-${node}` (aws.ec2.Instance) per node, subnets round-robin, `userDataBase64` (a Pulumi
 *    secret: it holds its batch's token) from components/user-data.ts, joining at exactly this
 *    version. Changes of `launchTemplate`, `subnetId` (it forces a replacement) and
 *    `userDataBase64` (a new token when the pool grows) are ignored: a serving node is never
 *    replaced without a drain; a new template or subnet list applies to new instances.
 * 4. `${N}-${node}-registered` (remote.Command on the kubectl node) per node, after its instance:
 *    no `create` (nothing runs, not even an SSH dial: pulumi-command v1.2.1 remote
 *    commandController.go `Command.Create` returns at once, `Command.Update` runs nothing without
 *    `update` or `create`); `delete` drains the node and deletes its Node object
 *    (pool-node.sh remove) before Pulumi terminates the instance (a dependency, so deleted
 *    after it). It exists before the node's readiness gate runs, so a removed color's nodes are
 *    drained and deleted from the cluster whatever their gate did: a failed create is not
 *    recorded in the state, so a `delete` on the gate itself would never run after a failed gate.
 *    Removals are chained: node i's (0-based) depends on node (i - batchSize)'s. Pulumi deletes
 *    what leaves the program in antichains of the dependency graph, all of one antichain in
 *    parallel (pulumi pkg/resource/deploy/step_generator.go, ScheduleDeletes); the chain makes
 *    every antichain hold at most `batchSize` removals, so a rollback or a dropped color never
 *    drains more than the pool's batchSize nodes at once. Their inputs are not ignored: a new
 *    connection or drain setting updates them (nothing runs) so `delete` uses it.
 * 5. `${N}-${node}-joined` (remote.Command on the kubectl node) per node, after its
 *    `-registered`: create waits until the node is registered, Ready, at this version
 *    (pool-node.sh wait-joined); no delete. What later steps depend on.
 * 6. `${N}-revoke-${a}-${b}` per batch, after the batch's gates: join-command.sh revoke deletes
 *    the batch's token (by its description), so it does not live on after its nodes joined.
 * The commands that only run once (join, gates, revoke) ignore changes of their inputs: a
 * finished step stays finished (a new ready timeout, SSH key or script never re-runs it, e.g. a
 * gate of a blue node already deleted from the cluster).
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { AwsPoolSettings } from "../config/blue-green-config";
import { colorTag, JOIN_BATCH_NODES, joinBatches, joinTokenTtlMinutes } from "../planning/blue-green";
import { commandLine, DrainOptions } from "../planning/commands";
import type { KubeVersion } from "../planning/versions";
import { FINISHED_COMMAND_IGNORES } from "./command-intent";
import { scriptText } from "./node-scripts";
import type { Connection } from "./ssh-connection";
import { parseJoinCommand, renderUserData } from "./user-data";

export type { AwsPoolSettings } from "../config/blue-green-config";
export { colorNodeNames, colorTag, JOIN_BATCH_NODES, joinBatches, joinTokenTtlMinutes } from "../planning/blue-green";

export interface PoolColorArgs {
  /** The cluster's name, a DNS label (tags `cluster-maintenance.io/cluster`, `kubernetes.io/cluster/<cluster>`). */
  readonly cluster: string;
  /** The pool's name, a DNS label of at most 40 characters. */
  readonly pool: string;
  /** The exact version the nodes install (kubelet, kubeadm, kubectl) and must report. */
  readonly version: KubeVersion;
  /** The color's node names, in order, usually `colorNodeNames(pool, version, size)`; at least one. */
  readonly nodes: readonly string[];
  /** AMI, instance type, subnets, security groups, root volume (pools[i].aws). */
  readonly aws: AwsPoolSettings;
  /** Name of the instance profile the instances run with (PoolInstanceProfile.name). */
  readonly instanceProfileName: pulumi.Input<string>;
  /** SSH connection to the control-plane node that creates join tokens and runs kubectl (secret). */
  readonly kubectlConnection: pulumi.Input<Connection>;
  /** Bound on waiting for each node to be Ready at `version`, seconds (1..86400). */
  readonly readyTimeoutSeconds: number;
  /** How a node of this color is drained when the color is removed (rollback, or blue dropped). */
  readonly drain: DrainOptions;
  /** Nodes drained at once when the color is removed: the pool's batchSize (1..1000). */
  readonly batchSize: number;
  /** What must finish before the join token is created (the plan's previous steps). @default nothing */
  readonly after?: pulumi.Resource[];
}

/**
 * Inputs of a command that runs once (join token, readiness gate, revoke) whose changes are
 * ignored, so a finished command is never run again by an update (components/command-intent.ts).
 * Every input but `delete`: these commands have none, and a gate registered by an older version
 * of this program with a `delete` hook loses it (one update, re-running its wait on a Ready node).
 */
export const RUN_ONCE_IGNORED = FINISHED_COMMAND_IGNORES.filter((input) => input !== "delete");
/** EC2's bound on user data before base64 encoding, bytes. See: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html */
export const USER_DATA_MAX_BYTES = 16384;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * Checks what the constructor relies on (the config layer checks AWS ids in detail).
 * @throws Error naming every problem at once.
 */
export function validatePoolColorArgs(name: string, args: PoolColorArgs): void {
  const problems: string[] = [];
  const bad = (arg: string, value: unknown, expected: string) => problems.push(`${arg} ${JSON.stringify(value)} is not ${expected}`);
  if (typeof args.cluster !== "string" || !DNS_LABEL.test(args.cluster)) bad("cluster", args.cluster, "a DNS label");
  if (typeof args.pool !== "string" || !DNS_LABEL.test(args.pool) || args.pool.length > 40) bad("pool", args.pool, "a DNS label of at most 40 characters");
  if (!Array.isArray(args.nodes) || args.nodes.length === 0) bad("nodes", args.nodes, "a non-empty list of node names");
  else {
    for (const n of args.nodes) if (typeof n !== "string" || !NODE_NAME.test(n)) bad("node", n, "a node name (lowercase letters, digits, '-', '.')");
    if (new Set(args.nodes).size !== args.nodes.length) bad("nodes", args.nodes, "a list without duplicates");
  }
  const a = args.aws;
  if (!a || !Array.isArray(a.subnetIds) || a.subnetIds.length === 0) bad("aws.subnetIds", a?.subnetIds, "a non-empty list of subnet ids");
  if (!a || !Array.isArray(a.securityGroupIds) || a.securityGroupIds.length === 0) bad("aws.securityGroupIds", a?.securityGroupIds, "a non-empty list of security group ids");
  if (!a || !Number.isInteger(a.rootVolumeGiB) || a.rootVolumeGiB < 8 || a.rootVolumeGiB > 16384) bad("aws.rootVolumeGiB", a?.rootVolumeGiB, "a whole number of GiB from 8 to 16384");
  if (!a || typeof a.rootDeviceName !== "string" || !/^\/dev\/[a-z0-9]+$/.test(a.rootDeviceName)) bad("aws.rootDeviceName", a?.rootDeviceName, 'a device name such as "/dev/xvda"');
  if (!Number.isInteger(args.readyTimeoutSeconds) || args.readyTimeoutSeconds < 1 || args.readyTimeoutSeconds > 86400) {
    bad("readyTimeoutSeconds", args.readyTimeoutSeconds, "a whole number of seconds from 1 to 86400");
  }
  if (!args.drain || !Number.isInteger(args.drain.timeoutSeconds) || args.drain.timeoutSeconds < 1) bad("drain.timeoutSeconds", args.drain?.timeoutSeconds, "a whole number of seconds of at least 1");
  if (!Number.isInteger(args.batchSize) || args.batchSize < 1 || args.batchSize > 1000) bad("batchSize", args.batchSize, "a whole number of nodes from 1 to 1000");
  if (problems.length > 0) throw new Error(`PoolColor ${JSON.stringify(name)}: invalid args: ${problems.join("; ")}`);
}

/**
 * The tags of everything in the color: cluster, pool, version and the Kubernetes cluster
 * ownership tag (`kubernetes.io/cluster/<cluster>: owned`, what the AWS cloud provider looks for).
 */
export function colorTags(cluster: string, pool: string, version: KubeVersion): Record<string, string> {
  return {
    "cluster-maintenance.io/cluster": cluster,
    "cluster-maintenance.io/pool": pool,
    "cluster-maintenance.io/version": version.toString(),
    [`kubernetes.io/cluster/${cluster}`]: "owned",
  };
}

/** The subnet of the i-th node (0-based): round-robin over `subnetIds`. */
export function subnetFor(subnetIds: readonly string[], i: number): string {
  return subnetIds[i % subnetIds.length]!;
}

/**
 * An instance's user data: base64 of {@link renderUserData} for the join command
 * join-command.sh printed.
 * @throws Error (never containing the token or hash) when `stdout` is not a join command or the
 *   user data exceeds {@link USER_DATA_MAX_BYTES}.
 */
export function userDataBase64(version: KubeVersion, stdout: string): string {
  const text = renderUserData({ version, join: parseJoinCommand(stdout) });
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > USER_DATA_MAX_BYTES) throw new Error(`the user data is ${bytes} bytes, more than EC2's ${USER_DATA_MAX_BYTES}`);
  return Buffer.from(text, "utf8").toString("base64");
}

/** The arguments of `pool-node.sh remove` for `node` with drain options `d`. */
export function removeArgs(node: string, d: DrainOptions): string[] {
  return ["remove", node, String(d.timeoutSeconds), String(d.deleteEmptyDirData), String(d.deleteUnmanagedPods), String(d.disableEviction)];
}

/**
 * Type token `cluster-maintenance:pool:PoolColor`; children `${name}-join-${a}-${b}` and
 * `${name}-revoke-${a}-${b}` per batch of launches, `${name}-template`, and per node `${name}-${node}`,
 * `${name}-${node}-registered`, `${name}-${node}-joined` (see the module's comment).
 */
export class PoolColor extends pulumi.ComponentResource {
  /** Per batch of launches, in order: the command that created its join token (stdout: the join command, a secret). */
  readonly joinCommands: command.remote.Command[];
  /** Per batch of launches, in order: the command that deleted its token once its nodes were Ready. */
  readonly revokeCommands: command.remote.Command[];
  readonly launchTemplate: aws.ec2.LaunchTemplate;
  /** The instances, in node order. */
  readonly instances: aws.ec2.Instance[];
  /** Per node, in node order: the command whose delete drains the node and deletes its Node object. */
  readonly registered: command.remote.Command[];
  /** Per node, in node order: the command that completes once the node is Ready at the version (what later steps depend on). */
  readonly joined: command.remote.Command[];

  /** @throws Error (before anything is registered) naming every invalid arg. */
  constructor(name: string, args: PoolColorArgs, opts?: pulumi.ComponentResourceOptions) {
    validatePoolColorArgs(name, args);
    super("cluster-maintenance:pool:PoolColor", name, {}, opts);
    const version = args.version.toString();
    const tags = colorTags(args.cluster, args.pool, args.version);
    const a = args.aws;
    const onKubectlNode = (script: "join-command.sh" | "pool-node.sh") => ({
      connection: args.kubectlConnection,
      stdin: scriptText(script),
      addPreviousOutputInEnv: false,
    });

    this.launchTemplate = new aws.ec2.LaunchTemplate(`${name}-template`, {
      description: `cluster-maintenance: cluster ${args.cluster}, pool ${args.pool}, Kubernetes ${version}`,
      imageId: a.ami,
      instanceType: a.instanceType,
      iamInstanceProfile: { name: args.instanceProfileName },
      vpcSecurityGroupIds: [...a.securityGroupIds],
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "enabled" },
      blockDeviceMappings: [{
        deviceName: a.rootDeviceName,
        ebs: { volumeType: "gp3", volumeSize: a.rootVolumeGiB, encrypted: "true", deleteOnTermination: "true" },
      }],
      tagSpecifications: [
        { resourceType: "instance", tags },
        { resourceType: "volume", tags },
      ],
      tags: { Name: `${args.pool}-${colorTag(args.version)}`, ...tags },
    }, { parent: this });

    this.joinCommands = [];
    this.revokeCommands = [];
    this.instances = [];
    this.registered = [];
    this.joined = [];
    let previousGates: pulumi.Resource[] = args.after ?? [];
    for (const batch of joinBatches(args.nodes, JOIN_BATCH_NODES)) {
      const ttl = joinTokenTtlMinutes(batch.nodes.length, args.readyTimeoutSeconds);
      const join = new command.remote.Command(`${name}-join-${batch.range}`, {
        ...onKubectlNode("join-command.sh"),
        create: commandLine("join-command.sh", [String(ttl), args.pool, version, batch.range]),
        logging: "none",
      }, { parent: this, additionalSecretOutputs: ["stdout"], ignoreChanges: RUN_ONCE_IGNORED, ...(previousGates.length > 0 ? { dependsOn: previousGates } : {}) });
      this.joinCommands.push(join);
      // Secret: it holds the bootstrap token (stdout is a secret output only once the engine applies additionalSecretOutputs).
      const userData = pulumi.secret(join.stdout.apply((stdout) => userDataBase64(args.version, stdout)));
      const gates = batch.nodes.map((node, j) => {
        const i = batch.first - 1 + j;
        const instance = new aws.ec2.Instance(`${name}-${node}`, {
          launchTemplate: { id: this.launchTemplate.id, version: pulumi.interpolate`${this.launchTemplate.latestVersion}` },
          subnetId: subnetFor(a.subnetIds, i),
          userDataBase64: userData,
          // A superset of the template's instance tags, so the provider sees no drift in them.
          tags: { ...tags, Name: node },
        }, { parent: this, ignoreChanges: ["launchTemplate", "subnetId", "userDataBase64"] });
        const earlier = i >= args.batchSize ? [this.registered[i - args.batchSize]!] : [];
        const registered = new command.remote.Command(`${name}-${node}-registered`, {
          ...onKubectlNode("pool-node.sh"),
          delete: commandLine("pool-node.sh", removeArgs(node, args.drain)),
          logging: "stdoutAndStderr",
        }, { parent: this, dependsOn: [instance, ...earlier] });
        const gate = new command.remote.Command(`${name}-${node}-joined`, {
          ...onKubectlNode("pool-node.sh"),
          create: commandLine("pool-node.sh", ["wait-joined", node, version, String(args.readyTimeoutSeconds)]),
          logging: "stdoutAndStderr",
        }, { parent: this, dependsOn: [registered], ignoreChanges: RUN_ONCE_IGNORED });
        this.instances.push(instance);
        this.registered.push(registered);
        this.joined.push(gate);
        return gate;
      });
      this.revokeCommands.push(new command.remote.Command(`${name}-revoke-${batch.range}`, {
        ...onKubectlNode("join-command.sh"),
        create: commandLine("join-command.sh", ["revoke", args.pool, version, batch.range]),
        logging: "stdoutAndStderr",
      }, { parent: this, dependsOn: gates, ignoreChanges: RUN_ONCE_IGNORED }));
      previousGates = gates;
    }

    this.registerOutputs({});
  }
}
