/** drain.sh, uncordon.sh and wait-ready.sh (run on the kubectl host) against the simulated cluster. */
import { createLab, type Lab, type LabPod } from "../lab/node-kit";
import * as fs from "node:fs";
import * as path from "node:path";
import { callsDuring, callsSeen, cp, expectExit, kubeletStoppedFor, lines, mutations, realMachinePaths, worker } from "./support";

const realBefore = realMachinePaths();
const labs: Lab[] = [];
function lab(pods: LabPod[] = []): Lab {
  const l = createLab({
    nodes: [
      cp("cp-1", { pods: [{ name: "kube-apiserver-cp-1", namespace: "kube-system", mirror: true }] }),
      worker("w-1", { pods }),
      worker("w-2"),
    ],
  });
  labs.push(l);
  return l;
}
afterAll(() => labs.forEach((l) => l.cleanup()));

const web: LabPod = { name: "web-1", namespace: "shop", owner: "ReplicaSet" };
const proxy: LabPod = { name: "kube-proxy-x", namespace: "kube-system", owner: "DaemonSet", emptyDir: true };
const bare: LabPod = { name: "debug", namespace: "default" };
const cache: LabPod = { name: "cache-0", namespace: "shop", owner: "StatefulSet", emptyDir: true };
const guarded: LabPod = { name: "db-0", namespace: "shop", owner: "StatefulSet", pdbBlocked: true };
const ADMIN = 'KUBECONFIG="$CM_NODE_ROOT/etc/kubernetes/admin.conf" ';
/** drain.sh for the step to `version` (the lab's nodes are at 1.34.6: an upgrade to 1.35.9 drains them). */
const drain = (l: Lab, node: string, flags: [string, string, string] = ["false", "false", "false"], timeout = "30", version = "1.35.9") =>
  l.runScript("cp-1", "drain.sh", [node, version, timeout, ...flags]);

