/**
 * The go/no-go listing of `backup.volumes` (preflight/volumes.ts) on the shared cluster's plan
 * with the built volume fixtures (test/discovery/fixtures/volumes): the PVCs covered and each
 * reason one is not (not bound, hostPath/local/in-tree, no class, two default classes, a
 * configured class missing or of another driver, the CRDs missing), `required` blocking every
 * control-plane hop (and only those), the one summary note, the text, and 5,000 PVCs.
 */
import { resolveLive } from "../../config/live-nodes";
import { executionOptions, parseStackConfig, planFromConfig } from "../../config/stack-config";
import { parseLiveCluster } from "../../discovery/live-cluster";
import type { ReadinessRead } from "../../discovery/read-readiness";
import { slimClaim, slimSnapshot, slimSnapshotClass, slimVolume, VolumesRead } from "../../discovery/read-volumes";
import { FINDING_KINDS } from "../../preflight/findings";
import { assessReadiness } from "../../preflight/readiness";
import { readinessText } from "../../preflight/readiness-text";
import { snapshotHops, volumeCoverage, volumeFindings } from "../../preflight/volumes";
import { readVolumeFixture, sharedRawCluster } from "../discovery/static-api";
import { sharedWorkloads } from "./shared-workloads";

const SERVER = "https://10.0.0.10:6443";
const fixtures = (): VolumesRead => ({
  claims: readVolumeFixture("persistentvolumeclaims").items.map(slimClaim),
  volumes: readVolumeFixture("persistentvolumes").items.map(slimVolume),
  snapshotApi: { served: true, classes: readVolumeFixture("volumesnapshotclasses").items.map(slimSnapshotClass), snapshots: readVolumeFixture("volumesnapshots").items.map(slimSnapshot) },
});
const NO_CRDS: VolumesRead["snapshotApi"] = { served: false, reason: "the server does not serve snapshot.storage.k8s.io/v1 (HTTP 404): install the CRDs" };
const BACKUP = { bucket: "t-etcd-backups", region: "eu-west-1", image: "example.com/backup:1" };

/** The shared cluster to 1.32 (hop 1: the batch pool catches up to 1.31.4, no control-plane step; hop 2: the control plane to 1.32.13). */
function assessed(volumes: Record<string, unknown> | undefined, read: VolumesRead | "not read" = fixtures()) {
  const live = parseLiveCluster(SERVER, sharedRawCluster());
  const config = resolveLive(
    parseStackConfig({ targetVersion: "1.32", pools: [{ name: "general", selector: "pool=general", maxUnavailable: 1 }, { name: "batch", selector: "pool=batch", maxUnavailable: 1 }], ssh: { insecureIgnoreHostKey: true }, ...(volumes ? { backup: { ...BACKUP, volumes } } : {}) }, "t"),
    live,
  );
  const plan = planFromConfig(config, new Date("2026-11-28"));
  const base: ReadinessRead = { workloads: sharedWorkloads(), readyz: { status: 200, text: "ok" }, certificate: { notAfter: new Date("2027-06-01") }, metrics: [], discovery: {} };
  const readiness = assessReadiness({
    plan, live, read: { ...base, ...(read !== "not read" ? { volumes: read } : {}) }, drain: executionOptions(config).drain, acknowledge: [], now: new Date("2026-11-28"),
    ...(config.backup?.volumes ? { volumes: config.backup.volumes } : {}),
  });
  return { plan, readiness, config, volumeFindings: readiness.findings.filter((f) => f.kind.startsWith("volume-") || f.id === "not-checked/volumes") };
}

const UNCOVERED = ["db/ceph-vol", "monitoring/prometheus-db", "shop/cache", "shop/legacy-nfs", "shop/pending-claim", "shop/uploads"];

