/**
 * Persistent volumes and CSI snapshots in the double (issue 13):
 * - storageObjects: a cluster's PersistentVolumeClaims and PersistentVolumes (core/v1: CSI-backed,
 *   hostPath or local), a StorageClass per CSI driver, VolumeSnapshotClasses, and the
 *   external-snapshotter's CRDs (crd-types.ts), from a small StorageSpec;
 * - discovery of the snapshot.storage.k8s.io group while its CRDs are installed, in the shapes the
 *   apiextensions server gives a CRD group (the kept example.com/example.org lists of
 *   ../shared/data/kube-api/v1.31-kubeadm-ha/discovery, plus `shortNames` and the `/status`
 *   subresource the snapshot CRDs declare);
 * - a simulated snapshot controller (reconcileSnapshot), deterministic: what it does to a
 *   VolumeSnapshot is said by the lab-only annotation LAB_SNAPSHOT_ANNOTATION on its PVC or, when
 *   the PVC has none, on its VolumeSnapshotClass; it acts when the snapshot is read, never on a timer.
 *
 * Shapes follow the CRDs of github.com/kubernetes-csi/external-snapshotter (client/config/crd at
 * afb2f0d8): VolumeSnapshot spec.source.{persistentVolumeClaimName|volumeSnapshotContentName}
 * (exactly one), spec.volumeSnapshotClassName; status.boundVolumeSnapshotContentName,
 * creationTime (date-time), readyToUse, restoreSize (a quantity), error{message,time};
 * VolumeSnapshotClass driver, deletionPolicy (Delete|Retain), parameters, at the top level;
 * VolumeSnapshotContent spec.{deletionPolicy, driver, source.volumeHandle, volumeSnapshotClassName,
 * volumeSnapshotRef, sourceVolumeMode}, status.{creationTime (int64 ns), readyToUse, restoreSize
 * (int64 bytes), snapshotHandle}. The controller names a dynamic snapshot's content
 * `snapcontent-<snapshot uid>` and puts the finalizers
 * snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection and
 * -bound-protection on the snapshot, as external-snapshotter's common controller does; the double
 * removes a deleted snapshot at once (and its content when the class's deletionPolicy is Delete)
 * rather than through those finalizers.
 */
import { createHash } from "node:crypto";
import type { KubeObject } from "./types";
import { CRD_TYPES, CRD_VERBS, SNAPSHOT_GROUP, SNAPSHOT_TYPES, type CrdType } from "./crd-types";
import { apiTime } from "./store";

/**
 * The lab-only annotation that tells the simulated snapshot controller what to do with a
 * VolumeSnapshot of a PVC (on the PVC, or on the VolumeSnapshotClass for every PVC without one):
 * - `ready` (also the default): the first read after creation shows it bound and readyToUse;
 * - `ready-after:N`: bound but not ready for its first N-1 reads, readyToUse from the Nth on
 *   (a read: any GET, list or PATCH that returns it);
 * - `fail:<message>`: bound, readyToUse false, status.error {message, time} as the controller
 *   writes a CSI CreateSnapshot failure;
 * - `never`: bound, never ready, no error (a driver that never finishes).
 * The annotation is read at every read, so a test may change it between runs.
 */
export const LAB_SNAPSHOT_ANNOTATION = "lab.cluster-maintenance.io/snapshot";
/** The annotation that makes a VolumeSnapshotClass its driver's default (external-snapshotter). */
export const DEFAULT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class";

/** A PersistentVolumeClaim and, unless `unbound`, its PersistentVolume. */
export interface VolumeSpec {
  readonly namespace: string;
  readonly name: string;
  /** The CSI driver of its PV (spec.csi.driver); with neither this nor hostPath/local: "ebs.csi.aws.com". */
  readonly driver?: string;
  /** A hostPath PV (no CSI driver). */
  readonly hostPath?: true;
  /** A `local` PV (no CSI driver). */
  readonly local?: true;
  /** Pending, no PV bound. */
  readonly unbound?: true;
  /** Capacity, default "1Gi". */
  readonly size?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** The LAB_SNAPSHOT_ANNOTATION value for its snapshots. */
  readonly snapshot?: string;
}

