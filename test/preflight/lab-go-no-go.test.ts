/**
 * The go/no-go check against the lab's HTTPS Kubernetes API double (test/lab/kube-api), one
 * double per case, each a cluster of 3 control-plane nodes and the rolling pool general
 * (general-1..4) at 1.34.6 hopping to 1.35: `npm run plan` (runPlan, --kubeconfig the double's)
 * names each finding by its id with the hop's verdict, and the program (index.ts under Pulumi
 * mocks) refuses a no-go first wave with NoGoError before anything registers, and registers
 * the wave once the stack config's `acknowledge` names the finding. The finding kinds of issue
 * 12 item 8: a PodDisruptionBudget that blocks a drain (maxUnavailable 0), a removed API in use
 * (apiserver_requested_deprecated_apis in the double's /metrics), a node whose kubelet stopped
 * reporting (Ready Unknown), and the serving certificate (the double's lasts 365 days, as
 * kubeadm's: a note; within 7 days of its end: blocking).
 */
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPlan } from "../../cli/plan";
import { captured, scratchProject } from "../helpers/cli";
import { programRegistrations } from "../helpers/program-runs";
import type { Registered } from "../helpers/pulumi-mocks";
import { clusterObjects, KubeApi, KubeObject, startKubeApi, type ClusterSpec, type WorkloadSpec } from "../lab/kube-api";
import { nodeObject } from "../lab/kube-api/objects";
import { KUBE_API_DATA } from "../lab/kube-api/resources";

jest.setTimeout(120_000);

const CP = ["cp-1", "cp-2", "cp-3"];
const WORKERS = ["general-1", "general-2", "general-3", "general-4"];

function spec(workloads: WorkloadSpec[] = []): ClusterSpec {
  return {
    controlPlane: CP.map((name) => ({ name, version: "1.34.6" })),
    workers: WORKERS.map((name) => ({ name, kubeletVersion: "1.34.6", labels: { pool: "general" } })),
    kubernetesVersion: "1.34.6",
    kubeProxyVersion: "1.34.6",
    coreDnsVersion: "v1.12.0",
    workloads,
  };
}

/** A Deployment whose budget allows a disruption: never a blocker (each batch evicts one of its pods). */
const WEB: WorkloadSpec = { namespace: "shop", name: "web", replicas: 4, pdb: { minAvailable: 2 } };

/** The stack config without versions (nodes read from the double), general drained one node at a time. */
const CONFIG = {
  targetVersion: "1.35",
  controlPlane: { order: CP },
  pools: [{ name: "general", strategy: "rolling", selector: "pool=general", maxUnavailable: 1 }],
  ssh: { insecureIgnoreHostKey: true },
};
const yaml = (acknowledge: string[] = []) =>
  [
    "config:",
    '  cluster-maintenance:targetVersion: "1.35"',
    `  cluster-maintenance:controlPlane: { order: [${CP.join(", ")}] }`,
    "  cluster-maintenance:pools:",
    "    - { name: general, strategy: rolling, selector: pool=general, maxUnavailable: 1 }",
    "  cluster-maintenance:ssh: { insecureIgnoreHostKey: true }",
    ...(acknowledge.length > 0 ? [`  cluster-maintenance:acknowledge: [${acknowledge.map((a) => JSON.stringify(a)).join(", ")}]`] : []),
    "",
  ].join("\n");

const apis: KubeApi[] = [];
afterAll(async () => {
  await Promise.all(apis.map((a) => a.stop()));
});

/** A double in a fresh directory; `metrics`: the text its /metrics serves (DIR/metrics.txt). */
async function double(options: { cluster?: ClusterSpec; seed?: KubeObject[]; metrics?: string }): Promise<KubeApi> {
  const dir = fs.mkdtempSync(join(tmpdir(), "cm-go-no-go-"));
  if (options.metrics !== undefined) fs.writeFileSync(join(dir, "metrics.txt"), options.metrics);
  const api = await startKubeApi({ dir, ...(options.cluster ? { cluster: options.cluster } : {}), ...(options.seed ? { seed: options.seed } : {}) });
  apis.push(api);
  return api;
}

/** `npm run plan -- --stack lab --kubeconfig <the double's>` (text, or with `--json`). */
async function plan(api: KubeApi, acknowledge: string[] = [], extra: string[] = [], now = new Date()) {
  const r = await captured(
    (io) => runPlan(["--stack", "lab", "--kubeconfig", api.kubeconfigPath, ...extra], { ...io, now, env: { HOME: "/nonexistent" } }),
    scratchProject("lab", yaml(acknowledge)),
  );
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  return r.out;
}

/** The GO/NO-GO section of the plan text. */
function goNoGo(text: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("GO/NO-GO"));
  expect(start).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && l !== "" && !l.startsWith(" "));
  return lines.slice(start, end < 0 ? undefined : end);
}

