/**
 * One check per value type (config/values.ts), the same in the config parser and in the node
 * scripts (node-scripts/lib/paths.sh, s3.sh): every value is fed to the parser, to the bash
 * mirror, and where a script takes it as an argument to that script as it is sent, so that
 * nothing the config accepts is refused half way through an update, and nothing bad passes.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scriptText } from "../components/node-scripts";
import { parseStackConfig } from "../config/stack-config";
import { SYSTEM_TREES } from "../config/values";
import { InputErrors } from "../planning/errors";
import { testHostKey } from "./helpers/host-keys";
import { NODE_SCRIPTS_DIR } from "./lab/node-kit";

const node = (name: string, host = "10.0.0.1") => ({ name, host, hostKey: testHostKey(name), version: "1.36.4" });
const base = { targetVersion: "1.37", controlPlane: { nodes: [node("cp-1")] } };
const backup = { bucket: "cm-backups", region: "eu-west-1", image: "example/backup:1" };

/** The problems the parser records for `raw`, one line each ("" when it accepts it). */
function parserProblems(raw: Record<string, unknown>): string {
  try {
    parseStackConfig(raw, "test");
    return "";
  } catch (e) {
    if (!(e instanceof InputErrors)) throw e;
    return e.problems.map((p) => `${p.key}: ${p.problem}`).join("\n");
  }
}

const library = (file: string) => fs.readFileSync(path.join(NODE_SCRIPTS_DIR, "lib", file), "utf8");

/** Whether the bash function `fn` of `lib` accepts each value (one bash run for the list). */
function bashAccepts(lib: string, fn: string, values: readonly string[]): boolean[] {
  const script = `set -euo pipefail\n${library(lib)}for v in "$@"; do if ${fn} "$v"; then echo yes; else echo no; fi; done\n`;
  const r = spawnSync("bash", ["-c", script, "test", ...values], { encoding: "utf8", timeout: 20_000 });
  expect(r.stderr).toBe("");
  return r.stdout.split("\n").slice(0, -1).map((l) => l === "yes");
}

