/**
 * `npm run plan` reading the cluster: the real responses of ../shared/data/kube-api/v1.31-kubeadm-ha
 * served over HTTP (test/discovery/static-api.ts), a stack without versions, its waves; drift;
 * --offline; --print-rbac.
 */
import { runPlan } from "../cli/plan";
import { captured, scratchProject } from "./helpers/cli";
import { staticApiPerFile } from "./discovery/static-api";

const served = staticApiPerFile();

const LIVE = `config:
  cluster-maintenance:targetVersion: "1.32"
  cluster-maintenance:pools:
    - { name: general, selector: pool=general, maxUnavailable: 1 }
  cluster-maintenance:ssh: { insecureIgnoreHostKey: true }
  cluster-maintenance:maxNodesPerUpdate: 2
`;
const run = (args: string[], cwd: string) => captured((io) => runPlan(args, { ...io, now: new Date("2026-11-28"), env: { HOME: "/nonexistent" } }), cwd);

describe("a stack without versions", () => {
  it("is planned from the cluster, with every wave and the one the next pulumi up runs", async () => {
    const r = await run(["--stack", "live", "--kubeconfig", served.kubeconfig], scratchProject("live", LIVE));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe(`Planned from the cluster at ${served.api.url} (kubeconfig: kubernetes:kubeconfig (${served.kubeconfig})).`);
    expect(lines[1]).toBe("Upgrade plan for cluster live: v1.31.4 -> v1.32.13, 1 hop(s), 10 step(s), 8 node(s)");
    // kubeadm upgrade plan's rows: etcd per control-plane node and CoreDNS as read, their targets from planning/data/kubeadm-addons.json.
    for (const cp of ["cp-1", "cp-2", "cp-3"]) expect(lines).toContain(`etcd                      ${cp}      3.5.15-0   3.5.24-0`);
    expect(lines).toContain("CoreDNS                             v1.11.3    v1.11.3");
    expect(lines).toContain("etcd, CoreDNS TARGET: kubeadm 1.32 installs etcd 3.5.24-0 and CoreDNS v1.11.3 (planning/data/kubeadm-addons.json, which names where each was read)");
    // The kubelets in their own table; batch is in no pool, so its kubelets stay.
    const kubelets = lines.indexOf("COMPONENT   NODE        CURRENT    TARGET");
    expect(lines.slice(kubelets + 1, kubelets + 9)).toEqual([
      "kubelet     cp-1        v1.31.4    v1.32.13",
      "kubelet     cp-2        v1.31.4    v1.32.13",
      "kubelet     cp-3        v1.31.4    v1.32.13",
      "kubelet     general-1   v1.31.4    v1.32.13",
      "kubelet     general-2   v1.31.4    v1.32.13",
      "kubelet     general-3   v1.31.4    v1.32.13",
      "kubelet     batch-1     v1.30.14   v1.30.14",
      "kubelet     batch-2     v1.30.14   v1.30.14",
    ]);
    const waves = lines.slice(lines.findIndex((l) => l.startsWith("WAVES")));
    expect(waves.slice(1, 4)).toEqual([
      "  wave 1 (next pulumi up): hop 1 v1.32.13, control plane: 3 node(s), 7 step(s); expected 33 min, at most 5 h 6 min",
      "  wave 2: hop 1 v1.32.13, workers of general: 2 node(s), 2 step(s); expected 12 min, at most 3 h 4 min",
      "  wave 3: hop 1 v1.32.13, workers of general: 1 node(s), 1 step(s); expected 6 min, at most 1 h 32 min",
    ]);
    const json = JSON.parse((await run(["--stack", "live", "--kubeconfig", served.kubeconfig, "--json"], scratchProject("live", LIVE))).out);
    expect(json.origin).toBe(`the cluster at ${served.api.url} (kubeconfig: kubernetes:kubeconfig (${served.kubeconfig}))`);
    expect(json.waves.map((w: { kind: string; nodes: number }) => [w.kind, w.nodes])).toEqual([["control-plane", 3], ["workers", 2], ["workers", 1]]);
  });

  it("says the maintenance window's state, and gives each wave's estimate in JSON", async () => {
    // run() plans at 2026-11-28T00:00Z, a Saturday: 01:00 on Saturdays and Sundays opens in an hour.
    const windowed = `${LIVE}  cluster-maintenance:maintenanceWindow: { days: [sat, sun], start: "01:00", lengthHours: 4 }\n`;
    const r = await run(["--stack", "live", "--kubeconfig", served.kubeconfig], scratchProject("live", windowed));
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      "maintenance window Sat, Sun 01:00-05:00 UTC is closed; the next opens Sat 2026-11-28 01:00 UTC, in 1 h (pulumi up runs a wave only inside it, and only one that ends by its close: maintenanceWindow.fit expected)",
    );
    const json = JSON.parse((await run(["--stack", "live", "--kubeconfig", served.kubeconfig, "--json"], scratchProject("live", windowed))).out);
    expect(json.waves[0].estimate).toMatchObject({ expectedSeconds: expect.any(Number), boundSeconds: expect.any(Number) });
    expect(json.maintenanceWindow.state).toEqual({ open: false, opensAt: "2026-11-28T01:00:00.000Z", at: "2026-11-28T00:00:00.000Z" });
  });

  it("cannot be planned --offline, nor without a kubeconfig", async () => {
    const offline = await run(["--stack", "live", "--offline"], scratchProject("live", LIVE));
    expect(offline.code).toBe(1);
    expect(offline.err).toContain("--offline: needs a stack config that declares every node with its version");
    const none = await run(["--stack", "live"], scratchProject("live", LIVE));
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/^error: .*kubeconfig/);
  });
});

it("refuses a declared stack that differs from the cluster (exit 1, the drift table)", async () => {
  const node = (name: string, version: string) => `{ name: ${name}, host: 10.0.0.1, version: "${version}" }`;
  const declared = `config:
  cluster-maintenance:targetVersion: "1.32"
  cluster-maintenance:controlPlane: { nodes: [${node("cp-1", "1.31.4")}, ${node("cp-2", "1.31.4")}, ${node("cp-3", "1.31.4")}] }
  cluster-maintenance:pools:
    - { name: general, nodes: [${node("general-1", "1.31.4")}, ${node("general-2", "1.31.4")}, ${node("general-3", "1.30.14")}] }
    - { name: batch, nodes: [${node("batch-1", "1.30.14")}, ${node("batch-2", "1.30.14")}] }
  cluster-maintenance:ssh: { insecureIgnoreHostKey: true }
`;
  const r = await run(["--stack", "d", "--kubeconfig", served.kubeconfig], scratchProject("d", declared));
  expect(r.code).toBe(1);
  expect(r.err).toContain("general-3  kubelet    1.30.14   1.31.4  set the node's version to 1.31.4");
  // --offline plans the declared versions without reading the cluster.
  const offline = await run(["--stack", "d", "--offline"], scratchProject("d", declared));
  expect(offline.code).toBe(0);
  expect(offline.out.split("\n")[0]).toBe("Planned from the versions declared in the stack config (offline).");
});

it("prints the read-only RBAC", async () => {
  const r = await run(["--print-rbac"], scratchProject("x", "config: {}\n"));
  expect(r.code).toBe(0);
  expect(r.out).toContain("kind: ClusterRole\n");
  expect(r.out).toContain("kind: ClusterRoleBinding\n");
  expect(r.out).not.toMatch(/verbs:\n(\s+- \w+\n)*\s+- (create|update|patch|delete|watch)/);
});
