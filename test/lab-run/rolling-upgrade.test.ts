/**
 * The real program (index.ts) carried out in the lab: every remote.Command runs its node
 * script over real SSH (Debian's sshd on loopback) against simulated nodes, the etcd
 * snapshot against a real etcd. A dev-shaped cluster (3 control planes, two rolling pools)
 * goes 1.34.6 -> 1.37.1; a failure in the middle stops the rollout, a second run resumes,
 * a third runs nothing, and neither does any edit that does not change what a command is for.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkSkew } from "../../planning/skew";
import type { LabMocks } from "../lab/engine";
import { LabEtcd, startEtcd } from "../lab/etcd";
import { createLab, isMutating, Lab, LabCall, repositoryLine, STANDINS_DIR } from "../lab/node-kit";
import { pulumiUp } from "../lab/program-run";
import { SshLab, startSshLab } from "../lab/ssh-lab";
import { replay, TimelineNode } from "../lab/timeline";

/** The backup directory as the stack config gives it; in the lab, etcd-snapshot.sh keeps it under cp-1's node root. */
const BACKUP_DIR = "/var/lib/cluster-maintenance/etcd-backups";
jest.setTimeout(600_000);

const CONTROL_PLANE = ["cp-1", "cp-2", "cp-3"];
const POOLS = [
  { name: "general", maxUnavailable: 2, nodes: ["general-1", "general-2", "general-3"] },
  { name: "compute", maxUnavailable: 1, nodes: ["compute-1", "compute-2"] },
];
const WORKERS = POOLS.flatMap((p) => p.nodes);
const ALL = [...CONTROL_PLANE, ...WORKERS];
const poolOf = (node: string) => POOLS.find((p) => p.nodes.includes(node))?.name ?? "control-plane";
const pods = (node: string) => [
  { name: `${node}-web`, namespace: "default", owner: "ReplicaSet" as const },
  { name: `${node}-agent`, namespace: "kube-system", owner: "DaemonSet" as const },
];

let lab: Lab;
let ssh: SshLab;
let etcd: LabEtcd;
let raw: Record<string, unknown>;
const runs: LabMocks[] = [];
const callsAfter: LabCall[][] = [];

/** One `pulumi up`, recorded with the calls log after it. */
async function up(config = raw, key = ssh.privateKey, options: Parameters<typeof pulumiUp>[3] = {}): Promise<LabMocks> {
  const run = await pulumiUp(lab.dir, config, key, options);
  runs.push(run);
  callsAfter.push(lab.calls());
  return run;
}

beforeAll(async () => {
  lab = createLab({
    nodes: ALL.map((name) => ({ name, role: CONTROL_PLANE.includes(name) ? "control-plane" : "worker", version: "1.34.6", pods: CONTROL_PLANE.includes(name) ? [] : pods(name) })),
  });
  ssh = await startSshLab({ labDir: lab.dir, nodes: ALL, standinsDir: STANDINS_DIR });
  etcd = await startEtcd();
  for (let i = 0; i < 20; i++) await etcd.put(`/registry/configmaps/default/cm-${i}`, `value-${i}`);
  const node = (name: string) => ({ name, host: ssh.hostOf(name), hostKey: ssh.hostKey, version: "1.34.6" });
  raw = {
    clusterName: "lab",
    targetVersion: "1.37",
    controlPlane: { nodes: CONTROL_PLANE.map(node) },
    pools: POOLS.map((p) => ({ name: p.name, strategy: "rolling", maxUnavailable: p.maxUnavailable, nodes: p.nodes.map(node) })),
    ssh: { user: "root", port: ssh.port },
    etcd: { endpoint: etcd.endpoint, caCert: etcd.caCert, cert: etcd.cert, key: etcd.key, backupDir: BACKUP_DIR },
    readyTimeoutSeconds: 60,
  };
});

afterAll(async () => {
  await ssh?.stop();
  await etcd?.stop();
  lab?.cleanup();
});

