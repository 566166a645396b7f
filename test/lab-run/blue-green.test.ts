/**
 * The real program (index.ts) replacing a blue-green pool in the lab. EC2 is the lab's: an
 * instance boots a simulated machine from its launch template's user data, which installs the
 * packages and joins with the token the program created on the control plane; terminating it
 * removes the machine. Remote commands run over real SSH; the snapshots use a real etcd.
 *
 *   run 0  targetVersion 1.34.6: the pool's 1.34.6 color (blue) is created and joins;
 *   run 1  targetVersion 1.37: the control plane takes its 3 hops, green (1.37.1) is created,
 *          one green machine never becomes Ready: the update stops, blue untouched;
 *   run 2  rollback (the pool's targetVersion 1.34.6): green removed, the node whose gate failed
 *          included (a failed create is not in the state: its removal is its own command), no
 *          more than batchSize at once; blue untouched;
 *   run 3  forward again with --continue-on-error; the soak fails (injected): blue cordoned and
 *          drained, green serving, and blue's machines still there (the end-of-update deletes run);
 *   run 4  rollback during the soak: blue uncordoned, green drained and removed;
 *   run 5  forward again, to the end: blue deleted from the cluster, its machines kept;
 *   run 6  the pool's version set to 1.37.1 (the replacement confirmed): blue terminated;
 *   run 7  converged: nothing runs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { checkSkew } from "../../planning/skew";
import { ec2Lab, Ec2Lab } from "../lab/ec2";
import type { LabMocks } from "../lab/engine";
import { LabEtcd, startEtcd } from "../lab/etcd";
import { createLab, isMutating, Lab, LabCall, repositoryLine, STANDINS_DIR } from "../lab/node-kit";
import { pulumiUp } from "../lab/program-run";
import { SshLab, startSshLab } from "../lab/ssh-lab";
import { replay } from "../lab/timeline";

/** The backup directory as the stack config gives it; in the lab, etcd-snapshot.sh keeps it under cp-1's node root. */
const BACKUP_DIR = "/var/lib/cluster-maintenance/etcd-backups";
jest.setTimeout(600_000);

const BLUE = [1, 2, 3].map((i) => `batch-v1-34-6-${i}`);
const GREEN = [1, 2, 3].map((i) => `batch-v1-37-1-${i}`);
const NOT_READY = "KubeletNotReady container runtime network not ready: NetworkReady=false";

let lab: Lab;
let ssh: SshLab;
let etcd: LabEtcd;
let ec2: Ec2Lab;
let notReady: string | undefined;
let base: Record<string, unknown>;
const runs: LabMocks[] = [];
const callsBefore: number[] = [];

const pool = (extra: Record<string, unknown> = {}) => ({
  name: "batch", strategy: "blue-green", version: "1.34.6", size: 3, batchSize: 2, batchSoakSeconds: 1, soakSeconds: 2,
  aws: { ami: "ami-0a1b2c3d4e5f67890", instanceType: "m6i.large", subnetIds: ["subnet-0a1b2c3d4e5f67890"], securityGroupIds: ["sg-0a1b2c3d4e5f67890"] },
  ...extra,
});

/** One `pulumi up` with `raw`; waits for the machines it launched to finish booting. */
async function up(raw: Record<string, unknown>, continueOnError = false): Promise<LabMocks> {
  callsBefore.push(lab.calls().length);
  const run = await pulumiUp(lab.dir, raw, ssh.privateKey, { ...ec2.hooks, continueOnError });
  await ec2.booted();
  runs.push(run);
  return run;
}
/** The calls of run k. */
const callsOf = (k: number): LabCall[] => lab.calls().slice(callsBefore[k], callsBefore[k + 1]);
const touched = (calls: LabCall[], nodes: string[]) => calls.filter(isMutating).filter((c) => nodes.includes(c.node) || c.args.some((a) => nodes.includes(a)));
/** A call's arguments without its flags (`kubectl --request-timeout=30s drain X` -> drain X). */
const words = (c: LabCall) => c.args.filter((a) => !a.startsWith("-"));
/** Schedules a web pod (with a controller) on each node. */
const addPods = (nodes: string[]) => {
  for (const node of nodes) fs.appendFileSync(path.join(lab.dir, "cluster", "nodes", node, "pods"), `shop ${node}-web ReplicaSet false false false\n`);
};
const inCluster = (node: string) => fs.existsSync(path.join(lab.dir, "cluster", "nodes", node));
/** The stack config once the replacement is confirmed: what runs now is 1.37.1, control plane and pool. */
const confirmed = () => ({
  ...base, targetVersion: "1.37", pools: [pool({ version: "1.37.1" })],
  controlPlane: { nodes: (base.controlPlane as { nodes: Record<string, unknown>[] }).nodes.map((n) => ({ ...n, version: "1.37.1" })) },
});
const removal = (color: string, node: string) => `lab-batch-${color}-${node}-registered (delete hook)`;
/** The node removals (drain + delete Node) of each delete antichain of a run: the engine runs an antichain's deletes at once. */
const removalsAtOnce = (run: LabMocks) => run.deleteAntichains.map((chain) => chain.filter((name) => name.endsWith("-registered")).length);

