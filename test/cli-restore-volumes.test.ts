/**
 * `npm run restore -- --volumes`: the PVCs to restore from the VolumeSnapshots backup.volumes
 * took before a hop, read from the static API serving the built fixtures
 * (test/discovery/fixtures/volumes): the manifests field by field, --hop, snapshots not
 * readyToUse listed and not used, the swap steps, and the clear exit 1 when there is nothing to
 * restore from.
 */
import { parseAllDocuments } from "yaml";
import { quantityBytes, restoreMain, runRestoreVolumes, type VolumeRestore } from "../cli/restore";
import { captured, scratchProject } from "./helpers/cli";
import { kubeconfigFileFor, readVolumeFixture, startStaticApi, StaticApiOptions } from "./discovery/static-api";

const STACK = `config:
  cluster-maintenance:clusterName: shop-prod
  cluster-maintenance:targetVersion: "1.36"
  cluster-maintenance:pools:
    - { name: general, selector: pool=general, maxUnavailable: 1 }
  cluster-maintenance:ssh: { insecureIgnoreHostKey: true }
`;

async function restore(args: string[], options: StaticApiOptions = {}) {
  const api = await startStaticApi(options);
  try {
    const kubeconfig = kubeconfigFileFor(api.url);
    const r = await captured((io) => runRestoreVolumes(["--volumes", "--stack", "live", "--kubeconfig", kubeconfig, ...args], { ...io, env: { HOME: "/nonexistent" } }), scratchProject("live", STACK));
    return { ...r, url: api.url, requests: api.requests };
  } finally {
    await api.close();
  }
}

/** The PersistentVolumeClaim documents of the output (the comments around them dropped). */
const manifests = (out: string) => parseAllDocuments(out).map((d) => d.toJS()).filter((d) => d !== null) as Record<string, any>[];

