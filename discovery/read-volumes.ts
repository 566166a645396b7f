/**
 * Reads what the volume-snapshot listing (preflight/volumes.ts) and `npm run restore -- --volumes`
 * (cli/restore.ts) need, read-only, every list paged (`limit`/`continue`) and each page cut to
 * the fields used before the next is read:
 * - PersistentVolumeClaims of every namespace (core/v1, GET /api/v1/persistentvolumeclaims);
 * - PersistentVolumes (core/v1, GET /api/v1/persistentvolumes): the CSI driver, or which
 *   non-CSI source (hostPath, local, an in-tree plugin);
 * - VolumeSnapshotClasses (snapshot.storage.k8s.io/v1, cluster-scoped) and the VolumeSnapshots
 *   of every namespace that carry the label {@link PVC_LABEL} (ours), through client-node's
 *   CustomObjectsApi. These kinds are CRDs installed with the external-snapshotter
 *   (https://github.com/kubernetes-csi/external-snapshotter, client/config/crd/); when the
 *   server does not serve snapshot.storage.k8s.io/v1 (404 on the list), that is returned as
 *   such (`snapshotApi.served: false` with the reason), never thrown.
 * Field reference: https://kubernetes.io/docs/reference/kubernetes-api/config-and-storage-resources/
 * and https://kubernetes.io/docs/concepts/storage/volume-snapshots/ . The RBAC: discovery/rbac.ts.
 */
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig, V1PersistentVolume, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import { PVC_LABEL } from "../config/volume-config";
import { DEFAULT_PAGE_SIZE, REQUEST_TIMEOUT_SECONDS } from "./read-cluster";
import { Json, obj, strings } from "./json";
import { listAll, requester } from "./requests";

/** The API group and version of the snapshot kinds. */
export const SNAPSHOT_GROUP = "snapshot.storage.k8s.io";
export const SNAPSHOT_VERSION = "v1";
/** The annotation that makes a VolumeSnapshotClass its driver's default (https://kubernetes.io/docs/concepts/storage/volume-snapshot-classes/). */
export const DEFAULT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class";

/** A PersistentVolumeClaim, cut to what the listing and the restore use. */
export interface VolumeClaim {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `status.phase`: Pending, Bound or Lost; "" when not reported. */
  readonly phase: string;
  /** `spec.volumeName`: the PersistentVolume it is bound to. */
  readonly volumeName?: string;
  /** `spec.storageClassName` (absent: the cluster's default StorageClass applied at creation, or none). */
  readonly storageClassName?: string;
  /** `spec.resources.requests.storage`, a quantity as written (`10Gi`). */
  readonly storage?: string;
  /** `spec.accessModes`, e.g. `["ReadWriteOnce"]`. */
  readonly accessModes: readonly string[];
  /** `spec.volumeMode`: Filesystem (the API's default) or Block. */
  readonly volumeMode?: string;
  /** `metadata.deletionTimestamp` is set. */
  readonly terminating: boolean;
}

/** A PersistentVolume, cut to what says whether a CSI snapshot can be taken of it. */
export interface Volume {
  readonly name: string;
  /** `spec.csi.driver`, e.g. `ebs.csi.aws.com`; absent for a non-CSI volume. */
  readonly csiDriver?: string;
  /**
   * The volume source: `csi`, `hostPath`, `local`, the key of another in-tree source
   * (`nfs`, `awsElasticBlockStore`, ...), or `unknown` when the spec names none.
   */
  readonly source: string;
}

/** A VolumeSnapshotClass (snapshot.storage.k8s.io/v1: `driver`, `deletionPolicy`, cluster-scoped). */
export interface SnapshotClass {
  readonly name: string;
  readonly driver: string;
  /** Annotated {@link DEFAULT_CLASS_ANNOTATION}: "true". */
  readonly isDefault: boolean;
  /** `deletionPolicy`: Delete or Retain. */
  readonly deletionPolicy?: string;
}

/** A VolumeSnapshot (snapshot.storage.k8s.io/v1), cut to what the restore and `keep` use. */
export interface Snapshot {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `spec.source.persistentVolumeClaimName`: the PVC (same namespace) it is of. */
  readonly pvc?: string;
  /** `spec.volumeSnapshotClassName`. */
  readonly className?: string;
  /** `status.readyToUse` is true. */
  readonly readyToUse: boolean;
  /** `status.restoreSize`, a quantity as written (the smallest volume it can be restored to). */
  readonly restoreSize?: string;
  /** `status.error.message`: the controller's last error. */
  readonly error?: string;
  /** `status.creationTime`, else `metadata.creationTimestamp` (RFC 3339). */
  readonly createdAt?: string;
  /** `status.boundVolumeSnapshotContentName`. */
  readonly content?: string;
}

