/**
 * Backups against a real etcd 3.4 (TLS, loopback): etcd-snapshot.sh with a test restore,
 * etcd-restore.sh on lab control-plane nodes (the whole cycle, and the phases stop, restore, start across
 * three members that then form one cluster), upload-snapshot.sh against the aws stand-in.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { scriptText } from "../../components/node-scripts";
import { startEtcd, type LabEtcd } from "../lab/etcd";
import { createLab, runCommand, scriptCommand, STANDINS_DIR, type Lab } from "../lab/node-kit";
import { stopProcess } from "../lab/processes";
import { cp, expectExit } from "../node-scripts/support";

let etcd: LabEtcd;
let lab: Lab;
const root = () => path.join(lab.dir, "nodes", "cp-1", "root");
const backupDir = (n: string) => path.join(root(), "var", "backups", n);
const dbs = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".db")).sort() : []);

function ctl(endpoint: string, args: string[], tlsOn = true): Promise<string> {
  const tls = tlsOn ? ["--cacert", etcd.caCert, "--cert", etcd.cert, "--key", etcd.key] : [];
  return new Promise((resolve, reject) =>
    execFile("etcdctl", ["--endpoints", endpoint, ...tls, "--command-timeout=5s", ...args], { env: { ...process.env, ETCDCTL_API: "3" }, timeout: 10_000, maxBuffer: 64 << 20 },
      (err, out, errOut) => (err ? reject(new Error(`${err.message} ${errOut}`)) : resolve(out))),
  );
}
function decodeAll(json: string): Record<string, string> {
  const out = JSON.parse(json) as { kvs?: { key: string; value?: string }[] };
  const d = (b: string) => Buffer.from(b, "base64").toString("utf8");
  return Object.fromEntries((out.kvs ?? []).map((kv) => [d(kv.key), d(kv.value ?? "")]));
}
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
const snapshot = (dir: string, label: string, verify = "restore", keep = "5") =>
  lab.runScript("cp-1", "etcd-snapshot.sh", [dir, label, etcd.endpoint, etcd.caCert, etcd.cert, etcd.key, verify, keep], { timeoutMs: 60_000 });
const fileOf = (stdout: string) => /^snapshot (\S+) revision (\d+) /.exec(stdout)!;

/** Starts a plain etcd on a restored data dir (name/peer as restored), returns all its keys, stops it. */
async function keysOfRestored(dataDir: string, name: string, peerPort: number): Promise<Record<string, string>> {
  const client = await freePort();
  const ep = `http://127.0.0.1:${client}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const p: ChildProcess = spawn("etcd", ["--name", name, "--data-dir", dataDir, "--listen-client-urls", ep, "--advertise-client-urls", ep,
    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", `${name}=${peer}`], { stdio: "ignore" });
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await ctl(ep, ["endpoint", "health", "--dial-timeout=1s"], false);
        break;
      } catch (e) {
        if (Date.now() > deadline || p.exitCode !== null) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return decodeAll(await ctl(ep, ["get", "", "--from-key", "-w", "json"], false));
  } finally {
    await stopProcess(p, 5_000);
  }
}

const APISERVER = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\nspec:\n  containers:\n  - image: registry.k8s.io/kube-apiserver:v1.34.6\n    name: kube-apiserver\n";
const ETCD = [
  "apiVersion: v1", "kind: Pod", "metadata:", "  name: etcd", "spec:", "  containers:", "  - command:", "    - etcd",
  "    - --data-dir=/var/lib/etcd", "    - --name=cp-1", "    image: registry.k8s.io/etcd:3.6.4-0", "    name: etcd", "    volumeMounts:",
  "    - mountPath: /var/lib/etcd", "      name: etcd-data", "  volumes:", "  - hostPath:", "      path: /var/lib/etcd", "      type: DirectoryOrCreate", "    name: etcd-data", "",
].join("\n");
function populateManifests(): string {
  const m = path.join(root(), "etc", "kubernetes", "manifests");
  fs.mkdirSync(m, { recursive: true });
  fs.writeFileSync(path.join(m, "kube-apiserver.yaml"), APISERVER);
  fs.writeFileSync(path.join(m, "etcd.yaml"), ETCD);
  fs.rmSync(path.join(root(), "etc", "kubernetes", "manifests-moved-by-cluster-maintenance"), { recursive: true, force: true });
  return m;
}
/** The etcd and kube-apiserver manifests in `dir` (a lab node may hold the other static pods too). */
const ours = (dir: string) => fs.readdirSync(dir).filter((f) => f === "etcd.yaml" || f === "kube-apiserver.yaml").sort();
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const f of fs.readdirSync(d).sort()) {
      const p = path.join(d, f);
      const st = fs.statSync(p);
      out.push(`${path.relative(dir, p)} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

beforeAll(async () => {
  etcd = await startEtcd();
  lab = createLab({ nodes: [cp("cp-1")] });
}, 30_000);
afterAll(async () => {
  await etcd?.stop();
  lab?.cleanup();
});

describe("verified snapshot and rehearsed restore with a real etcd 3.4", () => {
  let expected: Record<string, string> = {};
  let snapFile = "";

  test("snapshot (verify: restore), more writes and deletes, restore apply, the restored store holds exactly the snapshot's keys", async () => {
    for (let i = 0; i < 20; i++) await etcd.put(`/registry/lab/k-${i}`, `v-${i}`);
    await etcd.put("/registry/lab/k-0", "v-0-second"); // an overwrite and a delete before the snapshot
    await ctl(etcd.endpoint, ["del", "/registry/lab/k-1"]);
    expected = await etcd.getAll();
    const r = await snapshot(backupDir("main"), "before-v1.35.9");
    expectExit(r, 0);
    expect(r.stdout).toMatch(/\nverified: restore\n$/);
    expect(r.stderr).toMatch(/test restore: revision \d+, 19 keys \(as https:/);
    snapFile = fileOf(r.stdout)[1]!;
    expect(fs.readdirSync(backupDir("main")).sort()).toEqual([path.basename(snapFile), `${path.basename(snapFile)}.sha256`, `${path.basename(snapFile)}.verified`]); // scratch dir gone
    expect(fs.readFileSync(`${snapFile}.verified`, "utf8")).toMatch(/^mode=restore revision=\d+ totalKey=\d+ totalSize=\d+ hash=\d+ liveKeys=19 sha256=[0-9a-f]{64} verifiedAt=\S+\n$/);

    for (let i = 20; i < 30; i++) await etcd.put(`/registry/lab/k-${i}`, `v-${i}`);
    await ctl(etcd.endpoint, ["del", "/registry/lab/k-2"]);
    await etcd.put("/registry/lab/k-3", "changed");

    const m = populateManifests();
    const peerPort = await freePort();
    const data = path.join(root(), "var", "lib", "etcd-restored");
    const a = await lab.runScript("cp-1", "etcd-restore.sh", [snapFile, "cp-1", `cp-1=http://127.0.0.1:${peerPort}`, `http://127.0.0.1:${peerPort}`, data, "apply"], { timeoutMs: 60_000 });
    expectExit(a, 0);
    const etcdYaml = fs.readFileSync(path.join(m, "etcd.yaml"), "utf8");
    expect(etcdYaml).toBe(ETCD.replaceAll("/var/lib/etcd", data));
    expect(fs.readFileSync(path.join(m, "kube-apiserver.yaml"), "utf8")).toBe(APISERVER);
    const steps = a.stdout.split("\n").filter((l) => l.startsWith("doing: ")).map((l) => l.split(" ").slice(1, 3).join(" "));
    expect(steps).toEqual(["move " + path.join(m, "kube-apiserver.yaml"), "wait (at", "move " + path.join(m, "etcd.yaml"), "wait (at", "env ETCDCTL_API=3", "point etcd.yaml's", "move " + path.join(root(), "etc/kubernetes/manifests-moved-by-cluster-maintenance/etcd.yaml"), "move " + path.join(root(), "etc/kubernetes/manifests-moved-by-cluster-maintenance/kube-apiserver.yaml")]);

    expect(await keysOfRestored(data, "cp-1", peerPort)).toEqual(expected);

    const again = await lab.runScript("cp-1", "etcd-restore.sh", [snapFile, "cp-1", `cp-1=http://127.0.0.1:${peerPort}`, `http://127.0.0.1:${peerPort}`, data, "apply"]);
    expectExit(again, 0);
    expect(again.stderr).toContain("already done");
    // A new restore into the (now non-empty) data dir is refused.
    populateManifests();
    const busy = await lab.runScript("cp-1", "etcd-restore.sh", [snapFile, "cp-1", `cp-1=http://127.0.0.1:${peerPort}`, `http://127.0.0.1:${peerPort}`, data, "apply"]);
    expectExit(busy, 6);
    expect(busy.stderr).toContain(`cluster-maintenance: etcd-restore.sh: cp-1: DATA_DIR ${data} exists and is not empty`);
  });

  test("dry-run prints every action and changes nothing", async () => {
    const m = populateManifests();
    const before = tree(path.join(root(), "etc"));
    const data = path.join(root(), "var", "lib", "etcd-dry");
    const r = await lab.runScript("cp-1", "etcd-restore.sh", [snapFile, "cp-1", "cp-1=https://10.0.0.1:2380,cp-2=https://10.0.0.2:2380", "https://10.0.0.1:2380", data, "dry-run"]);
    expectExit(r, 0);
    const would = r.stdout.split("\n").filter((l) => l.startsWith("would: "));
    expect(would).toHaveLength(8);
    expect(would[0]).toBe(`would: move ${m}/kube-apiserver.yaml to ${path.dirname(m)}/manifests-moved-by-cluster-maintenance/`);
    expect(would[4]).toBe(`would: env ETCDCTL_API=3 etcdctl snapshot restore ${snapFile} --name cp-1 --initial-cluster cp-1=https://10.0.0.1:2380,cp-2=https://10.0.0.2:2380 --initial-advertise-peer-urls https://10.0.0.1:2380 --data-dir ${data}`);
    expect(r.stdout).not.toContain("doing:");
    expect(tree(path.join(root(), "etc"))).toEqual(before);
    expect(fs.existsSync(data)).toBe(false);
  });

  test("restore rejects bad arguments (exit 2)", async () => {
    const ok = [snapFile, "cp-1", "cp-1=https://10.0.0.1:2380", "https://10.0.0.1:2380", "/var/lib/etcd-new", "dry-run", "stop"];
    for (const [i, bad] of [[0, "rel.db"], [1, "CP_1"], [2, "cp-2=https://10.0.0.2:2380"], [3, "https://x;y:2380"], [4, "/var/lib/../etc"], [5, "go"], [6, "halt"], [6, ""]] as const) {
      const args = [...ok];
      args[i] = bad;
      expectExit(await lab.runScript("cp-1", "etcd-restore.sh", args), 2);
    }
    const extra = await lab.runScript("cp-1", "etcd-restore.sh", [...ok, "more"]);
    expectExit(extra, 2);
    expect(extra.stderr).toContain("usage: etcd-restore.sh SNAPSHOT NAME INITIAL_CLUSTER PEER_URL DATA_DIR MODE [PHASE]");
    const phase = await lab.runScript("cp-1", "etcd-restore.sh", [...ok.slice(0, 6), "halt"]);
    expect(phase.stderr).toContain("PHASE must be 'stop', 'restore', 'start' or 'all', not 'halt'");
  });

  describe("phases (stop on every member, then restore on every member, then start)", () => {
    const moved = () => path.join(root(), "etc", "kubernetes", "manifests-moved-by-cluster-maintenance");
    const doing = (stdout: string) => stdout.split("\n").filter((l) => l.startsWith("doing: "));
    const would = (stdout: string) => stdout.split("\n").filter((l) => l.startsWith("would: "));
    const phaseArgs = (data: string, peerPort: number, mode: string, phase: string) =>
      [snapFile, "cp-1", `cp-1=http://127.0.0.1:${peerPort}`, `http://127.0.0.1:${peerPort}`, data, mode, phase];
    const run = (data: string, peerPort: number, mode: string, phase: string) =>
      lab.runScript("cp-1", "etcd-restore.sh", phaseArgs(data, peerPort, mode, phase), { timeoutMs: 60_000 });

    test("stop -> restore -> start on the member gives exactly the snapshot's keys; every phase re-run says already done", async () => {
      const m = populateManifests();
      const mv = moved();
      const peerPort = await freePort();
      const data = path.join(root(), "var", "lib", "etcd-phased");

      const stop = await run(data, peerPort, "apply", "stop");
      expectExit(stop, 0);
      expect(doing(stop.stdout)).toEqual([
        `doing: move ${m}/kube-apiserver.yaml to ${mv}/`, "doing: wait (at most 120 s) until kube-apiserver is stopped (no kube-apiserver process, nothing listening on port 6443)",
        `doing: move ${m}/etcd.yaml to ${mv}/`, `doing: wait (at most 120 s) until etcd is stopped (no etcd process, nothing listening on port 2379, 2380, ${peerPort})`,
      ]);
      expect(stop.stdout).toContain(`checked: ${snapFile} matches its sha256`);
      expect(ours(m)).toEqual([]);
      expect(fs.readFileSync(path.join(mv, "etcd.yaml"), "utf8")).toBe(ETCD);
      expect(fs.existsSync(data)).toBe(false);
      const stopAgain = await run(data, peerPort, "apply", "stop");
      expectExit(stopAgain, 0);
      expect(doing(stopAgain.stdout)).toEqual([]);
      expect(stopAgain.stderr).toContain(`cluster-maintenance: etcd-restore.sh: cp-1: already done: kube-apiserver and etcd are stopped (their manifests are in ${mv})`);

      const restore = await run(data, peerPort, "apply", "restore");
      expectExit(restore, 0);
      expect(doing(restore.stdout)).toEqual([
        `doing: env ETCDCTL_API=3 etcdctl snapshot restore ${snapFile} --name cp-1 --initial-cluster cp-1=http://127.0.0.1:${peerPort} --initial-advertise-peer-urls http://127.0.0.1:${peerPort} --data-dir ${data}`,
        `doing: point etcd.yaml's --data-dir, hostPath and mountPath /var/lib/etcd at ${data} (original kept as ${mv}/etcd.yaml.before-restore)`,
      ]);
      expect(ours(m)).toEqual([]); // nothing started yet
      expect(fs.readFileSync(path.join(mv, "etcd.yaml"), "utf8")).toBe(ETCD.replaceAll("/var/lib/etcd", data));
      expect(fs.readFileSync(path.join(mv, "etcd.yaml.before-restore"), "utf8")).toBe(ETCD);
      const restoreAgain = await run(data, peerPort, "apply", "restore");
      expectExit(restoreAgain, 0);
      expect(doing(restoreAgain.stdout)).toEqual([]);
      expect(restoreAgain.stderr).toContain(`already done: restored into ${data} and ${mv}/etcd.yaml points at it`);
      expectExit(await run(data, peerPort, "apply", "stop"), 0); // still stopped: nothing to do

      const start = await run(data, peerPort, "apply", "start");
      expectExit(start, 0);
      expect(doing(start.stdout)).toEqual([`doing: move ${mv}/etcd.yaml back to ${m}/`, `doing: move ${mv}/kube-apiserver.yaml back to ${m}/`]);
      expect(start.stdout).toContain("the old data dir /var/lib/etcd is left untouched");
      expect(fs.readFileSync(path.join(m, "etcd.yaml"), "utf8")).toBe(ETCD.replaceAll("/var/lib/etcd", data));
      expect(fs.readFileSync(path.join(m, "kube-apiserver.yaml"), "utf8")).toBe(APISERVER);
      expect(fs.existsSync(path.join(mv, "restored-into"))).toBe(false);

      for (const phase of ["start", "restore", "stop", "all"]) {
        const r = await run(data, peerPort, "apply", phase);
        expectExit(r, 0);
        expect(doing(r.stdout)).toEqual([]);
        expect(r.stderr).toContain(`already done: ${m}/etcd.yaml points at ${data}`);
      }
      expect(await keysOfRestored(data, "cp-1", peerPort)).toEqual(expected);
    });

    test("a start interrupted after etcd.yaml went back brings kube-apiserver back when re-run", async () => {
      const m = populateManifests();
      const mv = moved();
      const peerPort = await freePort();
      const data = path.join(root(), "var", "lib", "etcd-half");
      for (const phase of ["stop", "restore"]) expectExit(await run(data, peerPort, "apply", phase), 0);
      fs.renameSync(path.join(mv, "etcd.yaml"), path.join(m, "etcd.yaml")); // as if start stopped there
      const r = await run(data, peerPort, "apply", "start");
      expectExit(r, 0);
      expect(doing(r.stdout)).toEqual([`doing: move ${mv}/kube-apiserver.yaml back to ${m}/`]);
      expect(r.stderr).toContain(`already back: ${m}/etcd.yaml`);
      expect(ours(m).sort()).toEqual(["etcd.yaml", "kube-apiserver.yaml"]);
    });

    test("out of order: restore before stop and start before restore are refused (exit 6) with the phase to run first, changing nothing", async () => {
      const m = populateManifests();
      const mv = moved();
      const data = path.join(root(), "var", "lib", "etcd-order");
      const args = (phase: string) => `etcd-restore.sh ${snapFile} cp-1 cp-1=https://10.0.0.1:2380 https://10.0.0.1:2380 ${data} apply ${phase}`;
      const at = (mode: string, phase: string) =>
        lab.runScript("cp-1", "etcd-restore.sh", [snapFile, "cp-1", "cp-1=https://10.0.0.1:2380", "https://10.0.0.1:2380", data, mode, phase]);
      const before = tree(path.join(root(), "etc"));

      const restore = await at("apply", "restore");
      expectExit(restore, 6);
      expect(restore.stderr).toBe(`cluster-maintenance: etcd-restore.sh: cp-1: restore refused: kube-apiserver.yaml is still in ${m}; run first, on every member: ${args("stop")}\n`);
      const start = await at("apply", "start");
      expectExit(start, 6);
      expect(start.stderr).toBe(`cluster-maintenance: etcd-restore.sh: cp-1: start refused: ${m}/etcd.yaml does not point at a restored ${data}; run first, on every member: ${args("stop")}, then ${args("restore")}\n`);
      expect(tree(path.join(root(), "etc"))).toEqual(before);
      expect(fs.existsSync(data)).toBe(false);

      // kube-apiserver put back by hand after the stop: restore still refused.
      expectExit(await at("apply", "stop"), 0);
      fs.renameSync(path.join(mv, "kube-apiserver.yaml"), path.join(m, "kube-apiserver.yaml"));
      expect((await at("apply", "restore")).stderr).toContain("restore refused: kube-apiserver.yaml is still in");
      fs.renameSync(path.join(m, "kube-apiserver.yaml"), path.join(mv, "kube-apiserver.yaml"));
      const early = await at("apply", "start");
      expectExit(early, 6);
      expect(early.stderr).toContain(`start refused: ${mv}/etcd.yaml does not point at a restored ${data}`);
      expect(ours(m)).toEqual([]);
      expect(fs.existsSync(data)).toBe(false);
    });

    test("stop refuses before touching anything when the snapshot is missing or damaged, or DATA_DIR is taken", async () => {
      const m = populateManifests();
      const before = tree(path.join(root(), "etc"));
      const at = (snap: string, data: string) =>
        lab.runScript("cp-1", "etcd-restore.sh", [snap, "cp-1", "cp-1=https://10.0.0.1:2380", "https://10.0.0.1:2380", data, "apply", "stop"]);
      expectExit(await at(path.join(root(), "nope.db"), path.join(root(), "var", "lib", "etcd-x")), 3);
      const damaged = path.join(lab.dir, "damaged.db");
      fs.writeFileSync(damaged, "not a snapshot");
      fs.writeFileSync(`${damaged}.sha256`, `${"0".repeat(64)}  damaged.db\n`);
      expect((await at(damaged, path.join(root(), "var", "lib", "etcd-x"))).code).toBe(6);
      const taken = path.join(root(), "var", "lib", "etcd-taken");
      fs.mkdirSync(taken, { recursive: true });
      fs.writeFileSync(path.join(taken, "file"), "x");
      const busy = await at(snapFile, taken);
      expectExit(busy, 6);
      expect(busy.stderr).toContain(`DATA_DIR ${taken} exists and is not empty; choose a new data dir`);
      expect(tree(path.join(root(), "etc"))).toEqual(before);
      expect(ours(m).sort()).toEqual(["etcd.yaml", "kube-apiserver.yaml"]);
    });

    test("a dry-run of each phase prints its actions and changes nothing, in and out of order", async () => {
      const m = populateManifests();
      const mv = moved();
      const peerPort = await freePort();
      const data = path.join(root(), "var", "lib", "etcd-dry-phases");
      const dry = async (phase: string) => {
        const before = tree(path.join(root(), "etc"));
        const dataBefore = fs.existsSync(data) ? tree(data) : null;
        const r = await run(data, peerPort, "dry-run", phase);
        expectExit(r, 0);
        expect(doing(r.stdout)).toEqual([]);
        expect(tree(path.join(root(), "etc"))).toEqual(before);
        expect(fs.existsSync(data) ? tree(data) : null).toEqual(dataBefore);
        return r;
      };
      const stopLines = [
        `would: move ${m}/kube-apiserver.yaml to ${mv}/`, "would: wait (at most 120 s) until kube-apiserver is stopped (no kube-apiserver process, nothing listening on port 6443)",
        `would: move ${m}/etcd.yaml to ${mv}/`, `would: wait (at most 120 s) until etcd is stopped (no etcd process, nothing listening on port 2379, 2380, ${peerPort})`,
      ];
      const restoreLines = [
        `would: env ETCDCTL_API=3 etcdctl snapshot restore ${snapFile} --name cp-1 --initial-cluster cp-1=http://127.0.0.1:${peerPort} --initial-advertise-peer-urls http://127.0.0.1:${peerPort} --data-dir ${data}`,
        `would: point etcd.yaml's --data-dir, hostPath and mountPath /var/lib/etcd at ${data} (original kept as ${mv}/etcd.yaml.before-restore)`,
      ];
      const startLines = [`would: move ${mv}/etcd.yaml back to ${m}/`, `would: move ${mv}/kube-apiserver.yaml back to ${m}/`];

      // Before anything: each phase's actions; restore and start say they would be refused now.
      const s = await dry("stop");
      expect(would(s.stdout)).toEqual(stopLines);
      expect(s.stdout).not.toContain("note:");
      const r = await dry("restore");
      expect(would(r.stdout)).toEqual(restoreLines);
      expect(r.stdout).toContain(`note: kube-apiserver.yaml is still in ${m}; apply would refuse this phase now (run first, on every member: etcd-restore.sh`);
      const t = await dry("start");
      expect(would(t.stdout)).toEqual(startLines);
      expect(t.stdout).toContain(`note: ${m}/etcd.yaml does not point at a restored ${data}; apply would refuse this phase now`);

      expectExit(await run(data, peerPort, "apply", "stop"), 0);
      expect((await dry("stop")).stderr).toContain("already done: kube-apiserver and etcd are stopped");
      const r2 = await dry("restore");
      expect(would(r2.stdout)).toEqual(restoreLines);
      expect(r2.stdout).not.toContain("note:");

      expectExit(await run(data, peerPort, "apply", "restore"), 0);
      expect((await dry("restore")).stderr).toContain("already done: restored into");
      const t2 = await dry("start");
      expect(would(t2.stdout)).toEqual(startLines);
      expect(t2.stdout).not.toContain("note:");

      expectExit(await run(data, peerPort, "apply", "start"), 0);
      for (const phase of ["stop", "restore", "start"]) {
        const d = await dry(phase);
        expect(would(d.stdout)).toEqual([]);
        expect(d.stderr).toContain("already done:");
      }
    });
  });

  describe("etcd-restore.sh sees for itself that kube-apiserver and etcd stopped, bounded; the moved-manifests dir; the revision bump", () => {
    const mv = () => path.join(root(), "etc", "kubernetes", "manifests-moved-by-cluster-maintenance");
    const proc = () => path.join(root(), "proc");
    const fakeProcess = (pid: number, comm: string) => {
      fs.mkdirSync(path.join(proc(), String(pid)), { recursive: true });
      fs.writeFileSync(path.join(proc(), String(pid), "comm"), `${comm}\n`);
    };
    const TCP_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    const listen = (port: number) => {
      fs.mkdirSync(path.join(proc(), "net"), { recursive: true });
      const hex = port.toString(16).toUpperCase().padStart(4, "0");
      fs.writeFileSync(path.join(proc(), "net", "tcp"), `${TCP_HEADER}   0: 0100007F:${hex} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0 100 0 0 10 0\n`);
    };
    const clearProc = () => {
      for (const f of fs.existsSync(proc()) ? fs.readdirSync(proc()) : []) if (/^\d+$/.test(f) || f === "net") fs.rmSync(path.join(proc(), f), { recursive: true });
    };
    const args = (data: string, mode: string, phase: string) => [snapFile, "cp-1", "cp-1=https://10.0.0.1:2380", "https://10.0.0.1:2380", data, mode, phase];
    /** etcd-restore.sh as sent, with the lab's shorter stop deadline (the node root's lab/stop-wait-s). */
    const at = (data: string, mode: string, phase: string, waitS = 2, extraPath: string[] = []) => {
      fs.mkdirSync(path.join(root(), "lab"), { recursive: true });
      fs.writeFileSync(path.join(root(), "lab", "stop-wait-s"), `${waitS}\n`);
      return runCommand(lab, "cp-1", scriptCommand("etcd-restore.sh", args(data, mode, phase)), scriptText("etcd-restore.sh"), { extraPath, timeoutMs: 60_000 });
    };
    afterEach(() => {
      clearProc();
      fs.rmSync(path.join(root(), "lab"), { recursive: true, force: true });
    });

    test("stop waits for a kube-apiserver that still runs (no crictl needed) and gives up at its deadline (measured), exit 1; never 'already done'; restore refused meanwhile", async () => {
      const m = populateManifests();
      const data = path.join(root(), "var", "lib", "etcd-sees");
      fakeProcess(4242, "kube-apiserver");
      const started = Date.now();
      const stop = await at(data, "apply", "stop");
      const seconds = (Date.now() - started) / 1000;
      expectExit(stop, 1);
      expect(stop.stderr).toContain(`kube-apiserver still runs 2 s after its manifest was moved out of ${m}: a kube-apiserver process runs (pid 4242); not going on`);
      expect(seconds).toBeGreaterThanOrEqual(2);
      expect(seconds).toBeLessThan(8);
      expect(ours(m)).toEqual(["etcd.yaml"]); // etcd not touched: the stop went no further
      const again = await at(data, "apply", "stop");
      expect(again.stderr).not.toContain("already done");
      expectExit(again, 1);
      const restore = await at(data, "apply", "restore");
      expectExit(restore, 6);
      expect(restore.stderr).toContain("restore refused: kube-apiserver still runs: a kube-apiserver process runs (pid 4242)");

      // The process gone, etcd's client port still listening: stop waits for that too.
      clearProc();
      listen(2379);
      const port = await at(data, "apply", "stop");
      expectExit(port, 1);
      expect(port.stderr).toContain("etcd still runs 2 s after its manifest was moved out of");
      expect(port.stderr).toContain("port 2379 is listening");
      const r2 = await at(data, "apply", "restore");
      expectExit(r2, 6);
      expect(r2.stderr).toContain("restore refused: etcd still runs: port 2379 is listening");
      clearProc();
      const ok = await at(data, "apply", "stop");
      expectExit(ok, 0);
      expect(ours(m)).toEqual([]);
      expectExit(await at(data, "apply", "restore"), 0);

      // start: a kube-apiserver that kept running would serve its watch cache from before the restore.
      fakeProcess(777, "kube-apiserver");
      const start = await at(data, "apply", "start");
      expectExit(start, 6);
      expect(start.stderr).toContain("start refused: kube-apiserver still runs though its manifest is moved out (a kube-apiserver process runs (pid 777))");
      expect(ours(m)).toEqual([]);
      clearProc();
      const started2 = await at(data, "apply", "start");
      expectExit(started2, 0);
      expect(started2.stdout).toContain("restart every kube-apiserver");
      expect(ours(m)).toEqual(["etcd.yaml", "kube-apiserver.yaml"]);
    });

    test("a dry-run's hint names the apply to run first", async () => {
      populateManifests();
      const data = path.join(root(), "var", "lib", "etcd-hint");
      const r = await at(data, "dry-run", "restore");
      expectExit(r, 0);
      expect(r.stdout).toContain(`apply would refuse this phase now (run first, on every member: etcd-restore.sh ${args(data, "apply", "stop").join(" ")})`);
      expect(r.stdout).not.toContain("dry-run stop");
    });

    test("the moved-manifests dir: created 0700 when absent, an existing safe one left as it is, an unsafe one refused and not changed", async () => {
      const data = path.join(root(), "var", "lib", "etcd-moved");
      populateManifests();
      expectExit(await at(data, "apply", "stop"), 0);
      expect(fs.statSync(mv()).mode & 0o777).toBe(0o700);
      populateManifests();
      fs.mkdirSync(mv(), { mode: 0o755 });
      fs.chmodSync(mv(), 0o755);
      expectExit(await at(data, "apply", "stop"), 0);
      expect(fs.statSync(mv()).mode & 0o777).toBe(0o755); // was chmod 0700 by install -d
      const m = populateManifests();
      fs.mkdirSync(mv());
      fs.chmodSync(mv(), 0o777);
      const bad = await at(data, "apply", "stop");
      expectExit(bad, 6);
      expect(bad.stderr).toContain("mode 777: it must be root's and not group- or world-writable; refused");
      expect(fs.statSync(mv()).mode & 0o777).toBe(0o777);
      expect(ours(m)).toEqual(["etcd.yaml", "kube-apiserver.yaml"]);
    });

    test("restore uses etcdutl --bump-revision 1000000000 --mark-compacted where etcdutl has them; etcdctl (etcd 3.4) with a warning otherwise", async () => {
      const bin = path.join(lab.dir, "bump-etcdutl");
      const used = path.join(lab.dir, "bump-etcdutl.args");
      fs.mkdirSync(bin, { recursive: true });
      fs.writeFileSync(path.join(bin, "etcdutl"), [
        "#!/usr/bin/env bash",
        'if [[ " $* " == *" --help "* ]]; then echo "      --bump-revision uint  ...  --mark-compacted  ..."; exit 0; fi',
        `echo "$*" >>${used}`,
        "a=()",
        'while (($#)); do case $1 in --bump-revision) shift 2 ;; --mark-compacted) shift ;; *) a+=("$1"); shift ;; esac; done',
        'ETCDCTL_API=3 exec /usr/bin/etcdctl "${a[@]}"',
        "",
      ].join("\n"), { mode: 0o755 });
      populateManifests();
      const data = path.join(root(), "var", "lib", "etcd-bump");
      expectExit(await at(data, "apply", "stop"), 0);
      const r = await at(data, "apply", "restore", 2, [bin]);
      expectExit(r, 0);
      expect(r.stdout).toContain(`doing: etcdutl snapshot restore ${snapFile} --name cp-1 --initial-cluster cp-1=https://10.0.0.1:2380 --initial-advertise-peer-urls https://10.0.0.1:2380 --data-dir ${data} --bump-revision 1000000000 --mark-compacted`);
      expect(fs.readFileSync(used, "utf8")).toMatch(/^snapshot restore \S+ --name cp-1 .* --bump-revision 1000000000 --mark-compacted\n$/);
      expect(r.stderr).not.toContain("warning:");

      populateManifests();
      const data2 = path.join(root(), "var", "lib", "etcd-nobump");
      expectExit(await at(data2, "apply", "stop"), 0);
      const w = await at(data2, "apply", "restore");
      expectExit(w, 0);
      expect(w.stderr).toContain("warning: env ETCDCTL_API=3 etcdctl has no --bump-revision/--mark-compacted");
    });
  });

  test("three members: stop on every member, restore on every member, start on every member; the three restored members form one cluster holding exactly the snapshot's keys", async () => {
    const names = ["cp-1", "cp-2", "cp-3"];
    const three = createLab({ nodes: names.map((n) => cp(n)) });
    const procs: ChildProcess[] = [];
    try {
      const peers = await Promise.all(names.map(() => freePort()));
      const clients = await Promise.all(names.map(() => freePort()));
      const peerUrl = (i: number) => `http://127.0.0.1:${peers[i]}`;
      const initial = names.map((n, i) => `${n}=${peerUrl(i)}`).join(",");
      const nodeRoot = (n: string) => path.join(three.dir, "nodes", n, "root");
      const data = (n: string) => path.join(nodeRoot(n), "var", "lib", "etcd-restored");
      for (const n of names) {
        const m = path.join(nodeRoot(n), "etc", "kubernetes", "manifests");
        fs.mkdirSync(m, { recursive: true });
        fs.writeFileSync(path.join(m, "kube-apiserver.yaml"), APISERVER);
        fs.writeFileSync(path.join(m, "etcd.yaml"), ETCD);
      }
      const state = () => names.map((n) => ours(path.join(nodeRoot(n), "etc", "kubernetes", "manifests")).join("+") || "-");
      const phases: Record<string, string[]> = {};
      for (const phase of ["stop", "restore", "start"]) {
        for (const [i, n] of names.entries()) {
          const r = await three.runScript(n, "etcd-restore.sh", [snapFile, n, initial, peerUrl(i), data(n), "apply", phase], { timeoutMs: 60_000 });
          expectExit(r, 0);
          expect(r.stdout).not.toContain("note:");
        }
        phases[phase] = state();
      }
      expect(phases).toEqual({ stop: ["-", "-", "-"], restore: ["-", "-", "-"], start: Array(3).fill("etcd.yaml+kube-apiserver.yaml") });
      for (const n of names) expect(fs.readFileSync(path.join(nodeRoot(n), "etc", "kubernetes", "manifests", "etcd.yaml"), "utf8")).toBe(ETCD.replaceAll("/var/lib/etcd", data(n)));

      for (const [i, n] of names.entries()) {
        const ep = `http://127.0.0.1:${clients[i]}`;
        procs.push(spawn("etcd", ["--name", n, "--data-dir", data(n), "--listen-client-urls", ep, "--advertise-client-urls", ep,
          "--listen-peer-urls", peerUrl(i), "--initial-advertise-peer-urls", peerUrl(i), "--initial-cluster", initial], { stdio: "ignore" }));
      }
      const eps = clients.map((c) => `http://127.0.0.1:${c}`).join(",");
      const deadline = Date.now() + 20_000;
      for (;;) {
        try {
          await ctl(eps, ["endpoint", "health", "--dial-timeout=1s"], false);
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      const members = JSON.parse(await ctl(eps, ["member", "list", "-w", "json"], false)) as { members: { name: string; peerURLs: string[] }[] };
      expect(members.members.map((m) => `${m.name}=${m.peerURLs.join("")}`).sort()).toEqual(initial.split(","));
      for (const [i] of names.entries()) {
        expect(decodeAll(await ctl(`http://127.0.0.1:${clients[i]}`, ["get", "", "--from-key", "-w", "json"], false))).toEqual(expected);
      }
    } finally {
      for (const p of procs) await stopProcess(p, 5_000);
      three.cleanup();
    }
  }, 90_000);

  test("a truncated and a bit-flipped snapshot are refused by verification, nothing kept as .db", async () => {
    const good = fs.readFileSync(snapFile);
    const cases: Record<string, Buffer> = {
      truncated: good.subarray(0, Math.floor(good.length / 2)),
      flipped: Buffer.from(good),
    };
    cases.flipped![Math.floor(good.length / 2)]! ^= 0x01;
    for (const [name, bytes] of Object.entries(cases)) {
      for (const verify of ["restore", "status"]) {
        const bin = path.join(lab.dir, `etcdctl-${name}`);
        fs.mkdirSync(bin, { recursive: true });
        fs.writeFileSync(path.join(bin, "bad.db"), bytes);
        fs.writeFileSync(path.join(bin, "etcdctl"), `#!/usr/bin/env bash\nset -euo pipefail\nif [[ " $* " == *" snapshot save "* ]]; then cp ${path.join(bin, "bad.db")} "\${*: -1}"; else exec /usr/bin/etcdctl "$@"; fi\n`, { mode: 0o755 });
        const dir = backupDir(`${name}-${verify}`);
        const r = await lab.runScript("cp-1", "etcd-snapshot.sh", [dir, "damaged", etcd.endpoint, etcd.caCert, etcd.cert, etcd.key, verify, "2"], { extraPath: [bin], timeoutMs: 60_000 });
        expect(r.code).toBe(6);
        expect(r.stderr).toMatch(/cluster-maintenance: etcd-snapshot\.sh: cp-1: .*refused/);
        expect(fs.readdirSync(dir)).toEqual([]);
      }
    }
  });

  test("a snapshot taken during continuous writes restores to exactly the keys at its revision", async () => {
    let stop = false;
    let n = 0;
    const writer = (async () => {
      while (!stop) await etcd.put(`/registry/busy/k-${n}`, `v-${n++}`);
    })();
    while (n < 20) await new Promise((r) => setTimeout(r, 20)); // writes are going on
    const r = await snapshot(backupDir("busy"), "busy");
    stop = true;
    await writer;
    expectExit(r, 0);
    const [, file, rev] = fileOf(r.stdout);
    const atRev = decodeAll(await ctl(etcd.endpoint, ["get", "", "--from-key", `--rev=${rev}`, "-w", "json"]));
    expect(Object.keys(atRev).length).toBeLessThan(Object.keys(await etcd.getAll()).length); // writes went on after it
    const peerPort = await freePort();
    const data = path.join(root(), "var", "lib", "etcd-busy");
    populateManifests();
    expectExit(await lab.runScript("cp-1", "etcd-restore.sh", [file!, "m1", `m1=http://127.0.0.1:${peerPort}`, `http://127.0.0.1:${peerPort}`, data, "apply"], { timeoutMs: 60_000 }), 0);
    expect(await keysOfRestored(data, "m1", peerPort)).toEqual(atRev);
  });

  test("KEEP=2 leaves the two newest snapshots (with their .sha256 and .verified)", async () => {
    const dir = backupDir("keep");
    const names: string[] = [];
    for (const label of ["a", "b", "c"]) {
      const r = await snapshot(dir, label, "status", "2");
      expectExit(r, 0);
      names.push(path.basename(fileOf(r.stdout)[1]!));
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(fs.readdirSync(dir).sort()).toEqual(names.slice(1).flatMap((n) => [n, `${n}.sha256`, `${n}.verified`]).sort());
  });

  test("verify: restore without an etcd binary fails with exit 7", async () => {
    // PATH: the stand-ins and /usr/bin's tools except etcd.
    const bin = path.join(lab.dir, "no-etcd-bin");
    fs.mkdirSync(bin, { recursive: true });
    for (const t of fs.readdirSync("/usr/bin")) if (t !== "etcd") fs.symlinkSync(path.join("/usr/bin", t), path.join(bin, t));
    // The script as it is sent (its include lines replaced by the libraries).
    const script = path.join(lab.dir, "etcd-snapshot.sh");
    fs.writeFileSync(script, scriptText("etcd-snapshot.sh"));
    const r = await lab.run("cp-1", `PATH=${STANDINS_DIR}:${bin} bash ${script} ${backupDir("noetcd")} x ${etcd.endpoint} a b c restore 1`);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("install it (same version as the cluster's etcd) or set verify: status");
  });
});

describe("upload-snapshot.sh with the aws stand-in", () => {
  test("uploads the newest db, its sha256 and its verification record with sha256 metadata, leaving encryption to the bucket's KMS default; a no-op the second time", async () => {
    const dir = backupDir("main");
    const db = dbs(dir).at(-1)!;
    fs.mkdirSync(path.join(lab.dir, "s3", "cm-backups"), { recursive: true });
    const args = [dir, "before-v1.35.9", "cm-backups", "etcd/prod", "eu-west-1"];
    const before = lab.calls().length;
    const r = await lab.runScript("cp-1", "upload-snapshot.sh", args);
    expectExit(r, 0);
    const sum = (f: string) => createHash("sha256").update(fs.readFileSync(f)).digest("hex");
    for (const f of [db, `${db}.sha256`, `${db}.verified`]) {
      const obj = path.join(lab.dir, "s3", "cm-backups", "etcd", "prod", f);
      expect(fs.readFileSync(obj)).toEqual(fs.readFileSync(path.join(dir, f)));
      expect(fs.readFileSync(path.join(lab.dir, "s3-metadata", "cm-backups", "etcd", "prod", f), "utf8")).toBe(`sse=\nregion=eu-west-1\nmeta.sha256=${sum(obj)}\n`);
    }
    const calls = lab.calls().slice(before).map((c) => [c.command, ...c.args].join(" "));
    expect(calls.filter((c) => c.startsWith("aws s3 cp"))).toHaveLength(3);
    for (const c of calls) expect(c).not.toMatch(/secret|access-key|profile|AKIA/i);

    const mid = lab.calls().length;
    const again = await lab.runScript("cp-1", "upload-snapshot.sh", args);
    expectExit(again, 0);
    expect(again.stdout).toBe("");
    expect(again.stderr).toContain("already uploaded");
    expect(lab.calls().slice(mid).filter((c) => c.command === "aws").map((c) => c.args.slice(0, 2).join(" "))).toEqual(["s3api head-object", "s3api head-object", "s3api head-object"]);
  });

  test("refuses a damaged snapshot and bad arguments; an S3 failure fails the step", async () => {
    const dir = backupDir("upl");
    fs.mkdirSync(dir, { recursive: true });
    const name = "etcd-20260101T000000Z-x.db";
    fs.writeFileSync(path.join(dir, name), "data");
    fs.writeFileSync(path.join(dir, `${name}.sha256`), `${"0".repeat(64)}  ${name}\n`);
    const r = await lab.runScript("cp-1", "upload-snapshot.sh", [dir, "x", "cm-backups", "", "eu-west-1"]);
    expectExit(r, 6);
    expectExit(await lab.runScript("cp-1", "upload-snapshot.sh", [dir, "x", "Bad_Bucket", "", "eu-west-1"]), 2);
    expectExit(await lab.runScript("cp-1", "upload-snapshot.sh", [dir, "x", "cm-backups", "../up", "eu-west-1"]), 2);
    lab.injectFailure("cp-1", "s3 cp");
    const f = await lab.runScript("cp-1", "upload-snapshot.sh", [backupDir("main"), "before-v1.35.9", "cm-backups", "other", "eu-west-1"]);
    expect(f.code).toBe(1);
    expect(f.stderr).toContain("cluster-maintenance: upload-snapshot.sh: cp-1: aws s3 cp of");
  });
});