beforeAll(async () => {
  lab = createLab({ nodes: [{ name: "cp-1", role: "control-plane", version: "1.34.6" }] });
  ssh = await startSshLab({ labDir: lab.dir, nodes: ["cp-1"], standinsDir: STANDINS_DIR });
  etcd = await startEtcd();
  for (let i = 0; i < 5; i++) await etcd.put(`/registry/configmaps/shop/cm-${i}`, `value-${i}`);
  ec2 = ec2Lab(lab, (node) => (node === notReady ? { notReady: NOT_READY } : {}));
  base = {
    clusterName: "lab",
    controlPlane: { nodes: [{ name: "cp-1", host: ssh.hostOf("cp-1"), hostKey: ssh.hostKey, version: "1.34.6" }] },
    ssh: { user: "root", port: ssh.port },
    etcd: { endpoint: etcd.endpoint, caCert: etcd.caCert, cert: etcd.cert, key: etcd.key, backupDir: BACKUP_DIR, verify: "status" },
    readyTimeoutSeconds: 30,
  };
});

afterAll(async () => {
  await ssh?.stop();
  await etcd?.stop();
  lab?.cleanup();
});

describe("run 0: the pool's first color", () => {
  beforeAll(async () => {
    await up({ ...base, targetVersion: "1.34.6", pools: [pool()] });
    addPods(BLUE);
  });

  it("launches 3 machines that install 1.34.6, hold it and join with the token made on the control plane", () => {
    expect(runs[0]!.failed).toEqual([]);
    expect(ec2.launched.map((l) => l.node)).toEqual(BLUE);
    for (const node of BLUE) {
      const s = lab.nodeState(node);
      expect([node, inCluster(node), s.kubeletRunning, [...s.held].sort(), s.repoLine]).toEqual([node, true, "1.34.6", ["kubeadm", "kubectl", "kubelet"], repositoryLine("1.34")]);
    }
    const tokenCreate = lab.calls().filter((c) => c.command === "kubeadm" && c.args.join(" ").startsWith("token create"));
    expect(tokenCreate.map((c) => c.node)).toEqual(["cp-1"]);
  });
});

describe("run 1: green (1.37.1) has a machine that never becomes Ready", () => {
  beforeAll(async () => {
    notReady = GREEN[1];
    await up({ ...base, targetVersion: "1.37", pools: [pool()] });
  });

  it("upgrades the control plane, then stops at the gate with an error naming the node and why", () => {
    expect(lab.nodeState("cp-1").apiserverTag).toBe("v1.37.1");
    expect(runs[1]!.result()).toBe("failed");
    expect(runs[1]!.failed.map((f) => f.name)).toEqual([`lab-batch-v1-37-1-${GREEN[1]}-joined`]);
    expect(runs[1]!.failed[0]!.message).toContain(`${GREEN[1]}: `);
    expect(runs[1]!.failed[0]!.message).toContain("KubeletNotReady");
  });

  it("leaves blue serving, untouched: no cordon, no drain, no delete, no machine terminated", () => {
    expect(touched(callsOf(1), BLUE)).toEqual([]);
    for (const node of BLUE) expect([node, inCluster(node), lab.nodeState(node).cordoned, lab.nodeState(node).pods]).toEqual([node, true, false, [`shop/${node}-web`]]);
    expect(ec2.terminated).toEqual([]);
    expect(runs[1]!.deleted).toEqual([]);
  });
});

