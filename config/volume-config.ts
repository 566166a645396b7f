/**
 * Stack config `backup.volumes`: which PersistentVolumeClaims get a CSI VolumeSnapshot
 * (snapshot.storage.k8s.io/v1, https://kubernetes.io/docs/concepts/storage/volume-snapshots/)
 * before every control-plane hop, next to the etcd snapshot, and how (issue 13).
 * The shape is the contract between the config parser, the plan's commands
 * (node-scripts/volume-snapshot.sh, whose arguments it becomes), the go/no-go listing of the
 * PVCs covered and not, and `npm run restore -- --volumes`.
 */
import type { LabelSelector } from "./selector";

/** `backup.volumes`. */
export interface VolumeBackupConfig {
  /** Namespaces whose PVCs are snapshotted; empty: every namespace. @default [] */
  readonly namespaces: readonly string[];
  /** Equality-based label selector on the PVCs (config/selector.ts); absent: every bound PVC. */
  readonly selector?: LabelSelector;
  /**
   * The VolumeSnapshotClass per CSI driver (`spec.csi.driver` of the PVC's PersistentVolume),
   * e.g. `{ "ebs.csi.aws.com": "ebs-snapshots" }`; a driver not listed uses the class annotated
   * `snapshot.storage.kubernetes.io/is-default-class: "true"` for it. @default {}
   */
  readonly classes: Readonly<Record<string, string>>;
  /** Snapshots kept per PVC (older ones deleted only after the new ones are ready). @default 3 */
  readonly keep: number;
  /** Seconds the hop waits for every new snapshot to be readyToUse. @default 600 */
  readonly readyTimeoutSeconds: number;
  /** True: a selected PVC that cannot be snapshotted (no CSI driver, no class, the CRDs missing) blocks the hop. @default true */
  readonly required: boolean;
}

/** The label every snapshot carries: the hop it was taken before, e.g. `v1.35.9`. */
export const BEFORE_LABEL = "cluster-maintenance.io/before";
/** The label every snapshot carries: the PVC it is of. */
export const PVC_LABEL = "cluster-maintenance.io/pvc";
