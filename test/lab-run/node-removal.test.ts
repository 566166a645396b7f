/**
 * Removing nodes for good (the stack config's `removeNodes`), carried out in the lab by the real
 * program with a config WITHOUT versions: each `pulumi up` reads the lab cluster through its
 * Kubernetes API double, plans the removal as the first wave and runs it over real SSH. The
 * cluster is at the target version already, so only the removal runs. Checked: a worker drained,
 * reset and deleted in that order, and what the next ups do; a control-plane node leaving a real
 * three-member etcd 3.4 (snapshot, member gone, every key kept) and the refusal of an even member
 * count not accepted; a removal stopped by a failed reset finished by the next up without a second
 * drain; a dead worker deleted without any SSH step on it.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { REMOTE_COMMAND, readLabState, type LabMocks } from "../lab/engine";
import { labEtcdFor, startEtcdCluster, type LabEtcdCluster } from "../lab/etcd-cluster";
import { createLab, isMutating, type Lab, type LabCall, type LabNodeSpec, STANDINS_DIR } from "../lab/node-kit";
import { pulumiUp } from "../lab/program-run";
import { startSshLab, type SshLab } from "../lab/ssh-lab";
import { kubeletStoppedFor } from "../node-scripts/support";

jest.setTimeout(300_000);

const BACKUP_DIR = "/var/lib/cluster-maintenance/etcd-backups";
const VERSION = "1.37.1";
const CONTROL_PLANE = ["cp-1", "cp-2", "cp-3"];
const WORKERS = ["general-1", "general-2", "general-3"];

let etcd: LabEtcdCluster;
beforeAll(async () => {
  etcd = await startEtcdCluster(CONTROL_PLANE);
}, 60_000);
afterAll(async () => {
  await etcd?.stop();
});

/** A lab cluster read live: cp-1..cp-3 and three workers of pool general, each with a pod of a ReplicaSet, all at the target version. */
interface LiveLab {
  readonly lab: Lab;
  readonly ssh: SshLab;
  readonly runs: LabMocks[];
  /** The calls log's length before each up. */
  readonly callsBefore: number[];
}

