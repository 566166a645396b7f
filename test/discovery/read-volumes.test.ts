/**
 * readVolumes (and readReadiness with `volumes`) against the static API serving the built
 * fixtures of ./fixtures/volumes (README there): every PVC, PV, VolumeSnapshotClass and
 * labelled VolumeSnapshot, page by page, cut to the fields used; snapshot.storage.k8s.io not
 * served is said, not thrown; a refused list is one DiscoveryError naming it.
 */
import { DiscoveryError } from "../../discovery/errors";
import { readReadiness } from "../../discovery/read-readiness";
import { readVolumes, slimClaim, slimVolume } from "../../discovery/read-volumes";
import { kubeconfigFor, readVolumeFixture, startStaticApi } from "./static-api";

const fixtureCount = (r: Parameters<typeof readVolumeFixture>[0]) => (readVolumeFixture(r).items as unknown[]).length;

it("reads every PVC, PV, class and labelled snapshot, in pages of pageSize", async () => {
  const api = await startStaticApi();
  try {
    const read = await readVolumes(kubeconfigFor(api.url), { pageSize: 2 });
    expect(read.claims.map((c) => `${c.namespace}/${c.name}`)).toEqual([
      "batch/scratch", "db/ceph-vol", "monitoring/grafana", "monitoring/prometheus-db",
      "shop/cache", "shop/data-postgres-0", "shop/legacy-nfs", "shop/pending-claim", "shop/uploads",
    ]);
    expect(read.claims.find((c) => c.name === "grafana")).toEqual({
      namespace: "monitoring", name: "grafana", labels: { app: "grafana" }, phase: "Bound", volumeName: "pvc-2c3d4e5f-ebs-grafana",
      storageClassName: "gp3", storage: "1Gi", accessModes: ["ReadWriteOnce"], volumeMode: "Block", terminating: false,
    });
    expect(read.claims.find((c) => c.name === "pending-claim")).toEqual({
      namespace: "shop", name: "pending-claim", labels: { app: "web" }, phase: "Pending", storageClassName: "gp3", storage: "1Gi", accessModes: ["ReadWriteOnce"], volumeMode: "Filesystem", terminating: false,
    });
    // storageClassName "" (no class: static binding) is kept as "", not dropped.
    expect(read.claims.find((c) => c.name === "cache")!.storageClassName).toBe("");
    expect(Object.fromEntries(read.volumes.map((v) => [v.name, v.csiDriver ?? v.source]))).toEqual({
      "cache-hostpath": "hostPath", "legacy-nfs-pv": "nfs", "local-pv-worker-1": "local",
      "pvc-0a1b2c3d-ebs-postgres": "ebs.csi.aws.com", "pvc-1b2c3d4e-efs-uploads": "efs.csi.aws.com", "pvc-2c3d4e5f-ebs-grafana": "ebs.csi.aws.com",
      "pvc-3d4e5f6a-rbd-ceph": "rbd.csi.ceph.com", "pvc-4e5f6a7b-ebs-scratch": "ebs.csi.aws.com",
    });
    expect(read.snapshotApi.served).toBe(true);
    if (!read.snapshotApi.served) return;
    expect(read.snapshotApi.classes).toEqual([
      { name: "ebs-retain", driver: "ebs.csi.aws.com", isDefault: false, deletionPolicy: "Retain" },
      { name: "ebs-snapshots", driver: "ebs.csi.aws.com", isDefault: true, deletionPolicy: "Delete" },
      { name: "rbd-archive", driver: "rbd.csi.ceph.com", isDefault: true, deletionPolicy: "Retain" },
      { name: "rbd-fast", driver: "rbd.csi.ceph.com", isDefault: true, deletionPolicy: "Delete" },
    ]);
    // Only ours (label cluster-maintenance.io/pvc): shop/manual-backup is someone else's.
    expect(read.snapshotApi.snapshots.map((s) => `${s.namespace}/${s.name}`)).toEqual([
      "batch/scratch-before-v1-35-9", "monitoring/grafana-before-v1-34-6", "monitoring/grafana-before-v1-35-9",
      "shop/data-postgres-0-before-v1-34-6", "shop/data-postgres-0-before-v1-35-9", "shop/orders-before-v1-35-9",
    ]);
    const failed = read.snapshotApi.snapshots.find((s) => s.name === "grafana-before-v1-35-9")!;
    expect(failed).toMatchObject({ pvc: "grafana", className: "ebs-snapshots", readyToUse: false, labels: { "cluster-maintenance.io/before": "v1.35.9", "cluster-maintenance.io/pvc": "grafana" } });
    expect(failed.error).toContain("SnapshotCreationPerVolumeRateExceeded");
    expect(failed).not.toHaveProperty("restoreSize");
    expect(read.snapshotApi.snapshots.find((s) => s.name === "scratch-before-v1-35-9")).toMatchObject({ readyToUse: true, restoreSize: "4294967296", createdAt: "2026-03-01T02:00:00Z" });

    // Paging: each list in pages of 2 (the last page has no continue token), the snapshots by label.
    const pages = (path: string) => api.requests.filter((r) => r.path === path);
    expect(pages("/api/v1/persistentvolumeclaims").length).toBe(Math.ceil(fixtureCount("persistentvolumeclaims") / 2));
    expect(pages("/api/v1/persistentvolumes").length).toBe(Math.ceil(fixtureCount("persistentvolumes") / 2));
    expect(pages("/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses").length).toBe(2);
    expect(pages("/apis/snapshot.storage.k8s.io/v1/volumesnapshots").length).toBe(3);
    expect(pages("/apis/snapshot.storage.k8s.io/v1/volumesnapshots").every((r) => r.query.labelSelector === "cluster-maintenance.io/pvc" && r.query.limit === "2")).toBe(true);
    expect(pages("/api/v1/persistentvolumeclaims").slice(1).every((r) => r.query.continue !== undefined)).toBe(true);
  } finally {
    await api.close();
  }
});

