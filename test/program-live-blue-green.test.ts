/**
 * The dev stack read live from a Kubernetes API double (test/lab/kube-api) that holds its
 * cluster: 3 control-plane nodes, the rolling pool general (label pool=general) and the
 * blue-green pool batch's own instances (batch-v1-34-6-1..3), all at 1.34.6. One wave per
 * update; the pool's serving color stays registered in every update (not registering it would
 * terminate its instances), and its replacement is a wave of its own.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { programRegistrations } from "./helpers/program-runs";
import { Registered, stackConfig } from "./helpers/pulumi-mocks";
import { KubeApi, startKubeApi } from "./lab/kube-api";

const dev = stackConfig("dev");
const pools = dev.pools as Record<string, unknown>[];
const live = {
  ...dev,
  controlPlane: { order: ["cp-1", "cp-2", "cp-3"] },
  pools: [{ name: "general", strategy: "rolling", selector: "pool=general", maxUnavailable: 2 }, pools[1]],
  ssh: { insecureIgnoreHostKey: true },
};

/** The dev cluster with the control plane at `cp` and general's workers at `workers`. */
function devCluster(cp: string, workers: string) {
  return {
    controlPlane: ["cp-1", "cp-2", "cp-3"].map((name) => ({ name, version: cp })),
    workers: [
      ...[1, 2, 3, 4].map((i) => ({ name: `general-${i}`, kubeletVersion: workers, labels: { pool: "general" } })),
      ...[1, 2, 3].map((i) => ({ name: `batch-v1-34-6-${i}`, kubeletVersion: "1.34.6", labels: { pool: "batch" } })),
    ],
    kubernetesVersion: cp, kubeProxyVersion: cp, coreDnsVersion: "v1.12.0",
  };
}

let apis: KubeApi[] = [];
async function up(cp: string, workers: string): Promise<Registered[]> {
  const api = await startKubeApi({ dir: mkdtempSync(join(tmpdir(), "cm-live-bg-")), cluster: devCluster(cp, workers) });
  apis.push(api);
  return programRegistrations(live, "dev", { "kubernetes:kubeconfig": api.kubeconfigPath });
}
afterAll(async () => {
  await Promise.all(apis.map((a) => a.stop()));
  apis = [];
});

const commands = (r: Registered[]) => r.filter((x) => x.type === "command:remote:Command").map((x) => x.name);
const instances = (r: Registered[]) => r.filter((x) => x.type === "aws:ec2/instance:Instance").map((x) => x.name).sort();
/** The instances of a color: `<cluster>-<pool>-<color>-<node>`. */
const color = (tag: string) => [1, 2, 3].map((i) => `dev-batch-${tag}-batch-${tag}-${i}`);

it("keeps the serving color registered while the control plane's wave runs, and replaces the pool in a wave of its own", async () => {
  // Wave 1 of hop 1.35.9: the control plane only; the pool's 1.34.6 instances stay registered.
  const first = await up("1.34.6", "1.34.6");
  expect(commands(first).every((n) => /^dev-cp-\d-v1\.35\.9-/.test(n) || n.startsWith("dev-batch-v1-34-6-"))).toBe(true);
  expect(commands(first).filter((n) => n.startsWith("dev-cp-1-v1.35.9-")).length).toBeGreaterThan(0);
  expect(instances(first)).toEqual(color("v1-34-6"));
  // Control plane and general at 1.37.1: what is left is the pool's replacement, one wave.
  const last = await up("1.37.1", "1.37.1");
  // Only the pool's commands: both colors' own (join tokens, registrations, gates) and the
  // replacement's cordons, drains, soak and deletion of the old nodes; nothing on cp-* or general-*.
  expect(commands(last).every((n) => n.startsWith("dev-batch-"))).toBe(true);
  expect(commands(last).filter((n) => /-v1-37-1-(cordon|drain)$|-(soak|delete-old-nodes)$/.test(n)).sort()).toEqual([
    "dev-batch-v1-34-6-1-v1-37-1-cordon", "dev-batch-v1-34-6-1-v1-37-1-drain",
    "dev-batch-v1-34-6-2-v1-37-1-cordon", "dev-batch-v1-34-6-2-v1-37-1-drain",
    "dev-batch-v1-34-6-3-v1-37-1-cordon", "dev-batch-v1-34-6-3-v1-37-1-drain",
    "dev-batch-v1-37-1-delete-old-nodes", "dev-batch-v1-37-1-soak",
  ]);
  expect(instances(last)).toEqual([...color("v1-34-6"), ...color("v1-37-1")].sort());
}, 180_000);
