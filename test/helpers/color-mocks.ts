/**
 * Pulumi mocks for the pool component tests (test/pool-color*.test.ts): they record each
 * registration with its resource options (parent, dependsOn, additionalSecretOutputs,
 * ignoreChanges) and add the state a provider would compute: a join command's stdout, a launch
 * template's latestVersion, autonamed IAM names. Importing this module installs them.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { colorNodeNames, PoolColorArgs } from "../../components/pool-color";
import { KubeVersion } from "../../planning/versions";
import { watchRequests, type RegisterRequest } from "./pulumi-mocks";

export interface Rec {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly parent: string;
  readonly dependsOn: readonly string[];
  readonly secretOutputs: readonly string[];
  readonly ignoreChanges: readonly string[];
}

interface Request extends RegisterRequest {
  getAdditionalsecretoutputsList(): string[];
  getIgnorechangesList(): string[];
}

export const TOKEN = "k7x2qa.9f3b1c0d8e7a6b5c";
export const HASH = `sha256:${"3c".repeat(32)}`;
export const JOIN_LINE = `kubeadm join 10.0.0.10:6443 --token ${TOKEN} --discovery-token-ca-cert-hash ${HASH}\n`;
export { WRAPPER } from "../../planning/commands";

let current: Request | undefined;
watchRequests(MockMonitor, (req) => (current = req as Request));

/** Every registration so far (tests empty it with `registered.splice(0)`). */
export const registered: Rec[] = [];
/** What a join command's stdout is (tests may change it). */
export const joinOutput = { stdout: JOIN_LINE };
pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({
        type: args.type, name: args.name, inputs: args.inputs, parent: current?.getParent() ?? "",
        dependsOn: current?.getDependenciesList() ?? [], secretOutputs: current?.getAdditionalsecretoutputsList() ?? [],
        ignoreChanges: current?.getIgnorechangesList() ?? [],
      });
      const extra: Record<string, unknown> = {};
      const create = String(args.inputs.create ?? "");
      if (args.type === "command:remote:Command" && create.includes("join-command.sh") && !create.includes("'revoke'")) extra.stdout = joinOutput.stdout;
      if (args.type === "aws:ec2/launchTemplate:LaunchTemplate") extra.latestVersion = 3;
      if (args.type === "aws:iam/role:Role" || args.type === "aws:iam/instanceProfile:InstanceProfile") extra.name = `${args.name}-0a1b2c3`;
      if (args.type === "aws:iam/role:Role") extra.arn = `arn:aws:iam::123456789012:role/${args.name}-0a1b2c3`;
      return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
    },
    call: (args) => {
      throw new Error(`unexpected provider call ${args.token}`);
    },
  },
  "cluster-maintenance",
  "test",
  false,
);

export const V = KubeVersion.of(1, 37, 1);
export const ECR = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";
export const CONNECTION = { host: "10.0.0.10", user: "admin", privateKey: "not-a-key" };
export const DRAIN = { timeoutSeconds: 600, deleteEmptyDirData: true, deleteUnmanagedPods: false, disableEviction: false };

/** A 3-node color of pool `batch` at 1.37.1, batchSize 1, with `over` applied. */
export function colorArgs(over: Partial<PoolColorArgs> = {}): PoolColorArgs {
  return {
    cluster: "prod", pool: "batch", version: V, nodes: colorNodeNames("batch", V, 3),
    aws: {
      ami: "ami-0123456789abcdef0", instanceType: "m6i.large", subnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
      securityGroupIds: ["sg-0ccccccccccccccc3", "sg-0ddddddddddddddd4"], rootVolumeGiB: 80, rootDeviceName: "/dev/xvda", policyArns: [ECR],
    },
    instanceProfileName: "prod-batch-profile-0a1b2c3", kubectlConnection: CONNECTION, readyTimeoutSeconds: 900, drain: DRAIN, batchSize: 1,
    ...over,
  };
}

export const byType = (all: readonly Rec[], t: string) => all.filter((r) => r.type === t);
/** The one registration of type `t` (and name `name`); fails the test unless exactly one. */
export const one = (all: readonly Rec[], t: string, name?: string) => {
  const found = byType(all, t).filter((r) => name === undefined || r.name === name);
  expect(found).toHaveLength(1);
  return found[0]!;
};
/** The resource name at the end of a URN. */
export { nameOf as urnName } from "./program-runs";