export interface SnapshotClassSpec {
  readonly name: string;
  readonly driver: string;
  /** Annotated snapshot.storage.kubernetes.io/is-default-class: "true". */
  readonly default?: boolean;
  /** Default "Delete". */
  readonly deletionPolicy?: "Delete" | "Retain";
  /** The LAB_SNAPSHOT_ANNOTATION value for snapshots of this class. */
  readonly snapshot?: string;
}

/** Volumes and snapshot classes of a cluster (ClusterSpec, and createLab's `storage`). */
export interface StorageSpec {
  readonly volumes?: readonly VolumeSpec[];
  readonly snapshotClasses?: readonly SnapshotClassSpec[];
  /** Whether the external-snapshotter CRDs are installed (default: when snapshotClasses is given). */
  readonly snapshotApi?: boolean;
}

const CREATED_DEFAULT = Date.parse("2026-11-27T22:50:00Z");
const uid = (...parts: string[]) => {
  const h = createHash("sha256").update(parts.join("\0")).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** The CRD object of a CRD-defined type (apiextensions.k8s.io/v1, Established). */
export function crdObject(t: CrdType, createdMs = CREATED_DEFAULT): KubeObject {
  const created = apiTime(createdMs);
  const names = { kind: t.kind, listKind: `${t.kind}List`, plural: t.name, shortNames: [...t.shortNames], singular: t.singularName };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: t.crdName, creationTimestamp: created, generation: 1, annotations: { "api-approved.kubernetes.io": "https://github.com/kubernetes-csi/external-snapshotter/pull/814" } },
    spec: {
      group: t.group,
      names,
      scope: t.namespaced ? "Namespaced" : "Cluster",
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } }, subresources: t.statusSubresource ? { status: {} } : {} }],
      conversion: { strategy: "None" },
    },
    status: {
      conditions: [
        { type: "NamesAccepted", status: "True", lastTransitionTime: created, reason: "NoConflicts", message: "no conflicts found" },
        { type: "Established", status: "True", lastTransitionTime: created, reason: "InitialNamesAccepted", message: "the initial names have been accepted" },
      ],
      acceptedNames: names,
      storedVersions: ["v1"],
    },
  };
}

/** A PV's size in bytes ("1Gi", "500Mi", "10G", plain bytes). */
export function quantityBytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(q);
  if (!m) return 0;
  const unit: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? unit[m[2]]! : 1);
}

