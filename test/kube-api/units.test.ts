/** The API double's rules as pure functions: patches, selectors, PodDisruptionBudget arithmetic, paths, Accept headers. */
import { jsonPatch, mergePatch, strategicMergePatch, applyPatch } from "../lab/kube-api/patch";
import { fieldMatcher, labelMatcher } from "../lab/kube-api/selectors";
import { budgetStatus, evictionVerdict } from "../lab/kube-api/disruption";
import { resourceType } from "../lab/kube-api/resources";
import { parseTarget } from "../lab/kube-api/server";
import { wantsAggregated } from "../lab/kube-api/discovery";
import { wantsTable } from "../lab/kube-api/tables";
import { ApiError } from "../lab/kube-api/status";
import type { KubeObject } from "../lab/kube-api/types";
import { clusterObjects } from "../lab/kube-api";
import { ApiState } from "../lab/kube-api/state";
import { Store } from "../lab/kube-api/store";

const NOW = Date.parse("2026-11-28T00:00:00Z");
const node: KubeObject = {
  metadata: { name: "w-1", annotations: { a: "1", b: "2" }, labels: { pool: "batch" } },
  spec: { taints: [{ key: "x", effect: "NoSchedule" }] },
  status: { conditions: [{ type: "Ready", status: "True" }, { type: "DiskPressure", status: "False" }] },
};