/** What {@link readVolumes} returns. */
export interface VolumesRead {
  readonly claims: readonly VolumeClaim[];
  readonly volumes: readonly Volume[];
  /**
   * snapshot.storage.k8s.io/v1 served: its classes and our snapshots; not served: why
   * (the external-snapshotter CRDs are not installed, or only an older version).
   */
  readonly snapshotApi:
    | { readonly served: true; readonly classes: readonly SnapshotClass[]; readonly snapshots: readonly Snapshot[] }
    | { readonly served: false; readonly reason: string };
}

/** How {@link readVolumes} reads. */
export interface VolumeReadOptions {
  /** Objects per list request. @default {@link DEFAULT_PAGE_SIZE} */
  readonly pageSize?: number;
  /** Seconds each request may take. @default {@link REQUEST_TIMEOUT_SECONDS} */
  readonly requestTimeoutSeconds?: number;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** A PVC as {@link VolumeClaim}; takes client-node's object or the API's JSON. */
export function slimClaim(c: V1PersistentVolumeClaim | Json): VolumeClaim {
  const m = obj((c as Json).metadata);
  const spec = obj((c as Json).spec);
  const requests = obj(obj(spec.resources).requests);
  const storage = requests.storage === undefined ? undefined : String(requests.storage);
  const volumeName = str(spec.volumeName);
  const storageClassName = typeof spec.storageClassName === "string" ? spec.storageClassName : undefined;
  const volumeMode = str(spec.volumeMode);
  return {
    namespace: str(m.namespace) ?? "",
    name: str(m.name) ?? "",
    labels: strings(m.labels),
    phase: str(obj((c as Json).status).phase) ?? "",
    ...(volumeName ? { volumeName } : {}),
    ...(storageClassName !== undefined ? { storageClassName } : {}),
    ...(storage ? { storage } : {}),
    accessModes: Array.isArray(spec.accessModes) ? spec.accessModes.map(String) : [],
    ...(volumeMode ? { volumeMode } : {}),
    terminating: m.deletionTimestamp !== undefined && m.deletionTimestamp !== null,
  };
}

/** The keys of a PersistentVolumeSpec that are not a volume source. https://kubernetes.io/docs/reference/kubernetes-api/config-and-storage-resources/persistent-volume-v1/ */
const NOT_SOURCES = new Set(["accessModes", "capacity", "claimRef", "mountOptions", "nodeAffinity", "persistentVolumeReclaimPolicy", "storageClassName", "volumeMode", "volumeAttributesClassName"]);

/** A PV as {@link Volume}; takes client-node's object or the API's JSON. */
export function slimVolume(v: V1PersistentVolume | Json): Volume {
  const spec = obj((v as Json).spec);
  const csiDriver = str(obj(spec.csi).driver);
  const name = str(obj((v as Json).metadata).name) ?? "";
  if (spec.csi !== undefined && spec.csi !== null) return { name, ...(csiDriver ? { csiDriver } : {}), source: "csi" };
  const source = ["hostPath", "local"].find((k) => spec[k] !== undefined && spec[k] !== null) ?? Object.keys(spec).find((k) => !NOT_SOURCES.has(k) && spec[k] !== undefined && spec[k] !== null) ?? "unknown";
  return { name, source };
}

/** A VolumeSnapshotClass (API JSON) as {@link SnapshotClass}. */
export function slimSnapshotClass(c: Json): SnapshotClass {
  const m = obj(c.metadata);
  const deletionPolicy = str(c.deletionPolicy);
  return { name: str(m.name) ?? "", driver: str(c.driver) ?? "", isDefault: strings(m.annotations)[DEFAULT_CLASS_ANNOTATION] === "true", ...(deletionPolicy ? { deletionPolicy } : {}) };
}

/** A VolumeSnapshot (API JSON) as {@link Snapshot}. */
export function slimSnapshot(s: Json): Snapshot {
  const m = obj(s.metadata);
  const spec = obj(s.spec);
  const status = obj(s.status);
  const pvc = str(obj(spec.source).persistentVolumeClaimName);
  const className = str(spec.volumeSnapshotClassName);
  const restoreSize = status.restoreSize === undefined || status.restoreSize === null ? undefined : String(status.restoreSize);
  const error = str(obj(status.error).message);
  const createdAt = str(status.creationTime) ?? str(m.creationTimestamp);
  const content = str(status.boundVolumeSnapshotContentName);
  return {
    namespace: str(m.namespace) ?? "",
    name: str(m.name) ?? "",
    labels: strings(m.labels),
    ...(pvc ? { pvc } : {}),
    ...(className ? { className } : {}),
    readyToUse: status.readyToUse === true,
    ...(restoreSize ? { restoreSize } : {}),
    ...(error ? { error } : {}),
    ...(createdAt ? { createdAt } : {}),
    ...(content ? { content } : {}),
  };
}

/**
 * Reads PVCs, PVs, VolumeSnapshotClasses and our VolumeSnapshots (label {@link PVC_LABEL}) of the
 * cluster the kubeconfig's current context points at.
 * Requests, one after the other: ceil(PVCs / pageSize) + ceil(PVs / pageSize) + at least one
 * for the classes and, when served, ceil(snapshots / pageSize).
 * @returns the claims and volumes; `snapshotApi.served: false` when the classes' list answers 404
 *   (snapshot.storage.k8s.io/v1 not served), with the reason and the fix.
 * @throws DiscoveryError (discovery/requests.ts) when any other request fails: 401, 403 (the
 *   ClusterRole of discovery/rbac.ts), 410, a timeout, an unreachable server.
 */
export async function readVolumes(kubeconfig: KubeConfig, options: VolumeReadOptions = {}): Promise<VolumesRead> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const timeoutSeconds = options.requestTimeoutSeconds ?? REQUEST_TIMEOUT_SECONDS;
  const { opts, failed, send } = requester(kubeconfig, timeoutSeconds);
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const custom = kubeconfig.makeApiClient(CustomObjectsApi);

