/**
 * `npm run bench`, live: a 5,000-node cluster read from the Kubernetes API double
 * (test/lab/kube-api, HTTPS, in its own process), by
 * - `npm run plan` (what npm starts: `node cli/run.js plan`), process start to exit, and its
 *   peak memory (max RSS); target under 2 s and 300 MB;
 * - the program evaluated under Pulumi's mocks as one `pulumi up` would (bench/program-eval.ts),
 *   for its first wave: time, peak memory and resources registered; target under 10 s, 1 GB
 *   and 2,000 resources;
 * for two states of the cluster: every node at 1.36.4 (the first wave is the control plane's)
 * and the control plane already at 1.37.1 (the first wave is maxNodesPerUpdate workers, the
 * largest wave); and `npm run plan` once more with 50,000 workload pods under 500
 * PodDisruptionBudgets, which the go/no-go check reads (target under 10 s and 600 MB, our own:
 * most of it is the double answering 100 pages of pods). Prints "within targets" or
 * "OVER TARGET"; the exit code says only whether a
 * run failed. Peak memory comes from /usr/bin/time (GNU time's %M, KB).
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startKubeApi } from "../test/lab/kube-api";
import type { ClusterSpec } from "../test/lab/kube-api";

const ROOT = path.join(__dirname, "..");
const NODES = 5_000;
const CONTROL_PLANE = 3;
const TARGET = { planSeconds: 2, planMb: 300, programSeconds: 10, programMb: 1024, registered: 2_000, podsPlanSeconds: 10, podsPlanMb: 600 };
const STACK = "bench-live";

/** 500 Deployments of 100 pods, each spread over 97 workers, each with a PodDisruptionBudget (maxUnavailable 1): 50,000 pods for the go/no-go read. */
function workloads(): ClusterSpec["workloads"] {
  const workers = Array.from({ length: NODES - CONTROL_PLANE }, (_, i) => `worker-${i + 1}`);
  return Array.from({ length: 500 }, (_, i) => ({ namespace: `ns-${i % 20}`, name: `app-${i}`, replicas: 100, nodes: workers.slice((i * 10) % 4900, ((i * 10) % 4900) + 97), pdb: { maxUnavailable: 1 } }));
}

/** 3 control-plane nodes at `cp`, the other workers at 1.36.4 in pools a and b (label pool); with `pods`, {@link workloads}. */
function cluster(cp: string, pods = false): ClusterSpec {
  return {
    ...(pods ? { workloads: workloads() } : {}),
    controlPlane: Array.from({ length: CONTROL_PLANE }, (_, i) => ({ name: `cp-${i + 1}`, version: cp })),
    workers: Array.from({ length: NODES - CONTROL_PLANE }, (_, i) => ({ name: `worker-${i + 1}`, kubeletVersion: "1.36.4", labels: { pool: i % 2 === 0 ? "a" : "b" } })),
    kubernetesVersion: cp,
    kubeProxyVersion: cp,
    coreDnsVersion: "v1.12.1",
  };
}

const STACK_FILE = `config:
  cluster-maintenance:targetVersion: "1.37.1"
  cluster-maintenance:pools:
    - { name: a, selector: pool=a, maxUnavailable: 10 }
    - { name: b, selector: pool=b, maxUnavailable: 10 }
  cluster-maintenance:ssh: { insecureIgnoreHostKey: true }
`;