describe("run 2: rollback after the failed gate (the pool's targetVersion back to 1.34.6)", () => {
  beforeAll(async () => {
    notReady = undefined;
    await up({ ...base, targetVersion: "1.37", pools: [pool({ targetVersion: "1.34.6" })] });
  });

  it("removes green: its nodes drained and deleted from the cluster, then its machines terminated", () => {
    expect(runs[2]!.failed).toEqual([]);
    for (const node of GREEN) expect([node, inCluster(node)]).toEqual([node, false]);
    expect(ec2.terminated.map((t) => t.node).sort()).toEqual([...GREEN].sort());
    const hooks = runs[2]!.deleted.filter((d) => d.endsWith("(delete hook)"));
    expect(hooks.sort()).toEqual(GREEN.map((n) => removal("v1-37-1", n)).sort()); // GREEN[1]'s gate failed: its removal still ran
    const nodesDeleted = callsOf(2).filter((c) => c.command === "kubectl" && words(c)[0] === "delete" && words(c)[1] === "node").map((c) => words(c)[2]);
    expect([...nodesDeleted].sort()).toEqual([...GREEN].sort());
  });

  it("drains no more than batchSize (2) green nodes at once", () => {
    expect(Math.max(...removalsAtOnce(runs[2]!))).toBe(2);
    expect(removalsAtOnce(runs[2]!).reduce((a, b) => a + b, 0)).toBe(3);
  });

  it("does not touch blue and re-runs no command of the control plane", () => {
    expect(touched(callsOf(2), BLUE)).toEqual([]);
    expect(runs[2]!.ran.filter((n) => n.startsWith("lab-cp-1"))).toEqual([]);
    for (const node of BLUE) expect([node, inCluster(node), lab.nodeState(node).cordoned]).toEqual([node, true, false]);
  });
});

describe("run 3: forward again with --continue-on-error; the soak fails", () => {
  beforeAll(async () => {
    lab.injectFailure("cp-1", "abort-soak");
    await up({ ...base, targetVersion: "1.37", pools: [pool({ batchSoakSeconds: 0 })] }, true);
    lab.clearFailures();
  });

  it("brings green up, then cordons and drains every blue node before the soak stops the update", () => {
    expect([runs[3]!.result(), runs[3]!.failed.map((f) => f.name)]).toEqual(["failed", ["lab-batch-v1-37-1-soak"]]); // continueOnError still fails the update
    for (const node of GREEN) expect([node, lab.nodeState(node).kubeletRunning, lab.nodeState(node).kubeletActive]).toEqual([node, "1.37.1", true]);
    for (const node of BLUE) expect([node, lab.nodeState(node).cordoned, lab.nodeState(node).pods]).toEqual([node, true, []]);
  });

  it("keeps blue's machines and Nodes: the end-of-update deletes ran, and blue is still in the program", () => {
    expect(ec2.terminated.filter((t) => BLUE.includes(t.node))).toEqual([]);
    for (const node of BLUE) expect([node, inCluster(node)]).toEqual([node, true]);
    expect(runs[3]!.deleted.filter((d) => d.includes("v1-34-6"))).toEqual([]);
  });
});

describe("run 4: rollback during the soak", () => {
  beforeAll(async () => {
    await up({ ...base, targetVersion: "1.37", pools: [pool({ targetVersion: "1.34.6" })] });
    addPods(BLUE); // the pods drained off green are scheduled back on blue
  });

  it("uncordons blue (only what it cordoned), before green is drained and removed", () => {
    expect(runs[4]!.failed).toEqual([]);
    for (const node of BLUE) {
      const s = lab.nodeState(node);
      expect([node, s.cordoned, Object.keys(s.annotations).filter((k) => k.startsWith("cluster-maintenance.io/"))]).toEqual([node, false, []]);
    }
    for (const node of GREEN) expect([node, inCluster(node)]).toEqual([node, false]);
    const order = runs[4]!.deleted;
    const lastUncordon = Math.max(...BLUE.map((n) => order.indexOf(`lab-${n}-v1-37-1-cordon (delete hook)`)));
    const firstGreenRemoval = Math.min(...GREEN.map((n) => order.indexOf(removal("v1-37-1", n))));
    expect(lastUncordon).toBeGreaterThanOrEqual(0);
    expect(lastUncordon).toBeLessThan(firstGreenRemoval);
    expect(Math.max(...removalsAtOnce(runs[4]!))).toBeLessThanOrEqual(2);
  });
});

