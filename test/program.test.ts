/**
 * The real program (index.ts) run under Pulumi mocks with the dev stack's config: the
 * components it registers and the stack outputs it exports.
 */
import * as pulumi from "@pulumi/pulumi";
import { installMocks, setStackConfig, settled, stackConfig, TEST_PRIVATE_KEY, secretValue, valueOf } from "./helpers/pulumi-mocks";
import { executionOptions, planFromConfig, parseStackConfig } from "../config/stack-config";
import { planCommands } from "../planning/commands";
import { reportText } from "../planning/report";

const registered = installMocks("dev");
const raw = stackConfig("dev");
setStackConfig(raw);
const logged = jest.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());

describe("the program on the dev stack", () => {
  let program: Awaited<ReturnType<typeof import("../index")>>;
  beforeAll(async () => {
    program = await (await import("../index")).default();
    await settled();
  });

  it("registers one ClusterUpgrade named after the cluster and one NodeUpgrade per node", () => {
    const clusters = registered.filter((r) => r.type === "cluster-maintenance:upgrade:ClusterUpgrade");
    expect(clusters.map((c) => c.name)).toEqual(["dev"]);
    const nodes = registered.filter((r) => r.type === "cluster-maintenance:upgrade:NodeUpgrade").map((r) => r.name);
    expect(nodes).toEqual([
      "dev-cp-1", "dev-cp-2", "dev-cp-3",
      "dev-general-1", "dev-general-2", "dev-general-3", "dev-general-4",
      "dev-batch-v1-34-6-1", "dev-batch-v1-34-6-2", "dev-batch-v1-34-6-3",
    ]);
    const commands = registered.filter((r) => r.type === "command:remote:Command");
    // 150 upgrade commands; the blue-green pool: 8 replacement commands and, for each of its two
    // colors (blue 1.34.6 kept while green 1.37.1 replaces it), a join token, its revoke, 3 removals, 3 readiness gates.
    expect(commands).toHaveLength(150 + 8 + 2 * (1 + 1 + 3 + 3));
    const aws = registered.filter((r) => r.type.startsWith("aws:")).map((r) => r.type).sort();
    expect(aws).toEqual([...Array(6).fill("aws:ec2/instance:Instance"), ...Array(2).fill("aws:ec2/launchTemplate:LaunchTemplate"), "aws:iam/instanceProfile:InstanceProfile", "aws:iam/role:Role"]);
    // Between pool general's two batches of 2 in each hop, one barrier that runs nothing.
    expect(registered.filter((r) => r.type === "command:local:Command").map((r) => r.name)).toEqual(
      ["v1.35.9", "v1.36.4", "v1.37.1"].map((v) => `dev-${v}-general-batch-2`),
    );
    expect(registered).toHaveLength(1 + 10 + 4 + 174 + 10 + 3);
    expect(registered.filter((r) => !r.custom).map((r) => r.type).sort()).toEqual([
      ...Array(10).fill("cluster-maintenance:upgrade:NodeUpgrade"), "cluster-maintenance:upgrade:ClusterUpgrade",
      "cluster-maintenance:pool:BlueGreenNodePool", "cluster-maintenance:pool:PoolInstanceProfile", "cluster-maintenance:pool:PoolColor", "cluster-maintenance:pool:PoolColor",
    ].sort());
  });

  it("gives every command the node's SSH connection from config as a secret, the private key only inside it", () => {
    const commands = registered.filter((r) => r.type === "command:remote:Command");
    const snapshot = commands.find((r) => r.name === "dev-cp-1-v1.35.9-etcd-snapshot")!;
    const hostKey = (list: unknown, name: string) => (list as { name: string; hostKey: string }[]).find((n) => n.name === name)!.hostKey;
    const cpKey = hostKey((raw.controlPlane as { nodes: unknown }).nodes, "cp-1");
    const bastionKey = ((raw.ssh as { bastion: { hostKey: string } }).bastion).hostKey;
    expect(cpKey).toMatch(/^ssh-ed25519 AAAA/);
    expect(secretValue(snapshot.inputs.connection)).toEqual({
      host: "10.0.0.11", port: 22, user: "ubuntu", privateKey: TEST_PRIVATE_KEY, dialErrorLimit: 40, perDialTimeout: 15, hostKey: cpKey,
      proxy: { host: "bastion.dev.example.com", port: 22, user: "ubuntu", privateKey: TEST_PRIVATE_KEY, dialErrorLimit: 40, perDialTimeout: 15, hostKey: bastionKey },
    });
    const kubelet = commands.find((r) => r.name === "dev-general-2-v1.36.4-upgrade-kubelet")!;
    expect(secretValue(kubelet.inputs.connection).host).toBe("10.0.1.12");
    expect(secretValue(kubelet.inputs.connection).hostKey).toBe(hostKey((raw.pools as { nodes: unknown }[])[0]!.nodes, "general-2"));
    for (const c of commands) {
      expect(String(c.inputs.create)).not.toContain("PRIVATE KEY");
      expect(String(c.inputs.stdin)).not.toContain("PRIVATE KEY");
    }
  });

  it("exports the same plan text that npm run plan prints", async () => {
    const config = parseStackConfig(raw, "dev");
    const plan = planFromConfig(config);
    const expected = reportText({ plan, commands: planCommands(plan, executionOptions(config)).commands, origin: "the versions declared in the stack config (no kubeconfig found: not compared with the cluster)" });
    const text = await valueOf(program.plan);
    expect(text).toBe(expected);
    expect(text).toContain("[on cp-1] kubeadm-upgrade.sh 'apply' '1.35.9'");
  });

  it("logs the plan text on the ClusterUpgrade during preview", async () => {
    const text = await valueOf(program.plan);
    // Where the versions came from (no kubeconfig here: the declared ones), then the plan.
    expect(logged.mock.calls.map((c) => c[0])).toEqual([
      "planning from the versions declared in the stack config (no kubeconfig found: not compared with the cluster)",
      text,
    ]);
  });

  it("exports the hops, the target and the warnings", async () => {
    expect(await valueOf(program.hops)).toEqual(["1.35.9", "1.36.4", "1.37.1"]);
    expect(program.targetVersion).toBe("1.37.1");
    expect(program.warnings.some((w) => w.includes("blue-green pool batch is replaced 1 time(s), at v1.37.1"))).toBe(true);
    // Declared versions alone cannot tell what an earlier update did: the whole plan, no waves.
    expect(program.wave).toBe("the whole plan (34 step(s)): planned from declared versions, not from the cluster");
    expect(program.wavesLeft).toEqual([]);
  });
});