/** The objects of `spec` (apiVersion and kind set), for a seed. */
export function storageObjects(spec: StorageSpec, createdMs = CREATED_DEFAULT): KubeObject[] {
  const created = apiTime(createdMs);
  const out: KubeObject[] = [];
  const classes = spec.snapshotClasses ?? [];
  if (spec.snapshotApi ?? spec.snapshotClasses !== undefined) out.push(...SNAPSHOT_TYPES.map((t) => crdObject(t, createdMs)));
  const volumes = spec.volumes ?? [];
  const drivers = new Set(volumes.filter((v) => !v.hostPath && !v.local).map((v) => v.driver ?? "ebs.csi.aws.com"));
  for (const d of [...drivers].sort()) {
    out.push({
      apiVersion: "storage.k8s.io/v1", kind: "StorageClass",
      metadata: { name: storageClassOf(d), uid: uid("storageclass", d), creationTimestamp: created },
      provisioner: d, reclaimPolicy: "Delete", volumeBindingMode: "WaitForFirstConsumer", allowVolumeExpansion: true,
    });
  }
  for (const c of classes) {
    const annotations: Record<string, string> = {};
    if (c.default) annotations[DEFAULT_CLASS_ANNOTATION] = "true";
    if (c.snapshot !== undefined) annotations[LAB_SNAPSHOT_ANNOTATION] = c.snapshot;
    out.push({
      apiVersion: `${SNAPSHOT_GROUP}/v1`, kind: "VolumeSnapshotClass",
      metadata: { name: c.name, uid: uid("vsclass", c.name), creationTimestamp: created, generation: 1, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
      driver: c.driver, deletionPolicy: c.deletionPolicy ?? "Delete",
    });
  }
  for (const v of volumes) {
    const pvcUid = uid("pvc", v.namespace, v.name);
    const pvName = `pvc-${pvcUid}`;
    const size = v.size ?? "1Gi";
    const driver = v.hostPath || v.local ? undefined : (v.driver ?? "ebs.csi.aws.com");
    const sc = driver ? storageClassOf(driver) : v.hostPath ? "manual" : "local-storage";
    const annotations: Record<string, string> = v.unbound ? {} : { "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes" };
    if (driver) Object.assign(annotations, { "volume.beta.kubernetes.io/storage-provisioner": driver, "volume.kubernetes.io/storage-provisioner": driver });
    if (v.snapshot !== undefined) annotations[LAB_SNAPSHOT_ANNOTATION] = v.snapshot;
    out.push({
      apiVersion: "v1", kind: "PersistentVolumeClaim",
      metadata: { name: v.name, namespace: v.namespace, uid: pvcUid, creationTimestamp: created, annotations, finalizers: ["kubernetes.io/pvc-protection"], ...(v.labels ? { labels: { ...v.labels } } : {}) },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } }, storageClassName: sc, volumeMode: "Filesystem", ...(v.unbound ? {} : { volumeName: pvName }) },
      status: v.unbound ? { phase: "Pending" } : { accessModes: ["ReadWriteOnce"], capacity: { storage: size }, phase: "Bound" },
    });
    if (v.unbound) continue;
    const source = driver
      ? { csi: { driver, fsType: "ext4", volumeHandle: `vol-${pvcUid.replaceAll("-", "").slice(0, 17)}`, volumeAttributes: { "storage.kubernetes.io/csiProvisionerIdentity": `1764283800000-${driver}` } } }
      : v.hostPath
        ? { hostPath: { path: `/mnt/data/${v.namespace}/${v.name}`, type: "" } }
        : { local: { path: `/mnt/disks/${v.name}` }, nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["w-1"] }] }] } } };
    out.push({
      apiVersion: "v1", kind: "PersistentVolume",
      metadata: { name: pvName, uid: uid("pv", pvName), creationTimestamp: created, finalizers: ["kubernetes.io/pv-protection"], ...(driver ? { annotations: { "pv.kubernetes.io/provisioned-by": driver, "volume.kubernetes.io/provisioner-deletion-secret-name": "", "volume.kubernetes.io/provisioner-deletion-secret-namespace": "" } } : {}) },
      spec: {
        accessModes: ["ReadWriteOnce"], capacity: { storage: size },
        claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", name: v.name, namespace: v.namespace, uid: pvcUid },
        ...source, persistentVolumeReclaimPolicy: driver ? "Delete" : "Retain", storageClassName: sc, volumeMode: "Filesystem",
      },
      status: { lastPhaseTransitionTime: created, phase: "Bound" },
    });
  }
  return out;
}

/** The StorageClass the lab makes for a CSI driver: its name with dots as dashes. */
export function storageClassOf(driver: string): string {
  return driver.replaceAll(".", "-");
}

// ---- discovery ----

/** The /apis/GROUP/VERSION APIResourceList of installed CRD types (the apiextensions server's shape). */
export function crdResourceList(group: string, version: string, installed: readonly CrdType[]): Record<string, unknown> | undefined {
  const types = installed.filter((t) => t.group === group && t.version === version).sort((a, b) => (a.name < b.name ? -1 : 1));
  if (types.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const t of types) {
    resources.push({ name: t.name, singularName: t.singularName, namespaced: t.namespaced, kind: t.kind, verbs: [...CRD_VERBS], shortNames: [...t.shortNames], storageVersionHash: t.storageVersionHash });
    if (t.statusSubresource) resources.push({ name: `${t.name}/status`, singularName: "", namespaced: t.namespaced, kind: t.kind, verbs: ["get", "patch", "update"] });
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: `${group}/${version}`, resources };
}

