/**
 * The real program (index.ts) with a stack config WITHOUT versions, carried out in the lab: each
 * `pulumi up` reads the lab cluster through its Kubernetes API double (the kubeconfig given as
 * `kubernetes:kubeconfig`), plans what is left and runs one wave over real SSH; the next up reads
 * again. Checked: one wave per up, in the documented order, until an up registers nothing; no
 * step twice across ups (the engine's records and the lab's calls log); a failure in the middle
 * of a wave finished by the next up (a node left cordoned after its upgrade gets only a resume
 * step); maxNodesPerUpdate bounding the workers per up; a declared config that lags the cluster
 * refused before anything runs.
 *
 * The maxNodesPerUpdate cluster is 40 workers with maxNodesPerUpdate 10 (maxUnavailable 5) over
 * one hop: four worker waves of two batches each.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REMOTE_COMMAND, type LabMocks } from "../lab/engine";
import { LabEtcd, startEtcd } from "../lab/etcd";
import { createLab, Lab, LabCall, LabNodeSpec, STANDINS_DIR } from "../lab/node-kit";
import { pulumiUp } from "../lab/program-run";
import { SshLab, startSshLab } from "../lab/ssh-lab";

jest.setTimeout(900_000);

const BACKUP_DIR = "/var/lib/cluster-maintenance/etcd-backups";
const HOPS = ["1.35.9", "1.36.4", "1.37.1"];

let etcd: LabEtcd;
beforeAll(async () => {
  etcd = await startEtcd();
  // etcd-snapshot.sh refuses a snapshot of an empty etcd (revision 0).
  for (let i = 0; i < 5; i++) await etcd.put(`/registry/configmaps/default/cm-${i}`, `value-${i}`);
});
afterAll(async () => {
  await etcd?.stop();
});

/** A lab cluster read live: its lab, sshd, the config without versions and every up's record. */
interface LiveLab {
  readonly lab: Lab;
  readonly ssh: SshLab;
  readonly nodes: readonly string[];
  readonly controlPlane: readonly string[];
  readonly kubeconfig: string;
  readonly runs: LabMocks[];
  /** The calls log's length before each up. */
  readonly callsBefore: number[];
}