describe("backup.volumes: {} (every namespace, default classes, required)", () => {
  const { plan, readiness, volumeFindings: found } = assessed({});

  it("volumes are snapshotted before the control-plane hop only (hop 2, which takes the etcd snapshot)", () => {
    expect(plan.hops.map((h) => h.index)).toEqual([1, 2]);
    expect(snapshotHops(plan)).toEqual([{ index: 2, to: "1.32.13" }]);
  });

  it("one summary note: the covered PVCs by class and name, the uncovered counted by reason", () => {
    const summary = found.filter((f) => f.kind === "volume-snapshot");
    expect(summary).toEqual([{
      id: "volume-snapshot/summary", kind: "volume-snapshot", hop: 0, blocking: false,
      detail: "backup.volumes (every namespace): 3 of 9 selected PVC(s) get a VolumeSnapshot before each control-plane hop (v1.32.13): 3 with ebs-snapshots (ebs.csi.aws.com, the driver's default), " +
        "e.g. batch/scratch, monitoring/grafana, shop/data-postgres-0; 6 cannot be (1 several default classes for the driver, 3 not CSI, 1 not bound, 1 no VolumeSnapshotClass for the driver: the volume-not-covered findings). " +
        "Each hop waits up to 600 s for them to be readyToUse; 3 kept per PVC",
    }]);
  });

  it("one finding per uncovered PVC, each with its reason; blocking for hop 2, except the PVC not bound (a note)", () => {
    const byId = new Map(found.filter((f) => f.kind === "volume-not-covered").map((f) => [f.id.replace("volume-not-covered/", ""), f]));
    expect([...byId.keys()].sort()).toEqual(UNCOVERED);
    const detail = (k: string) => byId.get(k)!.detail;
    expect(detail("shop/cache")).toBe("its PersistentVolume cache-hostpath is a hostPath volume, not CSI: VolumeSnapshots are taken of CSI volumes only; back its data up another way, or move it to a CSI StorageClass (backup.volumes.required: the hop waits for it)");
    expect(detail("monitoring/prometheus-db")).toContain("its PersistentVolume local-pv-worker-1 is a local volume, not CSI");
    expect(detail("shop/legacy-nfs")).toContain("its PersistentVolume legacy-nfs-pv is an in-tree nfs volume, not CSI");
    expect(detail("shop/uploads")).toBe('no VolumeSnapshotClass for its CSI driver efs.csi.aws.com: create one for the driver (if it supports snapshots) and annotate it snapshot.storage.kubernetes.io/is-default-class: "true", or name it in backup.volumes.classes (backup.volumes.required: the hop waits for it)');
    expect(detail("db/ceph-vol")).toBe('its CSI driver rbd.csi.ceph.com has 2 VolumeSnapshotClasses annotated as its default (rbd-archive, rbd-fast), and the snapshot controller then takes no snapshot: name one in backup.volumes.classes ({ "rbd.csi.ceph.com": "rbd-archive" }), or leave one annotated (backup.volumes.required: the hop waits for it)');
    expect(detail("shop/pending-claim")).toBe("not bound to a PersistentVolume (phase Pending): it holds no data to snapshot; it is snapshotted once bound");
    for (const [k, f] of byId) {
      expect(f.object).toBe(`PersistentVolumeClaim ${k}`);
      expect([f.hop, f.blocking]).toEqual(k === "shop/pending-claim" ? [0, false] : [2, true]);
    }
  });

  it("hop 2 is no-go on them; hop 1 (no control-plane step) is not held by them", () => {
    const volumeBlockers = (hop: number) => readiness.verdicts.find((v) => v.hop === hop)!.blockers.filter((b) => b.startsWith("volume-"));
    expect(volumeBlockers(1)).toEqual([]);
    expect(volumeBlockers(2)).toEqual(UNCOVERED.filter((k) => k !== "shop/pending-claim").map((k) => `volume-not-covered/${k}`));
  });

  it("the report's text: the blocking ones with their hop, the summary and the not-bound PVC among the notes", () => {
    const lines = readinessText(readiness);
    expect(lines).toContain("    volume-not-covered/shop/cache (hop 2)");
    const notes = lines.slice(lines.indexOf("  NOTES"));
    expect(notes).toContain("    volume-snapshot/summary");
    expect(notes).toContain("    volume-not-covered/shop/pending-claim");
    expect(FINDING_KINDS).toEqual(expect.arrayContaining(["volume-snapshot", "volume-not-covered"]));
  });
});

