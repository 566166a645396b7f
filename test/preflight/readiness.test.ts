/**
 * The go/no-go report on the shared cluster (../shared/data/kube-api/v1.31-kubeadm-ha): every
 * finding kind the kept responses show, the verdict per hop, the text, the refusal of a no-go
 * wave (and only of its hop), and the `acknowledge` key.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveLive } from "../../config/live-nodes";
import { executionOptions, parseStackConfig, planFromConfig } from "../../config/stack-config";
import { parseLiveCluster } from "../../discovery/live-cluster";
import type { ReadinessRead } from "../../discovery/read-readiness";
import { planCommands } from "../../planning/commands";
import { planWaves } from "../../planning/waves";
import { assessReadiness, NoGoError, refuseNoGo } from "../../preflight/readiness";
import { readinessText } from "../../preflight/readiness-text";
import { inputErrorOf } from "../helpers/errors";
import { DATA_DIR, readData, sharedRawCluster } from "../discovery/static-api";
import { sharedWorkloads } from "./shared-workloads";

const SERVER = "https://10.0.0.10:6443";
const text = (file: string) => readFileSync(join(DATA_DIR, file), "utf8");
/** What readReadiness returns for the shared cluster when every apiserver's /metrics answered. */
const read: ReadinessRead = {
  workloads: sharedWorkloads(),
  readyz: { status: 200, text: text("readyz-verbose.txt") },
  certificate: { notAfter: new Date("2027-06-01T00:00:00Z") },
  metrics: ["kube-apiserver-cp-1", "kube-apiserver-cp-2", "kube-apiserver-cp-3"].map((source) => ({ source, url: `https://127.0.0.1:6443/metrics`, result: { status: 200, text: text("metrics-excerpt.txt") } })),
  discovery: { api: readData("api.json"), apis: readData("apis.json") },
};
const POOLS = [
  { name: "general", selector: "pool=general", maxUnavailable: 1 },
  { name: "batch", selector: "pool=batch", maxUnavailable: 1 },
];

function assessed(acknowledge: string[] = [], extra: Record<string, unknown> = {}) {
  const config = resolveLive(parseStackConfig({ targetVersion: "1.32", pools: POOLS, ssh: { insecureIgnoreHostKey: true }, acknowledge, ...extra }, "t"), parseLiveCluster(SERVER, sharedRawCluster()));
  const plan = planFromConfig(config, new Date("2026-11-28"));
  const readiness = assessReadiness({ plan, live: parseLiveCluster(SERVER, sharedRawCluster()), read, drain: executionOptions(config).drain, acknowledge: config.acknowledge, now: new Date("2026-11-28") });
  const waves = planWaves(plan, { maxNodes: config.maxNodesPerUpdate, commands: planCommands(plan, executionOptions(config)).commands });
  return { plan, readiness, waves };
}

it("hop 1 (the batch pool to 1.31.4) is no-go on batch-worker-pdb; hop 2 (to 1.32) also on the removed flowcontrol v1beta3 APIs, debug-shell and cache", () => {
  const { readiness } = assessed();
  expect(readiness.verdicts).toEqual([
    { hop: 1, to: "1.31.4", go: false, blockers: ["pdb-blocks-drain/shop/batch-worker-pdb"] },
    {
      hop: 2, to: "1.32.13", go: false,
      blockers: [
        "pdb-blocks-drain/shop/batch-worker-pdb", "pod-with-local-data/shop/cache-5f4dfd484-nbr6n", "pod-without-controller/shop/debug-shell",
        "removed-api-requested/flowschemas.v1beta3.flowcontrol.apiserver.k8s.io", "removed-api-requested/prioritylevelconfigurations.v1beta3.flowcontrol.apiserver.k8s.io",
      ],
    },
  ]);
  const removed = readiness.findings.find((f) => f.id === "removed-api-requested/flowschemas.v1beta3.flowcontrol.apiserver.k8s.io")!;
  expect(removed.hop).toBe(2);
  expect(removed.detail).toContain("kube-apiserver-cp-1, kube-apiserver-cp-2, kube-apiserver-cp-3");
  // Health, as kept: nothing blocks; the etcd size and the certificate are said.
  expect(readiness.findings.filter((f) => f.hop === 0).map((f) => `${f.id} ${f.blocking}`)).toEqual(["certificate-expiry/https://10.0.0.10:6443 false", "etcd-size/etcd-0 false"]);
});