describe("drain.sh", () => {
  test("cordons (annotation first), evicts through the eviction API, keeps DaemonSet pods; a second run changes nothing", async () => {
    const l = lab([web, proxy]);
    const r = await callsDuring(l, () => drain(l, "w-1"));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual([
      "kubectl --request-timeout=30s annotate node w-1 cluster-maintenance.io/cordoned=true --overwrite",
      "kubectl --request-timeout=30s cordon w-1",
      "kubectl drain w-1 --ignore-daemonsets --timeout=30s",
    ]);
    const s = l.nodeState("w-1");
    expect(s.cordoned).toBe(true);
    expect(s.annotations).toEqual({ "cluster-maintenance.io/cordoned": "true" });
    expect(s.pods).toEqual(["kube-system/kube-proxy-x"]);

    const again = await callsDuring(l, () => drain(l, "w-1"));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain("drain.sh: w-1: already done: cordoned, no pods to evict");
    expect(mutations(again.calls)).toEqual([]);
  });

  test("refuses (exit 3) pods without a controller and pods with emptyDir, listing them; the node stays cordoned", async () => {
    const l = lab([web, bare, cache, proxy]);
    const r = await callsDuring(l, () => drain(l, "w-1"));
    expectExit(r.result, 3);
    expect(r.result.stderr).toContain("cluster-maintenance: drain.sh: w-1: drain refused: pods without a controller");
    expect(r.result.stderr).toMatch(/pods without a controller \([^)]*\): default\/debug;/);
    expect(r.result.stderr).toMatch(/pods with emptyDir volumes \([^)]*\): shop\/cache-0;/);
    expect(r.result.stderr).toContain("w-1 stays cordoned");
    expect(r.result.stderr).not.toContain("kube-proxy-x"); // DaemonSet pods are ignored
    expect(lines(r.calls).some((c) => c.includes("kubectl drain"))).toBe(false);
    expect(l.nodeState("w-1").cordoned).toBe(true);
    expect(l.nodeState("w-1").pods).toHaveLength(4);

    const onlyEmptyDirAllowed = await drain(l, "w-1", ["true", "false", "false"]);
    expectExit(onlyEmptyDirAllowed, 3);
    expect(onlyEmptyDirAllowed.stderr).toContain("default/debug");
    expect(onlyEmptyDirAllowed.stderr).not.toContain("cache-0");
  });

  test("with both opt-ins drains with --delete-emptydir-data and --force (never --disable-eviction unasked)", async () => {
    const l = lab([web, bare, cache, proxy]);
    const r = await callsDuring(l, () => drain(l, "w-1", ["true", "true", "false"]));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toContain("kubectl drain w-1 --ignore-daemonsets --timeout=30s --delete-emptydir-data --force");
    expect(l.nodeState("w-1").pods).toEqual(["kube-system/kube-proxy-x"]);
  });

  test("a PodDisruptionBudget that allows no disruption: exit 4 after the timeout, the node stays cordoned", async () => {
    const l = lab([web, guarded]);
    const started = Date.now();
    const r = await drain(l, "w-1", ["false", "false", "false"], "2");
    const took = Date.now() - started;
    expectExit(r, 4);
    expect(took).toBeGreaterThanOrEqual(2000);
    expect(took).toBeLessThan(15000);
    expect(r.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget");
    expect(r.stderr).toContain(
      'cluster-maintenance: drain.sh: w-1: drain of w-1 did not finish within 2s: shop/db-0: its eviction is refused by PodDisruptionBudget shop/db-pdb ("The disruption budget db-pdb needs 1 healthy pods and has 1 currently"); w-1 stays cordoned',
    );
    expect(r.stderr).not.toContain("may allow no disruption");
    const s = l.nodeState("w-1");
    expect(s.cordoned).toBe(true);
    expect(s.pods).toEqual(["shop/db-0"]);
    // Opting in to --disable-eviction deletes it.
    const forced = await callsDuring(l, () => drain(l, "w-1", ["false", "false", "true"], "2"));
    expectExit(forced.result, 0);
    expect(mutations(forced.calls)).toEqual(["kubectl drain w-1 --ignore-daemonsets --timeout=2s --disable-eviction"]);
    expect(l.nodeState("w-1").pods).toEqual([]);
  });

  test("a node an operator cordoned is marked operator-cordoned (not cordoned) and drained", async () => {
    const l = lab([web]);
    l.operatorCordon("w-1");
    const r = await callsDuring(l, () => drain(l, "w-1"));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain("w-1: was cordoned by an operator; it stays cordoned after the upgrade");
    expect(l.nodeState("w-1").annotations).toEqual({ "cluster-maintenance.io/operator-cordoned": "true" });
    expect(mutations(r.calls).filter((c) => c.includes("cordon "))).toEqual([]);
    const again = await callsDuring(l, () => drain(l, "w-1"));
    expectExit(again.result, 0);
    expect(mutations(again.calls)).toEqual([]);
  });

  test("rejects bad arguments with exit 2; without admin.conf (a worker) kubectl fails and the step says so", async () => {
    const l = lab();
    expectExit(await l.runScript("cp-1", "drain.sh", ["w-1", "1.35.9", "0", "false", "false", "false"]), 2);
    expectExit(await l.runScript("cp-1", "drain.sh", ["w-1", "1.35.9", "30", "yes", "false", "false"]), 2);
    expectExit(await l.runScript("cp-1", "drain.sh", ["W_1", "1.35.9", "30", "false", "false", "false"]), 2);
    expectExit(await l.runScript("cp-1", "drain.sh", ["w-1", "1.35.9", "30", "false", "false"]), 2);
    expectExit(await l.runScript("cp-1", "drain.sh", ["w-1", "30", "false", "false", "false"]), 2); // no VERSION
    for (const bad of ["1.35", "v1.35.9", "1.35.9-rc.1", "ANY", "", "1.35.9 ", "$(reboot)"]) {
      const b = await l.runScript("cp-1", "drain.sh", ["w-1", bad, "30", "false", "false", "false"]);
      expectExit(b, 2);
      expect(b.stderr).toContain("VERSION must be X.Y.Z or any");
    }
    const r = await l.runScript("w-2", "drain.sh", ["w-1", "1.35.9", "30", "false", "false", "false"]);
    expectExit(r, 1);
    expect(r.stderr).toContain("cluster-maintenance: drain.sh: w-1: reading node w-1 failed");
    const missing = await l.runScript("cp-1", "drain.sh", ["w-9", "1.35.9", "30", "false", "false", "false"]);
    expectExit(missing, 1);
    expect(missing.stderr).toContain('nodes "w-9" not found');
  });
});