describe("the other reasons and settings", () => {
  it("required: false: every uncovered PVC is one note for the cluster, no verdict changes", () => {
    const { readiness, volumeFindings: found } = assessed({ required: false });
    const notCovered = found.filter((f) => f.kind === "volume-not-covered");
    expect(notCovered.map((f) => [f.hop, f.blocking])).toEqual(UNCOVERED.map(() => [0, false]));
    expect(notCovered.find((f) => f.id === "volume-not-covered/shop/cache")!.detail).toMatch(/ \(backup\.volumes\.required is false: the hop goes on without it\)$/);
    expect(readiness.verdicts.flatMap((v) => v.blockers).filter((b) => b.startsWith("volume-"))).toEqual([]);
  });

  it("the CRDs missing: every bound CSI PVC is not covered for that reason (the non-CSI ones keep theirs), and the summary says it", () => {
    const { volumeFindings: found } = assessed({}, { ...fixtures(), snapshotApi: NO_CRDS });
    const reasons = Object.fromEntries(found.filter((f) => f.kind === "volume-not-covered").map((f) => [f.id.replace("volume-not-covered/", ""), f.detail]));
    for (const k of ["batch/scratch", "db/ceph-vol", "monitoring/grafana", "shop/data-postgres-0", "shop/uploads"]) expect(reasons[k]).toMatch(/^a CSI volume \([a-z.]+\), but the server does not serve snapshot\.storage\.k8s\.io\/v1 \(HTTP 404\): install the CRDs \(backup\.volumes\.required: the hop waits for it\)$/);
    expect(reasons["shop/cache"]).toContain("hostPath volume, not CSI");
    const summary = found.find((f) => f.kind === "volume-snapshot")!.detail;
    expect(summary).toContain("0 of 9 selected PVC(s) get a VolumeSnapshot");
    expect(summary).toContain("5 snapshot.storage.k8s.io/v1 not served");
    expect(summary).toContain("; the server does not serve snapshot.storage.k8s.io/v1 (HTTP 404): install the CRDs.");
  });

  it("classes: a configured class is used over the defaults; one that does not exist, or is another driver's, is said", () => {
    const picked = volumeCoverage({ namespaces: [], classes: { "rbd.csi.ceph.com": "rbd-fast", "ebs.csi.aws.com": "ebs-retain" }, keep: 3, readyTimeoutSeconds: 600, required: true }, fixtures());
    expect(picked.covered.map((c) => `${c.claim.name} ${c.className} ${c.classFrom}`)).toEqual(["scratch ebs-retain config", "ceph-vol rbd-fast config", "grafana ebs-retain config", "data-postgres-0 ebs-retain config"]);
    const wrong = volumeCoverage({ namespaces: [], classes: { "efs.csi.aws.com": "efs-snapshots", "ebs.csi.aws.com": "rbd-fast" }, keep: 3, readyTimeoutSeconds: 600, required: true }, fixtures());
    const why = Object.fromEntries(wrong.uncovered.map((u) => [u.claim.name, `${u.reason}: ${u.detail}`]));
    expect(why.uploads).toBe("class-missing: backup.volumes.classes names the VolumeSnapshotClass efs-snapshots for its CSI driver efs.csi.aws.com, and the cluster has no class of that name (kubectl get volumesnapshotclasses): create it, or name an existing one");
    expect(why.grafana).toBe("class-driver: backup.volumes.classes names the VolumeSnapshotClass rbd-fast for its CSI driver ebs.csi.aws.com, but that class is for the driver rbd.csi.ceph.com: name a class whose driver is ebs.csi.aws.com");
    // A driver with classes but no default names them.
    const noDefault = volumeCoverage({ namespaces: ["shop"], classes: {}, keep: 3, readyTimeoutSeconds: 600, required: true }, { ...fixtures(), snapshotApi: { served: true, classes: [{ name: "ebs-retain", driver: "ebs.csi.aws.com", isDefault: false }], snapshots: [] } });
    expect(noDefault.uncovered.find((u) => u.claim.name === "data-postgres-0")!.detail).toBe("no VolumeSnapshotClass for its CSI driver ebs.csi.aws.com is annotated default (the driver's classes: ebs-retain): name one in backup.volumes.classes");
  });

  it("namespaces and selector choose the PVCs; one being deleted is still selected (as volume-snapshot.sh does); a PV the cluster does not list is said", () => {
    const { volumeFindings: found } = assessed({ namespaces: ["shop", "batch"], selector: "backup!=skip,app" });
    expect(found.find((f) => f.kind === "volume-snapshot")!.detail).toMatch(/^backup\.volumes \(namespaces shop, batch, selector backup!=skip,app\): 1 of 4 selected PVC\(s\) get a VolumeSnapshot .*e\.g\. shop\/data-postgres-0; 3 cannot be/);
    const read = fixtures();
    const claims = read.claims.map((c) => (c.name === "grafana" ? { ...c, terminating: true } : c.name === "scratch" ? { ...c, volumeName: "gone-pv" } : c));
    const c = volumeCoverage({ namespaces: [], classes: {}, keep: 3, readyTimeoutSeconds: 600, required: true }, { ...read, claims });
    expect(c.selected).toBe(9);
    expect(c.covered.map((x) => x.claim.name)).toContain("grafana");
    expect(c.uncovered.find((u) => u.claim.name === "scratch")).toMatchObject({ reason: "volume-missing", detail: expect.stringContaining("bound to the PersistentVolume gone-pv, which the cluster does not list") });
  });

  it("no backup.volumes: no volume finding; backup.volumes with the volumes not read: one not-checked note", () => {
    expect(assessed(undefined).volumeFindings).toEqual([]);
    expect(assessed({}, "not read").volumeFindings).toEqual([{ id: "not-checked/volumes", kind: "not-checked", hop: 0, blocking: false, detail: expect.stringContaining("the PersistentVolumeClaims were not read") }]);
    expect(volumeFindings([], { namespaces: [], classes: {}, keep: 3, readyTimeoutSeconds: 600, required: true }, fixtures())).toEqual([]);
  });
});

