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

/** Only the live etcd's health and status were asked (an already-done check): no save, no scratch etcd. */
const liveOnly = (calls: { command: string; args: string[] }[]) => {
  const ctl = calls.filter((c) => c.command === "etcdctl").map((c) => c.args.join(" "));
  return ctl.length === 2 && ctl[0]!.endsWith(" endpoint health") && ctl[1]!.endsWith(" endpoint status -w json") && !calls.some((c) => c.command === "etcd");
};
const backupDir = (name: string) => path.join(lab.dir, "nodes", "cp-1", "root", "var", "backups", name);
const filesIn = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);
const snapshot = (dir: string, extraPath: string[] = [], ep = endpoint, label = LABEL, verify = "status", keep = "5", timeoutMs = 60_000) =>
  lab.runScript("cp-1", "etcd-snapshot.sh", [dir, label, ep, tls.ca, tls.cert, tls.key, verify, keep], { extraPath, timeoutMs });

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
    expect(filesIn(dir)).toEqual([path.basename(file!), `${path.basename(file!)}.sha256`, `${path.basename(file!)}.verified`]);
    expect(fs.statSync(file!).mode & 0o777).toBe(0o600);
    expect(fs.statSync(`${file}.verified`).mode & 0o777).toBe(0o600);
    sh("sha256sum", ["--status", "-c", `${path.basename(file!)}.sha256`], dir);
    const sum = fs.readFileSync(`${file}.sha256`, "utf8").split(" ")[0];
    expect(fs.readFileSync(`${file}.verified`, "utf8")).toMatch(
      new RegExp(`^mode=status revision=${revision} totalKey=${keys} totalSize=${size} hash=${parseInt(hash!, 16)} sha256=${sum} verifiedAt=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\n$`),
    );

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
      expect.stringMatching(/^cp-1 etcdctl --endpoints=https:\/\/127\.0\.0\.1:\d+ --cacert=\S+ --cert=\S+ --key=\S+ --dial-timeout=5s --command-timeout=5s endpoint status -w json$/),
      expect.stringMatching(/^cp-1 etcdctl --endpoints=https:\/\/127\.0\.0\.1:\d+ --cacert=\S+ --cert=\S+ --key=\S+ --dial-timeout=5s --command-timeout=290s snapshot save \S+\.db\.part$/),
      expect.stringMatching(/^cp-1 etcdctl snapshot status \S+\.db\.part -w json$/),
    ]);

    const again = await callsDuring(lab, () => snapshot(dir));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain(`etcd-snapshot.sh: cp-1: already done: ${file} (sha256 matches, verified: status)`);
    expect(again.result.stdout).toBe(r.result.stdout);
    expect(liveOnly(again.calls)).toBe(true);
    expect(filesIn(dir)).toHaveLength(3);
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