describe("run 1: a step fails on a worker in the middle", () => {
  beforeAll(async () => {
    lab.injectFailure("general-2", "kubelet=1.35.9");
    await up();
  });

  it("stops with an error that names the node and the step (the engine's diagnostic; the update fails)", () => {
    const [run] = runs;
    expect(run!.result()).toBe("failed");
    expect(run!.failed.map((f) => f.name)).toEqual(["lab-general-2-v1.35.9-upgrade-kubelet"]);
    expect(run!.failed[0]!.message).toMatch(/upgrade-kubelet\.sh: general-2: /);
  });

  it("leaves the failed node cordoned and the later nodes untouched", () => {
    expect(lab.nodeState("general-2").cordoned).toBe(true);
    const touched = new Set(callsAfter[0]!.filter(isMutating).map((c) => c.node));
    for (const later of ["general-3", "compute-1", "compute-2"]) expect(touched.has(later)).toBe(false);
    expect(callsAfter[0]!.some((c) => c.args.some((a) => a.includes("1.36")))).toBe(false);
  });
});

describe("run 2: after the cause is fixed, pulumi up resumes", () => {
  beforeAll(async () => {
    lab.clearFailures();
    await up();
  });

  it("finishes without running again any command that had succeeded", () => {
    const [first, second] = runs;
    expect(second!.failed).toEqual([]);
    const succeeded = first!.ran.filter((name) => !first!.failed.some((f) => f.name === name));
    expect(succeeded.length).toBeGreaterThan(10);
    for (const name of succeeded) expect(second!.ran).not.toContain(name);
    const applies = lab.calls().filter((c) => c.command === "kubeadm" && c.args.join(" ").startsWith("upgrade apply v1.35.9"));
    expect(applies).toHaveLength(1);
  });

  it("brings every node to 1.37.1, on the 1.37 repository, packages held, uncordoned", () => {
    for (const name of ALL) {
      const s = lab.nodeState(name);
      expect([name, s.packages.kubeadm, s.packages.kubelet, s.packages.kubectl]).toEqual([name, expect.stringMatching(/^1\.37\.1-/), expect.stringMatching(/^1\.37\.1-/), expect.stringMatching(/^1\.37\.1-/)]);
      expect([name, [...s.held].sort()]).toEqual([name, ["kubeadm", "kubectl", "kubelet"]]);
      expect(s.repoLine).toBe(repositoryLine("1.37"));
      expect(s.kubeletRunning).toBe("1.37.1");
      expect([name, s.cordoned]).toEqual([name, false]);
      expect(Object.keys(s.annotations).filter((k) => k.startsWith("cluster-maintenance.io/"))).toEqual([]);
      if (CONTROL_PLANE.includes(name)) expect(s.apiserverTag).toBe("v1.37.1");
    }
  });

  it("took a checked etcd snapshot before every control-plane hop", () => {
    const files = readdirSync(`${lab.env("cp-1").CM_NODE_ROOT}${BACKUP_DIR}`).sort();
    for (const hop of ["v1.35.9", "v1.36.4", "v1.37.1"]) {
      expect(files.filter((f) => f.endsWith(`-before-${hop}.db`))).toHaveLength(1);
      expect(files.filter((f) => f.endsWith(`-before-${hop}.db.sha256`))).toHaveLength(1);
    }
    const calls = lab.calls();
    for (const hop of ["1.35.9", "1.36.4", "1.37.1"]) {
      const snapshot = calls.findIndex((c) => c.command === "etcdctl" && c.args.includes("save") && c.args.some((a) => a.includes(`before-v${hop}`)));
      const firstKubeadm = calls.findIndex((c) => CONTROL_PLANE.includes(c.node) && c.command === "apt-get" && c.args.includes(`kubeadm=${hop}-*`));
      expect(snapshot).toBeGreaterThanOrEqual(0);
      expect(snapshot).toBeLessThan(firstKubeadm);
    }
  });
});