/** The APIGroup (as /apis lists it, and /apis/GROUP answers it without kind) of installed CRD groups, by name. */
export function crdGroups(installed: readonly CrdType[]): { name: string; versions: { groupVersion: string; version: string }[]; preferredVersion: { groupVersion: string; version: string } }[] {
  const groups = [...new Set(installed.map((t) => t.group))].sort();
  return groups.map((g) => {
    const versions = [...new Set(installed.filter((t) => t.group === g).map((t) => t.version))].map((version) => ({ groupVersion: `${g}/${version}`, version }));
    return { name: g, versions, preferredVersion: versions[0]! };
  });
}

/** The aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscovery) items of installed CRD groups. */
export function crdAggregatedGroups(installed: readonly CrdType[]): Record<string, unknown>[] {
  return crdGroups(installed).map((g) => ({
    metadata: { name: g.name, creationTimestamp: null },
    versions: g.versions.map((v) => ({
      version: v.version,
      resources: installed
        .filter((t) => t.group === g.name && t.version === v.version)
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((t) => ({
          resource: t.name,
          responseKind: { group: t.group, version: t.version, kind: t.kind },
          scope: t.namespaced ? "Namespaced" : "Cluster",
          singularResource: t.singularName,
          verbs: [...CRD_VERBS],
          shortNames: [...t.shortNames],
          ...(t.statusSubresource ? { subresources: [{ subresource: "status", responseKind: { group: t.group, version: t.version, kind: t.kind }, verbs: ["get", "patch", "update"] }] } : {}),
        })),
      freshness: "Current",
    })),
  }));
}

/** The CRD types whose CRD is among `crdNames` (installed). */
export function installedCrdTypes(crdNames: ReadonlySet<string>): CrdType[] {
  return CRD_TYPES.filter((t) => crdNames.has(t.crdName));
}

// ---- the simulated snapshot controller ----

/** What the controller reads and writes (ApiState gives it the store's objects). */
export interface SnapshotWorld {
  pvc(namespace: string, name: string): KubeObject | undefined;
  pv(name: string): KubeObject | undefined;
  classes(): KubeObject[];
  content(name: string): KubeObject | undefined;
  putContent(o: KubeObject): void;
  now(): number;
}

type Any = Record<string, any>;

/** What the lab annotation says: ready after `readyAt` reads, or failing with `error`, or never. */
function modeOf(text: string | undefined): { readyAt?: number; error?: string } {
  if (text === undefined || text === "ready") return { readyAt: 1 };
  const after = /^ready-after:([1-9][0-9]*)$/.exec(text);
  if (after) return { readyAt: Number(after[1]) };
  if (text.startsWith("fail:")) return { error: text.slice(5) };
  return {}; // never (or anything else)
}

/**
 * The snapshot after the controller's work on its `reads`-th read (1 the first), or undefined when
 * nothing changes. A pre-provisioned snapshot (spec.source.volumeSnapshotContentName) and one
 * being deleted are left alone. The controller's own failures (no PVC, an unbound one, a PV
 * without CSI, no class) are status.error messages in the double's words.
 */