/** Runs `args` under /usr/bin/time in `cwd`: its stdout, wall seconds and max RSS in MB. */
function timed(args: readonly string[], cwd: string): { stdout: string; seconds: number; mb: number } {
  const r = spawnSync("/usr/bin/time", ["-f", "%e %M", ...args], { cwd, encoding: "utf8", maxBuffer: 256 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const [seconds, kb] = r.stderr.trim().split("\n").pop()!.split(" ").map(Number);
  return { stdout: r.stdout, seconds: seconds!, mb: kb! / 1024 };
}

/**
 * `npm run plan` against a cluster with 50,000 workload pods and 500 budgets: the go/no-go read
 * lists every pod (but kube-proxy's). Most of its time is the API double answering 100 pages.
 */
async function measurePods(dir: string): Promise<boolean> {
  const api = await startKubeApi({ dir: path.join(dir, "api-pods"), cluster: cluster("1.36.4", true) });
  try {
    const planArgs = [process.execPath, path.join(ROOT, "cli", "run.js"), "plan", "--stack", STACK, "--kubeconfig", api.kubeconfigPath];
    const plan = timed(planArgs, dir);
    const verdicts = plan.stdout.split("\n").filter((l) => /^ {2}hop \d+ to /.test(l));
    console.log(`live, every node at 1.36.4 with 50,000 workload pods under 500 PodDisruptionBudgets: ${verdicts.join("; ").trim()}`);
    console.log(`  npm run plan: ${plan.seconds.toFixed(2)} s, ${plan.mb.toFixed(0)} MB (target < ${TARGET.podsPlanSeconds} s, < ${TARGET.podsPlanMb} MB)`);
    return plan.seconds < TARGET.podsPlanSeconds && plan.mb < TARGET.podsPlanMb;
  } finally {
    await api.stop();
  }
}

async function measure(label: string, cp: string, dir: string): Promise<boolean> {
  const api = await startKubeApi({ dir: path.join(dir, `api-${cp}`), cluster: cluster(cp) });
  try {
    // The launcher's cache is warm after one run (bench/start-bench.ts measures the start alone).
    const planArgs = [process.execPath, path.join(ROOT, "cli", "run.js"), "plan", "--stack", STACK, "--kubeconfig", api.kubeconfigPath];
    timed(planArgs, dir);
    const plan = timed(planArgs, dir);
    const waves = plan.stdout.split("\n").filter((l) => /^ {2}wave \d+/.test(l));
    const config = {
      "cluster-maintenance:targetVersion": "1.37.1",
      "cluster-maintenance:pools": JSON.stringify([{ name: "a", selector: "pool=a", maxUnavailable: 10 }, { name: "b", selector: "pool=b", maxUnavailable: 10 }]),
      "cluster-maintenance:ssh": JSON.stringify({ insecureIgnoreHostKey: true }),
      "cluster-maintenance:sshPrivateKey": "not-a-key",
      "kubernetes:kubeconfig": api.kubeconfigPath,
    };
    const configFile = path.join(dir, `program-${cp}.json`);
    writeFileSync(configFile, JSON.stringify({ stack: STACK, config }));
    const run = timed([process.execPath, "--import", "tsx", path.join(ROOT, "bench", "program-eval.ts"), configFile], ROOT);
    const program = JSON.parse(run.stdout.trim().split("\n").pop()!) as { registered: number; seconds: number; wave: string };
    console.log(`live, ${label}: ${NODES} nodes read from the API double, ${waves.length} waves`);
    console.log(`  npm run plan: ${plan.seconds.toFixed(2)} s, ${plan.mb.toFixed(0)} MB (target < ${TARGET.planSeconds} s, < ${TARGET.planMb} MB)`);
    console.log(`  pulumi up under mocks, first wave (${program.wave}): ${program.registered} resources, ${run.seconds.toFixed(2)} s, ${run.mb.toFixed(0)} MB (target <= ${TARGET.registered} resources, < ${TARGET.programSeconds} s, < ${TARGET.programMb} MB)`);
    return plan.seconds < TARGET.planSeconds && plan.mb < TARGET.planMb && program.registered <= TARGET.registered && run.seconds < TARGET.programSeconds && run.mb < TARGET.programMb;
  } finally {
    await api.stop();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "cm-live-bench-"));
  try {
    copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    writeFileSync(path.join(dir, `Pulumi.${STACK}.yaml`), STACK_FILE);
    const a = await measure("every node at 1.36.4", "1.36.4", dir);
    const b = await measure("control plane at 1.37.1, workers at 1.36.4", "1.37.1", dir);
    const c = await measurePods(dir);
    console.log(a && b && c ? "within targets" : "OVER TARGET (a figure, not a failure: the exit code is 0)");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