  const claims = await listAll((cont) => send("list PersistentVolumeClaims (GET /api/v1/persistentvolumeclaims)", () => core.listPersistentVolumeClaimForAllNamespaces({ limit: pageSize, _continue: cont }, opts)), slimClaim);
  const volumes = await listAll((cont) => send("list PersistentVolumes (GET /api/v1/persistentvolumes)", () => core.listPersistentVolume({ limit: pageSize, _continue: cont }, opts)), slimVolume);

  /** One page of a snapshot kind; the custom objects API gives the list's JSON as it is (`metadata.continue`). */
  const customPage = async (plural: string, labelSelector: string | undefined, cont: string | undefined) => {
    const list = obj(await custom.listClusterCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, plural, limit: pageSize, ...(labelSelector ? { labelSelector } : {}), ...(cont ? { _continue: cont } : {}) }, opts));
    const next = str(obj(list.metadata).continue);
    return { items: (Array.isArray(list.items) ? list.items : []) as Json[], metadata: next ? { _continue: next } : {} };
  };
  const classesWhat = `list VolumeSnapshotClasses (GET /apis/${SNAPSHOT_GROUP}/${SNAPSHOT_VERSION}/volumesnapshotclasses)`;
  let classes: SnapshotClass[];
  try {
    classes = await listAll((cont) => customPage("volumesnapshotclasses", undefined, cont), slimSnapshotClass);
  } catch (e) {
    if (e instanceof ApiException && e.code === 404) {
      return {
        claims,
        volumes,
        snapshotApi: {
          served: false,
          reason: `the server does not serve ${SNAPSHOT_GROUP}/${SNAPSHOT_VERSION} (${classesWhat}: HTTP 404): the external-snapshotter's CRDs and snapshot controller are not installed (or only an older version); install them (https://github.com/kubernetes-csi/external-snapshotter#usage) and a CSI driver that supports snapshots`,
        },
      };
    }
    throw failed(classesWhat, e);
  }
  const snapshots = await listAll(
    (cont) => send(`list VolumeSnapshots with the label ${PVC_LABEL} (GET /apis/${SNAPSHOT_GROUP}/${SNAPSHOT_VERSION}/volumesnapshots)`, () => customPage("volumesnapshots", PVC_LABEL, cont)),
    slimSnapshot,
  );
  return { claims, volumes, snapshotApi: { served: true, classes, snapshots } };
}