let scratch: string;
let fakeBin: string;
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "cm-value-checks-"));
  // kubectl that fails: export-resources.sh stops at its first kubectl call, inside the scratch root.
  fakeBin = path.join(scratch, "bin");
  fs.mkdirSync(fakeBin);
  fs.writeFileSync(path.join(fakeBin, "kubectl"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Runs a node script as it is sent (libraries in place) with `args`; its exit code and stderr. */
function runScript(script: string, args: readonly string[]): { code: number | null; stderr: string } {
  const r = spawnSync("bash", ["-c", scriptText(script), script, ...args], {
    encoding: "utf8", timeout: 20_000,
    env: { PATH: `${fakeBin}:${process.env.PATH}`, CM_NODE_ROOT: path.join(scratch, "root"), HOME: scratch, KUBECONFIG: path.join(scratch, "none") },
  });
  return { code: r.status, stderr: r.stderr };
}

const BAD_DIRS = [
  "/", "/etc", "/usr/bin", "/var/lib/etcd", "/var/../../etc", "/var/lib", "/var", "/var/backups", "/home/ubuntu", "/home", "/tmp", "/tmp/etcd",
  "/var/tmp/x", "/etc/kubernetes", "/etc/kubernetes/pki/backups", "/root/backups", "/usr/local/backups", "/bin/x", "/sbin/x", "/lib/x", "/lib64/x",
  "/boot/x", "/dev/shm/x", "/proc/1", "/sys/x", "/run/x", "/var/run/x", "/var/lib/kubelet/x", "/var/lib/containerd/x", "/opt/cni/bin",
  "/var/lib/dpkg/x", "/srv", "/backups", "relative/dir", "/a//b", "/a/b/", "/a/./b", "/a/b/..", "/a/b c", "/a/$(reboot)", `/a/${"x".repeat(300)}`,
];
const GOOD_DIRS = [
  "/var/lib/cluster-maintenance/etcd-backups", "/var/lib/cluster-maintenance/resource-exports", "/var/lib/etcd-backups", "/var/lib/etcd2/x",
  "/var/backups/cluster-maintenance", "/home/ubuntu/etcd-backups", "/srv/etcd-backups", "/data/etcd", "/etcd/backups", "/opt/cluster-maintenance/x", "/mnt/backup/etcd",
];

describe("directories this program creates (etcd.backupDir, backup.exportDir): refused the same by the parser, lib/paths.sh and export-resources.sh", () => {
  const values = [...BAD_DIRS, ...GOOD_DIRS];
  const owned = bashAccepts("paths.sh", "owned_dir", values);

  test.each(values.map((v, i) => [v, GOOD_DIRS.includes(v), i] as const))("%j accepted: %s", (dir, good, i) => {
    const etcd = parserProblems({ ...base, etcd: { backupDir: dir } });
    const exportDir = parserProblems({ ...base, backup: { ...backup, exportDir: dir } });
    expect([etcd === "", exportDir === "", owned[i]]).toEqual([good, good, good]);
    if (!good) {
      expect(etcd).toMatch(/^etcd\.backupDir: is not an absolute path of a directory of this program's own \(/);
      expect(exportDir).toMatch(/^backup\.exportDir: is not an absolute path of a directory of this program's own \(/);
    }
    const r = runScript("export-resources.sh", [dir, "exclude"]);
    if (good) expect([r.code, r.stderr]).toEqual([1, expect.stringContaining("listing the API resource types failed")]); // past the argument checks: stopped by the failing kubectl
    else expect([r.code, r.stderr]).toEqual([2, expect.stringContaining("OUT_DIR must be an absolute path")]);
    expect(r.stderr.length).toBeLessThan(1000);
  });

  test("every system tree is refused, with everything inside it, by both; a name that only starts the same is not", () => {
    const trees = SYSTEM_TREES.map((t) => t.replace("*", "64"));
    const refused = trees.flatMap((t) => [`${t}/x`, `${t}/x/y`, ...(t.split("/").length > 2 ? [t] : [])]);
    const siblings = trees.map((t) => (t === "/lib64" ? "/li/y" : `${t}x/y`));
    const cases = [...refused, ...siblings];
    const bash = bashAccepts("paths.sh", "owned_dir", cases);
    const ts = cases.map((c) => parserProblems({ ...base, etcd: { backupDir: c } }) === "");
    expect(cases.map((c, i) => [c, ts[i]])).toEqual(cases.map((c, i) => [c, bash[i]]));
    expect(cases.filter((_c, i) => bash[i])).toEqual(siblings);
  });
});

describe("plain paths (etcd.caCert, cert, key; the exportSecrets certificate): no '.' or '..' part, by the parser and lib/paths.sh", () => {
  const bad = ["/etc/kubernetes/pki/../../shadow", "/a/./b", "relative", "/a//b", "/a/", "/a b", "/"];
  const good = ["/etc/kubernetes/pki/etcd/ca.crt", "/a", "/a/.hidden", "/a/b..c"];
  const bash = bashAccepts("paths.sh", "plain_path", [...bad, ...good]);
  test.each([...bad, ...good].map((v, i) => [v, good.includes(v), i] as const))("%j accepted: %s", (p, ok, i) => {
    expect([parserProblems({ ...base, etcd: { caCert: p } }) === "", parserProblems({ ...base, backup: { ...backup, exportSecrets: `encrypt:${p}` } }) === "", bash[i]]).toEqual([ok, ok, ok]);
  });
});

test("backup.exportSecrets: a path after anything but encrypt: is refused (only exclude or encrypt:<path>)", () => {
  for (const v of ["abcdefgh/etc/cert.pem", "decrypt:/etc/cert.pem", "encrypt/etc/cert.pem", "exclude "]) {
    expect([v, parserProblems({ ...base, backup: { ...backup, exportSecrets: v } })]).toEqual([v, "backup.exportSecrets: is not exclude or encrypt:<path>"]);
  }
  expect(parserProblems({ ...base, backup: { ...backup, exportSecrets: "encrypt:/etc/cert.pem" } })).toBe("");
});

describe("S3 values (backup.bucket, prefix, region): refused the same by the parser, lib/s3.sh and upload-snapshot.sh", () => {
  const upload = (bucket: string, prefix: string, region: string) => runScript("upload-snapshot.sh", [path.join(scratch, "none"), "before-v1.35.9", bucket, prefix, region]);
  const cases: { key: "bucket" | "prefix" | "region"; fn: string; bad: string[]; good: string[] }[] = [
    {
      key: "bucket", fn: "s3_bucket",
      bad: ["my..bucket", "192.168.1.1", "xn--bucket", "sthree-bucket", "amzn-s3-demo-bucket", "bucket-s3alias", "bucket--ol-s3", "bucket.mrap", "bucket--x-s3", "bucket--table-s3", "My_Bucket", "ab", "-bucket", "bucket-", `b${"x".repeat(63)}`],
      good: ["cm-backups", "my.bucket.1", "1.2.3.4.5", "192.168.1.1a", "abc"],
    },
    { key: "prefix", fn: "s3_prefix", bad: ["../", "a/../", "./", "a/./b/", "a//", "/a/", "a b/", `${"a/".repeat(130)}`], good: ["", "dev/", "etcd/prod/", "a.b/..c/"] },
    { key: "region", fn: "aws_region", bad: ["eu-west", "EU-WEST-1", "eu-west-1;x", "eu_west_1", "e-west-1"], good: ["eu-west-1", "us-gov-west-1", "ap-southeast-2", "us-iso-east-1"] },
  ];
  for (const { key, fn, bad, good } of cases) {
    const values = [...bad, ...good];
    const bash = bashAccepts("s3.sh", fn, values);
    test.each(values.map((v, i) => [key, v, good.includes(v), i] as const))("%s %j accepted: %s", (_k, value, ok, i) => {
      const problems = parserProblems({ ...base, backup: { ...backup, [key]: value } });
      expect([problems === "", bash[i]]).toEqual([ok, ok]);
      if (!ok) expect(problems).toMatch(new RegExp(`^backup\\.${key}: is not `));
      const args = { bucket: "cm-backups", prefix: "dev/", region: "eu-west-1", [key]: value };
      const r = upload(args.bucket, args.prefix, args.region);
      if (ok) expect(r.stderr).toMatch(/no snapshot etcd-\*-before-v1\.35\.9\.db in /); // past the argument checks
      else expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(`bad ${key === "bucket" ? "bucket name" : key}`)]);
    });
  }
});

describe("CronJob schedules (backup.schedule): the API server's syntax, by the parser (no node script takes one)", () => {
  const bad = ["99 99 99 99 99", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * * 7", "*/0 * * * *", "5-1 * * * *", "1- * * * *",
    "@every 1h", "hourly", "* * * *", "* * * * * *", "CRON_TZ=UTC 0 * * * *", "0 0 * foo *", "0 0 * * mon-sun"];
  const good = ["0 */6 * * *", "@daily", "@hourly", "0 0 1 jan mon", "0-59/15 0,12 1-31 1-12 0-6", "0 0 * * SUN-SAT", "30 2 * * 1-5", "5/10 * ? * *"];
  test.each([...bad.map((v) => [v, false] as const), ...good.map((v) => [v, true] as const)])("%j accepted: %s", (schedule, ok) => {
    const problems = parserProblems({ ...base, backup: { ...backup, schedule } });
    expect(problems === "").toBe(ok);
    if (!ok) expect(problems).toMatch(/^backup\.schedule: is not a cron schedule \(/);
  });
});

describe("hosts (node host, ssh.bastion.host): an address or a name, never with a port", () => {
  const bad = ["10.0.1.11:22", ":::", "999.999.999.999", "10.0.1", "256.1.1.1", "010.0.0.1", "[::1]", "fe80::1%eth0", "node-1:22", "-a.example.com", "a..b", "a_b", "1.2.3.4.5"];
  const good = ["10.0.1.11", "::1", "2001:db8::1", "::ffff:10.0.0.1", "node-1.example.com", "cp1", "3com.example"];
  test.each([...bad.map((v) => [v, false] as const), ...good.map((v) => [v, true] as const)])("%j accepted: %s", (host, ok) => {
    const nodeHost = parserProblems({ ...base, controlPlane: { nodes: [node("cp-1", host)] } });
    const bastion = parserProblems({ ...base, ssh: { bastion: { host, hostKey: testHostKey("bastion") } } });
    expect([nodeHost === "", bastion === ""]).toEqual([ok, ok]);
    if (!ok) expect(nodeHost).toMatch(/^controlPlane\.nodes\[0\]\.host: is not a host name or IP address \(/);
  });
});

test("the scripts that take these values include the libraries that check them", () => {
  const body = (lib: string) => library(lib).replace("# shellcheck shell=bash\n", "");
  for (const [script, libs] of [["upload-snapshot.sh", ["paths.sh", "s3.sh"]], ["export-resources.sh", ["paths.sh"]]] as const) {
    for (const lib of libs) expect([script, scriptText(script).includes(body(lib))]).toEqual([script, true]);
  }
});