describe("the verification record (FILE.verified) and the already-done check", () => {
  const RECORD = /^mode=(status|restore) revision=(\d+) totalKey=(\d+) totalSize=(\d+) hash=(\d+)( liveKeys=(\d+))? sha256=([0-9a-f]{64}) verifiedAt=\S+\n$/;
  const record = (file: string) => RECORD.exec(fs.readFileSync(`${file}.verified`, "utf8"));
  const saves = (calls: { command: string; args: string[] }[]) => calls.filter((c) => c.command === "etcdctl" && c.args.includes("save"));
  const scratchRuns = (calls: { command: string; args: string[] }[]) => calls.filter((c) => c.command === "etcdctl" && c.args.includes("restore"));
  const fileOf = (stdout: string) => /^snapshot (\S+) revision (\d+) keys (\d+) /.exec(stdout)!;

  test("restore: the record says restore with the live key count; asked status later, it is already done and says restore", async () => {
    const dir = backupDir("rec-restore");
    const r = await snapshot(dir, [], endpoint, LABEL, "restore");
    expectExit(r, 0);
    expect(r.stdout).toMatch(/\nverified: restore\n$/);
    const [, file, revision, keys] = fileOf(r.stdout);
    const rec = record(file!)!;
    expect(rec).not.toBeNull();
    expect(rec[1]).toBe("restore");
    expect(rec[2]).toBe(revision);
    expect(rec[3]).toBe(keys);
    expect(Number(rec[7])).toBe(KEYS); // the live keys of the test's store
    expect(rec[8]).toBe(fs.readFileSync(`${file}.sha256`, "utf8").split(" ")[0]);
    expect(filesIn(dir)).toEqual([path.basename(file!), `${path.basename(file!)}.sha256`, `${path.basename(file!)}.verified`]);

    const weaker = await callsDuring(lab, () => snapshot(dir, [], endpoint, LABEL, "status"));
    expectExit(weaker.result, 0);
    expect(weaker.result.stderr).toContain(`already done: ${file} (sha256 matches, verified: restore)`);
    expect(weaker.result.stdout).toBe(r.stdout); // the same snapshot line, and the verification it has
    expect(liveOnly(weaker.calls)).toBe(true);
  });

  test("a status-only snapshot asked for restore is restore-verified now, without a new snapshot; then it is done", async () => {
    const dir = backupDir("rec-upgrade");
    const first = await snapshot(dir);
    expectExit(first, 0);
    const [, file] = fileOf(first.stdout);
    expect(record(file!)![1]).toBe("status");
    const before = fs.readFileSync(file!);

    const up = await callsDuring(lab, () => snapshot(dir, [], endpoint, LABEL, "restore"));
    expectExit(up.result, 0);
    expect(up.result.stderr).toContain(`${file}: sha256 matches, verified: status, asked: restore; verifying it now (no new snapshot)`);
    expect(up.result.stderr).toMatch(/test restore: revision \d+, 7 keys \(as https:/);
    expect(up.result.stderr).toContain(`verified now: ${file} (verified: restore, was status)`);
    expect(up.result.stdout).toBe(first.stdout.replace("verified: status", "verified: restore"));
    expect(saves(up.calls)).toEqual([]);
    expect(scratchRuns(up.calls)).toHaveLength(1); // etcd 3.4: the test restore through etcdctl
    expect(fs.readFileSync(file!)).toEqual(before);
    const rec = record(file!)!;
    expect(rec[1]).toBe("restore");
    expect(Number(rec[7])).toBe(KEYS);
    expect(filesIn(dir)).toEqual([path.basename(file!), `${path.basename(file!)}.sha256`, `${path.basename(file!)}.verified`]); // no scratch dir left

    const again = await callsDuring(lab, () => snapshot(dir, [], endpoint, LABEL, "restore"));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain(`already done: ${file} (sha256 matches, verified: restore)`);
    expect(liveOnly(again.calls)).toBe(true);
  });

  test("no record, or a record made on other content, counts as unverified: verified now as asked, no new snapshot", async () => {
    const dir = backupDir("rec-missing");
    const first = await snapshot(dir);
    expectExit(first, 0);
    const [, file] = fileOf(first.stdout);
    fs.rmSync(`${file}.verified`);
    const none = await callsDuring(lab, () => snapshot(dir));
    expectExit(none.result, 0);
    expect(none.result.stderr).toContain("verified: none, asked: status; verifying it now (no new snapshot)");
    expect(saves(none.calls)).toEqual([]);
    expect(record(file!)![1]).toBe("status");

    // A record claiming restore for another file's sha256 does not count.
    const text = fs.readFileSync(`${file}.verified`, "utf8").replace("mode=status", "mode=restore liveKeys=7").replace(/sha256=[0-9a-f]{64}/, `sha256=${"0".repeat(64)}`);
    fs.writeFileSync(`${file}.verified`, text.replace("mode=restore liveKeys=7", "mode=restore").replace(/(hash=\d+)/, "$1 liveKeys=7"));
    const forged = await callsDuring(lab, () => snapshot(dir, [], endpoint, LABEL, "restore"));
    expectExit(forged.result, 0);
    expect(forged.result.stderr).toContain("verified: none, asked: restore; verifying it now (no new snapshot)");
    expect(saves(forged.calls)).toEqual([]);
    expect(scratchRuns(forged.calls)).toHaveLength(1);
    expect(record(file!)![1]).toBe("restore");
  });

  test("a kept status-only snapshot that fails its test restore is set aside and a new one is taken, verified by restore", async () => {
    const dir = backupDir("rec-refused");
    const first = await snapshot(dir);
    expectExit(first, 0);
    const [, file] = fileOf(first.stdout);
    // Damage it after the fact, with a .sha256 and a status record that match the damaged bytes:
    // a flipped bit in etcd's own sha256 trailer: status still reads it, the test restore refuses it.
    const bytes = fs.readFileSync(file!);
    bytes[bytes.length - 5]! ^= 0x01;
    fs.writeFileSync(file!, bytes);
    const sum = sh("sha256sum", [path.basename(file!)], dir).split(" ")[0]!;
    fs.writeFileSync(`${file}.sha256`, `${sum}  ${path.basename(file!)}\n`);
    fs.writeFileSync(`${file}.verified`, fs.readFileSync(`${file}.verified`, "utf8").replace(/sha256=[0-9a-f]{64}/, `sha256=${sum}`));
    expect(record(file!)![1]).toBe("status");
    // A new name: the timestamp has whole seconds, so wait for the clock's next second.
    for (const second = Math.floor(Date.now() / 1000); Math.floor(Date.now() / 1000) === second; ) await new Promise((res) => setTimeout(res, 20));

    const r = await callsDuring(lab, () => snapshot(dir, [], endpoint, LABEL, "restore"));
    expectExit(r.result, 0);
    expect(r.result.stderr).toMatch(new RegExp(`${file!.replace(/[.]/g, "\\.")} failed verification: test restore of the snapshot failed .*; set aside as ${file!.replace(/[.]/g, "\\.")}\\.refused, taking a new snapshot`));
    expect(saves(r.calls)).toHaveLength(1);
    const [, newFile] = fileOf(r.result.stdout);
    expect(newFile).not.toBe(file);
    expect(r.result.stdout).toMatch(/\nverified: restore\n$/);
    expect(record(newFile!)![1]).toBe("restore");
    // The refused one is gone after the new good snapshot; only the new one is kept.
    expect(filesIn(dir)).toEqual([path.basename(newFile!), `${path.basename(newFile!)}.sha256`, `${path.basename(newFile!)}.verified`]);
  });
});

describe("the backup directory, freshness, free space, the scratch etcd and its deadline", () => {
  const nodeRoot = () => path.join(lab.dir, "nodes", "cp-1", "root");
  const mode = (p: string) => fs.statSync(p).mode & 0o777;
  const saves = (calls: { command: string; args: string[] }[]) => calls.filter((c) => c.command === "etcdctl" && c.args.includes("save"));

  test("an existing directory is never changed: a safe one is used as it is (0755 stays 0755), a system one is refused (exit 2), an unsafe one refused (exit 6)", async () => {
    const dir = backupDir("existing-0755");
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    expectExit(await snapshot(dir), 0);
    expect(mode(dir)).toBe(0o755); // was chmod 0700 by `install -d -m 0700`

    // /etc as BACKUP_DIR (given as on a real node: the lab puts it in the node's root).
    const etc = path.join(nodeRoot(), "etc");
    const etcMode = mode(etc);
    const sys = await callsDuring(lab, () => snapshot("/etc"));
    expectExit(sys.result, 2);
    expect(sys.result.stderr).toContain("not a system directory");
    expect(mode(etc)).toBe(etcMode);
    expect(sys.calls.filter((c) => c.command === "etcdctl")).toEqual([]);

    const writable = backupDir("group-writable");
    fs.mkdirSync(writable, { recursive: true });
    fs.chmodSync(writable, 0o775);
    const w = await callsDuring(lab, () => snapshot(writable));
    expectExit(w.result, 6);
    expect(w.result.stderr).toContain(`BACKUP_DIR ${writable} is group- or world-writable (mode 775)`);
    expect(mode(writable)).toBe(0o775);
    expect(w.calls.filter((c) => c.command === "etcdctl")).toEqual([]);

    const foreign = backupDir("not-roots");
    fs.mkdirSync(foreign, { recursive: true, mode: 0o700 });
    fs.chownSync(foreign, 65534, 65534);
    const f = await snapshot(foreign);
    expectExit(f, 6);
    expect(f.stderr).toContain(`BACKUP_DIR ${foreign} is owned by uid 65534`);
    expect(fs.statSync(foreign).uid).toBe(65534);
    expect(filesIn(foreign)).toEqual([]);
  });

  test("an absent directory is created 0700, its missing parents too", async () => {
    const top = path.join(nodeRoot(), "var", "lib", "cm-new");
    const dir = path.join(top, "a", "b");
    expectExit(await snapshot(dir), 0);
    for (const d of [top, path.join(top, "a"), dir]) expect(mode(d)).toBe(0o700);
  });

  test("a kept snapshot of the label counts only when fresh: a year-old one, or one far behind (or ahead of) the live revision, does not", async () => {
    const dir = backupDir("fresh");
    const first = await snapshot(dir);
    expectExit(first, 0);
    const file = /^snapshot (\S+) /.exec(first.stdout)![1]!;
    // A year old: the same file under last year's name, its .sha256 renamed with it.
    const oldName = path.basename(file).replace(/^etcd-(\d{4})/, (_m, y: string) => `etcd-${Number(y) - 1}`);
    fs.renameSync(file, path.join(dir, oldName));
    fs.renameSync(`${file}.verified`, path.join(dir, `${oldName}.verified`));
    fs.writeFileSync(path.join(dir, `${oldName}.sha256`), fs.readFileSync(`${file}.sha256`, "utf8").replace(path.basename(file), oldName));
    fs.rmSync(`${file}.sha256`);
    const old = await callsDuring(lab, () => snapshot(dir));
    expectExit(old.result, 0);
    expect(old.result.stderr).toMatch(new RegExp(`kept ${path.join(dir, oldName).replace(/[.]/g, "\\.")} does not count: taken \\d+ s ago \\(counted at most 900 s\\)`));
    expect(saves(old.calls)).toHaveLength(1);
    const fresh = /^snapshot (\S+) /.exec(old.result.stdout)![1]!;
    expect(fresh).not.toBe(path.join(dir, oldName));

    // Far behind: the live etcd's revision (as a stand-in etcdctl reports it) is 20,000 ahead.
    const ahead = fakeTool("rev-ahead", "etcdctl", `out=$(${REAL_ETCDCTL} "$@")\nif [[ " $* " == *" endpoint status "* ]]; then out=\${out/\\"revision\\":/\\"revision\\":2000}; fi\necho "$out"`);
    const behind = await callsDuring(lab, () => snapshot(dir, [ahead]));
    expectExit(behind.result, 0);
    const [, rev, by, live] = /does not count: its revision (\d+) is (\d+) behind https:\S+'s (\d+) \(counted at most 10000\)/.exec(behind.result.stderr)!;
    expect(Number(live) - Number(rev)).toBe(Number(by));
    expect(Number(by)).toBeGreaterThan(10_000);
    expect(saves(behind.calls)).toHaveLength(1);
  });

  test("the already-done check uses the script's own digest (openssl): a broken sha256sum does not matter", async () => {
    const dir = backupDir("digest");
    expectExit(await snapshot(dir), 0);
    const bin = fakeTool("broken-sha256sum", "sha256sum", "echo broken >&2\nexit 1");
    const again = await callsDuring(lab, () => snapshot(dir, [bin]));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain("already done:");
    expect(saves(again.calls)).toEqual([]);
  });

  test("too little free space: exit 8 with the numbers before any save (status and restore); etcd is only asked its status", async () => {
    const bin = fakeTool("small-df", "df", `echo "Filesystem 1024-blocks Used Available Capacity Mounted on"\necho "/dev/x 1000000 999000 1000 100% /"`);
    for (const verify of ["status", "restore"]) {
      const dir = backupDir(`full-${verify}`);
      const r = await callsDuring(lab, () => snapshot(dir, [bin], endpoint, LABEL, verify));
      expectExit(r.result, 8);
      expect(r.result.stderr).toMatch(new RegExp(`not enough free space in ${dir.replace(/[.]/g, "\\.")}: 1024000 bytes available, (\\d+) needed \\(2 x etcd's database of (\\d+) bytes \\+ a margin of 134217728 bytes\\); nothing done`));
      const [, need, db] = /(\d+) needed \(2 x etcd's database of (\d+) bytes/.exec(r.result.stderr)!;
      expect(Number(need)).toBe(2 * Number(db) + 134217728);
      expect(saves(r.calls)).toEqual([]);
      expect(r.calls.some((c) => c.command === "etcd")).toBe(false);
      expect(filesIn(dir)).toEqual([]);
    }
  });

  test("the scratch etcd listens on unix sockets in its 0700 scratch dir only: no TCP port, and another user cannot connect", async () => {
    const log = path.join(tmp, "scratch-etcd.log");
    const realEtcd = spawnSync("bash", ["-c", "command -v etcd"], { encoding: "utf8" }).stdout.trim();
    const bin = fakeTool("watched-etcd", "etcd", [
      `echo "args: $*" >>${log}`,
      `echo "cwd-mode: $(stat -c %a .)" >>${log}`,
      `${realEtcd} "$@" & pid=$!`,
      `trap 'echo "TERM (checks go on first)" >>${log}' TERM`,
      `for _ in $(seq 100); do [[ -S localhost:1 ]] && break; sleep 0.1; done`,
      `echo "tcp: $(ss -Hltnp | grep -c "pid=$pid," || true)" >>${log}`,
      `setpriv --reuid=65534 --regid=65534 --clear-groups env ETCDCTL_API=3 ${REAL_ETCDCTL} --endpoints=unix://$PWD/localhost:1 --dial-timeout=1s --command-timeout=1s endpoint health >/dev/null 2>&1 && echo "other user: connected" >>${log} || echo "other user: refused" >>${log}`,
      `ETCDCTL_API=3 ${REAL_ETCDCTL} --endpoints=unix://localhost:1 --dial-timeout=1s endpoint health >/dev/null 2>&1 && echo "root: connected" >>${log} || echo "root: refused" >>${log}`,
      `kill $pid; wait $pid || true`,
    ].join("\n"));
    const r = await snapshot(backupDir("scratch-unix"), [bin], endpoint, LABEL, "restore");
    expectExit(r, 0);
    const text = fs.readFileSync(log, "utf8");
    const args = /^args: (.*)$/m.exec(text)![1]!;
    expect(args.match(/--listen-(client|peer)-urls \S+/g)).toEqual(["--listen-client-urls unix://localhost:1", "--listen-peer-urls unix://localhost:2"]);
    expect(args).not.toMatch(/https?:\/\//);
    expect(text).toContain("cwd-mode: 700\n");
    expect(text).toContain("tcp: 0\n");
    expect(text).toContain("other user: refused\n");
    expect(text).toContain("root: connected\n");
  });

  test("a scratch etcd that never becomes healthy is given up at its 60 s deadline (measured), not after 600 tries", async () => {
    const bin = fakeTool("never-healthy-etcd", "etcd", "exec sleep 600");
    const started = Date.now();
    const r = await snapshot(backupDir("never-healthy"), [bin], endpoint, LABEL, "restore", "5", 120_000);
    const seconds = (Date.now() - started) / 1000;
    expectExit(r, 6);
    expect(r.stderr).toContain("the scratch etcd on the restored snapshot was not healthy within 60 s; refused");
    expect(seconds).toBeGreaterThanOrEqual(59);
    expect(seconds).toBeLessThan(75);
  }, 130_000);
});

describe("the real machine", () => {
  test("its apt, kubernetes and marker paths were not touched", () => {
    expect(realMachinePaths()).toEqual(realBefore);
  });
});
