/**
 * The double's snapshot.storage.k8s.io/v1 kinds (test/lab/kube-api/snapshots.ts) against their
 * published definitions, the external-snapshotter CRDs (github.com/kubernetes-csi/external-snapshotter,
 * client/config/crd/snapshot.storage.k8s.io_volumesnapshots.yaml, _volumesnapshotclasses.yaml,
 * _volumesnapshotcontents.yaml at afb2f0d8: the field names below are their schemas' properties),
 * and their discovery against the shape the kept real answers give a CRD group (example.com/v1 in
 * ../shared/data/kube-api/v1.31-kubeadm-ha/discovery); PVCs and PVs; the simulated controller.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startKubeApi, type ClusterSpec, type KubeApi } from "../lab/kube-api";
import { DISCOVERY_DIR } from "../lab/kube-api/resources";
import { AGGREGATED_V2 } from "../lab/kube-api/discovery";
import { endpointOf, request, type Endpoint } from "./client";

/** The CRDs' schema properties (v1). */
const CRD_FIELDS = {
  snapshotSpec: ["source", "volumeSnapshotClassName"],
  snapshotSource: ["persistentVolumeClaimName", "volumeSnapshotContentName"],
  snapshotStatus: ["boundVolumeSnapshotContentName", "creationTime", "error", "readyToUse", "restoreSize", "volumeGroupSnapshotName"],
  error: ["message", "time"],
  classTop: ["apiVersion", "deletionPolicy", "driver", "kind", "metadata", "parameters"],
  contentSpec: ["deletionPolicy", "driver", "source", "sourceVolumeMode", "volumeSnapshotClassName", "volumeSnapshotRef"],
  contentStatus: ["creationTime", "error", "readyToUse", "restoreSize", "snapshotHandle", "volumeGroupSnapshotHandle"],
};

const CLUSTER: ClusterSpec = {
  controlPlane: [{ name: "cp-1", version: "1.31.4" }],
  workers: [{ name: "w-1", kubeletVersion: "1.31.4" }],
  kubernetesVersion: "1.31.4",
  kubeProxyVersion: "1.31.4",
  coreDnsVersion: "v1.11.3",
  volumes: [
    { namespace: "shop", name: "data" },
    { namespace: "shop", name: "slow", snapshot: "ready-after:2" },
    { namespace: "shop", name: "broken", snapshot: "fail:rpc error: code = Internal desc = disk busy" },
    { namespace: "shop", name: "stuck", snapshot: "never" },
    { namespace: "shop", name: "scratch", hostPath: true },
  ],
  snapshotClasses: [{ name: "ebs-snapshots", driver: "ebs.csi.aws.com", default: true }],
};