it("snapshot.storage.k8s.io not served (no CRDs): the PVCs and PVs are read and the reason is said, nothing thrown", async () => {
  const api = await startStaticApi({ snapshotApi: false });
  try {
    const read = await readVolumes(kubeconfigFor(api.url));
    expect(read.claims).toHaveLength(fixtureCount("persistentvolumeclaims"));
    expect(read.volumes).toHaveLength(fixtureCount("persistentvolumes"));
    expect(read.snapshotApi).toEqual({ served: false, reason: expect.stringContaining("the server does not serve snapshot.storage.k8s.io/v1 (list VolumeSnapshotClasses (GET /apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses): HTTP 404)") });
    expect(!read.snapshotApi.served && read.snapshotApi.reason).toContain("external-snapshotter's CRDs and snapshot controller are not installed");
    expect(api.requests.some((r) => r.path.endsWith("/volumesnapshots"))).toBe(false);
  } finally {
    await api.close();
  }
});

it("a refused list (403) is one DiscoveryError naming the request; readReadiness reads the volumes only when asked", async () => {
  const api = await startStaticApi({ fail: { path: "/apis/snapshot.storage.k8s.io/v1/volumesnapshots", code: 403 } });
  try {
    const e = await readVolumes(kubeconfigFor(api.url)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DiscoveryError);
    expect((e as Error).message).toContain("list VolumeSnapshots with the label cluster-maintenance.io/pvc (GET /apis/snapshot.storage.k8s.io/v1/volumesnapshots): HTTP 403");
    expect((e as Error).message).toContain("list volumesnapshotclasses.snapshot.storage.k8s.io, volumesnapshots.snapshot.storage.k8s.io");
  } finally {
    await api.close();
  }
  const plain = await startStaticApi();
  try {
    expect(await readReadiness(kubeconfigFor(plain.url))).not.toHaveProperty("volumes");
    expect(plain.requests.some((r) => /persistentvolume|snapshot/.test(r.path))).toBe(false);
    const withVolumes = await readReadiness(kubeconfigFor(plain.url), { volumes: true });
    expect(withVolumes.volumes?.claims).toHaveLength(fixtureCount("persistentvolumeclaims"));
  } finally {
    await plain.close();
  }
});

it("slims client-node's objects and the API's JSON alike; a PV's source is its one volume-source key", () => {
  expect(slimClaim({ metadata: { namespace: "a", name: "b", deletionTimestamp: "2026-01-01T00:00:00Z" }, spec: {}, status: {} })).toEqual({ namespace: "a", name: "b", labels: {}, phase: "", accessModes: [], terminating: true });
  expect(slimVolume({ metadata: { name: "x" }, spec: { capacity: { storage: "1Gi" }, iscsi: { targetPortal: "10.0.0.1:3260" }, claimRef: {} } })).toEqual({ name: "x", source: "iscsi" });
  expect(slimVolume({ metadata: { name: "y" }, spec: { accessModes: ["ReadWriteOnce"] } })).toEqual({ name: "y", source: "unknown" });
  expect(slimVolume({ metadata: { name: "z" }, spec: { csi: { driver: "pd.csi.storage.gke.io", volumeHandle: "h" }, nodeAffinity: {} } })).toEqual({ name: "z", csiDriver: "pd.csi.storage.gke.io", source: "csi" });
});
