/**
 * The go/no-go listing of `backup.volumes` (issue 13 item 3): which PersistentVolumeClaims get a
 * CSI VolumeSnapshot before each control-plane hop, with which VolumeSnapshotClass, and which
 * cannot, each with the reason and the fix. Computed from discovery/read-volumes.ts's read.
 *
 * A selected PVC (in `namespaces`, or any when empty; matching `selector`, when given: as
 * node-scripts/volume-snapshot.sh selects them) is covered when it is Bound, its PersistentVolume is a CSI volume
 * (`spec.csi.driver`), and its driver has a VolumeSnapshotClass: the one
 * `backup.volumes.classes` names for the driver, else the single class annotated
 * `snapshot.storage.kubernetes.io/is-default-class: "true"` for it. VolumeSnapshots are a CSI
 * feature only (https://kubernetes.io/docs/concepts/storage/volume-snapshots/: "only available
 * for CSI drivers"); with more than one default class for a driver the snapshot controller
 * refuses to choose (external-snapshotter's VolumeSnapshot CRD, spec.volumeSnapshotClassName:
 * "If more than one VolumeSnapshotClass exist for a given CSI Driver and more than one have been
 * marked as default, CreateSnapshot will fail").
 *
 * Findings (kinds in preflight/findings.ts), readable at thousands of PVCs:
 * - `volume-snapshot/summary`: one note for the cluster (hop 0): how many PVCs are snapshotted,
 *   by class, the first few by name, and how many cannot be;
 * - `volume-not-covered/<namespace>/<pvc>`: one per PVC that cannot be snapshotted. With
 *   `required` (its default) and a reason that leaves data unprotected (not CSI, no class,
 *   an ambiguous or wrong class, the PV missing, the snapshot API not served), blocking, once
 *   for every control-plane hop (OS patching and the cluster's health are not held by it);
 *   otherwise one note (hop 0). A PVC that is not bound holds no data yet: always a note.
 * Nothing is listed without `backup.volumes` or without a control-plane hop.
 */
import type { VolumeBackupConfig } from "../config/volume-config";
import { selects } from "../config/selector";
import type { SnapshotClass, VolumeClaim, VolumesRead } from "../discovery/read-volumes";
import type { UpgradePlan } from "../planning/plan-types";
import { Finding, findingId } from "./findings";

/** Most covered PVCs named in the summary note; the rest are counted. */
export const COVERED_NAMED = 10;

/** A selected PVC that will be snapshotted. */
export interface CoveredClaim {
  readonly claim: VolumeClaim;
  readonly driver: string;
  /** The VolumeSnapshotClass the snapshot is taken with. */
  readonly className: string;
  /** Where the class came from: `backup.volumes.classes`, or the driver's default class. */
  readonly classFrom: "config" | "default";
}

/** Why a selected PVC cannot be snapshotted. */
export type UncoveredReason = "not-bound" | "volume-missing" | "not-csi" | "no-class" | "ambiguous-default" | "class-missing" | "class-driver" | "no-snapshot-api";

/** A selected PVC that will not be snapshotted. */
export interface UncoveredClaim {
  readonly claim: VolumeClaim;
  readonly reason: UncoveredReason;
  /** What is wrong and what to do, one or two sentences. */
  readonly detail: string;
}

/** What {@link volumeCoverage} finds. */
export interface VolumeCoverage {
  /** How many PVCs the config selects. */
  readonly selected: number;
  readonly covered: readonly CoveredClaim[];
  readonly uncovered: readonly UncoveredClaim[];
  /** Why snapshot.storage.k8s.io/v1 is not usable, when it is not. */
  readonly snapshotApiMissing?: string;
}

/**
 * The hops volumes are snapshotted before: those with an etcd snapshot (a control-plane hop;
 * the volume snapshots follow it, planning/commands.ts), as `{ index, to }` (`to` without "v").
 * A hop that only brings workers along takes no snapshot.
 */
export function snapshotHops(plan: UpgradePlan): { index: number; to: string }[] {
  return plan.hops.filter((h) => h.phases.some((p) => p.steps.some((s) => s.actions.some((a) => a.kind === "etcd-snapshot")))).map((h) => ({ index: h.index, to: h.to.toString() }));
}

const key = (c: VolumeClaim) => `${c.namespace}/${c.name}`;
const byKey = (a: VolumeClaim, b: VolumeClaim) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/**
 * True when `config` selects `claim` (namespaces, then selector), as node-scripts/volume-snapshot.sh
 * selects (`kubectl get pvc -l SELECTOR` per namespace): a PVC being deleted but still bound
 * (held by its pvc-protection finalizer while a pod uses it) is selected too.
 */