/** The program's registrations for the double, or its failure with what it registered. */
async function program(api: KubeApi, acknowledge: string[] = []): Promise<{ registered: Registered[]; error?: Error }> {
  const registered: Registered[] = [];
  try {
    await programRegistrations({ ...CONFIG, ...(acknowledge.length > 0 ? { acknowledge } : {}) }, "dev", { "kubernetes:kubeconfig": api.kubeconfigPath }, registered);
    return { registered };
  } catch (e) {
    return { registered, error: e as Error };
  }
}
const nodeUpgrades = (r: Registered[]) => r.filter((x) => x.type === "cluster-maintenance:upgrade:NodeUpgrade").map((x) => x.name);
/** Wave 1 of the hop to 1.35.9: the control plane. */
const WAVE_1 = ["dev-cp-1", "dev-cp-2", "dev-cp-3"];

/** Checks the refusal of a no-go first wave naming `id`, and the wave registered once `id` is acknowledged. */
async function refusedThenAcknowledged(api: KubeApi, id: string): Promise<void> {
  const refused = await program(api);
  expect(refused.error).toMatchObject({ name: "NoGoError" });
  expect(refused.error!.message).toMatch(/^no-go: 1 blocking finding\(s\) for hop 1; nothing was changed:\n/);
  expect(refused.error!.message).toContain(`\n  - ${id}: `);
  expect(refused.error!.message).toContain(`cluster-maintenance:acknowledge: [${JSON.stringify(id)}]`);
  expect(refused.registered).toEqual([]);
  const acknowledged = await program(api, [id]);
  expect(acknowledged.error).toBeUndefined();
  expect(nodeUpgrades(acknowledged.registered)).toEqual(WAVE_1);
}

