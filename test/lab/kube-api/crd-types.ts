/**
 * Resource types a cluster serves only once their CustomResourceDefinition is installed (so not
 * in the kept discovery of ../shared/data/kube-api/v1.31-kubeadm-ha): the external-snapshotter's
 * snapshot.storage.k8s.io/v1 kinds, as its CRDs define them
 * (github.com/kubernetes-csi/external-snapshotter, client/config/crd/
 * snapshot.storage.k8s.io_volumesnapshots.yaml, _volumesnapshotclasses.yaml,
 * _volumesnapshotcontents.yaml at afb2f0d8: names, shortNames, scope; v1 served and stored,
 * v1beta1 no longer served; a status subresource on VolumeSnapshot and VolumeSnapshotContent, none
 * on VolumeSnapshotClass). A type is served while the store holds its CRD (snapshots.ts, state.ts).
 * No imports but types: resources.ts reads this file.
 */
import type { ResourceType } from "./resources";

/** A CRD's verbs in the order the apiextensions server lists them (the kept example.com/v1 list). */
export const CRD_VERBS = ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"] as const;
/** A CRD's status subresource verbs. */
const STATUS_VERBS = ["get", "patch", "update"] as const;

/** A CRD-defined type: a ResourceType plus what its CRD says beyond it. */
export interface CrdType extends ResourceType {
  readonly shortNames: readonly string[];
  /** Whether the CRD has `subresources.status`. */
  readonly statusSubresource: boolean;
  /** Its CRD's name, `<plural>.<group>`. */
  readonly crdName: string;
  /** The CRD's storageVersionHash as discovery lists it (derived from group, version and kind by the apiserver; fixed here). */
  readonly storageVersionHash: string;
}

/** The external-snapshotter's group. */
export const SNAPSHOT_GROUP = "snapshot.storage.k8s.io";

function crdType(name: string, kind: string, namespaced: boolean, shortNames: string[], statusSubresource: boolean, storageVersionHash: string): CrdType {
  const subresources = new Map(statusSubresource ? [["status", { kind, verbs: STATUS_VERBS }] as const] : []);
  return {
    group: SNAPSHOT_GROUP, version: "v1", name, singularName: kind.toLowerCase(), kind, namespaced, verbs: CRD_VERBS, subresources,
    shortNames, statusSubresource, crdName: `${name}.${SNAPSHOT_GROUP}`, storageVersionHash,
  };
}

/** VolumeSnapshot (namespaced, vs), VolumeSnapshotClass (cluster, vsclass/vsclasses), VolumeSnapshotContent (cluster, vsc/vscs). */
export const SNAPSHOT_TYPES: readonly CrdType[] = [
  crdType("volumesnapshotclasses", "VolumeSnapshotClass", false, ["vsclass", "vsclasses"], false, "Ud6q4hHfGlw="),
  crdType("volumesnapshotcontents", "VolumeSnapshotContent", false, ["vsc", "vscs"], true, "Gh8QEtwNQ8Q="),
  crdType("volumesnapshots", "VolumeSnapshot", true, ["vs"], true, "vGSn7WsJHlE="),
];

/** Every CRD-defined type the double knows (served only while installed). */
export const CRD_TYPES: readonly CrdType[] = SNAPSHOT_TYPES;
