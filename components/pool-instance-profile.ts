/**
 * PoolInstanceProfile: the IAM identity of a blue-green pool's EC2 instances. An IAM role that
 * only EC2 may assume, with no inline policy and no permissions of its own: each managed policy
 * in `policyArns` is attached with its own RolePolicyAttachment (none by default: a worker
 * needs no AWS permission to join and run pods). The instance profile carries the role to the
 * instances (launch template `iamInstanceProfile.name`).
 * See: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface PoolInstanceProfileArgs {
  /** The cluster's name (tags `cluster-maintenance.io/cluster`). */
  readonly cluster: string;
  /** The pool's name (tags `cluster-maintenance.io/pool`). */
  readonly pool: string;
  /**
   * ARNs of managed IAM policies for the role, e.g.
   * `arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly`; each at most once.
   * @default [] (the role grants nothing)
   * See: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html
   */
  readonly policyArns?: readonly string[];
}

/** `arn:<partition>:iam::<aws | account id>:policy/<path/>name`. */
const POLICY_ARN = /^arn:aws(-[a-z]+)*:iam::(aws|[0-9]{12}):policy\/([\w+=,.@-]+\/)*([\w+=,.@-]{1,128})$/;

/** The role's trust policy: EC2 (`ec2.amazonaws.com`) may assume it, nobody else. */
export function ec2TrustPolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
  });
}

/**
 * The child name of each policy's attachment: `${name}-<policy name>` (the last segment of the
 * ARN). Named by policy, not by position, so reordering `policyArns` changes nothing; a
 * replaced attachment of the same ARN would otherwise detach the policy after attaching it.
 * @throws Error (one, naming every problem) for an ARN that is not an IAM policy ARN, an ARN
 *   given twice or two ARNs with the same policy name.
 */
export function policyAttachmentNames(name: string, policyArns: readonly string[]): Map<string, string> {
  const problems: string[] = [];
  const names = new Map<string, string>();
  const taken = new Map<string, string>();
  for (const arn of policyArns) {
    const m = typeof arn === "string" ? POLICY_ARN.exec(arn) : null;
    if (!m) {
      problems.push(`${JSON.stringify(arn)} is not an IAM managed policy ARN such as arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly`);
      continue;
    }
    if (names.has(arn)) {
      problems.push(`${arn} is listed twice`);
      continue;
    }
    const child = `${name}-${m[4]}`;
    const other = taken.get(child);
    if (other !== undefined) problems.push(`${arn} and ${other} have the same policy name ${m[4]} (attach one of them outside this stack)`);
    taken.set(child, arn);
    names.set(arn, child);
  }
  if (problems.length > 0) throw new Error(`PoolInstanceProfile ${JSON.stringify(name)}: invalid policyArns: ${problems.join("; ")}`);
  return names;
}

/**
 * Type token `cluster-maintenance:pool:PoolInstanceProfile`; children `${name}-role`,
 * `${name}-<policy name>` per policy ARN (aws.iam.RolePolicyAttachment) and `${name}-instance-profile` (aws.iam.InstanceProfile).
 */
export class PoolInstanceProfile extends pulumi.ComponentResource {
  /** The instance profile's name (what a launch template's `iamInstanceProfile.name` takes). */
  readonly name: pulumi.Output<string>;
  /** The role's name and ARN (to attach more policies, e.g. the etcd backup upload policy). */
  readonly roleName: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;

  /** @throws Error (before anything is registered) for invalid `policyArns`. */
  constructor(name: string, args: PoolInstanceProfileArgs, opts?: pulumi.ComponentResourceOptions) {
    const attachments = policyAttachmentNames(name, args.policyArns ?? []);
    super("cluster-maintenance:pool:PoolInstanceProfile", name, {}, opts);
    const tags = { "cluster-maintenance.io/cluster": args.cluster, "cluster-maintenance.io/pool": args.pool };
    const role = new aws.iam.Role(`${name}-role`, {
      description: `cluster-maintenance: nodes of pool ${args.pool} of cluster ${args.cluster}`,
      assumeRolePolicy: ec2TrustPolicy(),
      tags,
    }, { parent: this });
    const attached = [...attachments].map(([policyArn, child]) => new aws.iam.RolePolicyAttachment(child, { role: role.name, policyArn }, { parent: this }));
    // After the attachments: an instance launched with the profile has its permissions from the start.
    const profile = new aws.iam.InstanceProfile(`${name}-instance-profile`, { role: role.name, tags }, { parent: this, dependsOn: attached });
    this.name = profile.name;
    this.roleName = role.name;
    this.roleArn = role.arn;
    this.registerOutputs({ name: this.name, roleName: this.roleName, roleArn: this.roleArn });
  }
}
