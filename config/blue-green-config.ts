/**
 * Stack config of a blue-green pool (pools[i] with `strategy: blue-green`): the version its
 * nodes run, its own target, size, batches, soaks, capacity and the AWS settings of its
 * instances. Every value that reaches AWS or a node script is checked against a strict pattern.
 * See README.md, "Blue-green pools" and "Choosing a strategy".
 */
import { BLUE_GREEN_POOL_NAME_MAX } from "../planning/blue-green";
import type { KubeVersion } from "../planning/versions";
import { FieldReader, RawObject } from "./fields";

/** The AWS settings of a blue-green pool's instances (pools[i].aws). */
export interface AwsPoolSettings {
  /** AMI id (a Debian or Ubuntu image with apt, systemd and cloud-init). */
  readonly ami: string;
  /** EC2 instance type, e.g. `m6i.large`. */
  readonly instanceType: string;
  /** Subnets; instances are spread over them round-robin. */
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  /** Root volume size, GiB. @default 50 */
  readonly rootVolumeGiB: number;
  /** The AMI's root device name. @default "/dev/xvda" */
  readonly rootDeviceName: string;
  /** Managed IAM policies for the nodes' role (e.g. ECR read-only). @default [] (no permissions) */
  readonly policyArns: readonly string[];
}

export interface BlueGreenPoolConfig {
  /** The version the pool's nodes run now, an exact patch (a minor is refused); absent when the pool lists (adopts) its nodes. */
  readonly version?: KubeVersion;
  /** The version the pool should end at. @default the cluster's targetVersion */
  readonly targetVersion?: KubeVersion;
  /** Instances of a color. @default the number of adopted nodes */
  readonly size: number;
  /** The pool's nodes are listed in config (adopted, not this stack's instances). */
  readonly adopted: boolean;
  /** Old nodes drained at once. @default 1 */
  readonly batchSize: number;
  /** Seconds to wait after each drained batch but the last. @default 0 */
  readonly batchSoakSeconds: number;
  /** Seconds green is watched after the last drain, before blue is deleted. @default 600 */
  readonly soakSeconds: number;
  /** Instances the pool may run at once, blue and green together. @default unchecked */
  readonly instanceQuota?: number;
  /** USD per instance-hour, for the plan's cost of the double capacity. @default hours only */
  readonly hourlyCostUsd?: number;
  readonly aws: AwsPoolSettings;
}

/** Keys a blue-green pool accepts (beyond those of every pool). */
export const BLUE_GREEN_KEYS = ["version", "targetVersion", "size", "batchSize", "batchSoakSeconds", "soakSeconds", "aws"] as const;

const AMI = /^ami-[0-9a-f]{8,17}$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]{0,15}\.[a-z0-9]{1,16}$/;
const SUBNET = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP = /^sg-[0-9a-f]{8,17}$/;
const DEVICE = /^\/dev\/(xvd|sd)[a-z][0-9]{0,2}$/;
const POLICY_ARN = /^arn:aws[a-z-]{0,12}:iam::(aws|[0-9]{12}):policy\/[A-Za-z0-9+=,.@_/-]{1,128}$/;
const AWS_EXAMPLE = '{ ami: "ami-0123456789abcdef0", instanceType: "m6i.large", subnetIds: ["subnet-0123456789abcdef0"], securityGroupIds: ["sg-0123456789abcdef0"] }';

function ids(r: FieldReader, value: unknown, key: string, pattern: RegExp, what: string, example: string): string[] {
  const list = r.array(value, key, example) ?? [];
  if (Array.isArray(value) && list.length === 0) r.problems.add(key, value, "is empty", `list at least one, e.g. ${example}`);
  return list.flatMap((v, i) => r.string(v, `${key}[${i}]`, pattern, what) ?? []);
}

function parseAws(r: FieldReader, value: unknown, key: string): AwsPoolSettings | undefined {
  if (value === undefined) {
    r.problems.add(key, value, "is required for a blue-green pool", `give the instances' settings, e.g. ${AWS_EXAMPLE}`);
    return undefined;
  }
  const a = r.object(value, key, AWS_EXAMPLE);
  if (!a) return undefined;
  r.noUnknownKeys(a, key, ["ami", "instanceType", "subnetIds", "securityGroupIds", "rootVolumeGiB", "rootDeviceName", "policyArns", "instanceQuota", "hourlyCostUsd"]);
  const ami = r.string(a.ami, `${key}.ami`, AMI, 'an AMI id such as "ami-0123456789abcdef0"');
  const instanceType = r.string(a.instanceType, `${key}.instanceType`, INSTANCE_TYPE, 'an EC2 instance type such as "m6i.large"');
  const subnetIds = ids(r, a.subnetIds, `${key}.subnetIds`, SUBNET, 'a subnet id such as "subnet-0123456789abcdef0"', '["subnet-0123456789abcdef0"]');
  const securityGroupIds = ids(r, a.securityGroupIds, `${key}.securityGroupIds`, SECURITY_GROUP, 'a security group id such as "sg-0123456789abcdef0"', '["sg-0123456789abcdef0"]');
  const rootVolumeGiB = r.integer(a.rootVolumeGiB, `${key}.rootVolumeGiB`, 8, 16384, 50);
  const rootDeviceName = r.string(a.rootDeviceName ?? "/dev/xvda", `${key}.rootDeviceName`, DEVICE, 'the AMI\'s root device name, e.g. "/dev/xvda" (Debian) or "/dev/sda1" (Ubuntu)');
  const policyArns = a.policyArns === undefined ? [] : ids(r, a.policyArns, `${key}.policyArns`, POLICY_ARN, "a managed IAM policy ARN", '["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"]');
  if (!ami || !instanceType || rootVolumeGiB === undefined || !rootDeviceName) return undefined;
  return { ami, instanceType, subnetIds, securityGroupIds, rootVolumeGiB, rootDeviceName, policyArns };
}

