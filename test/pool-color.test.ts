/**
 * PoolInstanceProfile and PoolColor under Pulumi mocks: the IAM role, its attachments and
 * profile; the launch template, the instances and the remote commands of a color, field by
 * field; the join token only ever inside secrets; names, counts and dependencies exact; bad
 * args refused before anything is registered.
 *
 * Mocks from test/helpers/color-mocks.ts (they also record resource options). The batches of
 * launches and the chained removals are in test/pool-color-batches.test.ts.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { secretValue, settled, valueOf } from "./helpers/pulumi-mocks";
import { byType, colorArgs, CONNECTION, ECR, HASH, JOIN_LINE, joinOutput, one, Rec, registered, TOKEN, V, WRAPPER } from "./helpers/color-mocks";
import { scriptText } from "../components/node-scripts";
import { colorNodeNames, colorTag, PoolColor, removeArgs, RUN_ONCE_IGNORED, subnetFor, userDataBase64 } from "../components/pool-color";
import { ec2TrustPolicy, PoolInstanceProfile, policyAttachmentNames } from "../components/pool-instance-profile";
import { KubeVersion } from "../planning/versions";

const SSM = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

describe("colorTag and colorNodeNames", () => {
  it("tag v1-37-1 for 1.37.1; names <pool>-<tag>-<i> for i = 1..size", () => {
    expect(colorTag(V)).toBe("v1-37-1");
    expect(colorTag(KubeVersion.of(1, 4, 10))).toBe("v1-4-10");
    expect(colorNodeNames("batch", V, 3)).toEqual(["batch-v1-37-1-1", "batch-v1-37-1-2", "batch-v1-37-1-3"]);
    expect(colorNodeNames("batch", V, 0)).toEqual([]);
  });

  it("subnets round-robin; remove args from the drain options", () => {
    expect([0, 1, 2, 3, 4].map((i) => subnetFor(["a", "b", "c"], i))).toEqual(["a", "b", "c", "a", "b"]);
    expect(removeArgs("n-1", { timeoutSeconds: 30, deleteEmptyDirData: false, deleteUnmanagedPods: true, disableEviction: true }))
      .toEqual(["remove", "n-1", "30", "false", "true", "true"]);
  });
});

describe("PoolInstanceProfile", () => {
  let all: Rec[];
  let profile: PoolInstanceProfile;
  beforeAll(async () => {
    registered.splice(0);
    profile = new PoolInstanceProfile("prod-batch-profile", { cluster: "prod", pool: "batch", policyArns: [ECR, SSM] });
    await valueOf(pulumi.all([profile.name, profile.roleArn]));
    await settled();
    all = [...registered];
  });

  it("registers exactly a role, one attachment per policy ARN and an instance profile, parented to the component", () => {
    expect(all.map((r) => [r.type, r.name]).sort()).toEqual([
      ["aws:iam/instanceProfile:InstanceProfile", "prod-batch-profile-instance-profile"],
      ["aws:iam/role:Role", "prod-batch-profile-role"],
      ["aws:iam/rolePolicyAttachment:RolePolicyAttachment", "prod-batch-profile-AmazonEC2ContainerRegistryReadOnly"],
      ["aws:iam/rolePolicyAttachment:RolePolicyAttachment", "prod-batch-profile-AmazonSSMManagedInstanceCore"],
      ["cluster-maintenance:pool:PoolInstanceProfile", "prod-batch-profile"],
    ]);
    for (const r of all.filter((r) => r.type.startsWith("aws:"))) expect(r.parent).toMatch(/cluster-maintenance:pool:PoolInstanceProfile::prod-batch-profile$/);
  });

  it("role: trusted by ec2.amazonaws.com only (sts:AssumeRole), no inline or exclusive managed policies, tagged", () => {
    const role = one(all, "aws:iam/role:Role").inputs;
    expect(JSON.parse(role.assumeRolePolicy as string)).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    expect(role.assumeRolePolicy).toBe(ec2TrustPolicy());
    expect(role.inlinePolicies).toBeUndefined();
    expect(role.managedPolicyArns).toBeUndefined();
    expect(role.tags).toEqual({ "cluster-maintenance.io/cluster": "prod", "cluster-maintenance.io/pool": "batch" });
  });

  it("attachments: each policy ARN once, on the role", () => {
    const attachments = byType(all, "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
    expect(attachments.map((a) => [a.name, a.inputs.policyArn, a.inputs.role])).toEqual([
      ["prod-batch-profile-AmazonEC2ContainerRegistryReadOnly", ECR, "prod-batch-profile-role-0a1b2c3"],
      ["prod-batch-profile-AmazonSSMManagedInstanceCore", SSM, "prod-batch-profile-role-0a1b2c3"],
    ]);
  });

  it("instance profile: the role, created after the attachments; outputs its name and the role's", async () => {
    const p = one(all, "aws:iam/instanceProfile:InstanceProfile");
    expect(p.inputs.role).toBe("prod-batch-profile-role-0a1b2c3");
    expect(p.inputs.tags).toEqual({ "cluster-maintenance.io/cluster": "prod", "cluster-maintenance.io/pool": "batch" });
    expect(p.dependsOn.filter((u) => u.includes("RolePolicyAttachment")).sort()).toEqual([
      expect.stringMatching(/::prod-batch-profile-AmazonEC2ContainerRegistryReadOnly$/),
      expect.stringMatching(/::prod-batch-profile-AmazonSSMManagedInstanceCore$/),
    ]);
    expect(await valueOf(profile.name)).toBe("prod-batch-profile-instance-profile-0a1b2c3");
    expect(await valueOf(profile.roleName)).toBe("prod-batch-profile-role-0a1b2c3");
  });

  it("no policy ARNs: a role without permissions, no attachment", async () => {
    registered.splice(0);
    const p = new PoolInstanceProfile("bare", { cluster: "prod", pool: "web" });
    await valueOf(p.name);
    await settled();
    expect(registered.map((r) => r.type).sort()).toEqual([
      "aws:iam/instanceProfile:InstanceProfile", "aws:iam/role:Role", "cluster-maintenance:pool:PoolInstanceProfile",
    ]);
  });

  it("refuses bad, repeated and same-named policy ARNs in one error, before registering anything", () => {
    registered.splice(0);
    let error: Error | undefined;
    try {
      new PoolInstanceProfile("bad", { cluster: "prod", pool: "batch", policyArns: ["AmazonEC2ContainerRegistryReadOnly", ECR, ECR, "arn:aws:iam::123456789012:policy/team/AmazonSSMManagedInstanceCore", SSM] });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toBe(
      'PoolInstanceProfile "bad": invalid policyArns: "AmazonEC2ContainerRegistryReadOnly" is not an IAM managed policy ARN such as arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly; ' +
      `${ECR} is listed twice; ${SSM} and arn:aws:iam::123456789012:policy/team/AmazonSSMManagedInstanceCore have the same policy name AmazonSSMManagedInstanceCore (attach one of them outside this stack)`,
    );
    expect(registered).toEqual([]);
    expect(policyAttachmentNames("x", ["arn:aws-us-gov:iam::123456789012:policy/a/b/My+Policy"])).toEqual(new Map([["arn:aws-us-gov:iam::123456789012:policy/a/b/My+Policy", "x-My+Policy"]]));
  });
});

describe("PoolColor", () => {
  const N = "prod-batch-v1-37-1";
  const NODES = ["batch-v1-37-1-1", "batch-v1-37-1-2", "batch-v1-37-1-3"];
  const TAGS = {
    "cluster-maintenance.io/cluster": "prod", "cluster-maintenance.io/pool": "batch", "cluster-maintenance.io/version": "1.37.1", "kubernetes.io/cluster/prod": "owned",
  };
  const COMMAND = "command:remote:Command";
  const ONCE = ["connection", "create", "update", "stdin", "environment", "logging", "triggers", "addPreviousOutputInEnv"];
  let all: Rec[];
  let color: PoolColor;
  let beforeUrn: string;
  const urnOf = (type: string, name: string) => expect.stringMatching(new RegExp(`${type}::${name}$`));
  beforeAll(async () => {
    registered.splice(0);
    const before = new command.local.Command("before", { create: "true" });
    beforeUrn = await valueOf(before.urn);
    color = new PoolColor(N, colorArgs({ after: [before] }));
    await valueOf(pulumi.all([...color.joined.map((j) => j.urn), ...color.revokeCommands.map((r) => r.urn), ...color.instances.map((i) => i.userDataBase64)]));
    await settled();
    all = registered.filter((r) => r.name !== "before");
  });

  it("registers exactly: one join and one revoke command (one batch of 3), the template, per node an instance, a removal and a gate, parented to the component", () => {
    expect(all.map((r) => [r.type, r.name]).sort()).toEqual([
      ["aws:ec2/launchTemplate:LaunchTemplate", `${N}-template`],
      ...NODES.map((n) => ["aws:ec2/instance:Instance", `${N}-${n}`]),
      ...NODES.map((n) => [COMMAND, `${N}-${n}-joined`]),
      ...NODES.map((n) => [COMMAND, `${N}-${n}-registered`]),
      [COMMAND, `${N}-join-1-3`],
      [COMMAND, `${N}-revoke-1-3`],
      ["cluster-maintenance:pool:PoolColor", N],
    ].sort());
    for (const r of all.filter((r) => r.type !== "cluster-maintenance:pool:PoolColor")) expect(r.parent).toMatch(new RegExp(`cluster-maintenance:pool:PoolColor::${N}$`));
    expect([color.instances.length, color.registered.length, color.joined.length, color.joinCommands.length, color.revokeCommands.length]).toEqual([3, 3, 3, 1, 1]);
  });

  it("join command: join-command.sh with the batch's TTL (3 x 2 + 2 x 15 + 5 = 41 min), pool, version and range; nothing logged; stdout secret; after `after`; run once", () => {
    const j = one(all, COMMAND, `${N}-join-1-3`);
    expect(j.inputs.create).toBe(`${WRAPPER} join-command.sh '41' 'batch' '1.37.1' '1-3'`);
    expect(j.inputs.delete).toBeUndefined();
    expect(j.inputs.stdin).toBe(scriptText("join-command.sh"));
    expect(j.inputs.stdin).toMatch(/^#!\/usr\/bin\/env bash\n/);
    expect(j.inputs.logging).toBe("none");
    expect(j.inputs.addPreviousOutputInEnv).toBe(false);
    expect(secretValue(j.inputs.connection)).toMatchObject(CONNECTION);
    // "connection" is the command package's own; "stdout" is ours.
    expect([...j.secretOutputs].sort()).toEqual(["connection", "stdout"]);
    expect(j.dependsOn).toEqual([beforeUrn]);
    expect(j.ignoreChanges).toEqual(ONCE);
    expect(RUN_ONCE_IGNORED).toEqual(ONCE);
  });

  it("revoke command: join-command.sh revoke for the batch, after the batch's gates; no delete; run once", () => {
    const r = one(all, COMMAND, `${N}-revoke-1-3`);
    expect(r.inputs.create).toBe(`${WRAPPER} join-command.sh 'revoke' 'batch' '1.37.1' '1-3'`);
    expect(r.inputs.delete).toBeUndefined();
    expect(r.inputs.stdin).toBe(scriptText("join-command.sh"));
    expect(r.inputs.logging).toBe("stdoutAndStderr");
    expect(secretValue(r.inputs.connection)).toMatchObject(CONNECTION);
    expect([...r.dependsOn].sort()).toEqual(NODES.map((n) => urnOf("command:remote:Command", `${N}-${n}-joined`)));
    expect(r.ignoreChanges).toEqual(ONCE);
  });

  it("launch template: image, type, instance profile, security groups; no user data (each instance has its batch's)", () => {
    const t = one(all, "aws:ec2/launchTemplate:LaunchTemplate").inputs;
    expect(t.imageId).toBe("ami-0123456789abcdef0");
    expect(t.instanceType).toBe("m6i.large");
    expect(t.iamInstanceProfile).toEqual({ name: "prod-batch-profile-0a1b2c3" });
    expect(t.vpcSecurityGroupIds).toEqual(["sg-0ccccccccccccccc3", "sg-0ddddddddddddddd4"]);
    expect(t.description).toBe("cluster-maintenance: cluster prod, pool batch, Kubernetes 1.37.1");
    expect(t.userData).toBeUndefined();
  });

  it("launch template: IMDSv2 required, hop limit 1, instance tags in the metadata", () => {
    const t = one(all, "aws:ec2/launchTemplate:LaunchTemplate").inputs;
    expect(t.metadataOptions).toEqual({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "enabled" });
  });

  it("launch template: one encrypted gp3 root volume of the configured size, deleted with the instance", () => {
    const t = one(all, "aws:ec2/launchTemplate:LaunchTemplate").inputs;
    expect(t.blockDeviceMappings).toEqual([
      { deviceName: "/dev/xvda", ebs: { volumeType: "gp3", volumeSize: 80, encrypted: "true", deleteOnTermination: "true" } },
    ]);
  });

  it("launch template: tags on itself, its instances and their volumes", () => {
    const t = one(all, "aws:ec2/launchTemplate:LaunchTemplate").inputs;
    expect(t.tags).toEqual({ Name: "batch-v1-37-1", ...TAGS });
    expect(t.tagSpecifications).toEqual([{ resourceType: "instance", tags: TAGS }, { resourceType: "volume", tags: TAGS }]);
  });

  it("instances: user data is a secret; it decodes to the join script at 1.37.1 with the batch's token", () => {
    for (const r of byType(all, "aws:ec2/instance:Instance")) {
      const encoded = secretValue(r.inputs.userDataBase64) as unknown as string;
      expect(typeof encoded).toBe("string");
      const text = Buffer.from(encoded, "base64").toString("utf8");
      expect(text.startsWith("#!/bin/bash\n")).toBe(true);
      expect(text).toContain("KUBE_VERSION='1.37.1'\n");
      expect(text).toContain("KUBE_MINOR='1.37'\n");
      expect(text).toContain("API_ENDPOINT='10.0.0.10:6443'\n");
      expect(text).toContain(`JOIN_TOKEN='${TOKEN}'\n`);
      expect(text).toContain(`CA_CERT_HASH='${HASH}'\n`);
      expect(text).toMatch(/kubeadm join --config /);
      expect(Buffer.from(encoded, "base64").toString("base64")).toBe(encoded);
      expect(r.inputs.userData).toBeUndefined();
    }
  });

  it("instances: one per node, named and tagged with the node name, subnets round-robin, the template's latest version; launchTemplate, subnetId and userDataBase64 changes ignored", () => {
    const instances = byType(all, "aws:ec2/instance:Instance");
    expect(instances.map((r) => r.name)).toEqual(NODES.map((n) => `${N}-${n}`));
    expect(instances.map((r) => r.inputs.subnetId)).toEqual(["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2", "subnet-0aaaaaaaaaaaaaaa1"]);
    NODES.forEach((node, i) => {
      const r = instances[i]!;
      expect(r.inputs.tags).toEqual({ ...TAGS, Name: node });
      expect(r.inputs.launchTemplate).toEqual({ id: `${N}-template-id`, version: "3" });
      expect(r.ignoreChanges).toEqual(["launchTemplate", "subnetId", "userDataBase64"]);
      expect(r.inputs.ami).toBeUndefined();
      // Through its inputs: the template (id, version) and its batch's join command (user data).
      expect([...r.dependsOn].sort()).toEqual([urnOf("aws:ec2/launchTemplate:LaunchTemplate", `${N}-template`), urnOf("command:remote:Command", `${N}-join-1-3`)]);
    });
  });

  it("removals (-registered): no create, remove with the drain options on delete, after their own instance (batchSize 1: and the previous node's removal); changes not ignored", () => {
    NODES.forEach((node, i) => {
      const c = one(all, COMMAND, `${N}-${node}-registered`);
      expect(c.inputs.create).toBeUndefined();
      expect(c.inputs.update).toBeUndefined();
      expect(c.inputs.delete).toBe(`${WRAPPER} pool-node.sh 'remove' '${node}' '600' 'true' 'false' 'false'`);
      expect(c.inputs.stdin).toBe(scriptText("pool-node.sh"));
      expect(c.inputs.logging).toBe("stdoutAndStderr");
      expect(c.inputs.addPreviousOutputInEnv).toBe(false);
      expect(secretValue(c.inputs.connection)).toMatchObject(CONNECTION);
      expect(c.secretOutputs).toEqual(["connection"]);
      expect(c.ignoreChanges).toEqual([]);
      const previous = i >= 1 ? [urnOf("command:remote:Command", `${N}-${NODES[i - 1]}-registered`)] : [];
      expect([...c.dependsOn].sort()).toEqual([urnOf("aws:ec2/instance:Instance", `${N}-${node}`), ...previous].sort());
    });
  });

  it("gates (-joined): wait-joined on create, no delete, after the node's removal command; run once", () => {
    NODES.forEach((node) => {
      const c = one(all, COMMAND, `${N}-${node}-joined`);
      expect(c.inputs.create).toBe(`${WRAPPER} pool-node.sh 'wait-joined' '${node}' '1.37.1' '900'`);
      expect(c.inputs.delete).toBeUndefined();
      expect(c.inputs.stdin).toBe(scriptText("pool-node.sh"));
      expect(c.inputs.logging).toBe("stdoutAndStderr");
      expect(c.inputs.addPreviousOutputInEnv).toBe(false);
      expect(secretValue(c.inputs.connection)).toMatchObject(CONNECTION);
      expect(c.dependsOn).toEqual([urnOf("command:remote:Command", `${N}-${node}-registered`)]);
      expect(c.ignoreChanges).toEqual(ONCE);
    });
  });

  it("the token and CA hash appear in no input but the instances' secret user data", () => {
    for (const r of all) {
      const inputs = r.type === "aws:ec2/instance:Instance" ? { ...r.inputs, userDataBase64: undefined } : r.inputs;
      const text = JSON.stringify(inputs);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(HASH.slice("sha256:".length));
    }
  });
});

describe("PoolColor refusals", () => {
  it("refuses invalid args in one error, before registering anything", () => {
    registered.splice(0);
    const args = colorArgs({
      pool: "Batch", nodes: ["ok-1", "Bad_Name", "ok-1"], readyTimeoutSeconds: 0, batchSize: 0,
      aws: { ...colorArgs().aws, subnetIds: [], rootVolumeGiB: 4 },
    });
    expect(() => new PoolColor("bad", args)).toThrow(
      'PoolColor "bad": invalid args: pool "Batch" is not a DNS label of at most 40 characters; ' +
      'node "Bad_Name" is not a node name (lowercase letters, digits, \'-\', \'.\'); nodes ["ok-1","Bad_Name","ok-1"] is not a list without duplicates; ' +
      'aws.subnetIds [] is not a non-empty list of subnet ids; aws.rootVolumeGiB 4 is not a whole number of GiB from 8 to 16384; ' +
      "readyTimeoutSeconds 0 is not a whole number of seconds from 1 to 86400; batchSize 0 is not a whole number of nodes from 1 to 1000",
    );
    expect(() => new PoolColor("empty", colorArgs({ nodes: [] }))).toThrow('nodes [] is not a non-empty list of node names');
    expect(registered).toEqual([]);
  });

  it("a join command's output that is not a join line: an error without the output", () => {
    const leaky = `kubeadm join 10.0.0.10:6443 --token ${TOKEN} --discovery-token-ca-cert-hash ${HASH} --control-plane`;
    let message = "";
    try {
      userDataBase64(V, leaky);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/kubeadm token create --print-join-command/);
    expect(message).not.toContain(TOKEN);
    expect(message).not.toContain(HASH);
    expect(() => userDataBase64(V, "")).toThrow(/is empty/);
  });

  it("userDataBase64 of a good join line decodes to the user data", () => {
    const text = Buffer.from(userDataBase64(V, JOIN_LINE), "base64").toString("utf8");
    expect(text).toContain("KUBE_VERSION='1.37.1'");
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(16384);
  });

  it("an instance's user data follows its join command's actual stdout", async () => {
    registered.splice(0);
    joinOutput.stdout = `kubeadm join cp.example.internal:6443 --token ${TOKEN} --discovery-token-ca-cert-hash ${HASH}`;
    try {
      const c = new PoolColor("other", colorArgs({ nodes: ["batch-v1-37-1-9"] }));
      await valueOf(pulumi.all([c.launchTemplate.urn, c.instances[0]!.urn]));
      await settled();
      const t = one([...registered], "aws:ec2/instance:Instance");
      expect(Buffer.from(secretValue(t.inputs.userDataBase64) as unknown as string, "base64").toString("utf8")).toContain("API_ENDPOINT='cp.example.internal:6443'\n");
      expect(one([...registered], "command:remote:Command", "other-join-1-1").dependsOn).toEqual([]);
    } finally {
      joinOutput.stdout = JOIN_LINE;
    }
  });
});