describe("the recorded timeline of both runs", () => {
  const timeline = () => {
    const nodes: TimelineNode[] = ALL.map((name) => ({ name, pool: poolOf(name), version: "1.34.6" }));
    return replay(lab.calls(), nodes);
  };

  it("never holds a state that breaks the version-skew policy", () => {
    const moments = timeline();
    expect(moments.length).toBeGreaterThan(50);
    for (const m of moments) expect([`${m.call.ms} ${m.call.node} ${m.call.command} ${m.call.args.join(" ")}`, checkSkew(m.nodes).map((x) => x.message)]).toEqual([expect.any(String), []]);
  });

  it("never has more than maxUnavailable nodes of a pool cordoned at once", () => {
    for (const m of timeline()) {
      for (const pool of POOLS) {
        const cordoned = pool.nodes.filter((n) => m.cordoned.has(n));
        expect([`${m.call.node} ${m.call.command} ${m.call.args.join(" ")}`, cordoned.length <= pool.maxUnavailable ? "ok" : cordoned]).toEqual([expect.any(String), "ok"]);
      }
      expect(CONTROL_PLANE.filter((n) => m.cordoned.has(n)).length).toBeLessThanOrEqual(1);
    }
  });

  it("upgrades the control planes one at a time, all before any worker of the hop", () => {
    const calls = lab.calls().filter(isMutating);
    for (const hop of ["1.35.9", "1.36.4", "1.37.1"]) {
      const kubeadmInstalls = calls.filter((c) => c.command === "apt-get" && c.args.includes(`kubeadm=${hop}-*`));
      const cpOrder = kubeadmInstalls.filter((c) => CONTROL_PLANE.includes(c.node)).map((c) => c.node);
      expect(cpOrder).toEqual(CONTROL_PLANE);
      const lastControlPlane = Math.max(...calls.filter((c) => CONTROL_PLANE.includes(c.node) && c.args.some((a) => a.includes(hop))).map((c) => c.ms));
      const firstWorker = Math.min(...kubeadmInstalls.filter((c) => WORKERS.includes(c.node)).map((c) => c.ms));
      expect(lastControlPlane).toBeLessThan(firstWorker);
    }
  });
});

describe("run 3: after convergence", () => {
  it("runs no command on any node", async () => {
    const before = lab.calls().length;
    const run = await up();
    expect(run.ran).toEqual([]);
    expect(run.failed).toEqual([]);
    expect(lab.calls()).toHaveLength(before);
  });
});

describe("run 4: edits that do not change what a finished command is for", () => {
  const withPools = (change: (pool: Record<string, unknown>) => Record<string, unknown>) => ({
    ...raw, pools: (raw.pools as Record<string, unknown>[]).map((p) => (p.name === "general" ? change(p) : p)),
  });
  const otherKey = () => {
    const dir = mkdtempSync(join(tmpdir(), "cm-rotated-key-"));
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "id")], { stdio: "ignore" });
    const key = readFileSync(join(dir, "id"), "utf8");
    rmSync(dir, { recursive: true, force: true });
    return key;
  };
  const sshConfig = () => raw.ssh as Record<string, unknown>;
  const edits: [string, () => Promise<LabMocks>][] = [
    ["pools[general].drain.timeoutSeconds", () => up(withPools((p) => ({ ...p, drain: { timeoutSeconds: 1234 } })))],
    ["pools[general].drain.deleteEmptyDirData", () => up(withPools((p) => ({ ...p, drain: { deleteEmptyDirData: true } })))],
    ["sshPrivateKey (a rotated key)", () => up(raw, otherKey())],
    ["ssh.port", () => up({ ...raw, ssh: { ...sshConfig(), port: 2222 } })],
    ["ssh.dialErrorLimit", () => up({ ...raw, ssh: { ...sshConfig(), dialErrorLimit: 7 } })],
    ["a new release of every node script", () => up(raw, ssh.privateKey, { scriptText: (_name, text) => `${text}\n# a new release\n` })],
  ];

  it.each(edits.map(([what], i) => [what, i] as const))("%s: pulumi up runs no command, drops nothing and cordons no node", async (_what, i) => {
    const before = lab.calls().length;
    const run = await edits[i]![1]();
    expect([run.ran, run.failed, run.replaced, run.deleted]).toEqual([[], [], [], []]);
    expect(run.skipped.length).toBeGreaterThan(100);
    expect(lab.calls().slice(before)).toEqual([]);
    for (const name of ALL) expect([name, lab.nodeState(name).cordoned]).toEqual([name, false]);
  });
});