describe("the newest hop (v1.35.9), by default", () => {
  let r: Awaited<ReturnType<typeof restore>>;
  beforeAll(async () => {
    r = await restore([]);
  });

  it("exits 0 with one PVC document per PVC with a ready snapshot of the hop: a valid YAML stream for kubectl apply -f -", () => {
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(parseAllDocuments(r.out).every((d) => d.errors.length === 0)).toBe(true);
    expect(manifests(r.out).map((m) => `${m.metadata.namespace}/${m.metadata.name}`)).toEqual(["batch/scratch-restored-v1-35-9", "shop/data-postgres-0-restored-v1-35-9", "shop/orders-restored-v1-35-9"]);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe(`# Volume restore for cluster shop-prod (${r.url}): the VolumeSnapshots taken before v1.35.9 (label cluster-maintenance.io/before=v1.35.9; the newest hop found)`);
    expect(lines[1]).toBe("# Other hops with snapshots (choose with --hop): v1.34.6 (2)");
    expect(lines).toContain("# (https://kubernetes.io/docs/concepts/storage/persistent-volumes/#volume-snapshot-and-restore-volume-from-snapshot-support);");
  });

  it("each manifest field by field: dataSource the snapshot, the original's class, access modes, volume mode, a size of at least restoreSize", () => {
    const [scratch, postgres, orders] = manifests(r.out);
    expect(postgres).toEqual({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data-postgres-0-restored-v1-35-9", namespace: "shop", annotations: { "cluster-maintenance.io/restored-from": "shop/data-postgres-0-before-v1-35-9" } },
      spec: {
        storageClassName: "gp3",
        accessModes: ["ReadWriteOnce"],
        volumeMode: "Filesystem",
        resources: { requests: { storage: "20Gi" } },
        dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "data-postgres-0-before-v1-35-9" },
      },
    });
    // restoreSize in bytes (4 GiB) equals the 4Gi request: the snapshot's value is kept as written.
    expect(scratch!.spec).toEqual({ storageClassName: "gp3", accessModes: ["ReadWriteOnce"], volumeMode: "Filesystem", resources: { requests: { storage: "4294967296" } }, dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "scratch-before-v1-35-9" } });
    // The PVC shop/orders is gone: no class (the default StorageClass), guesses said in a CHECK comment.
    expect(orders!.spec).toEqual({ accessModes: ["ReadWriteOnce"], volumeMode: "Filesystem", resources: { requests: { storage: "3Gi" } }, dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "orders-before-v1-35-9" } });
    expect(r.out).toContain("# CHECK: the PVC shop/orders no longer exists: storageClassName is left out (the cluster's default StorageClass is used: it must be one of its CSI driver ebs.csi.aws.com), accessModes ReadWriteOnce and volumeMode Filesystem are guesses; check all three");
  });

  it("lists the hop's snapshot that is not readyToUse, with the controller's error, and does not use it", () => {
    expect(r.out).toContain("# Not used: 1 snapshot(s) of this hop not readyToUse:");
    expect(r.out).toContain("#   monitoring/grafana-before-v1-35-9 (PVC monitoring/grafana): Failed to check and update snapshot content: failed to take snapshot of the volume vol-0a1b2c3d4e5f60002");
    expect(manifests(r.out).some((m) => m.metadata.namespace === "monitoring")).toBe(false);
  });

  it("gives the swap steps: scale down, point the claim, scale up; and for a StatefulSet's claim, the same name with the old volume retained", () => {
    const lines = r.out.split("\n");
    const at = lines.indexOf("# 2. shop/data-postgres-0 from VolumeSnapshot shop/data-postgres-0-before-v1-35-9 (ready, restoreSize 20Gi, taken 2026-03-01T02:00:00Z)");
    expect(at).toBeGreaterThan(0);
    const steps = lines.slice(lines.indexOf("# Swap the workload onto it:", at) + 1, lines.indexOf("---", at + 1));
    expect(steps[0]).toBe("#   1. kubectl -n 'shop' apply -f <this manifest>, then kubectl -n 'shop' get pvc 'data-postgres-0-restored-v1-35-9': Bound (a StorageClass with volumeBindingMode WaitForFirstConsumer binds it only when a pod uses it, in step 4)");
    expect(steps[2]).toBe("#   3. kubectl -n 'shop' scale deployment/NAME --replicas=0 (note the replicas first), and wait until its pods are gone: kubectl -n 'shop' get pods -w");
    expect(steps[3]).toBe("#   4. kubectl -n 'shop' edit deployment/NAME: in spec.template.spec.volumes, set persistentVolumeClaim.claimName from data-postgres-0 to data-postgres-0-restored-v1-35-9; then kubectl -n 'shop' scale deployment/NAME --replicas=<as before>");
    expect(steps[5]).toMatch(/^# Or, for a StatefulSet's claim: a StatefulSet only mounts the claim named data-postgres-0 .*statefulset\/#stable-storage\):$/);
    expect(steps.slice(6)).toEqual([
      "#   1. kubectl -n 'shop' scale statefulset/NAME --replicas=0, and wait until its pods are gone",
      `#   2. kubectl patch pv 'pvc-0a1b2c3d-ebs-postgres' -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}' (keeps the old volume when its claim goes: https://kubernetes.io/docs/tasks/administer-cluster/change-pv-reclaim-policy/)`,
      "#   3. kubectl -n 'shop' delete pvc 'data-postgres-0'",
      "#   4. kubectl -n 'shop' apply -f <this manifest> with metadata.name: data-postgres-0",
      "#   5. kubectl -n 'shop' scale statefulset/NAME --replicas=<as before>; check the data, then delete the old PersistentVolume pvc-0a1b2c3d-ebs-postgres when it is no longer needed",
    ]);
    // scratch's name ends in no ordinal: no StatefulSet variant.
    expect(r.out.split("---")[1]).not.toContain("StatefulSet");
  });

  it("reads only: lists, and our snapshots by their label", () => {
    expect(r.requests.every((q) => q.method === "GET")).toBe(true);
    expect(r.requests.filter((q) => q.path.endsWith("/volumesnapshots")).every((q) => q.query.labelSelector === "cluster-maintenance.io/pvc")).toBe(true);
  });
});

