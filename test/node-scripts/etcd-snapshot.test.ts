/**
 * etcd-snapshot.sh against a real etcd 3.4 (Debian's etcd-server) on loopback with TLS: certificates
 * made with openssl, random free ports, a temp data dir; started and stopped by this file.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createLab, type Lab } from "../lab/node-kit";
import { callsDuring, cp, expectExit, lines, realMachinePaths } from "./support";

const realBefore = realMachinePaths();
let tmp = "";
let etcd: ChildProcess | undefined;
let endpoint = "";
let lab: Lab;
const tls = { ca: "", cert: "", key: "" };
const LABEL = "before-v1.35.9";
const KEYS = 7;
const REAL_ETCDCTL = spawnSync("bash", ["-c", "command -v etcdctl"], { encoding: "utf8" }).stdout.trim();

function sh(cmd: string, args: string[], cwd = tmp): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function etcdctl(...args: string[]): string {
  return sh("etcdctl", [`--endpoints=${endpoint}`, `--cacert=${tls.ca}`, `--cert=${tls.cert}`, `--key=${tls.key}`, ...args]);
}

function makeCerts(): void {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  sh("openssl", ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=lab-etcd-ca"]);
  for (const [name, ext] of [
    ["server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n"],
    ["client", "extendedKeyUsage=clientAuth\n"],
  ] as const) {
    fs.writeFileSync(path.join(tmp, `${name}.ext`), ext);
    sh("openssl", ["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=lab-etcd-${name}`]);
    sh("openssl", ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`]);
  }
  Object.assign(tls, { ca: path.join(tmp, "ca.crt"), cert: path.join(tmp, "client.crt"), key: path.join(tmp, "client.key") });
}

async function startEtcd(): Promise<void> {
  const [client, peer] = [await freePort(), await freePort()];
  endpoint = `https://127.0.0.1:${client}`;
  const log = fs.openSync(path.join(tmp, "etcd.log"), "a");
  etcd = spawn(
    "etcd",
    [
      "--name=lab",
      `--data-dir=${path.join(tmp, "data")}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=lab=http://127.0.0.1:${peer}`,
      `--cert-file=${path.join(tmp, "server.crt")}`,
      `--key-file=${path.join(tmp, "server.key")}`,
      `--trusted-ca-file=${tls.ca}`,
      "--client-cert-auth",
    ],
    { stdio: ["ignore", log, log] },
  );
  fs.closeSync(log);
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (etcd.exitCode !== null) throw new Error(`etcd exited ${etcd.exitCode}:\n${fs.readFileSync(path.join(tmp, "etcd.log"), "utf8")}`);
    try {
      etcdctl("--dial-timeout=1s", "endpoint", "health");
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`etcd not healthy within 20 s: ${String(e)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function stopEtcd(): Promise<void> {
  const p = etcd;
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once("exit", () => r()));
  p.kill("SIGTERM");
  const timer = setTimeout(() => p.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A directory with an executable `name` holding `body`. */
function fakeTool(dir: string, name: string, body: string): string {
  const d = path.join(tmp, dir);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, name), `#!/usr/bin/env bash\nset -euo pipefail\n${body}\n`, { mode: 0o755 });
  return d;
}

const backupDir = (name: string) => path.join(lab.dir, "nodes", "cp-1", "root", "var", "backups", name);
const filesIn = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);
const snapshot = (dir: string, extraPath: string[] = [], ep = endpoint, label = LABEL, verify = "status", keep = "5") =>
  lab.runScript("cp-1", "etcd-snapshot.sh", [dir, label, ep, tls.ca, tls.cert, tls.key, verify, keep], { extraPath, timeoutMs: 60_000 });

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cm-etcd-"));
  makeCerts();
  await startEtcd();
  for (let i = 0; i < KEYS; i++) etcdctl("put", `/registry/lab/key-${i}`, `value-${i}`);
  lab = createLab({ nodes: [cp("cp-1")] });
}, 40_000);

