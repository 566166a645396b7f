/**
 * Stack config `backup.volumes`: which PersistentVolumeClaims get a CSI VolumeSnapshot
 * (snapshot.storage.k8s.io/v1, https://kubernetes.io/docs/concepts/storage/volume-snapshots/)
 * before every control-plane hop, next to the etcd snapshot, and how (issue 13).
 * The shape is the contract between the config parser, the plan's commands
 * (node-scripts/volume-snapshot.sh, whose arguments it becomes), the go/no-go listing of the
 * PVCs covered and not, and `npm run restore -- --volumes`.
 */
import { FieldReader, LABEL, SUBDOMAIN } from "./fields";
import { cronProblem } from "./values";
import { type LabelSelector, parseSelector } from "./selector";

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
  /**
   * Cron schedule (5 fields, or a macro such as @daily; checked as `backup.schedule` is) of a
   * CronJob that snapshots the same PVCs between hops (components/volume-snapshot-schedule.ts),
   * labelled `scheduled-<UTC time>`; absent: no scheduled volume snapshots.
   */
  readonly schedule?: string;
}

/** The label every snapshot carries: the hop it was taken before, e.g. `v1.35.9`. */
export const BEFORE_LABEL = "cluster-maintenance.io/before";
/** The label every snapshot carries: the PVC it is of. */
export const PVC_LABEL = "cluster-maintenance.io/pvc";

/**
 * A CSI driver name as `backup.volumes.classes` keys it (`spec.csi.driver` of a PersistentVolume):
 * at most 63 characters, alphanumeric at both ends, with '-', '.' and alphanumerics between
 * (the CSI spec, GetPluginInfoResponse.name:
 * https://github.com/container-storage-interface/spec/blob/master/spec.md#getplugininfo), and
 * lowercase in DNS subdomain form, because a driver's CSIDriver object is named after it and
 * object names are DNS subdomains (https://kubernetes-csi.github.io/docs/csi-driver-object.html).
 * Mirror: the CLASSES check of node-scripts/volume-snapshot.sh.
 */
export const CSI_DRIVER = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Defaults of `backup.volumes` (the {@link VolumeBackupConfig} docs). */
export const VOLUME_DEFAULTS = { keep: 3, readyTimeoutSeconds: 600, required: true } as const;
/** `keep`'s range, as volume-snapshot.sh's KEEP. */
export const VOLUME_KEEP = { min: 1, max: 100 } as const;
/** `readyTimeoutSeconds`'s range, as volume-snapshot.sh's READY_TIMEOUT_SECONDS. */
export const VOLUME_READY_TIMEOUT = { min: 30, max: 86400 } as const;
/**
 * Most namespaces and most drivers in `classes`: each list becomes one argument of the command,
 * and Linux caps one argument at 128 KiB (MAX_ARG_STRLEN); 1,000 DNS labels of 63 characters
 * and their commas stay under 64 KiB, as do 100 pairs of a driver (63) and a class (253).
 */
export const MAX_VOLUME_NAMESPACES = 1000;
export const MAX_VOLUME_CLASSES = 100;

const KEY = "backup.volumes";
const KNOWN = ["namespaces", "selector", "classes", "keep", "readyTimeoutSeconds", "required", "schedule"] as const;
const EXAMPLE = '{ namespaces: ["shop"], selector: "app=db", classes: { "ebs.csi.aws.com": "ebs-snapshots" }, keep: 3, readyTimeoutSeconds: 600, required: true }';
const SELECTOR_FIX = 'give an equality-based label selector on the PVCs (key=value, key!=value, key, !key, joined by commas), e.g. selector: "app=db"; or leave it out for every bound PVC';

/**
 * Reads `backup.volumes` (absent: undefined, no volume is snapshotted). Every key is optional:
 * `{}` snapshots every bound PVC of every namespace with its driver's default class, keeps 3
 * per PVC, waits at most 600 s, and blocks the hop on a PVC it cannot snapshot.
 * Checks exactly what node-scripts/volume-snapshot.sh checks of its arguments (so a config that
 * parses never fails there on an argument), each problem naming the key, the value and the fix:
 * - `namespaces`: a list of at most {@link MAX_VOLUME_NAMESPACES} distinct DNS labels (namespace
 *   names, https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names);
 *   empty or absent: every namespace (never `"*"`, which is how the script's argument says it).
 * - `selector`: an equality-based label selector (config/selector.ts), non-empty.
 * - `classes`: a mapping of {@link CSI_DRIVER} names to VolumeSnapshotClass names (DNS
 *   subdomains, at most {@link MAX_VOLUME_CLASSES} drivers).
 * - `keep`: 1-100; `readyTimeoutSeconds`: 30-86400 (seconds); `required`: true or false.
 * - `schedule`: a cron schedule as `backup.schedule` takes it (config/values.ts cronProblem);
 *   absent: no scheduled volume snapshots.
 * Problems (an unknown key too) are recorded in `r.problems`, never thrown; with any, the result
 * is undefined.
 */
