/**
 * `npm run bench` (second part): the cost of a checked snapshot. Fills a real etcd 3.4
 * (Debian's, on loopback, TLS) with ~100 MB, then times in the same run: plain
 * `etcdctl snapshot save`; node-scripts/etcd-snapshot.sh with verify=status (save + status +
 * sha256); and with verify=restore (plus a test restore into a scratch etcd, compared). Then
 * the status-verified snapshot asked again with verify=restore (test-restored in place, no new
 * save), and asked once more (already done: the .sha256 and the .verified record only).
 * The figures are the ratios to the plain save. Aims: under 1.2x (status), under 3x (restore);
 * each line says whether it is within its aim. The exit code says only whether the benchmark
 * itself broke (a step failed), never that a figure is over its aim.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scriptText } from "../components/node-scripts";
import { startEtcd } from "../test/lab/etcd";

const VALUES = 100;
const VALUE_BYTES = 1024 * 1024;

function timed(what: string, command: string, args: string[], env: Record<string, string> = {}): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { encoding: "utf8", env: { ...process.env, ETCDCTL_API: "3", ...env }, maxBuffer: 16 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr}`);
  return ms;
}

async function main(): Promise<void> {
  const etcd = await startEtcd();
  const dir = mkdtempSync(join(tmpdir(), "cm-snapshot-bench-"));
  try {
    const tls = ["--endpoints", etcd.endpoint, "--cacert", etcd.caCert, "--cert", etcd.cert, "--key", etcd.key];
    const value = "x".repeat(VALUE_BYTES);
    for (let i = 0; i < VALUES; i++) {
      const r = spawnSync("etcdctl", [...tls, "put", `/registry/bench/${i}`], { input: value, encoding: "utf8", env: { ...process.env, ETCDCTL_API: "3" } });
      if (r.status !== 0) throw new Error(`put failed: ${r.stderr}`);
    }
    const plainFile = join(dir, "plain.db");
    const plain = timed("etcdctl snapshot save", "etcdctl", [...tls, "snapshot", "save", plainFile]);
    const sizeMb = statSync(plainFile).size / 2 ** 20;
    const script = scriptText("etcd-snapshot.sh"); // as the component sends it (libraries included)
    // BACKUP_DIR must be one of the program's own (never under /tmp): as in the test lab, the
    // script puts /var/lib/cm-bench/... inside CM_NODE_ROOT, this run's temp dir.
    const run = (verify: string, into = verify) =>
      timed(`etcd-snapshot.sh ${verify}`, "bash", ["-c", script, "etcd-snapshot.sh", `/var/lib/cm-bench/${into}`, `bench-${into}`, etcd.endpoint, etcd.caCert, etcd.cert, etcd.key, verify, "1"], { CM_NODE_ROOT: dir });
    const status = run("status");
    const restore = run("restore");
    const upgrade = run("restore", "status");
    const done = run("restore", "status");
    console.log(`snapshot: etcd 3.4 database of ${sizeMb.toFixed(0)} MB (${VALUES} values of 1 MiB)`);
    console.log(`  plain etcdctl snapshot save: ${plain.toFixed(0)} ms`);
    const aim = (x: number, limit: number) => `${x.toFixed(2)}x (aim < ${limit}x: ${x < limit ? "within" : "OVER"})`;
    console.log(`  save + status + sha256:      ${status.toFixed(0)} ms = ${aim(status / plain, 1.2)}`);
    console.log(`  ... + test restore:          ${restore.toFixed(0)} ms = ${aim(restore / plain, 3)}`);
    console.log(`  status -> restore in place:  ${upgrade.toFixed(0)} ms = ${(upgrade / plain).toFixed(2)}x (no new save)`);
    console.log(`  already done (restore):      ${done.toFixed(0)} ms = ${(done / plain).toFixed(2)}x (sha256 + record + the live etcd's status)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await etcd.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
