/**
 * The program with a config that reads its nodes from the cluster (the real responses of
 * ../shared/data/kube-api/v1.31-kubeadm-ha, served over HTTP by test/discovery/static-api.ts):
 * one wave per update, and a declared config that lags the cluster refused with nothing
 * registered.
 */
import { readFileSync } from "node:fs";
import { programRegistrations } from "./helpers/program-runs";
import type { Registered } from "./helpers/pulumi-mocks";
import { SHARED_HOP_BLOCKERS, staticApiPerFile } from "./discovery/static-api";

const served = staticApiPerFile();

/** The blocking go/no-go findings of the shared cluster's hop to 1.32: acknowledged here, refused below. */
const BLOCKERS = SHARED_HOP_BLOCKERS;
const live = {
  targetVersion: "1.32",
  controlPlane: {},
  pools: [{ name: "general", strategy: "rolling", selector: "pool=general", maxUnavailable: 1 }],
  ssh: { insecureIgnoreHostKey: true },
  maxNodesPerUpdate: 2,
  acknowledge: BLOCKERS,
};

describe("a config without versions", () => {
  it("registers the first wave only: the control plane's part of the hop, on the control-plane nodes", async () => {
    const registered = await programRegistrations(live, "dev", { "kubernetes:kubeconfig": served.kubeconfig });
    const nodes = registered.filter((r) => r.type === "cluster-maintenance:upgrade:NodeUpgrade").map((r) => r.name);
    expect(nodes).toEqual(["dev-cp-1", "dev-cp-2", "dev-cp-3"]);
    const commands = registered.filter((r) => r.type === "command:remote:Command").map((r) => r.name);
    expect(commands[0]).toBe("dev-cp-1-v1.32.13-etcd-snapshot");
    expect(commands.filter((c) => c.includes("general"))).toEqual([]);
    expect(commands.filter((c) => c.endsWith("-uncordon"))).toEqual(["dev-cp-1-v1.32.13-uncordon", "dev-cp-2-v1.32.13-uncordon", "dev-cp-3-v1.32.13-uncordon"]);
    // Only reads: the kube-apiserver was asked for nodes, kube-system pods and the three add-on objects.
    expect(served.api.requests.every((r) => r.method === "GET")).toBe(true);
  });

  it("refuses a no-go hop before anything is registered, naming every blocker and the acknowledge entry that lets it through", async () => {
    const registered: Registered[] = [];
    const failure = programRegistrations({ ...live, acknowledge: BLOCKERS.slice(1) }, "dev", { "kubernetes:kubeconfig": served.kubeconfig }, registered);
    await expect(failure).rejects.toMatchObject({ name: "NoGoError" });
    await expect(failure).rejects.toThrow('no-go: 1 blocking finding(s) for hop 1; nothing was changed:\n  - pod-with-local-data/shop/cache-5f4dfd484-nbr6n: Pod shop/cache-5f4dfd484-nbr6n on general-3 has emptyDir volumes');
    await expect(failure).rejects.toThrow('cluster-maintenance:acknowledge: ["pod-with-local-data/shop/cache-5f4dfd484-nbr6n"]');
    expect(registered).toEqual([]);
  });

  it("in pulumi up, refuses outside the maintenance window before anything is registered; inside it, registers the wave", async () => {
    const now = new Date();
    const hhmm = (d: Date) => `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
    // Every day from three hours ahead, for 15 minutes: closed now. Every day for 24 h from an hour ago: open, 23 h left.
    const closed = { start: hhmm(new Date(now.getTime() + 3 * 3600_000)), lengthMinutes: 15 };
    const registered: Registered[] = [];
    const failure = programRegistrations({ ...live, maintenanceWindow: closed }, "dev", { "kubernetes:kubeconfig": served.kubeconfig }, registered);
    await expect(failure).rejects.toMatchObject({ name: "WindowError" });
    await expect(failure).rejects.toThrow(/^outside the maintenance window every day \d\d:\d\d-\d\d:\d\d UTC is closed; the next opens .* UTC, in 3 h: nothing was run/);
    expect(registered).toEqual([]);
    const open = await programRegistrations({ ...live, maintenanceWindow: { start: hhmm(new Date(now.getTime() - 3600_000)), lengthHours: 24 } }, "dev", { "kubernetes:kubeconfig": served.kubeconfig });
    expect(open.filter((r) => r.type === "cluster-maintenance:upgrade:NodeUpgrade").map((r) => r.name)).toEqual(["dev-cp-1", "dev-cp-2", "dev-cp-3"]);
  });

  it("registers no command once the cluster is at its target (read with the kubeconfig secret)", async () => {
    // cp-1..3 and general-1..3 run 1.31.4; batch-1/2 (1.30.14) are in no pool: listed, not upgraded.
    const kubeconfig = readFileSync(served.kubeconfig, "utf8");
    const registered = await programRegistrations({ ...live, targetVersion: "1.31.4" }, "dev", { "cluster-maintenance:kubeconfig": kubeconfig });
    expect(registered.filter((r) => r.type.startsWith("command:"))).toEqual([]);
    expect(registered.map((r) => r.type)).toEqual(["cluster-maintenance:upgrade:ClusterUpgrade"]);
  });

  it("refuses a declared config that lags the cluster, before anything is registered", async () => {
    const node = (name: string, version: string) => ({ name, host: "10.0.0.1", version });
    const lagging = {
      targetVersion: "1.32",
      controlPlane: { nodes: [node("cp-1", "1.30.14"), node("cp-2", "1.31.4"), node("cp-3", "1.31.4")] },
      pools: [{ name: "general", nodes: [node("general-1", "1.31.4"), node("general-2", "1.31.4"), node("general-3", "1.31.4")] }, { name: "batch", nodes: [node("batch-1", "1.30.14"), node("batch-2", "1.30.14")] }],
      ssh: { insecureIgnoreHostKey: true },
    };
    const registered: Registered[] = [];
    const failure = programRegistrations(lagging, "dev", { "kubernetes:kubeconfig": served.kubeconfig }, registered);
    // The program loads its own copy of the modules: the class is compared by name.
    await expect(failure).rejects.toMatchObject({ name: "DriftError" });
    await expect(failure).rejects.toThrow(/cp-1  kubelet +1\.30\.14 +1\.31\.4/);
    expect(registered).toEqual([]);
  });
});