export function reconcileSnapshot(snapshot: KubeObject, reads: number, world: SnapshotWorld): KubeObject | undefined {
  const spec = (snapshot.spec ?? {}) as Any;
  const pvcName = spec.source?.persistentVolumeClaimName as string | undefined;
  if (snapshot.metadata.deletionTimestamp || pvcName === undefined) return undefined;
  const ns = snapshot.metadata.namespace!;
  const now = world.now();
  const status = (snapshot.status ?? {}) as Any;
  const failed = (message: string) => ({ ...snapshot, status: { ...status, readyToUse: false, error: { message, time: status.error?.message === message ? status.error.time : apiTime(now) } } });
  if (status.readyToUse === true) return undefined; // a ready snapshot stays ready
  const pvc = world.pvc(ns, pvcName);
  if (pvc === undefined) return failed(`failed to get input parameters to create snapshot ${snapshot.metadata.name}: "failed to retrieve PVC ${pvcName} from the lister: \\"persistentvolumeclaim \\\\\\"${pvcName}\\\\\\" not found\\""`);
  const pvName = (pvc.spec as Any)?.volumeName as string | undefined;
  const pv = pvName ? world.pv(pvName) : undefined;
  if (pv === undefined || (pvc.status as Any)?.phase !== "Bound") return failed(`failed to get input parameters to create snapshot ${snapshot.metadata.name}: "the PVC ${pvcName} is not yet bound to a PV, will not attempt to take a snapshot"`);
  const csi = (pv.spec as Any)?.csi as { driver: string; volumeHandle: string } | undefined;
  if (csi === undefined) return failed(`failed to get input parameters to create snapshot ${snapshot.metadata.name}: "the PV ${pvName} is not a CSI volume"`);
  const classes = world.classes();
  const cls = spec.volumeSnapshotClassName
    ? classes.find((c) => c.metadata.name === spec.volumeSnapshotClassName)
    : (() => {
        const defaults = classes.filter((c) => (c as Any).driver === csi.driver && c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true");
        return defaults.length === 1 ? defaults[0] : undefined;
      })();
  if (cls === undefined) {
    return failed(spec.volumeSnapshotClassName
      ? `Failed to get snapshot class with error volumesnapshotclass.snapshot.storage.k8s.io "${spec.volumeSnapshotClassName}" not found`
      : `Failed to set default snapshot class with error cannot find default snapshot class for driver ${csi.driver}`);
  }
  const mode = modeOf(pvc.metadata.annotations?.[LAB_SNAPSHOT_ANNOTATION] ?? cls.metadata.annotations?.[LAB_SNAPSHOT_ANNOTATION]);
  const contentName = `snapcontent-${snapshot.metadata.uid}`;
  const size = String((pv.spec as Any)?.capacity?.storage ?? "1Gi");
  const ready = mode.readyAt !== undefined && reads >= mode.readyAt;
  const createdAt = status.creationTime ?? apiTime(now);
  let content = world.content(contentName);
  const contentStatus = { creationTime: Date.parse(createdAt) * 1e6, readyToUse: ready, restoreSize: quantityBytes(size), snapshotHandle: `snap-${snapshot.metadata.uid!.replaceAll("-", "").slice(0, 17)}` };
  if (content === undefined || (content.status as Any)?.readyToUse !== ready) {
    content = {
      apiVersion: `${SNAPSHOT_GROUP}/v1`, kind: "VolumeSnapshotContent",
      metadata: { ...(content?.metadata ?? { name: contentName, finalizers: ["snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection"] }), generation: 1 },
      spec: {
        deletionPolicy: (cls as Any).deletionPolicy ?? "Delete", driver: csi.driver, source: { volumeHandle: csi.volumeHandle }, sourceVolumeMode: (pv.spec as Any)?.volumeMode ?? "Filesystem",
        volumeSnapshotClassName: cls.metadata.name,
        volumeSnapshotRef: { apiVersion: `${SNAPSHOT_GROUP}/v1`, kind: "VolumeSnapshot", name: snapshot.metadata.name, namespace: ns, resourceVersion: snapshot.metadata.resourceVersion, uid: snapshot.metadata.uid },
      },
      status: mode.error === undefined ? contentStatus : { ...contentStatus, readyToUse: false, error: { message: mode.error, time: apiTime(now) } },
    };
    world.putContent(content);
  }
  const finalizers = ["snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection", "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection"];
  const base = { ...snapshot, metadata: { ...snapshot.metadata, finalizers }, spec: { ...spec, volumeSnapshotClassName: cls.metadata.name } };
  const { error: _cleared, ...earlier } = status;
  const bound = { ...(mode.error === undefined ? earlier : status), boundVolumeSnapshotContentName: contentName, creationTime: createdAt, restoreSize: size };
  if (mode.error !== undefined) return { ...base, status: { ...bound, readyToUse: false, error: { message: mode.error, time: status.error?.message === mode.error ? status.error.time : apiTime(now) } } };
  const next = { ...base, status: { ...bound, readyToUse: ready } };
  if (JSON.stringify(next.status) === JSON.stringify(status) && JSON.stringify(next.metadata.finalizers) === JSON.stringify(snapshot.metadata.finalizers)) return undefined;
  return next;
}