describe("drain.sh on a node already at or past the step's version", () => {
  /** cp-1 at 1.37.1, w-1 at `version` running web-1 and a DaemonSet pod. */
  function labAt(version: string): Lab {
    const l = createLab({
      nodes: [cp("cp-1", { version: "1.37.1" }), worker("w-1", { version, pods: [web, proxy] })],
    });
    labs.push(l);
    return l;
  }
  const untouched = (l: Lab) =>
    expect(l.nodeState("w-1")).toMatchObject({ cordoned: false, annotations: {}, pods: ["shop/web-1", "kube-system/kube-proxy-x"] });

  test.each([
    ["1.37.1", "1.35.9", "past"],
    ["1.35.9", "1.35.9", "at"],
    ["1.35.10", "1.35.9", "a later patch, compared as numbers"],
    ["1.100.0", "1.99.1", "a later minor, compared as numbers"],
  ])("kubelet v%s, step %s (%s), schedulable: not cordoned, nothing evicted, exit 0", async (at, step) => {
    const l = labAt(at);
    const r = await callsDuring(l, () => drain(l, "w-1", undefined, undefined, step));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain(`cluster-maintenance: drain.sh: w-1: already at or past v${step} (kubelet v${at}): not drained`);
    expect(mutations(r.calls)).toEqual([]);
    untouched(l);
  });

  test("kubelet v1.35.9, step 1.35.10 (an earlier patch, compared as numbers): drained", async () => {
    const l = labAt("1.35.9");
    const r = await callsDuring(l, () => drain(l, "w-1", undefined, undefined, "1.35.10"));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toContain("kubectl drain w-1 --ignore-daemonsets --timeout=30s");
    expect(l.nodeState("w-1")).toMatchObject({ cordoned: true, pods: ["kube-system/kube-proxy-x"] });
  });

  test("left cordoned by a drain of ours that did not finish: the drain goes on", async () => {
    const l = labAt("1.37.1");
    const admin = 'export KUBECONFIG="$CM_NODE_ROOT/etc/kubernetes/admin.conf"; ';
    expectExit(await l.run("cp-1", `${admin}kubectl annotate node w-1 cluster-maintenance.io/cordoned=true && kubectl cordon w-1`), 0);
    const r = await callsDuring(l, () => drain(l, "w-1"));
    expectExit(r.result, 0);
    expect(r.result.stderr).not.toContain("not drained");
    expect(mutations(r.calls)).toEqual(["kubectl drain w-1 --ignore-daemonsets --timeout=30s"]);
    expect(l.nodeState("w-1")).toMatchObject({ cordoned: true, annotations: { "cluster-maintenance.io/cordoned": "true" }, pods: ["kube-system/kube-proxy-x"] });
  });

  test("our annotation on a schedulable node (an uncordon whose annotation removal failed) is no unfinished drain", async () => {
    const l = labAt("1.37.1");
    expectExit(await l.run("cp-1", `${ADMIN}kubectl annotate node w-1 cluster-maintenance.io/cordoned=true`), 0);
    const r = await callsDuring(l, () => drain(l, "w-1"));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain("w-1: already at or past v1.35.9 (kubelet v1.37.1): not drained");
    expect(mutations(r.calls)).toEqual([]);
  });

  test("cordoned by an operator: left as it is (no annotation, no eviction)", async () => {
    const l = labAt("1.37.1");
    l.operatorCordon("w-1");
    const r = await callsDuring(l, () => drain(l, "w-1"));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain("not drained");
    expect(mutations(r.calls)).toEqual([]);
    expect(l.nodeState("w-1")).toMatchObject({ cordoned: true, annotations: {}, pods: ["shop/web-1", "kube-system/kube-proxy-x"] });
  });

  test("VERSION any (OS patching): drained whatever the kubelet's version, without reading it", async () => {
    const l = labAt("1.37.1");
    const r = await callsDuring(l, () => drain(l, "w-1", undefined, undefined, "any"));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual([
      "kubectl --request-timeout=30s annotate node w-1 cluster-maintenance.io/cordoned=true --overwrite",
      "kubectl --request-timeout=30s cordon w-1",
      "kubectl drain w-1 --ignore-daemonsets --timeout=30s",
    ]);
    expect(lines(r.calls).some((c) => c.includes("kubeletVersion"))).toBe(false);
    expect(l.nodeState("w-1")).toMatchObject({ cordoned: true, pods: ["kube-system/kube-proxy-x"] });
  });
});