async function startLiveLab(): Promise<LiveLab> {
  const nodes: LabNodeSpec[] = [
    ...CONTROL_PLANE.map((name): LabNodeSpec => ({ name, role: "control-plane", version: VERSION })),
    ...WORKERS.map((name): LabNodeSpec => ({ name, role: "worker", version: VERSION, labels: { pool: "general" }, pods: [{ name: `${name}-web`, namespace: "default", owner: "ReplicaSet" }] })),
  ];
  const lab = createLab({ nodes, mirrorStaticPods: true });
  const ssh = await startSshLab({ labDir: lab.dir, nodes: nodes.map((n) => n.name), standinsDir: STANDINS_DIR });
  // createLab starts the API double without waiting: it listens once it wrote its url file.
  const url = path.join(lab.dir, "kube-api", "url");
  for (const deadline = Date.now() + 30_000; !fs.existsSync(url); ) {
    if (Date.now() > deadline) throw new Error("the lab's API double did not listen within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { lab, ssh, runs: [], callsBefore: [] };
}

async function stopLiveLab(l: LiveLab | undefined): Promise<void> {
  await l?.ssh.stop();
  l?.lab.cleanup();
}

/**
 * The config without versions, removing `removeNodes`; etcd is cp-1's member, as the kubectl node
 * cp-1 reaches its local one. `order`: controlPlane.order (the control-plane nodes it leaves out
 * follow by name).
 */
function liveConfig(l: LiveLab, removeNodes: unknown[], order: readonly string[] = CONTROL_PLANE): Record<string, unknown> {
  return {
    clusterName: "lab",
    targetVersion: "1.37",
    controlPlane: { order },
    pools: [{ name: "general", selector: "pool=general", maxUnavailable: 1 }],
    hosts: Object.fromEntries([...CONTROL_PLANE, ...WORKERS].map((n) => [n, { hostKey: l.ssh.hostKey }])),
    ssh: { user: "root", port: l.ssh.port },
    etcd: { endpoint: etcd.endpoint("cp-1"), caCert: etcd.caCert, cert: etcd.cert, key: etcd.key, backupDir: BACKUP_DIR },
    readyTimeoutSeconds: 60,
    ...(removeNodes.length > 0 ? { removeNodes } : {}),
  };
}

/** One `pulumi up` of `raw` against the lab, the lab API's kubeconfig as kubernetes:kubeconfig. */
async function up(l: LiveLab, raw: Record<string, unknown>): Promise<LabMocks> {
  l.callsBefore.push(l.lab.calls().length);
  const run = await pulumiUp(l.lab.dir, raw, l.ssh.privateKey, { otherConfig: { "kubernetes:kubeconfig": l.lab.kubeconfigPath } });
  l.runs.push(run);
  return run;
}

/** The same up expected to be refused by the program: its error. */
async function refusedUp(l: LiveLab, raw: Record<string, unknown>): Promise<Error | undefined> {
  return pulumiUp(l.lab.dir, raw, l.ssh.privateKey, { otherConfig: { "kubernetes:kubeconfig": l.lab.kubeconfigPath } }).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
}

/** The remote commands an up registered, by name, in registration order. */
const commands = (run: LabMocks) => run.resources.filter((r) => r.type === REMOTE_COMMAND).map((r) => r.name);

/** The calls made during up number `i` of `l` (up to the next up, or now). */
const callsOfUp = (l: LiveLab, i: number): LabCall[] => l.lab.calls().slice(l.callsBefore[i], l.callsBefore[i + 1]);

/** "node command args..." of the mutating calls among `calls`. */
const mutations = (calls: readonly LabCall[]) => calls.filter(isMutating).map((c) => [c.node, c.command, ...c.args].join(" "));

/** Index in `calls` of the first kubectl call with `verb` (flags left out) naming `node`; -1 when none. */
const kubectlAt = (calls: readonly LabCall[], verb: string, node: string) =>
  calls.findIndex((c) => c.command === "kubectl" && c.args.filter((a) => !a.startsWith("-"))[0] === verb && c.args.includes(node));

/** Node names the lab's API double serves, read with the real kubectl. */
function apiNodes(l: LiveLab): Promise<string[]> {
  return new Promise((resolve, reject) =>
    execFile("/usr/bin/kubectl", ["--kubeconfig", l.lab.kubeconfigPath, "--request-timeout=20s", "get", "nodes", "-o", "name"], { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`kubectl get nodes: ${err.message} ${stderr}`)) : resolve(stdout.split("\n").filter((s) => s !== "").map((s) => s.replace(/^node\//, "")).sort()),
    ),
  );
}

/** The stderr a command's record kept in the stack's state (its last successful run). */
function stateStderr(l: LiveLab, name: string): string {
  const record = readLabState(path.join(l.lab.dir, "pulumi-state.json")).resources.find((r) => r.name === name && !r.delete);
  if (!record) throw new Error(`no record of ${name} in the lab's state`);
  return String(record.outputs.stderr ?? "");
}

/** What kubeadm join, a CNI plugin and kube-proxy leave on a worker beyond createLab's kubelet.conf: pki, kubelet state, CNI config, iptables rules. */
function joinedWorker(l: Lab, node: string): void {
  const root = path.join(l.dir, "nodes", node, "root");
  for (const [file, text] of [["etc/kubernetes/pki/ca.crt", "lab\n"], ["var/lib/kubelet/config.yaml", "kind: KubeletConfiguration\n"], ["etc/cni/net.d/10-calico.conflist", "{}\n"]]) {
    fs.mkdirSync(path.dirname(path.join(root, file!)), { recursive: true });
    fs.writeFileSync(path.join(root, file!), text!);
  }
  const ipt = path.join(l.dir, "nodes", node, "iptables");
  fs.mkdirSync(ipt, { recursive: true });
  fs.writeFileSync(path.join(ipt, "filter"), ["-P INPUT ACCEPT", "-P FORWARD DROP", "-P OUTPUT ACCEPT", "-N KUBE-FORWARD", "-A FORWARD -j KUBE-FORWARD", ""].join("\n"));
  fs.writeFileSync(path.join(ipt, "nat"), ["-P PREROUTING ACCEPT", "-P INPUT ACCEPT", "-P OUTPUT ACCEPT", "-P POSTROUTING ACCEPT", "-N KUBE-SERVICES", "-A PREROUTING -j KUBE-SERVICES", ""].join("\n"));
}

const REMOVAL = (node: string) => [`lab-${node}-remove-drain`, `lab-${node}-remove-reset-node`, `lab-${node}-remove-delete-node`];

describe("removing a worker (general-1, a ReplicaSet's pod on it)", () => {
  let l: LiveLab;
  /** The second up's etcd-member.sh output, as its record kept it (the third up drops the record). */
  let memberRemoveStderr: string;
  beforeAll(async () => {
    l = await startLiveLab();
    joinedWorker(l.lab, "general-1");
    await up(l, liveConfig(l, ["general-1"]));
    await up(l, liveConfig(l, ["general-1"])); // the entry still there
    memberRemoveStderr = stateStderr(l, "lab-general-1-remove-etcd-member-remove");
    await up(l, liveConfig(l, [])); // the entry taken out
  });
  afterAll(() => stopLiveLab(l));

  it("registers and runs the removal wave only: drain, reset, delete of general-1", () => {
    const [first] = l.runs;
    expect([commands(first!), first!.ran, first!.failed, first!.result()]).toEqual([REMOVAL("general-1"), REMOVAL("general-1"), [], "succeeded"]);
  });

  it("leaves the Node gone from the API and general-1's machine reset: kubeadm reset --force, kubelet stopped and disabled, CNI config emptied, iptables flushed", async () => {
    expect(await apiNodes(l)).toEqual([...CONTROL_PLANE, "general-2", "general-3"]);
    const onNode = mutations(callsOfUp(l, 0).filter((c) => c.node === "general-1"));
    expect(onNode).toEqual([
      "general-1 kubeadm reset --force",
      "general-1 systemctl disable kubelet",
      "general-1 iptables -F",
      "general-1 iptables -t nat -F",
      "general-1 iptables -t mangle -F",
      "general-1 iptables -X",
    ]);
    const s = l.lab.nodeState("general-1");
    expect([s.kubeletActive, fs.existsSync(path.join(l.lab.dir, "nodes", "general-1", "enabled-kubelet"))]).toEqual([false, false]);
    expect(fs.readdirSync(path.join(l.lab.dir, "nodes", "general-1", "root", "etc/cni/net.d"))).toEqual([]);
    expect(fs.readFileSync(path.join(l.lab.dir, "nodes", "general-1", "iptables", "filter"), "utf8")).toBe("-P INPUT ACCEPT\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n");
    // Nothing changed on any other machine but the kubectl node's kubectl calls.
    expect(mutations(callsOfUp(l, 0)).filter((m) => !m.startsWith("general-1 ") && !m.startsWith("cp-1 kubectl "))).toEqual([]);
  });

  it("drains once, then resets, then deletes the Node", () => {
    const calls = callsOfUp(l, 0);
    const drain = kubectlAt(calls, "drain", "general-1");
    const reset = calls.findIndex((c) => c.node === "general-1" && c.command === "kubeadm" && c.args[0] === "reset");
    const del = kubectlAt(calls, "delete", "general-1");
    expect([drain >= 0, reset > drain, del > reset]).toEqual([true, true, true]);
    expect(calls[drain]!.node).toBe("cp-1");
    expect(calls[del]!.node).toBe("cp-1");
    // Its ReplicaSet's pod went through the drain's evictions: no pod was deleted with kubectl.
    expect(calls.some((c) => c.command === "kubectl" && c.args.includes("delete") && c.args.includes("pod"))).toBe(false);
    expect(calls.filter((c) => c.node === "cp-1" && c.command === "kubectl" && c.args.includes("general-1") && c.args.filter((a) => !a.startsWith("-"))[0] === "drain")).toHaveLength(1);
  });

  it("with the entry still in removeNodes, the next up sees general-1 as gone: only etcd-member.sh remove, which has nothing to remove", () => {
    const second = l.runs[1]!;
    expect([commands(second), second.ran, second.failed, second.result()]).toEqual([["lab-general-1-remove-etcd-member-remove"], ["lab-general-1-remove-etcd-member-remove"], [], "succeeded"]);
    expect(mutations(callsOfUp(l, 1))).toEqual([]);
    expect(callsOfUp(l, 1).filter((c) => c.node !== "cp-1")).toEqual([]);
    expect(memberRemoveStderr).toBe("cluster-maintenance: etcd-member.sh: general-1: no etcd member named general-1: nothing to remove");
    // The first up's commands are no longer registered: the engine drops their records.
    expect(second.deleted).toEqual(expect.arrayContaining(REMOVAL("general-1")));
  });

  it("with the entry taken out, an up registers and runs nothing", async () => {
    const third = l.runs[2]!;
    expect([commands(third), third.ran, third.failed, third.result()]).toEqual([[], [], [], "succeeded"]);
    expect(mutations(callsOfUp(l, 2))).toEqual([]);
    expect(await apiNodes(l)).toEqual([...CONTROL_PLANE, "general-2", "general-3"]);
  });
});

describe("removing a control-plane node (cp-3) from a real three-member etcd", () => {
  const CP3 = ["etcd-snapshot", "etcd-member-check", "drain", "reset-node", "etcd-member-remove", "delete-node"].map((a) => `lab-cp-3-remove-${a}`);
  const KEYS = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`/registry/configmaps/default/before-${i}`, `value-${i}`]));
  /** cp-3 is not named in controlPlane.order: it follows by name while it is in the cluster. */
  const ORDER = ["cp-1", "cp-2"];
  let l: LiveLab;
  let refusal: Error | undefined;
  let refusalCalls: LabCall[];
  let recordsAfterRefusal: string[];
  let memberRemoveStderr: string;
  beforeAll(async () => {
    l = await startLiveLab();
    labEtcdFor(l.lab, "cp-3", etcd); // kubeadm reset on cp-3 removes its member from the real etcd
    for (const [k, v] of Object.entries(KEYS)) await etcd.put(k, v, "cp-1");
    const before = l.lab.calls().length;
    refusal = await refusedUp(l, liveConfig(l, ["cp-3"], ORDER));
    refusalCalls = l.lab.calls().slice(before);
    recordsAfterRefusal = readLabState(path.join(l.lab.dir, "pulumi-state.json")).resources.map((r) => r.name);
    await up(l, liveConfig(l, [{ name: "cp-3", allowEvenEtcdMembers: true }], ORDER));
    memberRemoveStderr = stateStderr(l, "lab-cp-3-remove-etcd-member-remove");
    await up(l, liveConfig(l, [{ name: "cp-3", allowEvenEtcdMembers: true }], ORDER));
  }, 180_000);
  afterAll(() => stopLiveLab(l));

  it("without allowEvenEtcdMembers: refused before anything runs, naming allowEvenEtcdMembers", () => {
    expect(refusal?.message).toMatch(/removing cp-3 leaves etcd with 2 members/);
    expect(refusal?.message).toMatch(/allowEvenEtcdMembers: true/);
    expect(refusal?.message).toContain("etcd's quorum forbids these removals");
    expect(refusalCalls).toEqual([]);
    // Nothing registered: the stack's state holds no resource (the engine records every registration, components too).
    expect(recordsAfterRefusal).toEqual([]);
  });

  it("runs snapshot, etcd check, drain, reset, member removal and delete, in that order, and nothing else", () => {
    const [first] = l.runs;
    expect([commands(first!), first!.ran, first!.failed, first!.result()]).toEqual([CP3, CP3, [], "succeeded"]);
    // Only cp-3's machine and the kubectl node cp-1 were touched.
    expect([...new Set(callsOfUp(l, 0).filter(isMutating).map((c) => c.node))].sort()).toEqual(["cp-1", "cp-3"]);
  });

  it("leaves a verified snapshot before-remove-cp-3 in the backup dir on cp-1", () => {
    const dir = path.join(l.lab.dir, "nodes", "cp-1", "root", BACKUP_DIR);
    const files = fs.readdirSync(dir).filter((f) => f.includes("before-remove-cp-3"));
    const db = files.find((f) => /^etcd-.*-before-remove-cp-3\.db$/.test(f));
    expect(db).toBeDefined();
    expect(files.sort()).toEqual([db, `${db}.sha256`, `${db}.verified`].sort());
    const sha = createHash("sha256").update(fs.readFileSync(path.join(dir, db!))).digest("hex");
    expect(fs.readFileSync(path.join(dir, `${db}.sha256`), "utf8")).toContain(sha);
    expect(fs.readFileSync(path.join(dir, `${db}.verified`), "utf8")).toMatch(new RegExp(`^mode=(status|restore) revision=\\d+ totalKey=\\d+ .*sha256=${sha}`));
  });

  it("leaves etcd with exactly cp-1 and cp-2, both holding every key written before; cp-3's member shut down", async () => {
    for (const via of ["cp-1", "cp-2"]) expect([via, (await etcd.members(via)).map((m) => m.name).sort()]).toEqual([via, ["cp-1", "cp-2"]]);
    await etcd.exited("cp-3");
    for (const via of ["cp-1", "cp-2"]) {
      const all = await etcd.getAll(via);
      expect([via, Object.fromEntries(Object.keys(KEYS).map((k) => [k, all[k]]))]).toEqual([via, KEYS]);
    }
  });

  it("removes the member in kubeadm reset (cp-3's own phase), so etcd-member.sh remove after it finds nothing to remove", () => {
    const reset = callsOfUp(l, 0).findIndex((c) => c.node === "cp-3" && c.command === "kubeadm" && c.args[0] === "reset");
    expect(reset).toBeGreaterThanOrEqual(0);
    expect(memberRemoveStderr).toBe("cluster-maintenance: etcd-member.sh: cp-3: no etcd member named cp-3: nothing to remove");
  });

  it("deletes the Node cp-3; the next up registers only cp-3's leftover check, the same command as before, so it runs nothing", async () => {
    expect(await apiNodes(l)).toEqual(["cp-1", "cp-2", ...WORKERS]);
    const second = l.runs[1]!;
    expect([commands(second), second.ran, second.skipped, second.failed, second.result()]).toEqual([
      ["lab-cp-3-remove-etcd-member-remove"], [], ["lab-cp-3-remove-etcd-member-remove"], [], "succeeded",
    ]);
    expect(callsOfUp(l, 1)).toEqual([]);
    // The removal's other commands and cp-3's NodeUpgrade are no longer registered: the engine drops their records.
    expect([...second.deleted].sort()).toEqual(["lab-cp-3", ...CP3.filter((n) => !n.endsWith("-etcd-member-remove"))].sort());
  });
});

describe("a removal stopped by a failed reset (general-2), then the same config again", () => {
  let l: LiveLab;
  /** The stack's state after the failed up: the names of its records. */
  let recordedAfterFailure: string[];
  let drainedAfterFailure: { cordoned: boolean; pods: string[] };
  beforeAll(async () => {
    l = await startLiveLab();
    l.lab.injectFailure("general-2", "kubeadm reset");
    await up(l, liveConfig(l, ["general-2"]));
    recordedAfterFailure = readLabState(path.join(l.lab.dir, "pulumi-state.json")).resources.filter((r) => r.type === REMOTE_COMMAND).map((r) => r.name);
    const s = l.lab.nodeState("general-2");
    drainedAfterFailure = { cordoned: s.cordoned, pods: s.pods };
    l.lab.clearFailures();
    await up(l, liveConfig(l, ["general-2"]));
  });
  afterAll(() => stopLiveLab(l));

  it("fails the first up at the reset, with the drain done and nothing deleted", async () => {
    const [first] = l.runs;
    expect([first!.ran, first!.failed.map((f) => f.name), first!.result()]).toEqual([REMOVAL("general-2").slice(0, 2), ["lab-general-2-remove-reset-node"], "failed"]);
    expect(first!.failed[0]!.message).toContain("kubeadm reset failed");
    expect(recordedAfterFailure).toEqual(["lab-general-2-remove-drain"]);
    expect(drainedAfterFailure).toEqual({ cordoned: true, pods: [] });
    const calls = callsOfUp(l, 0);
    expect(kubectlAt(calls, "drain", "general-2")).toBeGreaterThanOrEqual(0);
    expect(kubectlAt(calls, "delete", "general-2")).toBe(-1);
  });

  it("the second up does not drain again (the finished drain is left alone), runs the reset again and deletes the Node", async () => {
    const second = l.runs[1]!;
    expect([commands(second), second.skipped, second.ran, second.failed, second.result()]).toEqual([
      REMOVAL("general-2"), ["lab-general-2-remove-drain"], REMOVAL("general-2").slice(1), [], "succeeded",
    ]);
    const calls = callsOfUp(l, 1);
    expect(kubectlAt(calls, "drain", "general-2")).toBe(-1);
    expect(kubectlAt(calls, "cordon", "general-2")).toBe(-1);
    expect(mutations(calls.filter((c) => c.node === "general-2"))[0]).toBe("general-2 kubeadm reset --force");
    expect(kubectlAt(calls, "delete", "general-2")).toBeGreaterThan(calls.findIndex((c) => c.node === "general-2" && c.command === "kubeadm"));
    expect(await apiNodes(l)).toEqual([...CONTROL_PLANE, "general-1", "general-3"]);
    // Across both ups: one drain of general-2, two kubeadm resets (the failed one and the one that did it).
    const all = l.lab.calls();
    expect(all.filter((c) => c.command === "kubectl" && c.args.filter((a) => !a.startsWith("-"))[0] === "drain" && c.args.includes("general-2"))).toHaveLength(1);
    expect(all.filter((c) => c.node === "general-2" && c.command === "kubeadm" && c.args[0] === "reset")).toHaveLength(2);
  });
});

describe("a dead worker (general-3, its kubelet stopped 65 s ago: Ready Unknown)", () => {
  let l: LiveLab;
  let deleteStderr: string;
  beforeAll(async () => {
    l = await startLiveLab();
    await kubeletStoppedFor(l.lab, "general-3", 65);
    await up(l, liveConfig(l, [{ name: "general-3", dead: true }]));
    deleteStderr = stateStderr(l, "lab-general-3-remove-delete-dead-node");
  });
  afterAll(() => stopLiveLab(l));

  it("runs no SSH command at all on general-3: only delete-nodes.sh --dead on the kubectl node", () => {
    const [run] = l.runs;
    expect([commands(run!), run!.ran, run!.failed, run!.result()]).toEqual([["lab-general-3-remove-delete-dead-node"], ["lab-general-3-remove-delete-dead-node"], [], "succeeded"]);
    const calls = callsOfUp(l, 0);
    expect(calls.filter((c) => c.node === "general-3")).toEqual([]);
    expect(calls.length).toBeGreaterThan(0);
    expect(mutations(calls)).toEqual(["cp-1 kubectl --request-timeout=30s delete node general-3 --ignore-not-found --timeout=60s"]);
  });

  it("lists its pods with their controller and deletes the Node", async () => {
    const own = deleteStderr.split("\n").filter((line) => line.startsWith("cluster-maintenance: delete-nodes.sh: general-3: "));
    expect(own).toEqual([
      "cluster-maintenance: delete-nodes.sh: general-3: not Ready (Ready: Unknown): deleting its Node object without a drain; the pods bound to it:",
      "cluster-maintenance: delete-nodes.sh: general-3: default/general-3-web (ReplicaSet)",
      // The lab's kube-proxy DaemonSet runs a pod on every node.
      expect.stringMatching(/^cluster-maintenance: delete-nodes\.sh: general-3: kube-system\/kube-proxy-[a-z0-9]+ \(DaemonSet\)$/),
      "cluster-maintenance: delete-nodes.sh: general-3: deleted from the cluster; kube-controller-manager's pod garbage collector deletes the pods bound to it",
    ]);
    expect(await apiNodes(l)).toEqual([...CONTROL_PLANE, "general-1", "general-2"]);
  });
});