it("the text: verdicts, then each blocking id once with where it applies, then the notes", () => {
  const lines = readinessText(assessed(["pod-without-controller/shop/debug-shell"]).readiness);
  expect(lines.slice(0, 4)).toEqual([
    "GO/NO-GO (checked before anything runs; each pulumi up checks again)",
    "  hop 1 to 1.31.4: NO-GO (1 blocking finding(s))",
    "  hop 2 to 1.32.13: NO-GO (4 blocking finding(s))",
    "  BLOCKING (fix it, or name its id in the stack config's acknowledge list)",
  ]);
  expect(lines).toContain("    pdb-blocks-drain/shop/batch-worker-pdb (hop 1: batch-1, batch-2; hop 2: batch-1, batch-2)");
  expect(lines).toContain("  ACKNOWLEDGED (blocking, let through by acknowledge)");
  expect(lines[lines.indexOf("  ACKNOWLEDGED (blocking, let through by acknowledge)") + 1]).toBe("    pod-without-controller/shop/debug-shell (hop 2: general-3)");
  expect(lines).toContain("    pdb-blocks-drain/shop/web-pdb (hop 2: general-1, general-2, general-3)");
});

it("refuses the next wave only for its own hop's blockers and the cluster's health", () => {
  const { plan, readiness, waves } = assessed();
  expect(() => refuseNoGo(readiness, plan, waves[0])).toThrow(NoGoError);
  expect(() => refuseNoGo(readiness, plan, waves[0])).toThrow(/^no-go: 1 blocking finding\(s\) for hop 1; nothing was changed:\n {2}- pdb-blocks-drain\/shop\/batch-worker-pdb: /);
  // Acknowledging hop 1's blocker lets hop 1's wave start although hop 2 is still no-go.
  const acked = assessed(["pdb-blocks-drain/shop/batch-worker-pdb"]);
  expect(acked.waves[0]!.hop).toBe(1);
  expect(() => refuseNoGo(acked.readiness, acked.plan, acked.waves[0])).not.toThrow();
  expect(acked.readiness.verdicts.map((v) => v.go)).toEqual([true, false]);
  // A hop-2 wave is refused on hop 2's.
  expect(() => refuseNoGo(acked.readiness, acked.plan, acked.waves.find((w) => w.hop === 2))).toThrow(/for hop 2/);
});

it("acknowledge: ids of known kinds, each once", () => {
  const raw = { targetVersion: "1.32", pools: POOLS, ssh: { insecureIgnoreHostKey: true } };
  expect(parseStackConfig({ ...raw, acknowledge: ["etcd-size/etcd-0"] }, "t").acknowledge).toEqual(["etcd-size/etcd-0"]);
  expect(parseStackConfig(raw, "t").acknowledge).toEqual([]);
  expect(inputErrorOf(() => parseStackConfig({ ...raw, acknowledge: ["pdb/shop/x"] }, "t")).message).toContain('acknowledge[0]: is not the id of a go/no-go finding (got "pdb/shop/x"). copy the id the report prints (npm run plan), <kind>/<subject>, where kind is one of pdb-blocks-drain,');
  expect(inputErrorOf(() => parseStackConfig({ ...raw, acknowledge: ["etcd-size/etcd-0", "etcd-size/etcd-0"] }, "t")).message).toContain('acknowledge[1]: is listed twice (got "etcd-size/etcd-0")');
  expect(inputErrorOf(() => parseStackConfig({ ...raw, acknowledge: "etcd-size/etcd-0" }, "t")).message).toContain("acknowledge: is not a list");
});

it("notes kubelets the plan leaves as far behind as the skew allows: batch-1/2 (1.30.14, in no pool) against 1.33", () => {
  const { plan, readiness } = assessed([], { targetVersion: "1.33", pools: [POOLS[0]] });
  const notes = readiness.findings.filter((f) => f.kind === "kubelet-skew");
  expect(notes.map((f) => `${f.id} hop ${f.hop} ${f.blocking}`)).toEqual([`kubelet-skew/batch-1 hop ${plan.hops.length} false`, `kubelet-skew/batch-2 hop ${plan.hops.length} false`]);
  expect(notes[0]!.detail).toContain("the kubelet on batch-1 (1.30.14) is 3 minors behind kube-apiserver 1.33.");
  expect(notes[0]!.detail).toContain("(it is in no pool: select it with a pool to have it upgraded)");
  // To 1.32 they are 2 behind: no note.
  expect(assessed([], { pools: [POOLS[0]] }).readiness.findings.filter((f) => f.kind === "kubelet-skew")).toEqual([]);
});
