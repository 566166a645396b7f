/**
 * The blue-green pool's node scripts (run on the kubectl host) against the simulated cluster:
 * pool-node.sh (wait-joined, remove), cordon-node.sh, soak.sh, delete-nodes.sh (join-command.sh:
 * test/node-scripts/join-command.test.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createLab, type Lab, type LabCall, type LabPod } from "../lab/node-kit";
import { callsDuring, callsSeen, cp, expectExit, kubeletStoppedFor, lines, mutations, realMachinePaths, worker } from "./support";

const realBefore = realMachinePaths();
const labs: Lab[] = [];
function lab(pods: LabPod[] = []): Lab {
  const l = createLab({
    nodes: [
      cp("cp-1", { pods: [{ name: "kube-apiserver-cp-1", namespace: "kube-system", mirror: true }] }),
      worker("w-1", { pods }),
      worker("w-2", { pods: [proxy] }),
    ],
  });
  labs.push(l);
  return l;
}
afterAll(() => {
  labs.forEach((l) => l.cleanup());
});

const web: LabPod = { name: "web-1", namespace: "shop", owner: "ReplicaSet" };
const proxy: LabPod = { name: "kube-proxy-x", namespace: "kube-system", owner: "DaemonSet", emptyDir: true };
const bare: LabPod = { name: "debug", namespace: "default" };
const cache: LabPod = { name: "cache-0", namespace: "shop", owner: "StatefulSet", emptyDir: true };
const guarded: LabPod = { name: "db-0", namespace: "shop", owner: "StatefulSet", pdbBlocked: true };
const ADMIN = 'KUBECONFIG="$CM_NODE_ROOT/etc/kubernetes/admin.conf" ';
const NO = ["false", "false", "false"] as const;

const run = (l: Lab, script: string, args: readonly string[]) => l.runScript("cp-1", script, args);
const inCluster = (l: Lab, node: string) => fs.existsSync(path.join(l.dir, "cluster", "nodes", node));
/** Deletes a Node object the way an operator's `kubectl delete node` would. */
async function deleteNode(l: Lab, node: string): Promise<void> {
  expectExit(await l.run("cp-1", `${ADMIN}kubectl delete node ${node}`), 0);
}
/** Makes a node NotReady with its kubelet running (e.g. no network plugin yet). */
function notReady(l: Lab, node: string, reasonAndMessage: string): void {
  fs.writeFileSync(path.join(l.dir, "nodes", node, "not-ready"), `${reasonAndMessage}\n`);
}
const stopKubelet = async (l: Lab, node: string) => expectExit(await l.run(node, "systemctl stop kubelet"), 0);
/** The real API's answers kept in /work/shared/data/kube-api (node batch-2 20 s and 65 s after its kubelet stopped). */
const KUBE_API = "/work/shared/data/kube-api/v1.31-kubeadm-ha";
const kept = (file: string) => JSON.parse(fs.readFileSync(path.join(KUBE_API, file), "utf8"));
/** Lab lease timing: leaseDurationSeconds 8 (renewed every 2 s, stale after 4 s) instead of 40. */
const shortLeases = (l: Lab) => fs.writeFileSync(path.join(l.dir, "lease-duration-seconds"), "8\n");