describe("--hop", () => {
  it("v1.34.6 (or 1.34.6): that hop's snapshots; a restoreSize above the original's request is the size", async () => {
    for (const hop of ["v1.34.6", "1.34.6"]) {
      const r = await restore(["--hop", hop]);
      expect(r.code).toBe(0);
      const [grafana, postgres] = manifests(r.out);
      expect(grafana).toEqual({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "grafana-restored-v1-34-6", namespace: "monitoring", annotations: { "cluster-maintenance.io/restored-from": "monitoring/grafana-before-v1-34-6" } },
        spec: { storageClassName: "gp3", accessModes: ["ReadWriteOnce"], volumeMode: "Block", resources: { requests: { storage: "2Gi" } }, dataSource: { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "grafana-before-v1-34-6" } },
      });
      expect(postgres!.metadata.name).toBe("data-postgres-0-restored-v1-34-6");
      expect(r.out).toContain("label cluster-maintenance.io/before=v1.34.6; --hop)");
      expect(r.out).not.toContain("Not used");
    }
  });

  it("a hop with no snapshot: exit 1 naming the hops there are", async () => {
    const r = await restore(["--hop", "v1.33.2"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toBe(`error: no VolumeSnapshot labelled cluster-maintenance.io/before=v1.33.2 in the cluster at ${r.url}; the hops with snapshots (how many): v1.35.9 (4), v1.34.6 (2): give one of them with --hop\n`);
  });

  it("not a version: exit 2", async () => {
    const r = await restore(["--hop", "latest"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--hop: is not a version such as v1.35.9 (got "latest")');
  });

  it("JSON: the hop, every hop, the restores and the snapshots not ready", async () => {
    const r = await restore(["--json"]);
    const j = JSON.parse(r.out) as VolumeRestore;
    expect([j.hop, j.chosen, j.hops]).toEqual(["v1.35.9", "newest", [{ hop: "v1.35.9", snapshots: 4 }, { hop: "v1.34.6", snapshots: 2 }]]);
    expect(j.restores.map((e) => [e.pvc, e.snapshot.name, e.manifest.spec.resources.requests.storage])).toEqual([
      ["batch/scratch", "batch/scratch-before-v1-35-9", "4294967296"], ["shop/data-postgres-0", "shop/data-postgres-0-before-v1-35-9", "20Gi"], ["shop/orders", "shop/orders-before-v1-35-9", "3Gi"],
    ]);
    expect(j.notReady).toEqual([{ snapshot: "monitoring/grafana-before-v1-35-9", pvc: "monitoring/grafana", error: expect.stringContaining("SnapshotCreationPerVolumeRateExceeded") }]);
  });
});

describe("nothing to restore from: exit 1 with one clear message", () => {
  it("no snapshot carries our labels", async () => {
    const r = await restore([], { volumes: { volumesnapshots: [] } });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toBe(`error: no VolumeSnapshot labelled cluster-maintenance.io/before and cluster-maintenance.io/pvc in the cluster at ${r.url}: none was taken before a hop yet (backup.volumes in the stack config takes them before each control-plane hop; kubectl get volumesnapshots -A -l cluster-maintenance.io/pvc lists them)\n`);
  });

  it("the snapshot CRDs are not installed", async () => {
    const r = await restore([], { snapshotApi: false });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: no VolumeSnapshot to restore from in the cluster at \S+: the server does not serve snapshot\.storage\.k8s\.io\/v1 /);
  });

  it("every snapshot of the hop is not ready", async () => {
    const items = (readVolumeFixture("volumesnapshots").items as Record<string, any>[]).filter((s) => s.metadata.name === "grafana-before-v1-35-9");
    const r = await restore([], { volumes: { volumesnapshots: items } });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: none of the 1 VolumeSnapshot\(s\) taken before v1\.35\.9 in the cluster at \S+ is readyToUse \(monitoring\/grafana-before-v1-35-9: Failed to check/);
  });

  it("no kubeconfig, or a server that refuses: exit 1", async () => {
    const none = await captured((io) => runRestoreVolumes(["--volumes", "--stack", "live"], { ...io, env: { HOME: "/nonexistent" } }), scratchProject("live", STACK));
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/^error: no kubeconfig to read the cluster with; looked in this order/);
    const refused = await restore([], { fail: { path: "/api/v1/persistentvolumeclaims", code: 403 } });
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("list PersistentVolumeClaims (GET /api/v1/persistentvolumeclaims): HTTP 403");
  });
});

it("restoreMain: --volumes goes to the volume restore, anything else to the etcd procedure", async () => {
  const etcd = captured((io) => restoreMain(["--stack", "dev", "--snapshot", "/var/lib/cluster-maintenance/etcd-backups/x.db"], io) as number);
  expect(etcd.code).toBe(0);
  expect(etcd.out).toMatch(/^etcd restore for cluster dev/);
  const help = await captured(async (io) => restoreMain(["--volumes", "--help"], io));
  expect(help.code).toBe(0);
  expect(help.out).toContain("--hop <version>");
});

it("quantityBytes reads the quantity forms", () => {
  expect(["10Gi", "500M", "4294967296", "1e9", "1.5Gi", "100m", "x", "10 Gi"].map(quantityBytes)).toEqual([10 * 2 ** 30, 5e8, 4294967296, 1e9, 1.5 * 2 ** 30, 0.1, undefined, undefined]);
});