describe("the lab's kubectl (the real one) against the API double", () => {
  test("drain refuses pods without a controller and emptyDir pods unless told, DaemonSet pods without --ignore-daemonsets", async () => {
    const l = lab([web, bare, cache, proxy]);
    const r = await l.run("cp-1", ADMIN + "kubectl drain w-1 --timeout=5s");
    expectExit(r, 1);
    expect(r.stderr).toContain("cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/kube-proxy-x");
    expect(r.stderr).toContain("cannot delete Pods that declare no controller (use --force to override): default/debug");
    expect(r.stderr).toContain("cannot delete Pods with local storage (use --delete-emptydir-data to override): shop/cache-0");
    expect(l.nodeState("w-1").pods).toHaveLength(4);
    expect(l.nodeState("w-1").cordoned).toBe(true);
    expectExit(await l.run("cp-1", ADMIN + "kubectl drain w-1 --delete-local-data --timeout=5s"), 1);
    expectExit(await l.run("cp-1", ADMIN + "kubectl drain w-1 --ignore-daemonsets --force --delete-emptydir-data --timeout=5s"), 0);
    expect(l.nodeState("w-1").pods).toEqual(["kube-system/kube-proxy-x"]);
  });

  test("node status follows the node's kubelet: version of the running kubelet, Ready while active", async () => {
    const l = lab();
    const status = async () =>
      (await l.run("cp-1", `${ADMIN}kubectl get node w-1 -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.nodeInfo.kubeletVersion}'`)).stdout;
    expect(await status()).toBe("True v1.34.6");
    expectExit(await l.run("w-1", "systemctl stop kubelet"), 0);
    expect(await status()).toBe("True v1.34.6"); // as a real control plane: True for the grace period
    await kubeletStoppedFor(l, "w-1", 65);
    expect(await status()).toBe("Unknown v1.34.6");
    expectExit(await l.runScript("w-1", "switch-repository.sh", ["1.35"]), 0);
    expectExit(await l.run("w-1", "apt-mark unhold kubelet && apt-get install -y kubelet=1.35.9-*"), 0);
    expect(await status()).toBe("Unknown v1.34.6");
    expectExit(await l.run("w-1", "systemctl restart kubelet"), 0);
    expect(await status()).toBe("True v1.35.9");
  });
});

