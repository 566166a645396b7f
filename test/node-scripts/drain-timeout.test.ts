/**
 * drain.sh when the drain does not finish in time (exit 4): the reason it gives for each pod left,
 * from the API as the lab's double answers it in the shapes of the real kube-apiserver's
 * (../shared/data/kube-api/v1.31-kubeadm-ha: eviction-denied-by-pdb.json, eviction-dry-run-allowed.json,
 * batch-2-kubelet-stopped-20s and -65s), with the real kubectl.
 */
import { createLab, type Lab, type LabCall, type LabPod } from "../lab/node-kit";
import { callsDuring, cp, expectExit, kubeletStoppedFor, lines, worker } from "./support";

const labs: Lab[] = [];
function lab(pods: LabPod[]): Lab {
  const l = createLab({ nodes: [cp("cp-1"), worker("w-1", { pods }), worker("w-2")] });
  labs.push(l);
  return l;
}
afterAll(() => labs.forEach((l) => l.cleanup()));

const web: LabPod = { name: "web-1", namespace: "shop", owner: "ReplicaSet" };
const api: LabPod = { name: "api-1", namespace: "shop", owner: "ReplicaSet" };
const db: LabPod = { name: "db-0", namespace: "shop", owner: "StatefulSet", pdbBlocked: true };
/** drain.sh to 1.35.9 with a 2 s drain timeout and no opt-ins. */
const drain = (l: Lab) => l.runScript("cp-1", "drain.sh", ["w-1", "1.35.9", "2", "false", "false", "false"]);
const START = "cluster-maintenance: drain.sh: w-1: drain of w-1 did not finish within 2s: ";
/** The pod paths of the dry-run evictions drain.sh asked for. */
const evictionChecks = (calls: readonly LabCall[]) =>
  lines(calls)
    .filter((c) => c.includes(" create --raw "))
    .map((c) => /--raw (\S+)/.exec(c)![1]);
const forceDeletes = (calls: readonly LabCall[]) => lines(calls).filter((c) => / delete /.test(c));

describe("drain.sh, a drain that does not finish in time", () => {
  test("blocked by a PodDisruptionBudget: exit 4 naming the budget and the pod (asked with a server-side dry-run eviction, which evicts nothing)", async () => {
    const l = lab([web, db]);
    const r = await callsDuring(l, () => drain(l));
    expectExit(r.result, 4);
    // kubectl drain itself prints only the generic message of the 429.
    expect(r.result.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget");
    expect(r.result.stderr).toContain(
      `${START}shop/db-0: its eviction is refused by PodDisruptionBudget shop/db-pdb ("The disruption budget db-pdb needs 1 healthy pods and has 1 currently"); w-1 stays cordoned\n`,
    );
    expect(r.result.stderr).not.toContain("may allow no disruption");
    expect(evictionChecks(r.calls)).toEqual(["/api/v1/namespaces/shop/pods/db-0/eviction"]);
    expect(l.nodeState("w-1")).toMatchObject({ cordoned: true, pods: ["shop/db-0"] });
  });

  test("checks at most 10 pods and says how many more are left", async () => {
    const many = Array.from({ length: 12 }, (_, i): LabPod => ({ name: `db-${i}`, namespace: "shop", owner: "StatefulSet", pdbBlocked: true }));
    const l = lab(many);
    const r = await callsDuring(l, () => drain(l));
    expectExit(r.result, 4);
    const line = r.result.stderr.split("\n").find((x) => x.startsWith(START))!;
    expect(line.match(/its eviction is refused by PodDisruptionBudget shop\/db-pdb \("The disruption budget db-pdb needs 12 healthy pods and has 12 currently"\)/g)).toHaveLength(10);
    expect(line).toMatch(/; and 2 more pods left, not checked; w-1 stays cordoned$/);
    expect(evictionChecks(r.calls)).toHaveLength(10);
    expect(l.nodeState("w-1").pods).toHaveLength(12);
  });

  test.each([
    [25, "NotReady: its kubelet stopped renewing its Lease: kube-node-lease/w-1 last renewed"], // Ready still True (50 s grace period)
    [65, "NotReady (Ready is Unknown: the control plane has not heard from its kubelet): NodeStatusUnknown: Kubelet stopped posting node status."],
  ])("pods evicted on a node whose kubelet stopped %i s ago are reported stuck Terminating (not as a budget), never force-deleted", async (seconds, why) => {
    const l = lab([web, api]);
    await kubeletStoppedFor(l, "w-1", seconds);
    const r = await callsDuring(l, () => drain(l));
    expectExit(r.result, 4);
    const line = r.result.stderr.split("\n").find((x) => x.startsWith(START))!;
    expect(line).toContain(`stuck Terminating because the kubelet on w-1 is not reporting (${why}`);
    expect(line).toContain(
      "): shop/api-1 shop/web-1; they go when the kubelet returns; if the machine is gone for good, an operator may force-delete them (kubectl delete pod -n NAMESPACE NAME --force --grace-period=0; this script never does); w-1 stays cordoned",
    );
    expect(line).not.toMatch(/disruption|eviction/i);
    expect(evictionChecks(r.calls)).toEqual([]);
    expect(forceDeletes(r.calls)).toEqual([]);
    expect(l.nodeState("w-1")).toMatchObject({ cordoned: true, pods: ["shop/web-1", "shop/api-1"] });
    // They go when the kubelet returns.
    expectExit(await l.run("w-1", "systemctl start kubelet"), 0);
    expect(l.nodeState("w-1").pods).toEqual([]);
  });

  test("a budget and a stopped kubelet at once: each pod gets its own reason", async () => {
    const l = lab([web, db]);
    await kubeletStoppedFor(l, "w-1", 65);
    const r = await callsDuring(l, () => drain(l));
    expectExit(r.result, 4);
    expect(r.result.stderr).toContain(
      `${START}shop/db-0: its eviction is refused by PodDisruptionBudget shop/db-pdb ("The disruption budget db-pdb needs 1 healthy pods and has 1 currently"); stuck Terminating because the kubelet on w-1 is not reporting (NotReady (Ready is Unknown: the control plane has not heard from its kubelet): NodeStatusUnknown: Kubelet stopped posting node status.): shop/web-1; they go when`,
    );
    expect(evictionChecks(r.calls)).toEqual(["/api/v1/namespaces/shop/pods/db-0/eviction"]);
    expect(forceDeletes(r.calls)).toEqual([]);
  });

  test("anything else is said as it is: a drain that failed otherwise leaves a pod whose eviction is allowed (the dry run evicts nothing)", async () => {
    const l = lab([web]);
    l.injectFailure("cp-1", "kubectl drain");
    const r = await callsDuring(l, () => drain(l));
    expectExit(r.result, 4);
    expect(r.result.stderr).toContain(`${START}shop/web-1: its eviction is allowed now (a server-side dry run) but it was not evicted in time; w-1 stays cordoned\n`);
    expect(r.result.stderr).not.toMatch(/PodDisruptionBudget|Terminating/);
    expect(evictionChecks(r.calls)).toEqual(["/api/v1/namespaces/shop/pods/web-1/eviction"]);
    expect(l.nodeState("w-1")).toMatchObject({ cordoned: true, pods: ["shop/web-1"] });
  });
});
