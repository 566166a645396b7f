/**
 * PoolColor: one "color" of a blue-green pool, the EC2 instances of one Kubernetes version and
 * their registration in the cluster. Color tag `v1-37-1` for 1.37.1, node names
 * `<pool>-<tag>-<i>` (i = 1..size), each the instance's `Name` tag and its Kubernetes node name.
 *
 * Children, in dependency order (names derive from the component's name N):
 * 1. `${N}-join` (remote.Command on the kubectl node): join-command.sh creates a bootstrap token
 *    valid 30 minutes and prints the join command. Its stdout is a secret output and nothing
 *    is logged; the token never appears in a command line.
 *    See: https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-token/
 * 2. `${N}-template` (aws.ec2.LaunchTemplate): AMI, type, instance profile, security groups,
 *    IMDSv2 only with a hop limit of 1 (pods cannot reach the node's credentials through an
 *    extra network hop) and instance tags in the metadata (the user data reads its node name
 *    from the `Name` tag), an encrypted gp3 root volume, tags; user data (a Pulumi secret: it
 *    holds the token) from components/user-data.ts, joining at exactly this version.
 *    See: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
 * 3. `${N}-${node}` (aws.ec2.Instance) per node, subnets round-robin. `launchTemplate` changes
 *    are ignored: a new template version applies to the next color, it never replaces a
 *    serving node without a drain.
 * 4. `${N}-${node}-joined` (remote.Command on the kubectl node) per node: create waits until the
 *    node is registered, Ready, at this version (pool-node.sh wait-joined); delete drains the
 *    node and deletes its Node object (pool-node.sh remove), before Pulumi terminates its
 *    instance (the instance is a dependency, so it is deleted after this command).
 */
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { AwsPoolSettings } from "../config/blue-green-config";
import { colorTag } from "../planning/blue-green";
import { commandLine, DrainOptions } from "../planning/commands";
import type { KubeVersion } from "../planning/versions";
import { scriptText } from "./node-scripts";
import type { Connection } from "./ssh-connection";
import { parseJoinCommand, renderUserData } from "./user-data";

export type { AwsPoolSettings } from "../config/blue-green-config";
export { colorNodeNames, colorTag } from "../planning/blue-green";

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
  /** How a node of this color is drained when the color is removed (rollback). */
  readonly drain: DrainOptions;
  /** What must finish before the join token is created (the plan's previous steps). @default nothing */
  readonly after?: pulumi.Resource[];
}

/** Validity of a bootstrap token created for a color, minutes: instances boot and join well within it. */
export const JOIN_TOKEN_TTL_MINUTES = 30;
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
 * The launch template's user data: base64 of {@link renderUserData} for the join command
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
 * Type token `cluster-maintenance:pool:PoolColor`; children `${name}-join`, `${name}-template`,
 * `${name}-${node}` and `${name}-${node}-joined` per node.
 */
export class PoolColor extends pulumi.ComponentResource {
  /** The command that created the join token (stdout: the join command, a secret). */
  readonly joinCommand: command.remote.Command;
  readonly launchTemplate: aws.ec2.LaunchTemplate;
  /** The instances, in node order. */
  readonly instances: aws.ec2.Instance[];
  /** Per node, in node order: the command that completes once the node is Ready at the version (what later steps depend on). */
  readonly joined: command.remote.Command[];

  /** @throws Error (before anything is registered) naming every invalid arg. */
  constructor(name: string, args: PoolColorArgs, opts?: pulumi.ComponentResourceOptions) {
    validatePoolColorArgs(name, args);
    super("cluster-maintenance:pool:PoolColor", name, {}, opts);
    const version = args.version.toString();
    const tags = colorTags(args.cluster, args.pool, args.version);
    const a = args.aws;

    this.joinCommand = new command.remote.Command(`${name}-join`, {
      connection: args.kubectlConnection,
      create: commandLine("join-command.sh", [String(JOIN_TOKEN_TTL_MINUTES), args.pool, version]),
      stdin: scriptText("join-command.sh"),
      logging: "none",
      addPreviousOutputInEnv: false,
    }, { parent: this, additionalSecretOutputs: ["stdout"], ...(args.after ? { dependsOn: args.after } : {}) });

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
      // Secret: it holds the bootstrap token (stdout is a secret output only once the engine applies additionalSecretOutputs).
      userData: pulumi.secret(this.joinCommand.stdout.apply((stdout) => userDataBase64(args.version, stdout))),
    }, { parent: this });

    this.instances = args.nodes.map((node, i) => new aws.ec2.Instance(`${name}-${node}`, {
      launchTemplate: { id: this.launchTemplate.id, version: pulumi.interpolate`${this.launchTemplate.latestVersion}` },
      subnetId: subnetFor(a.subnetIds, i),
      // A superset of the template's instance tags, so the provider sees no drift in them.
      tags: { ...tags, Name: node },
    }, { parent: this, ignoreChanges: ["launchTemplate"] }));

    this.joined = args.nodes.map((node, i) => new command.remote.Command(`${name}-${node}-joined`, {
      connection: args.kubectlConnection,
      create: commandLine("pool-node.sh", ["wait-joined", node, version, String(args.readyTimeoutSeconds)]),
      delete: commandLine("pool-node.sh", removeArgs(node, args.drain)),
      stdin: scriptText("pool-node.sh"),
      logging: "stdoutAndStderr",
      addPreviousOutputInEnv: false,
    }, { parent: this, dependsOn: [this.instances[i]!] }));

    this.registerOutputs({});
  }
}