describe("uncordon.sh", () => {
  test("uncordons a node this program cordoned and removes the annotation; a second run changes nothing", async () => {
    const l = lab([web]);
    expectExit(await drain(l, "w-1"), 0);
    const r = await callsDuring(l, () => l.runScript("cp-1", "uncordon.sh", ["w-1"]));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual([
      "kubectl --request-timeout=30s uncordon w-1",
      "kubectl --request-timeout=30s annotate node w-1 cluster-maintenance.io/cordoned-",
    ]);
    expect(l.nodeState("w-1").cordoned).toBe(false);
    expect(l.nodeState("w-1").annotations).toEqual({});
    const again = await callsDuring(l, () => l.runScript("cp-1", "uncordon.sh", ["w-1"]));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain("uncordon.sh: w-1: already done: schedulable");
    expect(mutations(again.calls)).toEqual([]);
  });

  test("leaves an operator-cordoned node cordoned and says so", async () => {
    const l = lab([web]);
    l.operatorCordon("w-1");
    expectExit(await drain(l, "w-1"), 0);
    const r = await callsDuring(l, () => l.runScript("cp-1", "uncordon.sh", ["w-1"]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain("cluster-maintenance: uncordon.sh: w-1: was cordoned by an operator before; left cordoned");
    expect(r.result.stderr).not.toMatch(/w-1: w-1 /); // the node named once
    expect(mutations(r.calls)).toEqual([]);
    expect(l.nodeState("w-1").cordoned).toBe(true);
  });

  test("finishes the job when the annotation removal failed after the uncordon", async () => {
    const l = lab([web]);
    expectExit(await drain(l, "w-1"), 0);
    l.injectFailure("cp-1", "cluster-maintenance.io/cordoned-");
    const r = await l.runScript("cp-1", "uncordon.sh", ["w-1"]);
    expectExit(r, 1);
    expect(r.stderr).toContain("uncordon.sh: w-1: removing the cordoned annotation failed");
    l.clearFailures();
    const again = await callsDuring(l, () => l.runScript("cp-1", "uncordon.sh", ["w-1"]));
    expectExit(again.result, 0);
    expect(mutations(again.calls)).toEqual(["kubectl --request-timeout=30s annotate node w-1 cluster-maintenance.io/cordoned-"]);
    expect(l.nodeState("w-1")).toMatchObject({ cordoned: false, annotations: {} });
  });
});

describe("wait-ready.sh", () => {
  test("returns at once for a Ready node at the version; a second run changes nothing", async () => {
    const l = lab();
    const r = await callsDuring(l, () => l.runScript("cp-1", "wait-ready.sh", ["w-1", "1.34.6", "10"]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain("wait-ready.sh: w-1: already done: Ready at v1.34.6");
    expect(mutations(r.calls)).toEqual([]);
  });

  test("times out with exit 5 naming what it saw: wrong kubelet version, or NotReady", async () => {
    const l = lab();
    const started = Date.now();
    const r = await l.runScript("cp-1", "wait-ready.sh", ["w-1", "1.35.9", "2"]);
    expect(Date.now() - started).toBeLessThan(10000);
    expectExit(r, 5);
    expect(r.stderr).toContain("cluster-maintenance: wait-ready.sh: w-1: not Ready at v1.35.9 within 2s (Ready=True, kubelet v1.34.6)");
    await kubeletStoppedFor(l, "w-1", 65);
    const down = await l.runScript("cp-1", "wait-ready.sh", ["w-1", "1.34.6", "1"]);
    expectExit(down, 5);
    expect(down.stderr).toContain("(Ready=Unknown, kubelet v1.34.6; NotReady (Ready is Unknown: the control plane has not heard from its kubelet): NodeStatusUnknown: Kubelet stopped posting node status.)");
  });

  test("a kubelet stopped 25 s ago (Ready still True for the 50 s grace period, its Lease 25 to 35 s old) is not Ready", async () => {
    const l = lab();
    await kubeletStoppedFor(l, "w-1", 25);
    const r = await l.runScript("cp-1", "wait-ready.sh", ["w-1", "1.34.6", "1"]);
    expectExit(r, 5);
    expect(r.stderr).toMatch(/\(Ready=True, kubelet v1\.34\.6; NotReady: its kubelet stopped renewing its Lease: kube-node-lease\/w-1 last renewed \S+Z, \d+ s ago \(renewed every 10 s while it runs;/);
    expect(r.stderr).not.toContain("already done");
  });

  test("gives up within its bound even when every kubectl call takes seconds (a deadline, each call bounded by the time left)", async () => {
    const l = lab();
    await kubeletStoppedFor(l, "w-1", 65);
    fs.mkdirSync(path.join(l.dir, "slow"), { recursive: true });
    fs.writeFileSync(path.join(l.dir, "slow", "cp-1"), "3 kubectl\n");
    const started = Date.now();
    const r = await l.runScript("cp-1", "wait-ready.sh", ["w-1", "1.34.6", "5"]);
    const took = (Date.now() - started) / 1000;
    expectExit(r, 5);
    expect(r.stderr).toContain("not Ready at v1.34.6 within 5s");
    expect(took).toBeGreaterThanOrEqual(4);
    expect(took).toBeLessThan(5 + 2);
  });

  test("where kubectl cannot reach the cluster the timeout message carries kubectl's error", async () => {
    const l = lab();
    const r = await l.runScript("w-2", "wait-ready.sh", ["w-1", "1.34.6", "1"]);
    expectExit(r, 5);
    expect(r.stderr).toContain("(Ready=unknown, kubelet unknown; last kubectl error: The connection to the server localhost:8080 was refused");
  });

  test("waits for the node to come back Ready (kubelet started later)", async () => {
    const l = lab();
    await kubeletStoppedFor(l, "w-1", 65);
    const since = l.calls().length;
    const waiting = l.runScript("cp-1", "wait-ready.sh", ["w-1", "1.34.6", "20"]);
    // Its second read of the Node has started: the first check is over (w-1 not Ready).
    await callsSeen(l, since, (c) => c.command === "kubectl" && c.args.includes("node") && c.args.includes("w-1"), 2);
    expectExit(await l.run("w-1", "systemctl start kubelet"), 0);
    const r = await waiting;
    expectExit(r, 0);
    expect(r.stderr).toContain("wait-ready.sh: w-1: Ready at v1.34.6");
    expect(r.stderr).not.toContain("already done");
  });

  test.each([
    ["1.37.1", "1.35.9"],
    ["1.35.10", "1.35.9"],
  ])("a Ready kubelet v%s past the step's %s counts as done", async (at, step) => {
    const l = createLab({ nodes: [cp("cp-1", { version: "1.37.1" }), worker("w-1", { version: at })] });
    labs.push(l);
    const r = await callsDuring(l, () => l.runScript("cp-1", "wait-ready.sh", ["w-1", step, "10"]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain(`wait-ready.sh: w-1: already done: Ready at v${at}, past v${step}`);
    expect(mutations(r.calls)).toEqual([]);
    // Still waits for a Ready node: past the version but NotReady is not done.
    await kubeletStoppedFor(l, "w-1", 65);
    const down = await l.runScript("cp-1", "wait-ready.sh", ["w-1", step, "1"]);
    expectExit(down, 5);
    expect(down.stderr).toContain(`(Ready=Unknown, kubelet v${at}`);
  });

  test("rejects bad arguments with exit 2", async () => {
    const l = lab();
    expectExit(await l.runScript("cp-1", "wait-ready.sh", ["w-1", "1.34", "10"]), 2);
    expectExit(await l.runScript("cp-1", "wait-ready.sh", ["w-1", "1.34.6", "soon"]), 2);
    expectExit(await l.runScript("cp-1", "wait-ready.sh", ["w-1", "1.34.6", "10", "$(reboot)"]), 2);
  });
});

describe("the real machine", () => {
  test("its apt, kubernetes and marker paths were not touched", () => {
    expect(realMachinePaths()).toEqual(realBefore);
  });
});
