/**
 * Blue-green pools in the plan: when a pool is replaced and at which version, the capacity
 * check, the estimate of the double capacity, the commands of a replacement, and the config
 * keys of a blue-green pool.
 */
import { executionOptions, parseStackConfig, planFromConfig } from "../config/stack-config";
import { colorNodeNames, replacementEstimate } from "../planning/blue-green";
import { commandKey, CommandSpec, planCommands } from "../planning/commands";
import { PlanningError } from "../planning/errors";
import type { UpgradePlan } from "../planning/plan-types";
import { parseFullVersion } from "../planning/versions";
import { inputErrorOf } from "./helpers/errors";
import { stackConfig } from "./helpers/pulumi-mocks";
import { testHostKey } from "./helpers/host-keys";

const dev = stackConfig("dev");
const devPools = dev.pools as Record<string, unknown>[];
const NOW = new Date("2026-11-21");

/** The dev stack with its blue-green pool `batch` changed by `changes`. */
function withBatch(changes: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...dev, ...extra, pools: [devPools[0], { ...devPools[1], ...changes }] };
}
function planOf(raw: Record<string, unknown>): { plan: UpgradePlan; commands: readonly CommandSpec[] } {
  const config = parseStackConfig(raw, "dev");
  const plan = planFromConfig(config, NOW);
  return { plan, commands: planCommands(plan, executionOptions(config)).commands };
}
const replacements = (plan: UpgradePlan) => plan.steps.filter((s) => s.kind === "pool-replace");

describe("the dev stack's blue-green pool batch (3 instances at 1.34.6, target 1.37)", () => {
  const { plan } = planOf(dev);
  const [step] = replacements(plan);

  it("is replaced once, last, by new nodes named after the new version", () => {
    expect(replacements(plan)).toHaveLength(1);
    expect(step!.id).toBe("v1.37/batch/pool-replace");
    expect(step!.nodes).toEqual(["batch-v1-34-6-1", "batch-v1-34-6-2", "batch-v1-34-6-3"]);
    expect(step!.replacement!.newNodes).toEqual(["batch-v1-37-1-1", "batch-v1-37-1-2", "batch-v1-37-1-3"]);
    expect(step!.replacement!.managed).toBe(true);
    expect(plan.steps[plan.steps.length - 1]).toBe(step);
  });

  it("lists the phases in order: green created and Ready before blue is cordoned, drained, soaked, deleted, terminated", () => {
    expect(step!.actions.map((a) => a.kind)).toEqual(["create-green", "wait-green-ready", "cordon-blue", "drain-blue", "soak", "delete-blue-nodes", "terminate-blue"]);
  });

  it("says the old instances are terminated by the next pulumi up once the pool's version is 1.37.1, not by this update", () => {
    expect(step!.actions[0]!.summary).toBe("create 3 new instance(s) batch-v1-37-1-1, batch-v1-37-1-2, batch-v1-37-1-3 joining at v1.37.1 (kubelet, kubeadm, kubectl held at 1.37.1; a join token per 10 instances); 6 instances run until the old ones are terminated");
    expect(step!.actions[6]!.summary).toBe(
      "the old instances keep running (the pool's nodes stay registered in Pulumi) until you set the pool's version to 1.37.1: the next pulumi up then terminates them, draining at most batchSize at once any node still in the cluster",
    );
  });

  it("estimates the double capacity: 6 instances, 3 batches, 21 min typical, 50 min at most, in instance-hours and USD", () => {
    expect(step!.replacement!.estimate).toEqual({
      batchSize: 1, batches: 3, peakInstances: 6, extraInstances: 3,
      typicalSeconds: 300 + 3 * 120 + 600, boundSeconds: 600 + 3 * 600 + 600,
      extraInstanceHours: { typical: 1.05, bound: 2.5 },
      extraCostUsd: { typical: 0.1, bound: 0.24 },
    });
  });

  it("keeps every state within the version-skew policy (the new kubelets at the target)", () => {
    for (const n of step!.stateAfter) if (n.pool === "batch") expect(n.versions.kubelet.toString()).toBe("1.37.1");
  });
});