it("5,000 PVCs: one summary note naming ten, and one finding per uncovered PVC per control-plane hop", () => {
  const read = fixtures();
  const template = read.claims.find((c) => c.name === "data-postgres-0")!;
  const hostPath = read.claims.find((c) => c.name === "cache")!;
  const claims = Array.from({ length: 5000 }, (_, i) => ({ ...(i % 100 === 0 ? hostPath : template), namespace: `ns-${String(i).padStart(4, "0")}`, name: `data-${i}` }));
  const started = Date.now();
  const found = volumeFindings([{ index: 1, to: "1.35.9" }, { index: 2, to: "1.36.4" }], { namespaces: [], classes: {}, keep: 3, readyTimeoutSeconds: 600, required: true }, { ...read, claims });
  expect(Date.now() - started).toBeLessThan(2000);
  expect(found.filter((f) => f.kind === "volume-snapshot")).toHaveLength(1);
  const summary = found[0]!.detail;
  expect(summary).toContain("4950 of 5000 selected PVC(s) get a VolumeSnapshot before each control-plane hop (v1.35.9, v1.36.4)");
  expect(summary).toContain("e.g. ns-0001/data-1, ns-0002/data-2");
  expect(summary).toContain(" and 4940 more; 50 cannot be (50 not CSI");
  expect(summary.length).toBeLessThan(800);
  expect(found.filter((f) => f.kind === "volume-not-covered")).toHaveLength(100);
  expect(new Set(found.filter((f) => f.kind === "volume-not-covered").map((f) => f.id)).size).toBe(50);
});