export function selectsClaim(config: VolumeBackupConfig, claim: VolumeClaim): boolean {
  if (config.namespaces.length > 0 && !config.namespaces.includes(claim.namespace)) return false;
  return config.selector ? selects(config.selector, claim.labels) : true;
}

/**
 * The class for `driver`: `classes[driver]` when configured, else its one default class.
 * @returns the class, or why there is none (reason and detail).
 */
function classFor(driver: string, config: VolumeBackupConfig, classes: readonly SnapshotClass[]): { name: string; from: "config" | "default" } | { reason: UncoveredReason; detail: string } {
  const named = config.classes[driver];
  if (named !== undefined) {
    const found = classes.find((c) => c.name === named);
    if (!found) return { reason: "class-missing", detail: `backup.volumes.classes names the VolumeSnapshotClass ${named} for its CSI driver ${driver}, and the cluster has no class of that name (kubectl get volumesnapshotclasses): create it, or name an existing one` };
    if (found.driver !== driver) return { reason: "class-driver", detail: `backup.volumes.classes names the VolumeSnapshotClass ${named} for its CSI driver ${driver}, but that class is for the driver ${found.driver}: name a class whose driver is ${driver}` };
    return { name: named, from: "config" };
  }
  const defaults = classes.filter((c) => c.driver === driver && c.isDefault).sort((a, b) => (a.name < b.name ? -1 : 1));
  if (defaults.length === 1) return { name: defaults[0]!.name, from: "default" };
  if (defaults.length > 1) {
    return {
      reason: "ambiguous-default",
      detail: `its CSI driver ${driver} has ${defaults.length} VolumeSnapshotClasses annotated as its default (${defaults.map((c) => c.name).join(", ")}), and the snapshot controller then takes no snapshot: name one in backup.volumes.classes ({ "${driver}": "${defaults[0]!.name}" }), or leave one annotated`,
    };
  }
  const others = classes.filter((c) => c.driver === driver).map((c) => c.name).sort();
  return {
    reason: "no-class",
    detail: `no VolumeSnapshotClass for its CSI driver ${driver}${others.length > 0 ? ` is annotated default (the driver's classes: ${others.join(", ")}): name one in backup.volumes.classes` : `: create one for the driver (if it supports snapshots) and annotate it snapshot.storage.kubernetes.io/is-default-class: "true", or name it in backup.volumes.classes`}`,
  };
}

/** Which selected PVCs will be snapshotted and which cannot, with why. */
export function volumeCoverage(config: VolumeBackupConfig, read: VolumesRead): VolumeCoverage {
  const chosen = read.claims.filter((c) => selectsClaim(config, c)).sort(byKey);
  const volumes = new Map(read.volumes.map((v) => [v.name, v]));
  const covered: CoveredClaim[] = [];
  const uncovered: UncoveredClaim[] = [];
  const api = read.snapshotApi;
  for (const claim of chosen) {
    const not = (reason: UncoveredReason, detail: string) => uncovered.push({ claim, reason, detail });
    if (claim.phase !== "Bound" || !claim.volumeName) {
      not("not-bound", `not bound to a PersistentVolume (phase ${claim.phase || "unknown"}): it holds no data to snapshot; it is snapshotted once bound`);
      continue;
    }
    const volume = volumes.get(claim.volumeName);
    if (!volume) {
      not("volume-missing", `bound to the PersistentVolume ${claim.volumeName}, which the cluster does not list (kubectl get pv ${claim.volumeName}): its driver is not known, so no snapshot can be taken; check the claim`);
      continue;
    }
    if (!volume.csiDriver) {
      const what = volume.source === "hostPath" ? "a hostPath volume" : volume.source === "local" ? "a local volume" : volume.source === "unknown" ? "a volume of no known source" : `an in-tree ${volume.source} volume`;
      not("not-csi", `its PersistentVolume ${volume.name} is ${what}, not CSI: VolumeSnapshots are taken of CSI volumes only; back its data up another way, or move it to a CSI StorageClass`);
      continue;
    }
    if (!api.served) {
      not("no-snapshot-api", `a CSI volume (${volume.csiDriver}), but ${api.reason}`);
      continue;
    }
    const cls = classFor(volume.csiDriver, config, api.classes);
    if ("reason" in cls) not(cls.reason, cls.detail);
    else covered.push({ claim, driver: volume.csiDriver, className: cls.name, classFrom: cls.from });
  }
  return { selected: chosen.length, covered, uncovered, ...(api.served ? {} : { snapshotApiMissing: api.reason }) };
}

/** Reasons that leave data unprotected: blocking with `required`. Not bound: there is no data yet. */
const BLOCKS: Record<UncoveredReason, boolean> = {
  "not-bound": false,
  "volume-missing": true,
  "not-csi": true,
  "no-class": true,
  "ambiguous-default": true,
  "class-missing": true,
  "class-driver": true,
  "no-snapshot-api": true,
};

/** Short words per reason, for the summary's counts. */
const REASON_WORDS: Record<UncoveredReason, string> = {
  "not-bound": "not bound",
  "volume-missing": "PersistentVolume not found",
  "not-csi": "not CSI",
  "no-class": "no VolumeSnapshotClass for the driver",
  "ambiguous-default": "several default classes for the driver",
  "class-missing": "configured class missing",
  "class-driver": "configured class of another driver",
  "no-snapshot-api": "snapshot.storage.k8s.io/v1 not served",
};

/**
 * The findings of the listing.
 * @param hops the hops volumes are snapshotted before ({@link snapshotHops}: index and version, e.g. `{ index: 1, to: "1.35.9" }`); none: no finding.
 * @param config `backup.volumes`.
 * @param read discovery/read-volumes.ts's read; absent (the volumes were not read): one not-checked note.
 */
export function volumeFindings(hops: readonly { readonly index: number; readonly to: string }[], config: VolumeBackupConfig, read: VolumesRead | undefined): Finding[] {
  if (hops.length === 0) return [];
  if (!read) {
    return [{ id: findingId("not-checked", "volumes"), kind: "not-checked", hop: 0, blocking: false, detail: "backup.volumes is set, but the PersistentVolumeClaims were not read: which of them can be snapshotted is not known" }];
  }
  const coverage = volumeCoverage(config, read);
  const findings: Finding[] = [summary(hops, config, coverage)];
  for (const u of coverage.uncovered) {
    const id = findingId("volume-not-covered", key(u.claim));
    const object = `PersistentVolumeClaim ${key(u.claim)}`;
    const blocking = config.required && BLOCKS[u.reason];
    const detail = `${u.detail}${blocking ? " (backup.volumes.required: the hop waits for it)" : config.required ? "" : " (backup.volumes.required is false: the hop goes on without it)"}`;
    if (blocking) for (const h of hops) findings.push({ id, kind: "volume-not-covered", hop: h.index, object, blocking: true, detail });
    else findings.push({ id, kind: "volume-not-covered", hop: 0, object, blocking: false, detail });
  }
  return findings;
}

/** The one summary note. */
function summary(hops: readonly { readonly to: string }[], config: VolumeBackupConfig, c: VolumeCoverage): Finding {
  const scope = `${config.namespaces.length > 0 ? `namespaces ${config.namespaces.join(", ")}` : "every namespace"}${config.selector ? `, selector ${config.selector.text}` : ""}`;
  const before = `before each control-plane hop (${hops.map((h) => `v${h.to.replace(/^v/, "")}`).join(", ")})`;
  const byClass = new Map<string, CoveredClaim[]>();
  for (const cov of c.covered) byClass.set(cov.className, [...(byClass.get(cov.className) ?? []), cov]);
  const classes = [...byClass].map(([name, list]) => `${list.length} with ${name} (${list[0]!.driver}, ${list[0]!.classFrom === "config" ? "backup.volumes.classes" : "the driver's default"})`);
  const named = c.covered.slice(0, COVERED_NAMED).map((cov) => key(cov.claim)).join(", ") + (c.covered.length > COVERED_NAMED ? ` and ${c.covered.length - COVERED_NAMED} more` : "");
  const counts = new Map<UncoveredReason, number>();
  for (const u of c.uncovered) counts.set(u.reason, (counts.get(u.reason) ?? 0) + 1);
  const not = c.uncovered.length === 0 ? "every selected PVC can be snapshotted" : `${c.uncovered.length} cannot be (${[...counts].map(([r, n]) => `${n} ${REASON_WORDS[r]}`).join(", ")}: the volume-not-covered findings)`;
  const detail =
    c.selected === 0
      ? `backup.volumes (${scope}) selects no PersistentVolumeClaim: no volume is snapshotted ${before}`
      : `backup.volumes (${scope}): ${c.covered.length} of ${c.selected} selected PVC(s) get a VolumeSnapshot ${before}` +
        `${classes.length > 0 ? `: ${classes.join("; ")}` : ""}${named ? `, e.g. ${named}` : ""}; ${not}` +
        `${c.snapshotApiMissing ? `; ${c.snapshotApiMissing}` : ""}. Each hop waits up to ${config.readyTimeoutSeconds} s for them to be readyToUse; ${config.keep} kept per PVC`;
  return { id: findingId("volume-snapshot", "summary"), kind: "volume-snapshot", hop: 0, blocking: false, detail };
}
