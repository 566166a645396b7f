/**
 * Backups against a real etcd 3.4 (TLS, loopback): etcd-snapshot.sh with a test restore,
 * etcd-restore.sh on a lab control-plane node, upload-snapshot.sh against the aws stand-in.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { startEtcd, type LabEtcd } from "../lab/etcd";
import { createLab, STANDINS_DIR, type Lab } from "../lab/node-kit";
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
    const ok = [snapFile, "cp-1", "cp-1=https://10.0.0.1:2380", "https://10.0.0.1:2380", "/var/lib/etcd-new", "dry-run"];
    for (const [i, bad] of [[0, "rel.db"], [1, "CP_1"], [2, "cp-2=https://10.0.0.2:2380"], [3, "https://x;y:2380"], [4, "/var/lib/../etc"], [5, "go"]] as const) {
      const args = [...ok];
      args[i] = bad;
      expectExit(await lab.runScript("cp-1", "etcd-restore.sh", args), 2);
    }
  });

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
    await new Promise((r) => setTimeout(r, 300));
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
    const script = path.resolve(__dirname, "../../node-scripts/etcd-snapshot.sh");
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