afterAll(async () => {
  await stopEtcd();
  lab?.cleanup();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("etcd-snapshot.sh with a real etcd 3.4", () => {
  test("saves a dated snapshot with its sha256; the printed revision, keys, size and hash are etcdctl's status", async () => {
    const dir = backupDir("ok");
    const r = await callsDuring(lab, () => snapshot(dir));
    expectExit(r.result, 0);
    const m = /^snapshot (\S+) revision (\d+) keys (\d+) size (\d+) hash ([0-9a-f]+)\nverified: status\n$/.exec(r.result.stdout);
    expect(m).not.toBeNull();
    const [, file, revision, keys, size, hash] = m!;
    expect(path.dirname(file!)).toBe(dir);
    expect(path.basename(file!)).toMatch(/^etcd-\d{8}T\d{6}Z-before-v1\.35\.9\.db$/);
    expect(filesIn(dir)).toEqual([path.basename(file!), `${path.basename(file!)}.sha256`]);
    expect(fs.statSync(file!).mode & 0o777).toBe(0o600);
    sh("sha256sum", ["--status", "-c", `${path.basename(file!)}.sha256`], dir);

    const status = JSON.parse(sh("etcdctl", ["snapshot", "status", file!, "-w", "json"])) as Record<string, number>;
    expect(Number(revision)).toBe(status.revision);
    expect(Number(keys)).toBe(status.totalKey);
    expect(Number(size)).toBe(status.totalSize);
    expect(hash).toBe(status.hash!.toString(16));
    expect(Number(revision)).toBeGreaterThanOrEqual(KEYS + 1);
    const live = JSON.parse(etcdctl("endpoint", "status", "-w", "json")) as { Status: { header: { revision: number } } }[];
    expect(Number(revision)).toBe(live[0]!.Status.header.revision);

    // etcd 3.4 has no etcdutl: the script used etcdctl for the status.
    expect(lines(r.calls).filter((c) => c.includes("etcdctl"))).toEqual([
      expect.stringMatching(/^cp-1 etcdctl --endpoints=https:\/\/127\.0\.0\.1:\d+ --cacert=\S+ --cert=\S+ --key=\S+ --dial-timeout=5s --command-timeout=5s endpoint health$/),
      expect.stringMatching(/^cp-1 etcdctl --endpoints=https:\/\/127\.0\.0\.1:\d+ --cacert=\S+ --cert=\S+ --key=\S+ --dial-timeout=5s --command-timeout=290s snapshot save \S+\.db\.part$/),
      expect.stringMatching(/^cp-1 etcdctl snapshot status \S+\.db\.part -w json$/),
    ]);

    const again = await callsDuring(lab, () => snapshot(dir));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain(`etcd-snapshot.sh: cp-1: already done: ${file} (sha256 matches)`);
    expect(again.calls.filter((c) => c.command === "etcdctl")).toEqual([]);
    expect(filesIn(dir)).toHaveLength(2);
  });

  test("a snapshot whose sha256 no longer matches does not count: a new one is taken", async () => {
    const dir = backupDir("tampered");
    expectExit(await snapshot(dir), 0);
    const db = filesIn(dir).find((f) => f.endsWith(".db"))!;
    fs.appendFileSync(path.join(dir, db), "x");
    const r = await callsDuring(lab, () => snapshot(dir));
    expectExit(r.result, 0);
    expect(r.result.stdout).toMatch(/^snapshot /);
    expect(lines(r.calls).some((c) => c.includes("snapshot save"))).toBe(true);
  });

  test("another label's snapshot does not count, even one whose name ends in this label", async () => {
    const dir = backupDir("labels");
    expectExit(await snapshot(dir), 0);
    const r = await snapshot(dir, [], endpoint, "v1.35.9");
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^snapshot \S+-v1\.35\.9\.db revision /);
    expect(filesIn(dir).filter((f) => f.endsWith(".db"))).toHaveLength(2);
  });

  test("uses etcdutl for the status when it exists", async () => {
    const used = path.join(tmp, "etcdutl-used");
    const bin = fakeTool("with-etcdutl", "etcdutl", `echo "$*" >>${used}\n[[ $1 == snapshot && $2 == status ]]\nexec ${REAL_ETCDCTL} snapshot status "$3" "\${@:4}"`);
    const dir = backupDir("etcdutl");
    const r = await callsDuring(lab, () => snapshot(dir, [bin]));
    expectExit(r.result, 0);
    expect(fs.readFileSync(used, "utf8")).toMatch(/^snapshot status \S+\.db\.part -w json\n$/);
    expect(lines(r.calls).filter((c) => c.includes("etcdctl snapshot status"))).toEqual([]);
  });

  test("refuses (exit 6) a status with revision 0 and no keys, keeping nothing", async () => {
    const bin = fakeTool("zero-etcdutl", "etcdutl", `echo '{"hash":0,"revision":0,"totalKey":0,"totalSize":0}'`);
    const dir = backupDir("zero");
    const r = await snapshot(dir, [bin]);
    expectExit(r, 6);
    expect(r.stderr).toContain("etcd-snapshot.sh: cp-1: snapshot status shows revision 0 and 0 keys; refused");
    expect(filesIn(dir)).toEqual([]);
  });

  test("refuses (exit 6) garbage from the status tool, keeping nothing", async () => {
    const bin = fakeTool("garbage-etcdutl", "etcdutl", `echo 'Error: snapshot file has no hash'`);
    const dir = backupDir("garbage");
    const r = await snapshot(dir, [bin]);
    expectExit(r, 6);
    expect(r.stderr).toContain("refused");
    expect(filesIn(dir)).toEqual([]);
  });

  test("refuses (exit 6) an empty snapshot file, keeping nothing", async () => {
    const bin = fakeTool("empty-etcdctl", "etcdctl", `if [[ " $* " == *" snapshot save "* ]]; then : >"\${*: -1}"; else exec ${REAL_ETCDCTL} "$@"; fi`);
    const dir = backupDir("empty");
    const r = await snapshot(dir, [bin]);
    expectExit(r, 6);
    expect(r.stderr).toContain("is empty; refused");
    expect(filesIn(dir)).toEqual([]);
  });

  test("a dead endpoint fails the step (non-zero, node and step named) and leaves no file", async () => {
    const dead = `https://127.0.0.1:${await freePort()}`;
    const dir = backupDir("dead");
    const started = Date.now();
    const r = await snapshot(dir, [], dead);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`cluster-maintenance: etcd-snapshot.sh: cp-1: etcd at ${dead} is not healthy (etcdctl endpoint health); no snapshot taken`);
    expect(filesIn(dir)).toEqual([]);
  });

  test("rejects a relative backup dir or a bad label with exit 2", async () => {
    expectExit(await lab.runScript("cp-1", "etcd-snapshot.sh", ["backups", LABEL, endpoint, tls.ca, tls.cert, tls.key]), 2);
    expectExit(await lab.runScript("cp-1", "etcd-snapshot.sh", [backupDir("x"), "../x", endpoint, tls.ca, tls.cert, tls.key]), 2);
    expectExit(await lab.runScript("cp-1", "etcd-snapshot.sh", [backupDir("x"), LABEL]), 2);
    const full = [backupDir("x"), LABEL, endpoint, tls.ca, tls.cert, tls.key];
    expectExit(await lab.runScript("cp-1", "etcd-snapshot.sh", [...full, "full", "2"]), 2);
    expectExit(await lab.runScript("cp-1", "etcd-snapshot.sh", [...full, "status", "0"]), 2);
    expectExit(await lab.runScript("cp-1", "etcd-snapshot.sh", [...full, "status", "x"]), 2);
  });
});

describe("the real machine", () => {
  test("its apt, kubernetes and marker paths were not touched", () => {
    expect(realMachinePaths()).toEqual(realBefore);
  });
});