describe("the lab's kubectl (the real one) against the API double: what the blue-green scripts need", () => {
  test("Ready condition status, reason and message follow the kubelet and the not-ready file", async () => {
    const l = lab();
    const ready = async () =>
      (
        await l.run(
          "cp-1",
          `${ADMIN}kubectl get node w-1 -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}|{.status.conditions[?(@.type=="Ready")].reason}|{.status.conditions[?(@.type=="Ready")].message}'`,
        )
      ).stdout;
    expect(await ready()).toBe("True|KubeletReady|kubelet is posting ready status");
    notReady(l, "w-1", "KubeletNotReady container runtime network not ready: NetworkReady=false");
    expect(await ready()).toBe("False|KubeletNotReady|container runtime network not ready: NetworkReady=false");
    notReady(l, "w-1", "");
    expect(await ready()).toBe(
      "False|KubeletNotReady|container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
    );
    notReady(l, "w-1", "NetworkUnavailable");
    expect(await ready()).toMatch(/^False\|NetworkUnavailable\|container runtime network not ready: /);
    await stopKubelet(l, "w-1");
    // A real control plane keeps what the kubelet last posted for the grace period (50 s).
    expect(await ready()).toMatch(/^False\|NetworkUnavailable\|/);
    await kubeletStoppedFor(l, "w-1", 65);
    expect(await ready()).toBe("Unknown|NodeStatusUnknown|Kubelet stopped posting node status.");
  });

  test("a stopped kubelet as a real control plane shows it (kept answers 20 s and 65 s after): Ready True, then Unknown; the Lease stops at once", async () => {
    const l = lab();
    const cond = (node: { status: { conditions: { type: string; status: string; reason: string; message: string }[] } }) => {
      const c = node.status.conditions.find((x) => x.type === "Ready")!;
      return `${c.status}|${c.reason}|${c.message}`;
    };
    const ready = async () =>
      (
        await l.run(
          "cp-1",
          `${ADMIN}kubectl get node w-1 -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}|{.status.conditions[?(@.type=="Ready")].reason}|{.status.conditions[?(@.type=="Ready")].message}'`,
        )
      ).stdout;
    const lease = async () => {
      const r = await l.run("cp-1", `${ADMIN}kubectl get lease -n kube-node-lease w-1 -o 'jsonpath={.metadata.name}|{.metadata.namespace}|{.spec.holderIdentity}|{.spec.leaseDurationSeconds}|{.spec.renewTime}'`);
      expectExit(r, 0);
      return r.stdout.split("|");
    };
    const real20 = kept("batch-2-kubelet-stopped-20s/lease-batch-2.json");
    const live = await lease();
    expect(live.slice(0, 4)).toEqual(["w-1", real20.metadata.namespace, "w-1", String(real20.spec.leaseDurationSeconds)]);
    // MicroTime, as the API server writes it.
    expect(live[4]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(real20.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(Date.now() - Date.parse(live[4]!)).toBeLessThanOrEqual(10_500);

    await kubeletStoppedFor(l, "w-1", 20);
    expect(await ready()).toBe(cond(kept("batch-2-kubelet-stopped-20s/node-batch-2.json")));
    const stopped = await lease();
    expect(Date.now() - Date.parse(stopped[4]!)).toBeGreaterThanOrEqual(20_000);
    expect((await lease())[4]).toBe(stopped[4]); // no longer renewed: frozen at the stop, 20 s ago
    await kubeletStoppedFor(l, "w-1", 65);
    expect(await ready()).toBe(cond(kept("batch-2-kubelet-stopped-65s/node-batch-2.json")));
    // Another namespace, or a node not in the cluster: NotFound as the API answers.
    const other = await l.run("cp-1", `${ADMIN}kubectl get lease -n default w-1 -o 'jsonpath={.spec.renewTime}'`);
    expectExit(other, 1);
    expect(other.stderr).toContain('Error from server (NotFound): leases.coordination.k8s.io "w-1" not found');
    expectExit(await l.run("w-1", "systemctl start kubelet"), 0);
    expect(await ready()).toBe("True|KubeletReady|kubelet is posting ready status");
  });

  test("delete node removes the Node object; absent nodes: NotFound, or nothing with --ignore-not-found", async () => {
    const l = lab([web]);
    const r = await l.run("cp-1", `${ADMIN}kubectl delete node w-1 --timeout=60s`);
    expectExit(r, 0);
    expect(r.stdout).toBe('node "w-1" deleted\n');
    expect(inCluster(l, "w-1")).toBe(false);
    const get = await l.run("cp-1", `${ADMIN}kubectl get node w-1 -o 'jsonpath={.metadata.name}'`);
    expectExit(get, 1);
    expect(get.stderr).toContain('nodes "w-1" not found');
    const quiet = await l.run("cp-1", `${ADMIN}kubectl get node w-1 --ignore-not-found -o 'jsonpath={.metadata.name}'`);
    expectExit(quiet, 0);
    expect(quiet.stdout).toBe("");
    expect((await l.run("cp-1", `${ADMIN}kubectl get node w-2 --ignore-not-found -o 'jsonpath={.metadata.name}'`)).stdout).toBe("w-2");
    expectExit(await l.run("cp-1", `${ADMIN}kubectl delete node w-1`), 1);
    expectExit(await l.run("cp-1", `${ADMIN}kubectl delete node w-1 --ignore-not-found`), 0);
    expectExit(await l.run("cp-1", `${ADMIN}kubectl delete node w-2 --timeout=soon`), 1);
    expect(inCluster(l, "w-2")).toBe(true);
  });
});

describe("cordon-node.sh", () => {
  test("cordon: annotation first, then cordon; uncordon undoes both; second runs change nothing", async () => {
    const l = lab([web]);
    const c = await callsDuring(l, () => run(l, "cordon-node.sh", ["cordon", "w-1"]));
    expectExit(c.result, 0);
    expect(mutations(c.calls)).toEqual([
      "kubectl --request-timeout=30s annotate node w-1 cluster-maintenance.io/cordoned=true --overwrite",
      "kubectl --request-timeout=30s cordon w-1",
    ]);
    expect(c.result.stderr).toContain("cluster-maintenance: cordon-node.sh: w-1: cordoned");
    expect(l.nodeState("w-1")).toMatchObject({ cordoned: true, annotations: { "cluster-maintenance.io/cordoned": "true" }, pods: ["shop/web-1"] });
    const again = await callsDuring(l, () => run(l, "cordon-node.sh", ["cordon", "w-1"]));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain("cordon-node.sh: w-1: already done: cordoned");
    expect(mutations(again.calls)).toEqual([]);

    const u = await callsDuring(l, () => run(l, "cordon-node.sh", ["uncordon", "w-1"]));
    expectExit(u.result, 0);
    expect(mutations(u.calls)).toEqual([
      "kubectl --request-timeout=30s uncordon w-1",
      "kubectl --request-timeout=30s annotate node w-1 cluster-maintenance.io/cordoned-",
    ]);
    expect(l.nodeState("w-1")).toMatchObject({ cordoned: false, annotations: {} });
    const uAgain = await callsDuring(l, () => run(l, "cordon-node.sh", ["uncordon", "w-1"]));
    expectExit(uAgain.result, 0);
    expect(uAgain.result.stderr).toContain("cordon-node.sh: w-1: already done: schedulable");
    expect(mutations(uAgain.calls)).toEqual([]);
  });

  test("an operator-cordoned node is recorded as such, never cordoned by us, and stays cordoned after uncordon", async () => {
    const l = lab([web]);
    l.operatorCordon("w-1");
    const c = await callsDuring(l, () => run(l, "cordon-node.sh", ["cordon", "w-1"]));
    expectExit(c.result, 0);
    expect(c.result.stderr).toContain("w-1: was cordoned by an operator");
    expect(mutations(c.calls)).toEqual(["kubectl --request-timeout=30s annotate node w-1 cluster-maintenance.io/operator-cordoned=true --overwrite"]);
    expect(l.nodeState("w-1").annotations).toEqual({ "cluster-maintenance.io/operator-cordoned": "true" });
    const again = await callsDuring(l, () => run(l, "cordon-node.sh", ["cordon", "w-1"]));
    expectExit(again.result, 0);
    expect(mutations(again.calls)).toEqual([]);
    const u = await callsDuring(l, () => run(l, "cordon-node.sh", ["uncordon", "w-1"]));
    expectExit(u.result, 0);
    expect(u.result.stderr).toContain("cluster-maintenance: cordon-node.sh: w-1: was cordoned by an operator before; left cordoned");
    expect(u.result.stderr).not.toMatch(/w-1: w-1 /); // the node named once
    expect(mutations(u.calls)).toEqual([]);
    expect(l.nodeState("w-1").cordoned).toBe(true);
  });

  test("a stale operator-cordoned mark on a schedulable node is replaced by ours", async () => {
    const l = lab();
    expectExit(await l.run("cp-1", `${ADMIN}kubectl annotate node w-1 cluster-maintenance.io/operator-cordoned=true`), 0);
    const c = await callsDuring(l, () => run(l, "cordon-node.sh", ["cordon", "w-1"]));
    expectExit(c.result, 0);
    expect(mutations(c.calls)[0]).toBe("kubectl --request-timeout=30s annotate node w-1 cluster-maintenance.io/operator-cordoned-");
    expect(l.nodeState("w-1")).toMatchObject({ cordoned: true, annotations: { "cluster-maintenance.io/cordoned": "true" } });
  });

  test("uncordon of a node no longer in the cluster is done; cordon of one is an error", async () => {
    const l = lab();
    expectExit(await run(l, "cordon-node.sh", ["cordon", "w-1"]), 0);
    await deleteNode(l, "w-1");
    const u = await callsDuring(l, () => run(l, "cordon-node.sh", ["uncordon", "w-1"]));
    expectExit(u.result, 0);
    expect(u.result.stderr).toContain("cluster-maintenance: cordon-node.sh: w-1: already gone: not in the cluster");
    expect(mutations(u.calls)).toEqual([]);
    const c = await callsDuring(l, () => run(l, "cordon-node.sh", ["cordon", "w-1"]));
    expectExit(c.result, 1);
    expect(c.result.stderr).toContain("cordon-node.sh: w-1: not in the cluster; nothing to cordon");
    expect(mutations(c.calls)).toEqual([]);
  });

  test("rejects bad arguments with exit 2; a read failure is exit 1", async () => {
    const l = lab();
    expectExit(await run(l, "cordon-node.sh", ["drain", "w-1"]), 2);
    expectExit(await run(l, "cordon-node.sh", ["cordon", "W_1"]), 2);
    expectExit(await run(l, "cordon-node.sh", ["cordon"]), 2);
    expectExit(await run(l, "cordon-node.sh", ["cordon", "w-1", "w-2"]), 2);
    const worker = await l.runScript("w-2", "cordon-node.sh", ["cordon", "w-1"]);
    expectExit(worker, 1);
    expect(worker.stderr).toContain("cordon-node.sh: w-1: reading the node failed");
    expect(l.nodeState("w-1").cordoned).toBe(false);
  });
});

describe("pool-node.sh wait-joined", () => {
  test("a registered, Ready node at the version: already done, nothing changed", async () => {
    const l = lab();
    const r = await callsDuring(l, () => run(l, "pool-node.sh", ["wait-joined", "w-1", "1.34.6", "10"]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain("cluster-maintenance: pool-node.sh: w-1: already done: joined, Ready at v1.34.6");
    expect(mutations(r.calls)).toEqual([]);
  });

  test("times out with exit 5 and why: not joined, NotReady (the Ready condition's reason and message), wrong kubelet", async () => {
    const l = lab();
    const started = Date.now();
    const absent = await run(l, "pool-node.sh", ["wait-joined", "batch-v1-34-6-1", "1.34.6", "1"]);
    expect(Date.now() - started).toBeLessThan(10000);
    expectExit(absent, 5);
    expect(absent.stderr).toContain(
      "cluster-maintenance: pool-node.sh: batch-v1-34-6-1: has not joined the cluster within 1s (its instance did not boot or kubeadm join failed: see /var/log/cloud-init-output.log on the instance)",
    );

    notReady(l, "w-1", "KubeletNotReady container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady");
    const cni = await run(l, "pool-node.sh", ["wait-joined", "w-1", "1.34.6", "1"]);
    expectExit(cni, 5);
    expect(cni.stderr).toContain(
      "pool-node.sh: w-1: is NotReady: KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady",
    );

    await kubeletStoppedFor(l, "w-2", 65);
    const down = await run(l, "pool-node.sh", ["wait-joined", "w-2", "1.34.6", "1"]);
    expectExit(down, 5);
    expect(down.stderr).toContain(
      "pool-node.sh: w-2: is NotReady (Ready is Unknown: the control plane has not heard from its kubelet): NodeStatusUnknown: Kubelet stopped posting node status. (after 1s)",
    );


    const version = await run(l, "pool-node.sh", ["wait-joined", "cp-1", "1.35.9", "1"]);
    expectExit(version, 5);
    expect(version.stderr).toContain("pool-node.sh: cp-1: runs kubelet v1.34.6, not v1.35.9");
    expect(version.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("a kubelet stopped 25 s ago (Ready still True for the 50 s grace period, its Lease 25 to 35 s old) is NotReady", async () => {
    const l = lab();
    await kubeletStoppedFor(l, "w-2", 25);
    const r = await run(l, "pool-node.sh", ["wait-joined", "w-2", "1.34.6", "1"]);
    expectExit(r, 5);
    expect(r.stderr).toMatch(/pool-node\.sh: w-2: is NotReady: its kubelet stopped renewing its Lease: kube-node-lease\/w-2 last renewed \S+Z, \d+ s ago \(renewed every 10 s while it runs;.*\(after 1s\)/);
    expect(r.stderr).not.toContain("joined, Ready");
  });

  test("gives up within its bound even when every kubectl call takes seconds", async () => {
    const l = lab();
    await kubeletStoppedFor(l, "w-2", 65);
    fs.mkdirSync(path.join(l.dir, "slow"), { recursive: true });
    fs.writeFileSync(path.join(l.dir, "slow", "cp-1"), "3 kubectl\n");
    const started = Date.now();
    const r = await run(l, "pool-node.sh", ["wait-joined", "w-2", "1.34.6", "5"]);
    const took = (Date.now() - started) / 1000;
    expectExit(r, 5);
    expect(took).toBeGreaterThanOrEqual(4);
    expect(took).toBeLessThan(5 + 2);
  });

  test("waits for a node that registers later, then becomes Ready", async () => {
    const l = lab();
    await deleteNode(l, "w-2");
    await kubeletStoppedFor(l, "w-2", 65);
    const since = l.calls().length;
    const waiting = l.runScript("cp-1", "pool-node.sh", ["wait-joined", "w-2", "1.34.6", "30"]);
    const readsOfW2 = (c: LabCall) => c.command === "kubectl" && c.args.includes("w-2");
    await callsSeen(l, since, readsOfW2); // it is waiting for a node not yet there
    // What kubeadm join does to the cluster: the Node object appears (NotReady at first).
    const cd = path.join(l.dir, "cluster", "nodes", "w-2");
    fs.mkdirSync(cd, { recursive: true });
    fs.writeFileSync(path.join(cd, "annotations"), "");
    fs.writeFileSync(path.join(cd, "pods"), "");
    const seen = l.calls().length;
    await callsSeen(l, seen, readsOfW2); // it has seen the NotReady node
    expectExit(await l.run("w-2", "systemctl start kubelet"), 0);
    const r = await waiting;
    expectExit(r, 0);
    expect(r.stderr).toContain("pool-node.sh: w-2: joined, Ready at v1.34.6");
    expect(r.stderr).not.toContain("already done");
  });

  test("where kubectl cannot reach the cluster the timeout says so, with kubectl's error", async () => {
    const l = lab();
    const r = await l.runScript("w-2", "pool-node.sh", ["wait-joined", "w-1", "1.34.6", "1"]);
    expectExit(r, 5);
    expect(r.stderr).toContain("pool-node.sh: w-1: its state is unknown after 1s: reading it failed: The connection to the server localhost:8080 was refused");
  });

  test("rejects bad arguments with exit 2", async () => {
    const l = lab();
    expectExit(await run(l, "pool-node.sh", ["wait-joined", "w-1", "1.34", "10"]), 2);
    expectExit(await run(l, "pool-node.sh", ["wait-joined", "w-1", "1.34.6", "0"]), 2);
    expectExit(await run(l, "pool-node.sh", ["wait-joined", "w-1", "1.34.6"]), 2);
    expectExit(await run(l, "pool-node.sh", ["wait-joined", "w-1;reboot", "1.34.6", "10"]), 2);
    expectExit(await run(l, "pool-node.sh", ["join", "w-1", "1.34.6", "10"]), 2);
  });
});

describe("pool-node.sh remove", () => {
  test("cordons (annotation first), drains as drain.sh, deletes the Node object; a second run is a no-op", async () => {
    const l = lab([web, proxy]);
    const r = await callsDuring(l, () => run(l, "pool-node.sh", ["remove", "w-1", "30", ...NO]));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual([
      "kubectl --request-timeout=30s annotate node w-1 cluster-maintenance.io/cordoned=true --overwrite",
      "kubectl --request-timeout=30s cordon w-1",
      "kubectl drain w-1 --ignore-daemonsets --timeout=30s",
      "kubectl --request-timeout=30s delete node w-1 --ignore-not-found --timeout=60s",
    ]);
    expect(r.result.stderr).toContain("pool-node.sh: w-1: drained");
    expect(r.result.stderr).toContain("pool-node.sh: w-1: deleted from the cluster");
    expect(inCluster(l, "w-1")).toBe(false);
    expect(l.nodeState("w-1").kubeletActive).toBe(true); // the machine is Pulumi's to terminate

    const again = await callsDuring(l, () => run(l, "pool-node.sh", ["remove", "w-1", "30", ...NO]));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain("cluster-maintenance: pool-node.sh: w-1: already gone: not in the cluster");
    expect(mutations(again.calls)).toEqual([]);
  });

  test("a node that was never in the cluster: already gone", async () => {
    const l = lab();
    const r = await callsDuring(l, () => run(l, "pool-node.sh", ["remove", "batch-v1-35-9-1", "30", ...NO]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain("pool-node.sh: batch-v1-35-9-1: already gone");
    expect(mutations(r.calls)).toEqual([]);
  });

  test("refuses (exit 3) a pod without a controller and an emptyDir pod; the node stays cordoned and in the cluster", async () => {
    const l = lab([web, bare, cache, proxy]);
    const r = await callsDuring(l, () => run(l, "pool-node.sh", ["remove", "w-1", "30", ...NO]));
    expectExit(r.result, 3);
    expect(r.result.stderr).toMatch(/pool-node\.sh: w-1: drain refused: pods without a controller \([^)]*\): default\/debug;/);
    expect(r.result.stderr).toMatch(/pods with emptyDir volumes \([^)]*\): shop\/cache-0;/);
    expect(r.result.stderr).toContain("w-1 stays cordoned");
    expect(r.result.stderr).not.toContain("kube-proxy-x");
    expect(lines(r.calls).some((c) => c.includes("kubectl drain") || c.includes(" delete "))).toBe(false);
    expect(inCluster(l, "w-1")).toBe(true);
    expect(l.nodeState("w-1")).toMatchObject({ cordoned: true, annotations: { "cluster-maintenance.io/cordoned": "true" } });
    expect(l.nodeState("w-1").pods).toHaveLength(4);

    const allowed = await callsDuring(l, () => run(l, "pool-node.sh", ["remove", "w-1", "30", "true", "true", "false"]));
    expectExit(allowed.result, 0);
    expect(mutations(allowed.calls)).toEqual([
      "kubectl drain w-1 --ignore-daemonsets --timeout=30s --delete-emptydir-data --force",
      "kubectl --request-timeout=30s delete node w-1 --ignore-not-found --timeout=60s",
    ]);
    expect(inCluster(l, "w-1")).toBe(false);
  });

  test("a drain blocked by a PodDisruptionBudget: exit 4 after the timeout naming the budget, the node stays cordoned and in the cluster", async () => {
    const l = lab([guarded]);
    const started = Date.now();
    const r = await callsDuring(l, () => run(l, "pool-node.sh", ["remove", "w-1", "2", ...NO]));
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expectExit(r.result, 4);
    expect(r.result.stderr).toContain("pool-node.sh: w-1: drain of w-1 did not finish within 2s: shop/db-0: its eviction is refused by PodDisruptionBudget shop/db-pdb (");
    expect(r.result.stderr).toContain("); w-1 stays cordoned");
    expect(mutations(r.calls).some((c) => c.includes(" delete "))).toBe(false);
    expect(inCluster(l, "w-1")).toBe(true);
    expect(l.nodeState("w-1").cordoned).toBe(true);
  });

  test("rejects bad arguments with exit 2 before touching anything", async () => {
    const l = lab([web]);
    const r = await callsDuring(l, async () => {
      expectExit(await run(l, "pool-node.sh", ["remove", "w-1", "0", ...NO]), 2);
      expectExit(await run(l, "pool-node.sh", ["remove", "w-1", "30", "yes", "false", "false"]), 2);
      expectExit(await run(l, "pool-node.sh", ["remove", "w-1", "30", "false", "false"]), 2);
      return run(l, "pool-node.sh", ["remove", "W-1", "30", ...NO]);
    });
    expectExit(r.result, 2);
    expect(lines(r.calls).filter((c) => c.includes("kubectl"))).toEqual([]);
  });
});

describe("soak.sh", () => {
  test("healthy nodes pass after SECONDS, with progress; nothing changed", async () => {
    const l = lab();
    const started = Date.now();
    const r = await callsDuring(l, () => run(l, "soak.sh", ["2", "w-1", "w-2"]));
    const took = Date.now() - started;
    expectExit(r.result, 0);
    expect(took).toBeGreaterThanOrEqual(2000);
    expect(took).toBeLessThan(10000);
    expect(r.result.stderr).toMatch(/cluster-maintenance: soak\.sh: w-1,w-2: soak: [01]\/2 s, 2 nodes Ready/);
    expect(r.result.stderr).toContain("soak.sh: w-1,w-2: soak: 2/2 s, 2 nodes Ready");
    expect(r.result.stderr).toContain("soak.sh: w-1,w-2: soak passed: 2 nodes Ready for 2s");
    expect(mutations(r.calls)).toEqual([]);
  });

  test("SECONDS 0 is one check", async () => {
    const l = lab();
    const r = await callsDuring(l, () => run(l, "soak.sh", ["0", "w-1"]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain("soak.sh: w-1: soak: 0/0 s, 1 nodes Ready");
    // One check: the Node, and its Lease.
    expect(lines(r.calls).filter((c) => c.includes("kubectl")).map((c) => c.split(" ").slice(3, 5).join(" "))).toEqual(["get node", "get lease"]);
  });

  test("fails at once (exit 8) naming a NotReady node or one not in the cluster", async () => {
    const l = lab();
    await kubeletStoppedFor(l, "w-2", 65);
    const started = Date.now();
    const r = await run(l, "soak.sh", ["600", "w-1", "w-2"]);
    expect(Date.now() - started).toBeLessThan(5000);
    expectExit(r, 8);
    expect(r.stderr).toContain(
      "cluster-maintenance: soak.sh: w-2: soak failed: w-2 is NotReady (Ready is Unknown: the control plane has not heard from its kubelet): NodeStatusUnknown: Kubelet stopped posting node status.",
    );
    await deleteNode(l, "w-1");
    const gone = await run(l, "soak.sh", ["600", "w-1"]);
    expectExit(gone, 8);
    expect(gone.stderr).toContain("soak.sh: w-1: soak failed: w-1 is not in the cluster");
  });

  test("fails (exit 8) when a node goes NotReady during the soak", async () => {
    const l = lab();
    const since = l.calls().length;
    const soaking = l.runScript("cp-1", "soak.sh", ["3", "w-1", "w-2"]);
    // The first check (both nodes and their Leases) is done: w-1 goes NotReady after it.
    await callsSeen(l, since, (c) => c.command === "kubectl" && c.args.includes("lease") && c.args.includes("w-2"));
    notReady(l, "w-1", "KubeletNotReady PLEG is not healthy");
    const r = await soaking;
    expectExit(r, 8);
    expect(r.stderr).toMatch(/soak\.sh: w-1,w-2: soak: [0-3]\/3 s, 2 nodes Ready/);
    expect(r.stderr).toContain("soak.sh: w-1: soak failed: w-1 is NotReady: KubeletNotReady: PLEG is not healthy");
    expect(r.stderr).not.toContain("soak passed");
  });

  test("a kubelet that died just before a 10 s soak fails it (exit 8) on its Lease, while Ready still says True", async () => {
    const l = lab();
    shortLeases(l); // renewed every 2 s, stale after 4 s: the real 10 s and 20 s, scaled
    await stopKubelet(l, "w-2");
    const started = Date.now();
    const r = await run(l, "soak.sh", ["10", "w-1", "w-2"]);
    expect(Date.now() - started).toBeLessThan(15_000);
    expectExit(r, 8);
    expect(r.stderr).toMatch(/soak\.sh: w-2: soak failed: w-2 is NotReady: its kubelet stopped renewing its Lease: kube-node-lease\/w-2 last renewed \S+Z, \d+ s ago \(renewed every 2 s while it runs;/);
    expect(r.stderr).not.toContain("soak passed");
    // Ready was True all along (the grace period is 50 s).
    const ready = await l.run("cp-1", `${ADMIN}kubectl get node w-2 -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'`);
    expect(ready.stdout).toBe("True");
  });

  test("an operator's abort annotation stops it (exit 9), even before a NotReady node", async () => {
    const l = lab();
    expectExit(await l.run("cp-1", `${ADMIN}kubectl annotate node w-2 cluster-maintenance.io/abort-soak=true`), 0);
    await kubeletStoppedFor(l, "w-1", 65);
    const started = Date.now();
    const r = await run(l, "soak.sh", ["600", "w-1", "w-2"]);
    expect(Date.now() - started).toBeLessThan(5000);
    expectExit(r, 9);
    expect(r.stderr).toContain("soak.sh: w-2: soak aborted by an operator (annotation cluster-maintenance.io/abort-soak=true on w-2)");
    // Any other value is not an abort.
    expectExit(await l.run("w-1", "systemctl start kubelet"), 0);
    expectExit(await l.run("cp-1", `${ADMIN}kubectl annotate node w-2 cluster-maintenance.io/abort-soak=false --overwrite`), 0);
    expectExit(await run(l, "soak.sh", ["0", "w-1", "w-2"]), 0);
  });

  test("where the nodes cannot be read it fails (exit 1) after three checks", async () => {
    const l = lab();
    const r = await l.runScript("w-2", "soak.sh", ["1", "w-1"]);
    expectExit(r, 1);
    expect(r.stderr).toContain("The connection to the server localhost:8080 was refused");
    expect(r.stderr).toContain("soak.sh: w-1: reading the nodes failed three checks in a row; the soak did not pass");
    expect(r.stderr).not.toContain("soak passed");
  });

  test("rejects bad arguments with exit 2", async () => {
    const l = lab();
    expectExit(await run(l, "soak.sh", ["10"]), 2);
    expectExit(await run(l, "soak.sh", ["-1", "w-1"]), 2);
    expectExit(await run(l, "soak.sh", ["ten", "w-1"]), 2);
    expectExit(await run(l, "soak.sh", ["10", "w-1", "$(reboot)"]), 2);
  });
});

describe("delete-nodes.sh", () => {
  test("refuses (exit 3) a node that still runs pods, listing them; nothing is deleted", async () => {
    const l = lab([web, bare, proxy]);
    expectExit(await run(l, "drain.sh", ["w-2", "1.35.9", "30", ...NO]), 0);
    const r = await callsDuring(l, () => run(l, "delete-nodes.sh", ["w-2", "w-1"]));
    expectExit(r.result, 3);
    // In the API's order: by namespace, then name.
    expect(r.result.stderr).toContain("cluster-maintenance: delete-nodes.sh: w-1: still runs pods (it was not drained): default/debug shop/web-1");
    expect(r.result.stderr).toContain("delete-nodes.sh: w-1: refusing to delete nodes that were not drained: w-1; nothing deleted");
    expect(r.result.stderr).not.toContain("kube-proxy-x");
    expect(mutations(r.calls)).toEqual([]);
    expect(inCluster(l, "w-1")).toBe(true);
    expect(inCluster(l, "w-2")).toBe(true);
  });

  test("deletes drained nodes (DaemonSet and mirror pods do not count), skips absent ones; a second run is a no-op", async () => {
    const l = lab([web, proxy]);
    expectExit(await run(l, "drain.sh", ["w-1", "1.35.9", "30", ...NO]), 0);
    await deleteNode(l, "w-2");
    const r = await callsDuring(l, () => run(l, "delete-nodes.sh", ["w-1", "w-2", "cp-1"]));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual([
      "kubectl --request-timeout=30s delete node w-1 --ignore-not-found --timeout=60s",
      "kubectl --request-timeout=30s delete node cp-1 --ignore-not-found --timeout=60s",
    ]);
    expect(r.result.stderr).toContain("delete-nodes.sh: w-2: already gone: not in the cluster");
    expect(r.result.stderr).toContain("delete-nodes.sh: w-1: deleted from the cluster");
    expect(inCluster(l, "w-1")).toBe(false);
    expect(inCluster(l, "cp-1")).toBe(false);
    // Without its Node object nothing reads the cluster any more: the lab's kubectl still works
    // (admin.conf is a file on the machine), and every node is gone.
    const again = await callsDuring(l, () => run(l, "delete-nodes.sh", ["w-1", "w-2", "cp-1"]));
    expectExit(again.result, 0);
    expect(mutations(again.calls)).toEqual([]);
    expect(again.result.stderr.match(/already gone/g)).toHaveLength(3);
  });

  test("rejects bad arguments with exit 2", async () => {
    const l = lab();
    expectExit(await run(l, "delete-nodes.sh", []), 2);
    expectExit(await run(l, "delete-nodes.sh", ["w-1", "-A"]), 2);
    expect(inCluster(l, "w-1")).toBe(true);
  });
});

describe("the real machine", () => {
  test("its apt, kubernetes and marker paths were not touched", () => {
    expect(realMachinePaths()).toEqual(realBefore);
  });
});