describe("run 5: forward to the end", () => {
  beforeAll(async () => {
    await up({ ...base, targetVersion: "1.37", pools: [pool()] });
  });

  it("ends with green serving: blue deleted from the cluster, its machines kept until the replacement is confirmed", () => {
    expect(runs[5]!.failed).toEqual([]);
    for (const node of BLUE) expect([node, inCluster(node)]).toEqual([node, false]);
    expect(ec2.terminated.filter((t) => BLUE.includes(t.node))).toEqual([]);
    const deleteNodes = callsOf(5).filter((c) => c.command === "kubectl" && words(c)[0] === "delete" && BLUE.includes(words(c)[2]!));
    expect(deleteNodes).toHaveLength(3);
    for (const node of GREEN) {
      const s = lab.nodeState(node);
      expect([node, inCluster(node), s.cordoned, s.kubeletRunning, [...s.held].sort(), s.repoLine]).toEqual([node, true, false, "1.37.1", ["kubeadm", "kubectl", "kubelet"], repositoryLine("1.37")]);
    }
  });

  it("had every green node Ready before the first blue node was cordoned, and drained blue at most 2 at a time", () => {
    const calls = callsOf(5);
    const firstCordon = calls.find((c) => c.command === "kubectl" && words(c)[0] === "cordon" && BLUE.includes(words(c)[1]!))!;
    const lastJoin = Math.max(...calls.filter((c) => c.command === "kubeadm" && c.args[0] === "join").map((c) => c.ms));
    expect(firstCordon).toBeDefined();
    expect(lastJoin).toBeLessThan(firstCordon.ms);
    const drains = calls.filter((c) => c.command === "kubectl" && words(c)[0] === "drain").map((c) => words(c)[1]!);
    expect(drains.slice(0, 2).sort()).toEqual(BLUE.slice(0, 2));
    expect(drains.slice(2)).toEqual([BLUE[2]]);
  });
});

describe("run 6: the replacement confirmed (the pool's version set to 1.37.1)", () => {
  beforeAll(async () => {
    await up(confirmed());
  });

  it("terminates blue, batchSize at a time, and runs nothing on green or the control plane", () => {
    expect(runs[6]!.failed).toEqual([]);
    expect(ec2.terminated.filter((t) => BLUE.includes(t.node)).map((t) => t.node).sort()).toEqual([...BLUE].sort());
    expect(runs[6]!.ran.filter((n) => !n.includes("v1-34-6"))).toEqual([]);
    expect(Math.max(...removalsAtOnce(runs[6]!))).toBeLessThanOrEqual(2);
    expect(touched(callsOf(6), GREEN)).toEqual([]);
    for (const node of GREEN) expect([node, inCluster(node), lab.nodeState(node).cordoned]).toEqual([node, true, false]);
  });
});

describe("the whole recorded timeline", () => {
  it("never holds a state outside the version-skew policy, new nodes included", () => {
    const moments = replay(lab.calls(), [{ name: "cp-1", pool: "control-plane", version: "1.34.6" }], () => "batch");
    expect(moments.length).toBeGreaterThan(20);
    for (const m of moments) expect([`${m.call.ms} ${m.call.node} ${m.call.command} ${m.call.args.join(" ")}`, checkSkew(m.nodes).map((x) => x.message)]).toEqual([expect.any(String), []]);
  });
});

describe("run 7: converged", () => {
  it("runs nothing, deletes nothing, launches nothing", async () => {
    const launched = ec2.launched.length;
    const run = await up(confirmed());
    expect([run.ran, run.failed, run.deleted, ec2.launched.length]).toEqual([[], [], [], launched]);
  });
});
