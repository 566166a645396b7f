/**
 * OS patching carried out in the lab by the real program: with an upgrade due it shares the
 * upgrade's drain; without one, bumping the revision patches every node again, in batches of
 * maxUnavailable, rebooting where the OS asks and waiting for the node to come back.
 */
import { checkSkew } from "../../planning/skew";
import { LabEtcd, startEtcd } from "../lab/etcd";
import { createLab, isMutating, Lab, LabCall, STANDINS_DIR } from "../lab/node-kit";
import { pulumiUp } from "../lab/program-run";
import { SshLab, startSshLab } from "../lab/ssh-lab";
import { replay } from "../lab/timeline";

/** The backup directory as the stack config gives it; in the lab, etcd-snapshot.sh keeps it under cp-1's node root. */
const BACKUP_DIR = "/var/lib/cluster-maintenance/etcd-backups";
jest.setTimeout(600_000);

const WORKERS = ["general-1", "general-2", "general-3"];
const ALL = ["cp-1", ...WORKERS];
let lab: Lab;
let ssh: SshLab;
let etcd: LabEtcd;

function config(version: string, revision: string): Record<string, unknown> {
  const node = (name: string) => ({ name, host: ssh.hostOf(name), hostKey: ssh.hostKey, version });
  return {
    clusterName: "lab",
    targetVersion: "1.37.1",
    controlPlane: { nodes: [node("cp-1")] },
    pools: [{ name: "general", maxUnavailable: 2, osPatchRevision: revision, nodes: WORKERS.map(node) }],
    ssh: { user: "root", port: ssh.port },
    etcd: { endpoint: etcd.endpoint, caCert: etcd.caCert, cert: etcd.cert, key: etcd.key, backupDir: BACKUP_DIR },
    readyTimeoutSeconds: 60,
  };
}

/** kubectl calls with `verb` on `node` (flags left out). */
const kubectl = (calls: readonly LabCall[], verb: string, node: string) =>
  calls.filter((c) => c.command === "kubectl" && c.args.filter((a) => !a.startsWith("-"))[0] === verb && c.args.includes(node));
const reboots = (calls: readonly LabCall[], node: string) => calls.filter((c) => c.node === node && c.command === "systemctl" && c.args[0] === "reboot");

beforeAll(async () => {
  lab = createLab({
    nodes: [
      { name: "cp-1", role: "control-plane", version: "1.36.4" },
      ...WORKERS.map((name) => ({ name, role: "worker" as const, version: "1.36.4", rebootAfterOsUpgrade: true, pods: [{ name: `${name}-web`, namespace: "default", owner: "ReplicaSet" as const }] })),
    ],
  });
  ssh = await startSshLab({ labDir: lab.dir, nodes: ALL, standinsDir: STANDINS_DIR });
  etcd = await startEtcd();
  await etcd.put("/registry/namespaces/default", "{}");
});

afterAll(async () => {
  await ssh?.stop();
  await etcd?.stop();
  lab?.cleanup();
});

describe("an OS patch due with an upgrade", () => {
  let before: Record<string, string>;
  beforeAll(async () => {
    before = Object.fromEntries(WORKERS.map((n) => [n, lab.nodeState(n).bootId]));
    const run = await pulumiUp(lab.dir, config("1.36.4", "2026-11"), ssh.privateKey);
    expect(run.failed).toEqual([]);
  });

  it("upgrades and patches each worker inside one drain, rebooting it and waiting for it", () => {
    const calls = lab.calls();
    for (const n of WORKERS) {
      const s = lab.nodeState(n);
      expect([n, kubectl(calls, "cordon", n).length, kubectl(calls, "drain", n).length, reboots(calls, n).length]).toEqual([n, 1, 1, 1]);
      expect(s.kubeletRunning).toBe("1.37.1");
      expect(s.markers).toContain("os-patch-2026-11");
      expect(s.bootId).not.toBe(before[n]);
      expect([n, s.cordoned, s.kubeletActive]).toEqual([n, false, true]);
    }
  });

  it("runs nothing on the next pulumi up", async () => {
    const count = lab.calls().length;
    const run = await pulumiUp(lab.dir, config("1.36.4", "2026-11"), ssh.privateKey);
    expect(run.ran).toEqual([]);
    expect(lab.calls()).toHaveLength(count);
  });
});

describe("a new revision with no upgrade due", () => {
  let from: number;
  beforeAll(async () => {
    from = lab.calls().length;
    const run = await pulumiUp(lab.dir, config("1.37.1", "2026-12"), ssh.privateKey);
    expect(run.failed).toEqual([]);
  });

  it("patches every worker again, cordoned and uncordoned, at most maxUnavailable at once", () => {
    const calls = lab.calls().slice(from);
    for (const n of WORKERS) {
      // The first drain evicted the node's pods and they do not come back, so drain.sh cordons
      // and finds nothing left to evict. No OS package is pending any more, so the OS asks for
      // no reboot and the wait does not wait for one.
      expect([n, kubectl(calls, "cordon", n).length, kubectl(calls, "uncordon", n).length, reboots(calls, n).length]).toEqual([n, 1, 1, 0]);
      expect(calls.some((c) => c.node === n && c.command === "apt-get" && c.args.filter((a) => !a.startsWith("-") && !a.includes("::"))[0] === "upgrade")).toBe(true);
      expect(lab.nodeState(n).markers).toEqual(expect.arrayContaining(["os-patch-2026-11", "os-patch-2026-12"]));
      expect(lab.nodeState(n).cordoned).toBe(false);
    }
    expect(calls.filter(isMutating).some((c) => c.node === "cp-1" && c.command !== "kubectl")).toBe(false);
    const moments = replay(lab.calls(), ALL.map((name) => ({ name, pool: name === "cp-1" ? "control-plane" : "general", version: "1.36.4" })));
    for (const m of moments) {
      expect(WORKERS.filter((n) => m.cordoned.has(n)).length).toBeLessThanOrEqual(2);
      expect(checkSkew(m.nodes)).toEqual([]);
    }
  });
});