describe("patches as kubectl sends them", () => {
  test("merge patch (kubectl annotate): keys set and removed with null; the target unchanged", () => {
    expect(mergePatch(node, { metadata: { annotations: { a: null, c: "3" } } })).toMatchObject({ metadata: { annotations: { b: "2", c: "3" } } });
    expect((mergePatch(node, { metadata: { annotations: { a: null } } }) as KubeObject).metadata.annotations).toEqual({ b: "2" });
    expect(node.metadata.annotations).toEqual({ a: "1", b: "2" });
  });

  test("strategic merge patch (kubectl cordon, uncordon): unschedulable set and removed; lists merged by key; directives", () => {
    const cordoned = strategicMergePatch(node, { spec: { unschedulable: true } }) as KubeObject;
    expect(cordoned.spec).toEqual({ taints: [{ key: "x", effect: "NoSchedule" }], unschedulable: true });
    expect((strategicMergePatch(cordoned, { spec: { unschedulable: null } }) as KubeObject).spec).toEqual(node.spec);
    const status = strategicMergePatch(node, { status: { conditions: [{ type: "Ready", status: "False" }, { type: "PIDPressure", status: "False" }] } }) as { status: { conditions: unknown[] } };
    expect(status.status.conditions).toEqual([{ type: "Ready", status: "False" }, { type: "DiskPressure", status: "False" }, { type: "PIDPressure", status: "False" }]);
    const deleted = strategicMergePatch(node, { status: { conditions: [{ type: "DiskPressure", $patch: "delete" }] } }) as { status: { conditions: unknown[] } };
    expect(deleted.status.conditions).toEqual([{ type: "Ready", status: "True" }]);
    expect((strategicMergePatch(node, { spec: { taints: [{ key: "y", effect: "NoExecute" }] } }) as KubeObject).spec).toEqual({ taints: [{ key: "y", effect: "NoExecute" }] });
    expect((strategicMergePatch(node, { metadata: { $retainKeys: ["name"], name: "w-1" } }) as KubeObject).metadata).toEqual({ name: "w-1" });
    expect((strategicMergePatch({ metadata: { name: "p", finalizers: ["a", "b"] } }, { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"], finalizers: ["c"] } }) as KubeObject).metadata.finalizers).toEqual(["b", "c"]);
  });

  test("JSON patch: add, replace, remove, test; a failed test or a missing path is a 400", () => {
    const out = jsonPatch(node, [
      { op: "add", path: "/metadata/annotations/c", value: "3" },
      { op: "replace", path: "/spec/taints/0/effect", value: "NoExecute" },
      { op: "remove", path: "/metadata/labels/pool" },
      { op: "test", path: "/metadata/name", value: "w-1" },
      { op: "add", path: "/spec/taints/-", value: { key: "z", effect: "NoSchedule" } },
    ]) as KubeObject;
    expect(out.metadata).toEqual({ name: "w-1", annotations: { a: "1", b: "2", c: "3" }, labels: {} });
    expect(out.spec).toEqual({ taints: [{ key: "x", effect: "NoExecute" }, { key: "z", effect: "NoSchedule" }] });
    expect(() => jsonPatch(node, [{ op: "test", path: "/metadata/name", value: "w-2" }])).toThrow(/testing value \/metadata\/name failed/);
    expect(() => jsonPatch(node, [{ op: "remove", path: "/metadata/nothing" }])).toThrow(ApiError);
  });

  test("the Content-Type picks the patch; another type is a 415", () => {
    expect(applyPatch("application/merge-patch+json", { a: [1, 2] }, { a: [3] })).toEqual({ a: [3] });
    expect(applyPatch("application/strategic-merge-patch+json; charset=utf-8", { a: 1 }, { b: 2 })).toEqual({ a: 1, b: 2 });
    expect(applyPatch("application/json-patch+json", { a: 1 }, [{ op: "remove", path: "/a" }])).toEqual({});
    expect(() => applyPatch("application/yaml", {}, {})).toThrow(expect.objectContaining({ code: 415 }));
  });
});

describe("selectors", () => {
  const obj = (labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject => ({ metadata: { name: "x", namespace: "shop", labels }, ...extra });
  test.each([
    ["pool=batch", { pool: "batch" }, true],
    ["pool=batch", { pool: "web" }, false],
    ["pool==batch", { pool: "batch" }, true],
    ["pool!=batch", {}, true],
    ["pool", { pool: "" }, true],
    ["!pool", { pool: "" }, false],
    ["!pool", {}, true],
    ["pool in (a, batch)", { pool: "batch" }, true],
    ["pool notin (a,batch)", { pool: "batch" }, false],
    ["pool notin (a,batch)", {}, true],
    ["node-role.kubernetes.io/control-plane", { "node-role.kubernetes.io/control-plane": "" }, true],
    ["pool=batch,tier", { pool: "batch" }, false],
    ["", {}, true],
  ])("label %s on %j: %s", (selector, labels, expected) => {
    expect(labelMatcher(selector)(obj(labels as Record<string, string>))).toBe(expected);
  });

  test("an unparsable label selector is a 400", () => {
    expect(() => labelMatcher("pool in batch")).toThrow(expect.objectContaining({ code: 400 }));
    expect(() => labelMatcher("bad key!=x")).toThrow(expect.objectContaining({ code: 400 }));
  });

  test("field selectors per resource: pods by node and phase, nodes by unschedulable, anything by name and namespace", () => {
    const pods = resourceType("", "v1", "pods")!;
    const nodes = resourceType("", "v1", "nodes")!;
    const pod = obj({}, { spec: { nodeName: "w-1" }, status: { phase: "Running" } });
    expect(fieldMatcher(pods, "spec.nodeName=w-1,status.phase=Running", "")(pod)).toBe(true);
    expect(fieldMatcher(pods, "spec.nodeName!=w-1", "")(pod)).toBe(false);
    expect(fieldMatcher(pods, "metadata.namespace==shop,metadata.name=x", "")(pod)).toBe(true);
    expect(fieldMatcher(nodes, "spec.unschedulable=false", "")(obj({}))).toBe(true);
    expect(() => fieldMatcher(nodes, "spec.nodeName=w-1", "a=b")).toThrow(
      'Unable to find "/v1, Resource=nodes" that match label selector "a=b", field selector "spec.nodeName=w-1": field label not supported: spec.nodeName',
    );
  });
});

describe("PodDisruptionBudget arithmetic (the disruption controller's)", () => {
  const pod = (name: string, ready = true, extra: Partial<KubeObject["metadata"]> = {}): KubeObject => ({
    metadata: { name, namespace: "shop", labels: { app: "web" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-1", uid: "u", controller: true }], ...extra },
    status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  });
  const pdb = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: "web-pdb", namespace: "shop", generation: 1 }, spec: { selector: { matchLabels: { app: "web" } }, ...spec } });
  const pods = [pod("a"), pod("b"), pod("c"), pod("d", false), pod("e", true, { deletionTimestamp: "2026-11-28T00:00:00Z" })];
  const scale = () => ({ key: "Deployment/web", replicas: 5 });

  test.each([
    [{ minAvailable: 2 }, { expectedPods: 5, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 }],
    [{ minAvailable: 3 }, { expectedPods: 5, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 }],
    [{ maxUnavailable: 1 }, { expectedPods: 5, desiredHealthy: 4, currentHealthy: 3, disruptionsAllowed: 0 }],
    [{ maxUnavailable: "60%" }, { expectedPods: 5, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 }],
    [{ minAvailable: "50%" }, { expectedPods: 5, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 }],
  ])("%j over 3 Ready, 1 not Ready, 1 Terminating of 5 replicas: %j", (spec, expected) => {
    const status = budgetStatus(pdb(spec), pods, scale, NOW);
    expect(status).toMatchObject({ observedGeneration: 1, ...expected });
    expect((status.conditions as { status: string; reason: string }[])[0]).toMatchObject(
      expected.disruptionsAllowed > 0 ? { status: "True", reason: "SufficientPods" } : { status: "False", reason: "InsufficientPods" },
    );
  });

  test("evicted pods not yet gone (disruptedPods, 2 minutes) do not count as healthy", () => {
    const b = { ...pdb({ minAvailable: 1 }), status: { disruptedPods: { a: "2026-11-27T23:59:30Z", b: "2026-11-27T23:50:00Z" } } };
    expect(budgetStatus(b, pods, scale, NOW)).toMatchObject({ currentHealthy: 2, disruptionsAllowed: 1, disruptedPods: { a: "2026-11-27T23:59:30Z" } });
  });

  test("eviction: 429 naming the budget at 0; a pod not Ready goes when the budget is met; two budgets are a 500", () => {
    const zero = { ...pdb({ minAvailable: 3 }), status: budgetStatus(pdb({ minAvailable: 3 }), pods, scale, NOW) };
    expect(() => evictionVerdict(pods[0]!, [zero])).toThrow(
      expect.objectContaining({ code: 429, details: { causes: [{ reason: "DisruptionBudget", message: "The disruption budget web-pdb needs 3 healthy pods and has 3 currently" }] } }),
    );
    expect(evictionVerdict(pods[3]!, [zero])).toEqual({});
    expect(evictionVerdict(pods[4]!, [zero])).toEqual({});
    const one = { ...pdb({ minAvailable: 2 }), status: budgetStatus(pdb({ minAvailable: 2 }), pods, scale, NOW) };
    expect(evictionVerdict(pods[0]!, [one]).charge).toBe(one);
    expect(() => evictionVerdict(pods[0]!, [one, one])).toThrow(expect.objectContaining({ code: 500 }));
  });
});

describe("paths and media types", () => {
  test("resource paths: core and grouped, namespaced, subresources; anything else is not a target", () => {
    expect(parseTarget("/api/v1/nodes/w-1")).toMatchObject({ type: { name: "nodes" }, name: "w-1" });
    expect(parseTarget("/api/v1/namespaces/shop/pods/web-1/eviction")).toMatchObject({ type: { name: "pods" }, namespace: "shop", name: "web-1", subresource: "eviction" });
    expect(parseTarget("/api/v1/namespaces/shop")).toMatchObject({ type: { name: "namespaces" }, name: "shop" });
    expect(parseTarget("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/w-1")).toMatchObject({ type: { name: "leases", group: "coordination.k8s.io" }, namespace: "kube-node-lease", name: "w-1" });
    expect(parseTarget("/apis/apps/v1/deployments")).toMatchObject({ type: { name: "deployments" } });
    expect(parseTarget("/apis/apps/v2/deployments")).toBeUndefined();
    expect(parseTarget("/api/v1/namespaces/shop/nodes/w-1")).toBeUndefined();
  });

  test("aggregated discovery and Tables only when the Accept header puts them before plain JSON", () => {
    expect(wantsAggregated("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")).toBe(true);
    expect(wantsAggregated("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")).toBe(false);
    expect(wantsAggregated("application/json, */*")).toBe(false);
    expect(wantsTable("application/json;as=Table;v=v1;g=meta.k8s.io,application/json")).toBe(true);
    expect(wantsTable("application/json")).toBe(false);
  });
});

describe("the cluster state without a lab (a seed)", () => {
  const PODS = resourceType("", "v1", "pods")!;
  const PDBS = resourceType("policy", "v1", "poddisruptionbudgets")!;
  const NODES = resourceType("", "v1", "nodes")!;
  const state = () =>
    new ApiState(
      new Store(
        clusterObjects({
          controlPlane: [{ name: "cp-1", version: "1.31.4" }],
          workers: [{ name: "w-1", kubeletVersion: "1.31.4" }, { name: "w-2", kubeletVersion: "1.31.4" }],
          kubernetesVersion: "1.31.4",
          kubeProxyVersion: "1.31.4",
          coreDnsVersion: "v1.11.3",
          workloads: [{ namespace: "shop", name: "web", replicas: 3, nodes: ["w-1", "w-2"], pdb: { minAvailable: 1 } }],
        }),
      ),
    );
  const webPods = (s: ApiState) => s.list(PODS, "shop").map((p) => p.metadata.name);

  test("each allowed eviction spends the budget (recomputed from the pods) until it answers 429", async () => {
    const s = state();
    const [a, b, c] = webPods(s) as [string, string, string];
    const allowed = () => (s.get(PDBS, "shop", "web-pdb")!.status as { disruptionsAllowed: number }).disruptionsAllowed;
    expect(allowed()).toBe(2);
    await s.evict("shop", a, undefined, false);
    expect(allowed()).toBe(1);
    await s.evict("shop", b, undefined, true); // a dry run
    expect(allowed()).toBe(1);
    await s.evict("shop", b, undefined, false);
    expect(allowed()).toBe(0);
    await expect(s.evict("shop", c, undefined, false)).rejects.toMatchObject({ code: 429, details: { causes: [{ message: "The disruption budget web-pdb needs 1 healthy pods and has 1 currently" }] } });
    expect(webPods(s)).toEqual([c]);
  });

  test("a pod on a node whose Ready is Unknown stays Terminating; a grace period of 0 removes it; cordon keeps the unschedulable taint", async () => {
    const s = state();
    const node = s.get(NODES, undefined, "w-1")!;
    (node.status as { conditions: { type: string; status: string }[] }).conditions.find((c) => c.type === "Ready")!.status = "Unknown";
    s.store.put(NODES, node);
    const onW1 = s.list(PODS, "shop").find((p) => (p.spec as { nodeName: string }).nodeName === "w-1")!.metadata.name;
    const deleted = await s.delete(PODS, "shop", onW1, { dryRun: false });
    expect(deleted.metadata).toMatchObject({ deletionTimestamp: expect.any(String), deletionGracePeriodSeconds: 30 });
    expect(webPods(s)).toContain(onW1);
    await s.delete(PODS, "shop", onW1, { gracePeriodSeconds: 0, dryRun: false });
    expect(webPods(s)).not.toContain(onW1);
    const cordoned = await s.patch(NODES, undefined, "w-2", "application/strategic-merge-patch+json", { spec: { unschedulable: true } }, false);
    expect(cordoned.spec).toEqual({ unschedulable: true, taints: [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule", timeAdded: expect.any(String) }] });
    expect((await s.patch(NODES, undefined, "w-2", "application/strategic-merge-patch+json", { spec: { unschedulable: null } }, false)).spec).toEqual({});
  });
});