/**
 * Reads the blue-green keys of pools[i] (`p`, at `key`).
 * @param adoptedNodes how many nodes the pool lists (0: the pool is this stack's instances).
 * @param version resolves a version spec against the release catalogue, recording problems
 *   (targetVersion: a minor means its latest patch).
 * @param currentVersion the same for the version the pool runs now: an exact patch only.
 * @returns undefined when a problem was recorded.
 */
export function parseBlueGreen(
  r: FieldReader,
  p: RawObject,
  key: string,
  name: string | undefined,
  adoptedNodes: number,
  version: (value: unknown, key: string) => KubeVersion | undefined,
  currentVersion: (value: unknown, key: string) => KubeVersion | undefined,
): BlueGreenPoolConfig | undefined {
  if (name && name.length > BLUE_GREEN_POOL_NAME_MAX) {
    r.problems.add(`${key}.name`, name, `is longer than ${BLUE_GREEN_POOL_NAME_MAX} characters`, "shorten it: node names are <pool>-v1-NN-N-<i> and must stay a DNS label");
  }
  if (p.maxUnavailable !== undefined) r.problems.add(`${key}.maxUnavailable`, p.maxUnavailable, "does not apply to a blue-green pool", "remove it; use batchSize (old nodes drained at once)");
  if (p.osPatchRevision !== undefined) r.problems.add(`${key}.osPatchRevision`, p.osPatchRevision, "does not apply to a blue-green pool", "remove it; a blue-green pool is patched by replacing it (a new AMI with the next version)");
  const adopted = adoptedNodes > 0;
  let current: KubeVersion | undefined;
  if (p.version !== undefined) current = currentVersion(p.version, `${key}.version`);
  else if (!adopted) r.problems.add(`${key}.version`, undefined, "is required for a blue-green pool without listed nodes", 'give the version its nodes run now, e.g. version: "1.36.4"');
  const target = p.targetVersion === undefined ? undefined : version(p.targetVersion, `${key}.targetVersion`);
  if (current && target && target.isBefore(current)) {
    r.problems.add(`${key}.targetVersion`, p.targetVersion, `is older than the pool's version ${current}`, `give ${current} (hold the pool) or newer`);
  }
  const size = p.size === undefined && adopted ? adoptedNodes : r.integer(p.size, `${key}.size`, 1, 1000, 0);
  if (size === 0) r.problems.add(`${key}.size`, p.size, "is required for a blue-green pool without listed nodes", "give the number of instances, e.g. size: 3");
  if (adopted && size !== undefined && size !== adoptedNodes) {
    r.problems.add(`${key}.size`, p.size, `differs from the ${adoptedNodes} listed node(s)`, "replace the listed nodes one for one; change size once the pool is this stack's instances");
  }
  const batchSize = r.integer(p.batchSize, `${key}.batchSize`, 1, 1000, 1);
  const batchSoakSeconds = r.integer(p.batchSoakSeconds, `${key}.batchSoakSeconds`, 0, 86400, 0);
  const soakSeconds = r.integer(p.soakSeconds, `${key}.soakSeconds`, 0, 604800, 600);
  const a = typeof p.aws === "object" && p.aws !== null ? (p.aws as RawObject) : {};
  const instanceQuota = a.instanceQuota === undefined ? undefined : r.integer(a.instanceQuota, `${key}.aws.instanceQuota`, 1, 100000, 1);
  let hourlyCostUsd: number | undefined;
  if (a.hourlyCostUsd !== undefined) {
    if (typeof a.hourlyCostUsd === "number" && a.hourlyCostUsd >= 0 && a.hourlyCostUsd < 1000) hourlyCostUsd = a.hourlyCostUsd;
    else r.problems.add(`${key}.aws.hourlyCostUsd`, a.hourlyCostUsd, "is not a price in USD", "give the on-demand price of one instance-hour, e.g. 0.096");
  }
  const aws = parseAws(r, p.aws, `${key}.aws`);
  if (!aws || !size || batchSize === undefined || batchSoakSeconds === undefined || soakSeconds === undefined || (!current && !adopted)) return undefined;
  return {
    ...(current ? { version: current } : {}), size, adopted, batchSize, batchSoakSeconds, soakSeconds, aws,
    ...(target ? { targetVersion: target } : {}),
    ...(instanceQuota !== undefined ? { instanceQuota } : {}),
    ...(hourlyCostUsd !== undefined ? { hourlyCostUsd } : {}),
  };
}
