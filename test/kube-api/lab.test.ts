/**
 * The API double backed by a lab's simulated nodes, as REFERENCE.md "Measured on a real
 * kube-apiserver" says a real control plane behaves: Ready stays True for the node-monitor grace
 * period after the kubelet stops, then Unknown (never False), the Lease stops at once; a pod
 * evicted while its kubelet is down stays Terminating until the kubelet returns; a budget that
 * allows no disruption answers 429 naming it. Waits are conditions with deadlines.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createLab, type Lab, type LabPod } from "../lab/node-kit";
import { cp, expectExit, worker } from "../node-scripts/support";
import { labEndpoint, request, type Endpoint } from "./client";

const labs: Lab[] = [];
afterAll(() => labs.forEach((l) => l.cleanup()));
function lab(pods: LabPod[] = []): Lab {
  const l = createLab({ nodes: [cp("cp-1"), worker("w-1", { pods })] });
  labs.push(l);
  return l;
}
const ADMIN = 'KUBECONFIG="$CM_NODE_ROOT/etc/kubernetes/admin.conf" ';

type Condition = { type: string; status: string; reason: string; message: string; lastTransitionTime: string };
const readyOf = (node: { status: { conditions: Condition[] } }) => node.status.conditions.find((c) => c.type === "Ready")!;

/** Polls `probe` until it returns a value, at most `ms`. */
async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  for (const deadline = Date.now() + ms; ; ) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("a stopped kubelet", () => {
  test("Ready stays True for the grace period (the lab's node-monitor-grace-seconds), then Unknown, never False; the Lease stops at once", async () => {
    const l = lab();
    fs.writeFileSync(path.join(l.dir, "node-monitor-grace-seconds"), "2\n");
    const api = await labEndpoint(l);
    const node = async () => (await request(api, "GET", "/api/v1/nodes/w-1")).json;
    const lease = async () => (await request(api, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/w-1")).json;
    expect(readyOf(await node())).toMatchObject({ status: "True", reason: "KubeletReady" });

    expectExit(await l.run("w-1", "systemctl stop kubelet"), 0);
    const stoppedMs = Number(fs.readFileSync(path.join(l.dir, "nodes", "w-1", "kubelet-stopped-at"), "utf8"));
    const frozen = (await lease()).spec.renewTime;
    expect(Date.parse(frozen)).toBeLessThanOrEqual(stoppedMs);
    const seen: string[] = [];
    const unknown = await until(async () => {
      const n = await node();
      seen.push(readyOf(n).status);
      return readyOf(n).status === "True" ? undefined : { node: n, at: Date.now() };
    }, 20_000, "Ready Unknown");
    expect(unknown.at - stoppedMs).toBeGreaterThanOrEqual(2000);
    expect(new Set(seen)).toEqual(new Set(["True", "Unknown"]));
    expect(readyOf(unknown.node)).toMatchObject({ status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." });
    expect(Date.parse(readyOf(unknown.node).lastTransitionTime)).toBeGreaterThanOrEqual(Math.floor((stoppedMs + 2000) / 1000) * 1000);
    expect(unknown.node.status.conditions.map((c: Condition) => c.status)).toEqual(["Unknown", "Unknown", "Unknown", "Unknown"]);
    expect(unknown.node.spec.taints).toEqual([
      expect.objectContaining({ key: "node.kubernetes.io/unreachable", effect: "NoSchedule" }),
      expect.objectContaining({ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }),
    ]);
    expect((await lease()).spec.renewTime).toBe(frozen);

    expectExit(await l.run("w-1", "systemctl start kubelet"), 0);
    expect(readyOf(await node())).toMatchObject({ status: "True", reason: "KubeletReady" });
    expect(Date.parse((await lease()).spec.renewTime)).toBeGreaterThan(stoppedMs);
  });

  test("a pod evicted while its kubelet is down stays Terminating (kubectl drain waits for it) until the kubelet runs again", async () => {
    const l = lab([{ name: "web-1", namespace: "shop", owner: "ReplicaSet" }]);
    const api = await labEndpoint(l);
    expectExit(await l.run("w-1", "systemctl stop kubelet"), 0);
    const drain = await l.run("cp-1", `${ADMIN}kubectl drain w-1 --ignore-daemonsets --timeout=3s`);
    expectExit(drain, 1);
    expect(drain.stdout).toContain("evicting pod shop/web-1");
    expect(drain.stdout).not.toContain("evicted");
    expect(drain.stderr).toContain('error when waiting for pod "web-1" in namespace "shop" to terminate: global timeout reached: 3s');
    const pod = (await request(api, "GET", "/api/v1/namespaces/shop/pods/web-1")).json;
    expect(pod.metadata.deletionTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(pod.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await l.run("cp-1", `${ADMIN}kubectl get pods -n shop`)).stdout).toMatch(/^web-1\s+1\/1\s+Terminating\s/m);
    expect(l.nodeState("w-1").pods).toEqual(["shop/web-1"]);

    expectExit(await l.run("w-1", "systemctl start kubelet"), 0);
    expect((await request(api, "GET", "/api/v1/namespaces/shop/pods/web-1")).status).toBe(404);
    expect(l.nodeState("w-1").pods).toEqual([]);
  });
});

describe("evictions and PodDisruptionBudgets", () => {
  test("a budget that allows no disruption answers 429 naming it; a dry run of an allowed eviction changes nothing", async () => {
    const l = lab([
      { name: "db-0", namespace: "shop", owner: "StatefulSet", pdbBlocked: true },
      { name: "web-1", namespace: "shop", owner: "ReplicaSet" },
    ]);
    const api: Endpoint = await labEndpoint(l);
    const evict = (pod: string, deleteOptions?: unknown) =>
      request(api, "POST", `/api/v1/namespaces/shop/pods/${pod}/eviction`, { body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: pod, namespace: "shop" }, ...(deleteOptions ? { deleteOptions } : {}) } });
    const denied = await evict("db-0");
    expect(denied.status).toBe(429);
    expect(denied.json).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      reason: "TooManyRequests",
      details: { causes: [{ reason: "DisruptionBudget", message: "The disruption budget db-pdb needs 1 healthy pods and has 1 currently" }] },
      code: 429,
    });
    const budget = (await request(api, "GET", "/apis/policy/v1/namespaces/shop/poddisruptionbudgets/db-pdb")).json;
    expect(budget.status).toMatchObject({ disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 });
    expect((await evict("web-1", { dryRun: ["All"] })).status).toBe(201);
    expect(l.nodeState("w-1").pods).toEqual(["shop/db-0", "shop/web-1"]);
    expect((await evict("web-1")).status).toBe(201);
    expect(l.nodeState("w-1").pods).toEqual(["shop/db-0"]);
    expect((await evict("web-1")).status).toBe(404);
  });
});