const apis: KubeApi[] = [];
const dirs: string[] = [];
async function start(spec: ClusterSpec): Promise<Endpoint> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-kube-api-snap-"));
  dirs.push(dir);
  const api = await startKubeApi({ dir, cluster: spec });
  apis.push(api);
  return endpointOf(api.kubeconfig);
}
afterAll(async () => {
  await Promise.all(apis.map((a) => a.stop()));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const keys = (o: object) => Object.keys(o).sort();
const VS = "/apis/snapshot.storage.k8s.io/v1/namespaces/shop/volumesnapshots";
const snapshotOf = (name: string, pvc: string, extra: object = {}) => ({
  apiVersion: "snapshot.storage.k8s.io/v1", kind: "VolumeSnapshot", metadata: { name, namespace: "shop" }, spec: { source: { persistentVolumeClaimName: pvc } }, ...extra,
});

describe("snapshot.storage.k8s.io/v1 in the double", () => {
  let api: Endpoint;
  beforeAll(async () => {
    api = await start(CLUSTER);
  });

  test("discovery lists the group in the shapes a CRD group has (the kept example.com/v1), with the CRDs' short names and status subresources", async () => {
    const kept = JSON.parse(fs.readFileSync(path.join(DISCOVERY_DIR, "apis_example.com_v1.json"), "utf8"));
    const list = (await request(api, "GET", "/apis/snapshot.storage.k8s.io/v1")).json;
    expect(keys(list)).toEqual(keys(kept));
    expect(list.groupVersion).toBe("snapshot.storage.k8s.io/v1");
    const byName = Object.fromEntries(list.resources.map((r: { name: string }) => [r.name, r]));
    expect(Object.keys(byName).sort()).toEqual(["volumesnapshotclasses", "volumesnapshotcontents", "volumesnapshotcontents/status", "volumesnapshots", "volumesnapshots/status"]);
    for (const name of ["volumesnapshotclasses", "volumesnapshotcontents", "volumesnapshots"]) {
      expect(keys(byName[name])).toEqual([...keys(kept.resources[0]), "shortNames"].sort());
      expect(byName[name].verbs).toEqual(kept.resources[0].verbs);
    }
    expect(byName.volumesnapshots).toMatchObject({ kind: "VolumeSnapshot", namespaced: true, singularName: "volumesnapshot", shortNames: ["vs"] });
    expect(byName.volumesnapshotclasses).toMatchObject({ kind: "VolumeSnapshotClass", namespaced: false, shortNames: ["vsclass", "vsclasses"] });
    expect(byName.volumesnapshotcontents).toMatchObject({ kind: "VolumeSnapshotContent", namespaced: false, shortNames: ["vsc", "vscs"] });
    expect(byName["volumesnapshots/status"]).toMatchObject({ kind: "VolumeSnapshot", verbs: ["get", "patch", "update"] });

    const aggregated = await request(api, "GET", "/apis", { headers: { Accept: AGGREGATED_V2 } });
    const keptAggregated = JSON.parse(fs.readFileSync(path.join(DISCOVERY_DIR, "aggregated-apis.json"), "utf8")).items.find((g: { metadata: { name: string } }) => g.metadata.name === "example.com");
    const group = aggregated.json.items.find((g: { metadata: { name: string } }) => g.metadata.name === "snapshot.storage.k8s.io");
    expect(keys(group)).toEqual(keys(keptAggregated));
    expect(keys(group.versions[0])).toEqual(keys(keptAggregated.versions[0]));
    const vs = group.versions[0].resources.find((r: { resource: string }) => r.resource === "volumesnapshots");
    expect(keys(vs)).toEqual([...keys(keptAggregated.versions[0].resources[0]), "shortNames", "subresources"].sort());
    expect(vs.subresources).toEqual([{ subresource: "status", responseKind: { group: "snapshot.storage.k8s.io", version: "v1", kind: "VolumeSnapshot" }, verbs: ["get", "patch", "update"] }]);
    const plain = (await request(api, "GET", "/apis")).json;
    expect(plain.groups.map((g: { name: string }) => g.name)).toContain("snapshot.storage.k8s.io");
    expect((await request(api, "GET", "/apis/snapshot.storage.k8s.io")).json).toMatchObject({ kind: "APIGroup", name: "snapshot.storage.k8s.io", preferredVersion: { version: "v1" } });
  });

  test("PVCs bound to CSI, hostPath PVs, the classes in the CRD's shape", async () => {
    const pvc = (await request(api, "GET", "/api/v1/namespaces/shop/persistentvolumeclaims/data")).json;
    expect(pvc.status.phase).toBe("Bound");
    const pv = (await request(api, "GET", `/api/v1/persistentvolumes/${pvc.spec.volumeName}`)).json;
    expect(pv.spec.csi.driver).toBe("ebs.csi.aws.com");
    expect(pv.spec.claimRef).toMatchObject({ kind: "PersistentVolumeClaim", namespace: "shop", name: "data", uid: pvc.metadata.uid });
    const scratch = (await request(api, "GET", "/api/v1/namespaces/shop/persistentvolumeclaims/scratch")).json;
    const hostPv = (await request(api, "GET", `/api/v1/persistentvolumes/${scratch.spec.volumeName}`)).json;
    expect(hostPv.spec.csi).toBeUndefined();
    expect(hostPv.spec.hostPath.path).toBeTruthy();
    const cls = (await request(api, "GET", "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses/ebs-snapshots")).json;
    for (const k of keys(cls)) expect(CRD_FIELDS.classTop).toContain(k);
    expect(cls).toMatchObject({ driver: "ebs.csi.aws.com", deletionPolicy: "Delete", metadata: { annotations: { "snapshot.storage.kubernetes.io/is-default-class": "true" } } });
  });

  test("create: 201 without status, 409 for a name taken, 422 unless exactly one source, 404 for a namespace that does not exist", async () => {
    const created = await request(api, "POST", VS, { body: snapshotOf("data-1", "data", { status: { readyToUse: true } }) });
    expect(created.status).toBe(201);
    expect(created.json.status).toBeUndefined();
    expect(created.json.metadata).toMatchObject({ name: "data-1", namespace: "shop", generation: 1 });
    const again = await request(api, "POST", VS, { body: snapshotOf("data-1", "data") });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ kind: "Status", reason: "AlreadyExists", message: 'volumesnapshots.snapshot.storage.k8s.io "data-1" already exists' });
    const both = await request(api, "POST", VS, { body: { ...snapshotOf("x", "data"), spec: { source: { persistentVolumeClaimName: "data", volumeSnapshotContentName: "c" } } } });
    expect(both.status).toBe(422);
    expect(both.json.message).toContain("exactly one of volumeSnapshotContentName and persistentVolumeClaimName must be set");
    const noNs = await request(api, "POST", "/apis/snapshot.storage.k8s.io/v1/namespaces/nope/volumesnapshots", { body: { ...snapshotOf("x", "data"), metadata: { name: "x" } } });
    expect(noNs.status).toBe(404);
  });

  test("the controller: ready (bound to a VolumeSnapshotContent in the CRD's shape), ready after N reads, failed with status.error, never ready", async () => {
    const get = async (name: string) => (await request(api, "GET", `${VS}/${name}`)).json;
    for (const [name, pvc] of [["ok", "data"], ["slow-1", "slow"], ["broken-1", "broken"], ["stuck-1", "stuck"]]) {
      expect((await request(api, "POST", VS, { body: snapshotOf(name!, pvc!) })).status).toBe(201);
    }
    const ok = await get("ok");
    expect(ok.status.readyToUse).toBe(true);
    for (const k of keys(ok.spec)) expect(CRD_FIELDS.snapshotSpec).toContain(k);
    for (const k of keys(ok.status)) expect(CRD_FIELDS.snapshotStatus).toContain(k);
    expect(ok.status.creationTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(ok.status.restoreSize).toBe("1Gi");
    expect(ok.status.boundVolumeSnapshotContentName).toBe(`snapcontent-${ok.metadata.uid}`);
    const content = (await request(api, "GET", `/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents/${ok.status.boundVolumeSnapshotContentName}`)).json;
    for (const k of keys(content.spec)) expect(CRD_FIELDS.contentSpec).toContain(k);
    for (const k of keys(content.status)) expect(CRD_FIELDS.contentStatus).toContain(k);
    expect(content.spec).toMatchObject({ driver: "ebs.csi.aws.com", deletionPolicy: "Delete", volumeSnapshotClassName: "ebs-snapshots", volumeSnapshotRef: { kind: "VolumeSnapshot", name: "ok", namespace: "shop", uid: ok.metadata.uid } });
    expect(content.status).toMatchObject({ readyToUse: true, restoreSize: 1073741824 });
    expect(Number.isInteger(content.status.creationTime)).toBe(true);

    expect((await get("slow-1")).status.readyToUse).toBe(false);
    expect((await get("slow-1")).status.readyToUse).toBe(true);
    const broken = await get("broken-1");
    expect(broken.status.readyToUse).toBe(false);
    expect(keys(broken.status.error)).toEqual(CRD_FIELDS.error);
    expect(broken.status.error.message).toBe("rpc error: code = Internal desc = disk busy");
    for (let i = 0; i < 5; i++) expect((await get("stuck-1")).status).toMatchObject({ readyToUse: false });
    expect((await get("stuck-1")).status.error).toBeUndefined();

    // Deleting a snapshot whose class says Delete deletes its content.
    expect((await request(api, "DELETE", `${VS}/ok`)).status).toBe(200);
    expect((await request(api, "GET", `/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents/${ok.status.boundVolumeSnapshotContentName}`)).status).toBe(404);
  });

  test("without the CRDs the group is not served: not in discovery, its paths 404", async () => {
    const bare = await start({ ...CLUSTER, snapshotClasses: undefined });
    expect((await request(bare, "GET", "/apis/snapshot.storage.k8s.io/v1")).status).toBe(404);
    expect((await request(bare, "GET", VS)).status).toBe(404);
    expect((await request(bare, "POST", VS, { body: snapshotOf("x", "data") })).status).toBe(404);
    const groups = (await request(bare, "GET", "/apis", { headers: { Accept: AGGREGATED_V2 } })).json.items.map((g: { metadata: { name: string } }) => g.metadata.name);
    expect(groups).not.toContain("snapshot.storage.k8s.io");
    expect((await request(bare, "GET", "/api/v1/namespaces/shop/persistentvolumeclaims/data")).status).toBe(200);
  });
});