export function parseVolumeBackup(r: FieldReader, value: unknown): VolumeBackupConfig | undefined {
  if (value === undefined) return undefined;
  const v = r.object(value, KEY, EXAMPLE);
  if (!v) return undefined;
  const before = r.problems.size;
  r.noUnknownKeys(v, KEY, KNOWN);
  let ok = true;

  const namespaces: string[] = [];
  if (v.namespaces !== undefined) {
    const list = r.array(v.namespaces, `${KEY}.namespaces`, '["shop", "billing"], or leave it out for every namespace');
    if (!list) ok = false;
    else if (list.length > MAX_VOLUME_NAMESPACES) {
      r.problems.add(`${KEY}.namespaces`, `(${list.length} namespaces)`, `lists more than ${MAX_VOLUME_NAMESPACES} namespaces`, `list at most ${MAX_VOLUME_NAMESPACES}, or leave it out for every namespace`);
      ok = false;
    } else {
      list.forEach((ns, i) => {
        const key = `${KEY}.namespaces[${i}]`;
        if (ns === "*") {
          r.problems.add(key, ns, 'is not a namespace name ("*" is not how every namespace is said here)', "leave namespaces out, or give [], for every namespace");
          ok = false;
        } else if (typeof ns !== "string" || !LABEL.test(ns)) {
          r.problems.add(key, ns, "is not a namespace name (a DNS label: lowercase letters, digits, '-', alphanumeric at both ends, at most 63)", 'give a namespace name such as "shop"');
          ok = false;
        } else if (namespaces.includes(ns)) {
          r.problems.add(key, ns, `repeats ${KEY}.namespaces[${namespaces.indexOf(ns)}]`, "list every namespace once");
          ok = false;
        } else namespaces.push(ns);
      });
    }
  }

  let selector: LabelSelector | undefined;
  if (v.selector !== undefined) {
    const parsed = typeof v.selector !== "string" ? "is not text"
      : v.selector.trim() === "" ? "is empty"
      : parseSelector(v.selector);
    if (typeof parsed === "string") {
      r.problems.add(`${KEY}.selector`, v.selector, parsed, SELECTOR_FIX);
      ok = false;
    } else selector = parsed;
  }

  const classes: Record<string, string> = {};
  if (v.classes !== undefined) {
    const c = r.object(v.classes, `${KEY}.classes`, '{ "ebs.csi.aws.com": "ebs-snapshots" }, or leave it out for each driver\'s default class');
    if (!c) ok = false;
    else if (Object.keys(c).length > MAX_VOLUME_CLASSES) {
      r.problems.add(`${KEY}.classes`, `(${Object.keys(c).length} drivers)`, `has more than ${MAX_VOLUME_CLASSES} drivers`, `give a class for at most ${MAX_VOLUME_CLASSES} CSI drivers`);
      ok = false;
    } else {
      for (const [driver, cls] of Object.entries(c)) {
        const key = `${KEY}.classes.${driver}`;
        if (!CSI_DRIVER.test(driver)) {
          r.problems.add(key, driver, "is not a CSI driver name (lowercase letters, digits, '-', '.', alphanumeric at both ends of each part, at most 63; the CSI spec's GetPluginInfo name)", 'key the class by the driver of the PVCs\' PersistentVolumes (spec.csi.driver), e.g. "ebs.csi.aws.com"');
          ok = false;
        }
        if (typeof cls !== "string" || !SUBDOMAIN.test(cls)) {
          r.problems.add(key, cls, "is not a VolumeSnapshotClass name (a DNS subdomain: lowercase letters, digits, '-', '.', at most 253)", `give the name of a VolumeSnapshotClass whose driver is ${driver} (kubectl get volumesnapshotclass)`);
          ok = false;
        }
        if (ok) classes[driver] = cls as string;
      }
    }
  }

  const keep = r.integer(v.keep, `${KEY}.keep`, VOLUME_KEEP.min, VOLUME_KEEP.max, VOLUME_DEFAULTS.keep);
  const readyTimeoutSeconds = r.integer(v.readyTimeoutSeconds, `${KEY}.readyTimeoutSeconds`, VOLUME_READY_TIMEOUT.min, VOLUME_READY_TIMEOUT.max, VOLUME_DEFAULTS.readyTimeoutSeconds);
  let required: boolean = VOLUME_DEFAULTS.required;
  if (v.required !== undefined) {
    if (typeof v.required === "boolean") required = v.required;
    else {
      r.problems.add(`${KEY}.required`, v.required, "is not true or false", "write true (a PVC that cannot be snapshotted stops the hop) or false (it is reported, and the hop goes on); or leave it out for true");
      ok = false;
    }
  }
  let schedule: string | undefined;
  if (v.schedule !== undefined) {
    schedule = r.checked(v.schedule, `${KEY}.schedule`, cronProblem, "a cron schedule", 'a CronJob schedule of 5 fields (minute 0-59, hour 0-23, day of month 1-31, month 1-12, day of week 0-6) such as "30 2 * * *"; or leave it out for no scheduled volume snapshots');
    if (schedule === undefined) ok = false;
    else schedule = schedule.trim().split(/\s+/).join(" ");
  }
  if (!ok || keep === undefined || readyTimeoutSeconds === undefined || r.problems.size > before) return undefined;
  return { namespaces, ...(selector ? { selector } : {}), classes, keep, readyTimeoutSeconds, required, ...(schedule ? { schedule } : {}) };
}