async function startLiveLab(nodes: LabNodeSpec[]): Promise<LiveLab> {
  const lab = createLab({ nodes, mirrorStaticPods: true });
  const names = nodes.map((n) => n.name);
  const ssh = await startSshLab({ labDir: lab.dir, nodes: names, standinsDir: STANDINS_DIR });
  // createLab starts the API double without waiting: it listens once it wrote its url file.
  const url = join(lab.dir, "kube-api", "url");
  for (const deadline = Date.now() + 30_000; !existsSync(url); ) {
    if (Date.now() > deadline) throw new Error("the lab's API double did not listen within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { lab, ssh, nodes: names, controlPlane: nodes.filter((n) => n.role === "control-plane").map((n) => n.name), kubeconfig: lab.kubeconfigPath, runs: [], callsBefore: [] };
}

function stopLiveLab(l: LiveLab | undefined): Promise<void> {
  return (async () => {
    await l?.ssh.stop();
    l?.lab.cleanup();
  })();
}

/** One `pulumi up` of `raw` against the lab, the lab API's kubeconfig as kubernetes:kubeconfig. */
async function up(l: LiveLab, raw: Record<string, unknown>): Promise<LabMocks> {
  l.callsBefore.push(l.lab.calls().length);
  const run = await pulumiUp(l.lab.dir, raw, l.ssh.privateKey, { otherConfig: { "kubernetes:kubeconfig": l.kubeconfig } });
  l.runs.push(run);
  return run;
}

/** The config without versions: the control plane in order, pools by selector, hosts with the lab's host key. */
function liveConfig(l: LiveLab, pools: { name: string; selector: string; maxUnavailable: number }[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    clusterName: "lab",
    targetVersion: "1.37",
    controlPlane: { order: l.controlPlane },
    pools,
    hosts: Object.fromEntries(l.nodes.map((n) => [n, { hostKey: l.ssh.hostKey }])),
    ssh: { user: "root", port: l.ssh.port },
    etcd: { endpoint: etcd.endpoint, caCert: etcd.caCert, cert: etcd.cert, key: etcd.key, backupDir: BACKUP_DIR },
    readyTimeoutSeconds: 60,
    ...extra,
  };
}

/** A registered remote command: its node, the version of its hop (undefined for a name without one) and its action. */
interface CommandIntent {
  readonly name: string;
  readonly node: string;
  readonly version?: string;
}

/** The remote commands an up registered, each read back to its node (a lab node name follows "lab-") and version. */
function intents(l: LiveLab, run: LabMocks): CommandIntent[] {
  const byLength = [...l.nodes].sort((a, b) => b.length - a.length);
  return run.resources
    .filter((r) => r.type === REMOTE_COMMAND)
    .map((r) => {
      const node = byLength.find((n) => r.name.startsWith(`lab-${n}-`));
      if (node === undefined) throw new Error(`command ${r.name} names no lab node`);
      const version = /-v(\d+\.\d+\.\d+)(-|$)/.exec(r.name.slice(`lab-${node}`.length))?.[1];
      return { name: r.name, node, ...(version ? { version } : {}) };
    });
}

/**
 * What one up's registered commands were: "control-plane <version>", "workers <version>",
 * "nothing", or "mixed: ...", leaving out the commands of `resumed` (nodes resumed first).
 */
function waveOf(l: LiveLab, run: LabMocks, resumed: readonly string[] = []): string {
  const commands = intents(l, run).filter((c) => !resumed.includes(c.node));
  if (commands.length === 0) return "nothing";
  const versions = [...new Set(commands.map((c) => c.version ?? "?"))];
  const onControlPlane = commands.every((c) => l.controlPlane.includes(c.node));
  const onWorkers = commands.every((c) => !l.controlPlane.includes(c.node));
  if (versions.length !== 1 || !(onControlPlane || onWorkers)) return `mixed: ${commands.map((c) => c.name).join(", ")}`;
  return `${onControlPlane ? "control-plane" : "workers"} ${versions[0]}`;
}

/** Nodes whose commands an up registered. */
const nodesOf = (l: LiveLab, run: LabMocks) => [...new Set(intents(l, run).map((c) => c.node))].sort();

/** The commands of `runs` that ran and succeeded, by name. */
function succeeded(runs: readonly LabMocks[]): string[] {
  return runs.flatMap((r) => r.ran.filter((name) => !r.failed.some((f) => f.name === name)));
}

/** `kubectl drain NODE` calls, each with the hop it belongs to (the last `kubeadm upgrade apply` before it). */
function drains(calls: readonly LabCall[]): { node: string; hop: string }[] {
  let hop = "(none)";
  const out: { node: string; hop: string }[] = [];
  for (const c of calls) {
    if (c.command === "kubeadm" && c.args[0] === "upgrade" && c.args[1] === "apply") hop = c.args[2]!.replace(/^v/, "");
    const at = c.args.indexOf("drain");
    if (c.command === "kubectl" && at >= 0) out.push({ node: c.args[at + 1]!, hop });
  }
  return out;
}

function expectAtTarget(l: LiveLab, version: string): void {
  for (const name of l.nodes) {
    const s = l.lab.nodeState(name);
    expect([name, s.kubeletRunning, s.packages.kubelet, s.cordoned]).toEqual([name, version, expect.stringMatching(new RegExp(`^${version.replaceAll(".", "\\.")}-`)), false]);
    if (l.controlPlane.includes(name)) {
      const { etcd: etcdTag, ...kube } = s.staticPods;
      expect([name, kube]).toEqual([name, { "kube-apiserver": `v${version}`, "kube-controller-manager": `v${version}`, "kube-scheduler": `v${version}` }]);
      expect(etcdTag).toMatch(/^\d+\.\d+\.\d+-\d+$/);
    }
  }
}

describe("a 3-control-plane, two-pool cluster read live, 1.34.6 -> 1.37, one wave per pulumi up", () => {
  const CONTROL_PLANE = ["cp-1", "cp-2", "cp-3"];
  const POOLS = [
    { name: "general", selector: "pool=general", maxUnavailable: 2, nodes: ["general-1", "general-2", "general-3"] },
    { name: "compute", selector: "pool=compute", maxUnavailable: 1, nodes: ["compute-1", "compute-2"] },
  ];
  const WORKERS = POOLS.flatMap((p) => p.nodes);
  let l: LiveLab;
  let raw: Record<string, unknown>;
  /** Which ups had a failure injected, and the failed command expected. */
  const injected = new Map<number, string>();

  beforeAll(async () => {
    l = await startLiveLab([
      ...CONTROL_PLANE.map((name): LabNodeSpec => ({ name, role: "control-plane", version: "1.34.6" })),
      ...POOLS.flatMap((p) => p.nodes.map((name): LabNodeSpec => ({ name, role: "worker", version: "1.34.6", labels: { pool: p.name }, pods: [{ name: `${name}-web`, namespace: "default", owner: "ReplicaSet" }] }))),
    ]);
    raw = liveConfig(l, POOLS.map(({ nodes: _n, ...p }) => p));
    await up(l, raw); // the control plane's part of 1.35.9
    // The first worker wave fails on general-2's kubelet package (after its drain).
    l.lab.injectFailure("general-2", "kubelet=1.35.9");
    injected.set(l.runs.length, "lab-general-2-v1.35.9-upgrade-kubelet");
    await up(l, raw);
    l.lab.clearFailures();
    await up(l, raw); // finishes that wave
    await up(l, raw); // the control plane's part of 1.36.4
    // The second worker wave fails on compute-2's uncordon, after its kubelet caught up (kubectl runs on the control plane).
    for (const cp of CONTROL_PLANE) l.lab.injectFailure(cp, "uncordon compute-2");
    injected.set(l.runs.length, "lab-compute-2-v1.36.4-uncordon");
    await up(l, raw);
    l.lab.clearFailures();
    // Then up after up until one registers no command (1.37.1's two waves, the last; at most 6 more).
    while (l.runs.length < 11 && intents(l, l.runs[l.runs.length - 1]!).length > 0) await up(l, raw);
  });

  afterAll(() => stopLiveLab(l));

  it("runs one wave per up, in the documented order, until an up registers nothing", () => {
    expect(l.runs.map((r, i) => waveOf(l, r, i === 5 ? ["compute-2"] : []))).toEqual([
      "control-plane 1.35.9",
      "workers 1.35.9", // general-2 fails
      "workers 1.35.9", // general-1 resumed first (its uncordon had not started), then the rest of that wave
      "control-plane 1.36.4",
      "workers 1.36.4", // compute-2's uncordon, the wave's last step, fails
      "control-plane 1.37.1", // compute-2 resumed first
      "workers 1.37.1",
      "nothing",
    ]);
    const last = l.runs[l.runs.length - 1]!;
    expect([last.ran, last.failed, last.resources.filter((r) => r.type === REMOTE_COMMAND)]).toEqual([[], [], []]);
  });

  it("registers every worker once per hop in its worker wave, the control plane in its own", () => {
    expect(nodesOf(l, l.runs[0]!)).toEqual(CONTROL_PLANE);
    expect(nodesOf(l, l.runs[2]!)).toEqual([...WORKERS].sort()); // all but general-2 were left to do, or to resume
    expect(nodesOf(l, l.runs[3]!)).toEqual(CONTROL_PLANE);
    expect(nodesOf(l, l.runs[4]!)).toEqual([...WORKERS].sort());
    expect(nodesOf(l, l.runs[6]!)).toEqual([...WORKERS].sort());
  });

  it("fails only where a failure was injected", () => {
    l.runs.forEach((r, i) => expect([i, r.failed.map((f) => f.name), r.result()]).toEqual([i, injected.has(i) ? [injected.get(i)] : [], injected.has(i) ? "failed" : "succeeded"]));
  });

  it("finishes a failed wave with the next up: the failed node's steps from the failed one on, nothing that had succeeded", () => {
    const [, failedUp, resumeUp] = l.runs;
    const done = succeeded([failedUp!]);
    expect(done).toEqual(expect.arrayContaining(["lab-general-2-v1.35.9-drain"]));
    for (const name of done) expect(resumeUp!.ran).not.toContain(name);
    expect(resumeUp!.ran).toContain("lab-general-2-v1.35.9-upgrade-kubelet");
    expect(resumeUp!.ran.filter((n) => n.startsWith("lab-general-2-"))).not.toContain("lab-general-2-v1.35.9-drain");
    expect(resumeUp!.failed).toEqual([]);
  });

  it("gives a node left cordoned after its upgrade only a resume step", () => {
    const resumeUp = l.runs[5]!;
    // Its wait Ready had succeeded in the failed up (the same command, left alone); its uncordon runs.
    expect(intents(l, resumeUp).filter((c) => c.node === "compute-2").map((c) => c.name)).toEqual(["lab-compute-2-v1.36.4-wait-ready", "lab-compute-2-v1.36.4-uncordon"]);
    expect(resumeUp.ran.filter((n) => n.startsWith("lab-compute-2-"))).toEqual(["lab-compute-2-v1.36.4-uncordon"]);
    expect(resumeUp.ran.indexOf("lab-compute-2-v1.36.4-uncordon")).toBe(0);
    // The calls of that up on compute-2's machine change nothing (no package, no kubeadm): only reads.
    const calls = l.lab.calls().slice(l.callsBefore[5], l.callsBefore[6]);
    expect(calls.filter((c) => c.node === "compute-2" && ["apt-get", "kubeadm", "systemctl"].includes(c.command) && !c.args.includes("is-active"))).toEqual([]);
    expect(calls.some((c) => c.command === "kubectl" && c.args.includes("uncordon") && c.args.includes("compute-2"))).toBe(true);
  });

  it("never runs a step twice across ups", () => {
    const all = succeeded(l.runs);
    expect(all.filter((name, i) => all.indexOf(name) !== i)).toEqual([]);
    // The lab's own log: no node drained twice in a hop, every worker drained in the first; every kubeadm step once.
    const calls = l.lab.calls();
    const drained = drains(calls).map((d) => `${d.node} ${d.hop}`);
    expect(drained.filter((d, i) => drained.indexOf(d) !== i)).toEqual([]);
    expect(drained.filter((d) => d.endsWith(" 1.35.9")).sort()).toEqual(WORKERS.map((n) => `${n} 1.35.9`).sort());
    for (const hop of HOPS) {
      expect(calls.filter((c) => c.command === "kubeadm" && c.args.join(" ").startsWith(`upgrade apply v${hop}`)).map((c) => c.node)).toEqual(["cp-1"]);
      const nodeUpgrades = calls.filter((c) => c.command === "apt-get" && c.args.includes(`kubeadm=${hop}-*`)).map((c) => c.node).sort();
      expect(nodeUpgrades).toEqual([...l.nodes].sort());
    }
  });

  it("leaves the cluster at 1.37.1: every kubelet and static pod, uncordoned", () => {
    expectAtTarget(l, "1.37.1");
    expect(l.lab.clusterVersion()).toBe("1.37.1");
  });

  describe("a declared config that lags the cluster", () => {
    it("is refused with a DriftError before anything is registered or run", async () => {
      const node = (name: string) => ({ name, host: l.ssh.hostOf(name), hostKey: l.ssh.hostKey, version: "1.34.6" });
      const { hosts: _hosts, ...rest } = raw;
      const declared = {
        ...rest,
        controlPlane: { nodes: CONTROL_PLANE.map(node) },
        pools: POOLS.map((p) => ({ name: p.name, strategy: "rolling", maxUnavailable: p.maxUnavailable, nodes: p.nodes.map(node) })),
      };
      const before = l.lab.calls().length;
      const error = await pulumiUp(l.lab.dir, declared, l.ssh.privateKey, { otherConfig: { "kubernetes:kubeconfig": l.kubeconfig } }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      // The program loads its own copy of config/drift.ts: compare by name, not instanceof.
      expect(error?.name).toBe("DriftError");
      expect(error?.message).toMatch(/cp-1\s+kubelet\s+1\.34\.6\s+1\.37\.1/);
      expect(l.lab.calls().slice(before)).toEqual([]);
    });
  });
});

describe("maxNodesPerUpdate: 40 workers, at most 10 per up", () => {
  const WORKERS = Array.from({ length: 40 }, (_, i) => `w-${i + 1}`);
  let l: LiveLab;

  beforeAll(async () => {
    l = await startLiveLab([
      { name: "cp-1", role: "control-plane", version: "1.36.4" },
      ...WORKERS.map((name): LabNodeSpec => ({ name, role: "worker", version: "1.36.4", labels: { pool: "work" } })),
    ]);
    const raw = liveConfig(l, [{ name: "work", selector: "pool=work", maxUnavailable: 5 }], { maxNodesPerUpdate: 10 });
    for (let more = true; more && l.runs.length < 8; ) more = intents(l, await up(l, raw)).length > 0;
  });

  afterAll(() => stopLiveLab(l));

  it("takes the control plane, then four worker waves of 10, then an up that runs nothing", () => {
    expect(l.runs.map((r) => waveOf(l, r))).toEqual(["control-plane 1.37.1", "workers 1.37.1", "workers 1.37.1", "workers 1.37.1", "workers 1.37.1", "nothing"]);
    expect(l.runs.map((r) => r.failed)).toEqual(l.runs.map(() => []));
    const waves = l.runs.slice(1, 5).map((r) => nodesOf(l, r));
    for (const wave of waves) expect(wave).toHaveLength(10);
    expect(waves.flat().sort()).toEqual([...WORKERS].sort());
    expect(l.runs[5]!.ran).toEqual([]);
  });

  it("changes only the registered workers in each up (the lab's calls)", () => {
    for (let i = 1; i <= 4; i++) {
      const touched = new Set(l.lab.calls().slice(l.callsBefore[i], l.callsBefore[i + 1]).filter((c) => WORKERS.includes(c.node) && c.command === "apt-get").map((c) => c.node));
      expect([...touched].sort()).toEqual(nodesOf(l, l.runs[i]!));
    }
  });

  it("leaves every node at 1.37.1", () => {
    expectAtTarget(l, "1.37.1");
  });
});