describe("the pool's own targetVersion", () => {
  it("held at its version (the rollback setting): no replacement, its kubelets stay 3 minors behind, within the skew", () => {
    const { plan } = planOf(withBatch({ targetVersion: "1.34.6" }));
    expect(replacements(plan)).toEqual([]);
    expect([...plan.finalState].filter((n) => n.pool === "batch").map((n) => n.versions.kubelet.toString())).toEqual(["1.34.6", "1.34.6", "1.34.6"]);
  });

  it("older than the cluster's target: replaced at it, in the last hop", () => {
    const { plan } = planOf(withBatch({ targetVersion: "1.36" }));
    expect(replacements(plan).map((s) => [s.id, s.version.toString(), s.hop])).toEqual([["v1.36/batch/pool-replace", "1.36.4", 3]]);
    expect(replacements(plan)[0]!.replacement!.newNodes).toEqual(colorNodeNames("batch", parseFullVersion("1.36.4", "v"), 3));
  });

  it("too old for the new control plane: refused, naming the kubelet left outside the skew", () => {
    const raw = withBatch({ version: "1.33.10", targetVersion: "1.33.10" });
    expect(() => planOf(raw)).toThrow(PlanningError);
    expect(() => planOf(raw)).toThrow(/kubelet.*batch-v1-33-10-1/);
  });
});

describe("capacity", () => {
  it("refuses a replacement that needs more instances than the pool's instanceQuota, before anything runs", () => {
    const raw = withBatch({ aws: { ...(devPools[1]!.aws as object), instanceQuota: 5 } });
    expect(() => planOf(raw)).toThrow("not enough capacity for a blue-green replacement; raise the pool's aws.instanceQuota (after raising the AWS quota), or replace it in smaller pools: pool batch needs 6 instances at once (3 old + 3 new) during its replacement at v1.37.1; its instance quota is 5");
  });

  it("counts green at the configured size and bounds the duration with the drain and ready timeouts", () => {
    const e = replacementEstimate(4, { size: 4, batchSize: 3, batchSoakSeconds: 60, soakSeconds: 0, managed: true, readyTimeoutSeconds: 900, drainTimeoutSeconds: 300 });
    expect([e.batches, e.batchSize, e.peakInstances, e.typicalSeconds, e.boundSeconds, e.extraCostUsd]).toEqual([2, 3, 8, 300 + 240 + 60, 900 + 600 + 60, undefined]);
  });
});

describe("the commands of a replacement", () => {
  const { commands } = planOf(withBatch({ size: 5, batchSize: 2, batchSoakSeconds: 30, soakSeconds: 900, aws: { ...(devPools[1]!.aws as object), instanceQuota: 10 } }));
  const own = commands.filter((c) => c.step === "v1.37/batch/pool-replace");
  const key = (c: CommandSpec) => commandKey(c);

  it("cordons every old node after green is Ready (greenOf), each undone by an uncordon on rollback", () => {
    const cordons = own.filter((c) => c.script === "cordon-node.sh");
    expect(cordons.map((c) => [c.node, c.args, c.undo, c.greenOf])).toEqual(
      [1, 2, 3, 4, 5].map((i) => [`batch-v1-34-6-${i}`, ["cordon", `batch-v1-34-6-${i}`], ["uncordon", `batch-v1-34-6-${i}`], "batch"]),
    );
    expect(cordons[0]!.undoCommand).toMatch(/ cordon-node\.sh 'uncordon' 'batch-v1-34-6-1'$/);
  });

  it("drains in batches of batchSize with the pool's drain options, soaking after each batch but the last", () => {
    const drains = own.filter((c) => c.script === "drain.sh");
    expect(drains.map((c) => c.args)).toEqual([1, 2, 3, 4, 5].map((i) => [`batch-v1-34-6-${i}`, "1.37.1", "600", "false", "false", "false"]));
    const soaks = own.filter((c) => c.script === "soak.sh");
    expect(soaks.map((c) => [c.name, c.args[0]])).toEqual([["v1-37-1-soak-after-batch-1", "30"], ["v1-37-1-soak-after-batch-2", "30"], ["v1-37-1-soak", "900"]]);
    expect(soaks[0]!.args.slice(1)).toEqual(colorNodeNames("batch", parseFullVersion("1.37.1", "v"), 5));
    expect(drains[0]!.dependsOn).toEqual(own.filter((c) => c.script === "cordon-node.sh").map(key));
    expect(drains[2]!.dependsOn).toEqual([key(soaks[0]!)]);
    expect(soaks[0]!.dependsOn).toEqual([key(drains[0]!), key(drains[1]!)]);
    expect(soaks[2]!.dependsOn).toEqual([key(drains[4]!)]);
  });

  it("deletes the old Node objects last, after the pool soak", () => {
    const last = own[own.length - 1]!;
    expect([last.script, last.args, last.pool, last.dependsOn]).toEqual(["delete-nodes.sh", [1, 2, 3, 4, 5].map((i) => `batch-v1-34-6-${i}`), "batch", [key(own[own.length - 2]!)]]);
  });
});

