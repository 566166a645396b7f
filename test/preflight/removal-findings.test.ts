/**
 * The go/no-go report of nodes removed for good, on the shared cluster
 * (../shared/data/kube-api/v1.31-kubeadm-ha), where general-3 runs debug-shell, a pod with no
 * controller: its removal's drain is judged like any drain and stops the removal wave; removed
 * dead, the pod is said to be lost for good, and the node's not being Ready blocks nothing.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveLive } from "../../config/live-nodes";
import { executionOptions, parseStackConfig, planFromConfig } from "../../config/stack-config";
import { LiveCluster, parseLiveCluster } from "../../discovery/live-cluster";
import type { ReadinessRead } from "../../discovery/read-readiness";
import { planCommands } from "../../planning/commands";
import { planWaves } from "../../planning/waves";
import { assessReadiness, NoGoError, refuseNoGo } from "../../preflight/readiness";
import { thrownBy } from "../helpers/errors";
import { DATA_DIR, readData, sharedRawCluster } from "../discovery/static-api";
import { sharedWorkloads } from "./shared-workloads";

const SERVER = "https://10.0.0.10:6443";
const NOW = new Date("2026-11-28");
const text = (file: string) => readFileSync(join(DATA_DIR, file), "utf8");
const read: ReadinessRead = {
  workloads: sharedWorkloads(),
  readyz: { status: 200, text: text("readyz-verbose.txt") },
  certificate: { notAfter: new Date("2027-06-01T00:00:00Z") },
  metrics: [{ source: "kube-apiserver-cp-1", url: "https://127.0.0.1:6443/metrics", result: { status: 200, text: text("metrics-excerpt.txt") } }],
  discovery: { api: readData("api.json"), apis: readData("apis.json") },
};

/** The shared cluster with general-3 Ready=Unknown when `deadGeneral3`. */
function cluster(deadGeneral3: boolean): LiveCluster {
  const live = parseLiveCluster(SERVER, sharedRawCluster());
  return deadGeneral3 ? { ...live, nodes: live.nodes.map((n) => (n.name === "general-3" ? { ...n, ready: "Unknown" as const } : n)) } : live;
}

function assessed(removeNodes: unknown[], deadGeneral3: boolean, acknowledge: string[] = []) {
  const live = cluster(deadGeneral3);
  const config = resolveLive(parseStackConfig({ targetVersion: "1.31", pools: [{ name: "general", selector: "pool=general", maxUnavailable: 1 }], ssh: { insecureIgnoreHostKey: true }, removeNodes, acknowledge }, "t"), live);
  const plan = planFromConfig(config, NOW);
  const readiness = assessReadiness({ plan, live, read, drain: executionOptions(config).drain, acknowledge: config.acknowledge, now: NOW });
  const waves = planWaves(plan, { maxNodes: config.maxNodesPerUpdate, commands: planCommands(plan, executionOptions(config)).commands });
  return { plan, readiness, waves };
}

it("a live node's removal drains it: a pod with no controller on it stops the removal wave until acknowledged", () => {
  const { plan, readiness, waves } = assessed(["general-3"], false);
  const blocker = readiness.findings.find((f) => f.id === "pod-without-controller/shop/debug-shell")!;
  expect([blocker.hop, blocker.blocking, blocker.node]).toEqual([0, true, "general-3"]);
  expect(blocker.detail).toContain("draining general batch 1 of 1 (removal for good)");
  expect(waves[0]!.kind).toBe("removal");
  const refused = thrownBy(NoGoError, () => refuseNoGo(readiness, plan, waves[0]));
  expect(refused.message).toContain("pod-without-controller/shop/debug-shell");
  // The cache pod's emptyDir on general-3 blocks its drain too.
  expect(refused.blockers.map((b) => b.id)).toEqual(["pod-with-local-data/shop/cache-5f4dfd484-nbr6n", "pod-without-controller/shop/debug-shell"]);
  const acknowledged = assessed(["general-3"], false, ["pod-without-controller/shop/debug-shell", "pod-with-local-data/shop/cache-5f4dfd484-nbr6n"]);
  expect(() => refuseNoGo(acknowledged.readiness, acknowledged.plan, acknowledged.waves[0])).not.toThrow();
});

it("a dead node's removal: its pods without a controller are lost for good (a note), its not being Ready blocks nothing", () => {
  const { plan, readiness, waves } = assessed([{ name: "general-3", dead: true }], true);
  expect(readiness.findings.filter((f) => f.node === "general-3").map((f) => [f.id, f.blocking])).toEqual([
    ["node-not-ready/general-3", false],
    ["pod-lost-with-dead-node/shop/debug-shell", false],
  ]);
  expect(readiness.findings.find((f) => f.id === "pod-lost-with-dead-node/shop/debug-shell")!.detail).toBe(
    "pod shop/debug-shell has no controller and is bound to the dead node general-3: it is lost for good when the Node is deleted (nothing makes it again); recreate it from its manifest if you need it",
  );
  expect(() => refuseNoGo(readiness, plan, waves[0])).not.toThrow();
});

it("a node not Ready that is not being removed still blocks every wave", () => {
  const { plan, readiness, waves } = assessed([], true);
  expect(readiness.findings.find((f) => f.id === "node-not-ready/general-3")!.blocking).toBe(true);
  expect(() => refuseNoGo(readiness, plan, waves[0])).toThrow(NoGoError);
});