describe("a cluster with nothing in the way", () => {
  let api: KubeApi;
  beforeAll(async () => {
    api = await double({ cluster: spec([WEB]) });
  });

  it("is GO; the serving certificate (365 days, as kubeadm makes it) is a note; the program registers the first wave", async () => {
    const now = new Date();
    const section = goNoGo(await plan(api, [], [], now));
    expect(section.slice(0, 2)).toEqual(["GO/NO-GO (checked before anything runs; each pulumi up checks again)", "  hop 1 to 1.35.9: GO"]);
    expect(section.some((l) => l.startsWith("  BLOCKING"))).toBe(false);
    const notes = section.indexOf("  NOTES");
    expect(notes).toBeGreaterThan(0);
    const cert = section.indexOf(`    certificate-expiry/${api.url}`);
    expect(cert).toBeGreaterThan(notes);
    expect(section[cert + 1]).toMatch(new RegExp(`^ {6}the serving certificate of ${api.url.replace(/[.]/g, "\\.")} is valid until \\d{4}-\\d\\d-\\d\\dT`));
    const json = JSON.parse(await plan(api, [], ["--json"], now));
    const finding = json.readiness.findings.find((f: { id: string }) => f.id === `certificate-expiry/${api.url}`);
    expect(finding).toMatchObject({ kind: "certificate-expiry", hop: 0, blocking: false });
    const notAfter = Date.parse(/valid until (\S+)$/.exec(finding.detail)![1]!);
    // openssl -days 365 from when the double started (about now).
    expect(Math.round((notAfter - now.getTime()) / 86_400_000)).toBe(365);
    expect(json.readiness.verdicts).toEqual([{ hop: 1, to: "1.35.9", go: true, blockers: [] }]);

    const { registered, error } = await program(api);
    expect(error).toBeUndefined();
    expect(nodeUpgrades(registered)).toEqual(WAVE_1);
  });

  it("a maintenance window that is closed: npm run plan says when it opens (the hop stays GO); pulumi up refuses before anything registers, and registers the wave inside it", async () => {
    const now = new Date();
    const hhmm = (d: Date) => `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
    // Every day from three hours ahead, for 15 minutes (UTC): closed now. From an hour ago for 24 h: open.
    const closed = { start: hhmm(new Date(now.getTime() + 3 * 3600_000)), lengthMinutes: 15 };
    const stack = `${yaml()}  cluster-maintenance:maintenanceWindow: { start: "${closed.start}", lengthMinutes: 15 }\n`;
    const r = await captured((io) => runPlan(["--stack", "lab", "--kubeconfig", api.kubeconfigPath], { ...io, now, env: { HOME: "/nonexistent" } }), scratchProject("lab", stack));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`maintenance window every day ${closed.start}-\\d\\d:\\d\\d UTC is closed; the next opens .*, in 3 h`));
    expect(goNoGo(r.out)[1]).toBe("  hop 1 to 1.35.9: GO");

    const registered: Registered[] = [];
    const failure = programRegistrations({ ...CONFIG, maintenanceWindow: closed }, "dev", { "kubernetes:kubeconfig": api.kubeconfigPath }, registered);
    await expect(failure).rejects.toMatchObject({ name: "WindowError" });
    await expect(failure).rejects.toThrow(/^outside the maintenance window every day .* is closed; the next opens .*: nothing was run/);
    expect(registered).toEqual([]);
    const open = await programRegistrations({ ...CONFIG, maintenanceWindow: { start: hhmm(new Date(now.getTime() - 3600_000)), lengthHours: 24 } }, "dev", { "kubernetes:kubeconfig": api.kubeconfigPath });
    expect(nodeUpgrades(open)).toEqual(WAVE_1);
  });

  it("a serving certificate within 7 days of its end blocks every hop until renewed or acknowledged", async () => {
    const json = JSON.parse(await plan(api, [], ["--json"]));
    const notAfter = Date.parse(/valid until (\S+)$/.exec(json.readiness.findings.find((f: { kind: string }) => f.kind === "certificate-expiry").detail)![1]!);
    const late = new Date(notAfter - 3 * 86_400_000);
    const id = `certificate-expiry/${api.url}`;
    const section = goNoGo(await plan(api, [], [], late));
    expect(section[1]).toBe("  hop 1 to 1.35.9: NO-GO (1 blocking finding(s))");
    expect(section[2]).toBe("  BLOCKING (fix it, or name its id in the stack config's acknowledge list)");
    expect(section[3]).toBe(`    ${id}`);
    expect(section[4]).toContain("in 3.0 days: renew it before upgrading (kubeadm certs renew all)");
    const acked = goNoGo(await plan(api, [id], [], late));
    expect(acked[1]).toBe("  hop 1 to 1.35.9: GO");
    expect(acked.slice(2, 4)).toEqual(["  ACKNOWLEDGED (blocking, let through by acknowledge)", `    ${id}`]);
  });
});

describe("a PodDisruptionBudget with maxUnavailable 0", () => {
  const ID = "pdb-blocks-drain/shop/checkout-pdb";
  let api: KubeApi;
  beforeAll(async () => {
    // checkout's 2 pods run on general-1 and general-2; the disruption controller's arithmetic (disruption.ts) gives it disruptionsAllowed 0.
    api = await double({ cluster: spec([WEB, { namespace: "shop", name: "checkout", replicas: 2, pdb: { maxUnavailable: 0 } }]) });
  });

  it("npm run plan names it blocking the batches holding its pods: hop 1 is NO-GO", async () => {
    const section = goNoGo(await plan(api));
    expect(section[1]).toBe("  hop 1 to 1.35.9: NO-GO (1 blocking finding(s))");
    expect(section[2]).toBe("  BLOCKING (fix it, or name its id in the stack config's acknowledge list)");
    expect(section[3]).toBe(`    ${ID} (hop 1: general-1, general-2)`);
    expect(section[4]).toMatch(/^ {6}PodDisruptionBudget shop\/checkout-pdb allows no disruption \(2 healthy of 2, 2 needed\); draining general-1 in general batch 1 of 4 \(hop 1, to 1\.35\.9\) would evict checkout-\w+-\w+, so the drain would wait \d+ s and stop the hop/);
    const json = JSON.parse(await plan(api, [], ["--json"]));
    expect(json.readiness.findings.filter((f: { id: string }) => f.id === ID)).toEqual([
      expect.objectContaining({ kind: "pdb-blocks-drain", hop: 1, node: "general-1", object: "PodDisruptionBudget shop/checkout-pdb", blocking: true }),
      expect.objectContaining({ kind: "pdb-blocks-drain", hop: 1, node: "general-2", object: "PodDisruptionBudget shop/checkout-pdb", blocking: true }),
    ]);
    expect(json.readiness.verdicts).toEqual([{ hop: 1, to: "1.35.9", go: false, blockers: [ID] }]);
    // Acknowledged, it is still said.
    const acked = goNoGo(await plan(api, [ID]));
    expect(acked[1]).toBe("  hop 1 to 1.35.9: GO");
    expect(acked.slice(2, 4)).toEqual(["  ACKNOWLEDGED (blocking, let through by acknowledge)", `    ${ID} (hop 1: general-1, general-2)`]);
  });

  it("the program refuses the first wave (the control plane's: the hop is no-go) and registers it once acknowledged", async () => {
    await refusedThenAcknowledged(api, ID);
  });
});

describe("a removed API in use", () => {
  // No removal after 1.32 is in the deprecation guide (planning/data/removed-apis.json); the
  // apiserver's removed_release label decides for what the guide does not list. The API is a
  // stand-in, named as no real group is.
  const ID = "removed-api-requested/widgets.v1beta1.lab.example.com";
  const SAMPLE = 'apiserver_requested_deprecated_apis{group="lab.example.com",removed_release="1.35",resource="widgets",subresource="",version="v1beta1"} 1';
  let api: KubeApi;
  let metrics: string;
  beforeAll(async () => {
    // The kept excerpt of a real apiserver's /metrics (its etcd size and object counts), with only this request counted.
    const kept = fs.readFileSync(join(KUBE_API_DATA, "metrics-excerpt.txt"), "utf8").split("\n").filter((l) => !l.startsWith("apiserver_requested_deprecated_apis{"));
    const at = kept.findIndex((l) => l.startsWith("# TYPE apiserver_requested_deprecated_apis")) + 1;
    metrics = [...kept.slice(0, at), SAMPLE, ...kept.slice(at)].join("\n");
    api = await double({ cluster: spec([WEB]), metrics });
  });

  it("npm run plan names it blocking the hop to the minor that removes it", async () => {
    const section = goNoGo(await plan(api));
    expect(section[1]).toBe("  hop 1 to 1.35.9: NO-GO (1 blocking finding(s))");
    expect(section.slice(2, 4)).toEqual(["  BLOCKING (fix it, or name its id in the stack config's acknowledge list)", `    ${ID} (hop 1)`]);
    expect(section[4]).toContain("Clients requested widgets in lab.example.com/v1beta1, which 1.35 no longer serves (by its removed_release label)");
    const json = JSON.parse(await plan(api, [], ["--json"]));
    expect(json.readiness.findings.filter((f: { id: string }) => f.id === ID)).toEqual([expect.objectContaining({ kind: "removed-api-requested", hop: 1, blocking: true })]);
    // Read from the double's /metrics: the etcd size of the kept excerpt is said too.
    expect(json.readiness.findings.map((f: { kind: string }) => f.kind)).toContain("etcd-size");
  });

  it("the program refuses the first wave and registers it once acknowledged", async () => {
    await refusedThenAcknowledged(api, ID);
  });

  it("a removed_release beyond the plan's last hop blocks nothing", async () => {
    fs.writeFileSync(join(api.kubeconfigPath, "..", "metrics.txt"), metrics.replace('removed_release="1.35"', 'removed_release="1.36"'));
    try {
      const section = goNoGo(await plan(api));
      expect(section[1]).toBe("  hop 1 to 1.35.9: GO");
      expect(section.join("\n")).not.toContain("removed-api-requested/");
    } finally {
      fs.writeFileSync(join(api.kubeconfigPath, "..", "metrics.txt"), metrics);
    }
  });
});

describe("a node whose kubelet stopped reporting (Ready Unknown)", () => {
  const ID = "node-not-ready/general-3";
  let api: KubeApi;
  beforeAll(async () => {
    // general-3 as the node lifecycle controller leaves it once its kubelet stopped posting
    // status for the grace period (nodes.json's shape; batch-2-kubelet-stopped-65s).
    const objects = clusterObjects(spec([WEB]));
    const i = objects.findIndex((o) => o.kind === "Node" && o.metadata.name === "general-3");
    const n = objects[i]!;
    const address = (n.status as { addresses: { type: string; address: string }[] }).addresses.find((a) => a.type === "InternalIP")!.address;
    const created = Date.parse(n.metadata.creationTimestamp!);
    const stopped = Date.now() - 10 * 60_000;
    objects[i] = {
      apiVersion: "v1",
      kind: "Node",
      ...nodeObject({
        name: "general-3", uid: n.metadata.uid!, createdMs: created, controlPlane: false, labels: { pool: "general" }, kubeletVersion: "v1.34.6",
        bootID: (n.status as { nodeInfo: { bootID: string } }).nodeInfo.bootID, address, heartbeatMs: stopped,
        ready: { status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status.", sinceMs: stopped + 50_000 },
      }),
    };
    api = await double({ seed: objects });
  });

  it("npm run plan names it, blocking every hop (it is the cluster's health)", async () => {
    const section = goNoGo(await plan(api));
    expect(section[1]).toBe("  hop 1 to 1.35.9: NO-GO (1 blocking finding(s))");
    expect(section.slice(2, 4)).toEqual(["  BLOCKING (fix it, or name its id in the stack config's acknowledge list)", `    ${ID} (general-3)`]);
    expect(section[4]).toBe("      node general-3 is Ready=Unknown: its kubelet has stopped reporting. Bring it back (systemctl status kubelet on the node), or remove the Node if the machine is gone");
    const json = JSON.parse(await plan(api, [], ["--json"]));
    expect(json.readiness.findings.filter((f: { id: string }) => f.id === ID)).toEqual([expect.objectContaining({ kind: "node-not-ready", hop: 0, node: "general-3", blocking: true })]);
  });

  it("the program refuses the first wave and registers it once acknowledged", async () => {
    await refusedThenAcknowledged(api, ID);
  });
});