describe("config of a blue-green pool", () => {
  const problems = (raw: Record<string, unknown>) => inputErrorOf(() => parseStackConfig(raw, "dev")).message;

  it("requires the AWS settings and refuses rolling-only keys with a fix", () => {
    const { aws: _aws, ...noAws } = devPools[1]!;
    const message = problems({ ...dev, pools: [devPools[0], { ...noAws, maxUnavailable: 2, osPatchRevision: "2026-11" }] });
    expect(message).toContain("pools[1].aws: is required for a blue-green pool");
    expect(message).toContain("pools[1].maxUnavailable: does not apply to a blue-green pool");
    expect(message).toContain("pools[1].osPatchRevision: does not apply to a blue-green pool");
  });

  it("checks every AWS value against a strict pattern before it reaches AWS", () => {
    const message = problems(withBatch({ aws: { ami: "ami-xyz; rm -rf /", instanceType: "large", subnetIds: [], securityGroupIds: ["sg-1"], policyArns: ["*"] } }));
    expect(message).toContain('pools[1].aws.ami: is not an AMI id such as "ami-0123456789abcdef0" (got "ami-xyz; rm -rf /")');
    expect(message).toContain("pools[1].aws.instanceType: is not an EC2 instance type");
    expect(message).toContain("pools[1].aws.subnetIds: is empty");
    expect(message).toContain("pools[1].aws.securityGroupIds[0]: is not a security group id");
    expect(message).toContain("pools[1].aws.policyArns[0]: is not a managed IAM policy ARN");
  });

  it("refuses a targetVersion older than the pool's version or newer than the cluster's, and a size other than the adopted nodes'", () => {
    expect(problems(withBatch({ targetVersion: "1.34.2" }))).toContain("pools[1].targetVersion: is older than the pool's version 1.34.6");
    expect(problems(withBatch({ targetVersion: "1.37.1" }, { targetVersion: "1.36" }))).toContain("pools[1].targetVersion: is newer than the cluster's targetVersion 1.36.4");
    const adopted = withBatch({ version: undefined, size: 2, nodes: [{ name: "old-1", host: "10.0.2.11", hostKey: testHostKey("old-1"), version: "1.34.6" }] });
    expect(problems(adopted)).toContain("pools[1].size: differs from the 1 listed node(s)");
  });

  it("adopts listed nodes (not this stack's instances) and plans their replacement; their machines are left to the operator", () => {
    const { plan } = planOf(withBatch({ version: undefined, size: undefined, nodes: [1, 2].map((i) => ({ name: `old-${i}`, host: `10.0.2.1${i}`, hostKey: testHostKey(`old-${i}`), version: "1.34.6" })) }));
    const [step] = replacements(plan);
    expect(step!.nodes).toEqual(["old-1", "old-2"]);
    expect(step!.replacement!.managed).toBe(false);
    expect(step!.actions[6]!.summary).toBe("the old nodes are not instances of this stack: terminate their machines yourself");
  });
});

describe("the prod example stack (Pulumi.prod.yaml)", () => {
  it("plans its rolling pool in place and replaces its blue-green pool in 2 batches with soaks, within its quota", () => {
    const { plan } = planOf(stackConfig("prod"));
    expect(plan.pools.map((p) => [p.name, p.strategy])).toEqual([["web", "rolling"], ["jobs", "blue-green"]]);
    const [step] = replacements(plan);
    expect(step!.replacement!.estimate).toMatchObject({ batches: 2, batchSize: 2, peakInstances: 8 });
    expect(step!.actions[3]!.summary).toBe("drain the old nodes in 2 batch(es) of 2 (each drain at most 600s), soak 120s after each batch but the last");
  });
});
