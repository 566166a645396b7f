/**
 * `npm run restore`: the etcd restore procedure for a stack's control plane, printed, never run.
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml from the working directory like `npm run plan`,
 * connects nowhere and changes nothing: a restore stays deliberate, never a side effect of
 * `pulumi up`. The order is the Kubernetes one
 * (https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#restoring-an-etcd-cluster):
 * copy the snapshot to every member, dry-run every phase, stop kube-apiserver and etcd on every
 * member, restore every member from the same snapshot, start them all, then check.
 * Exit codes: 0 printed, 1 bad config, 2 bad usage (unknown or bad option).
 *
 * `npm run restore -- --volumes --stack S [--hop v1.35.9] [--kubeconfig PATH] [--json]`: the
 * PersistentVolumeClaims to restore from the CSI VolumeSnapshots `backup.volumes` took before a
 * hop (issue 13 item 5), printed, never applied. This one reads the cluster (read-only: the PVCs,
 * PVs, VolumeSnapshotClasses and our VolumeSnapshots, discovery/read-volumes.ts) with the
 * kubeconfig `npm run plan` uses (--kubeconfig, else kubernetes:kubeconfig of the stack, KUBECONFIG,
 * ~/.kube/config: discovery/kubeconfig.ts). It prints, per PVC, a new PVC whose `dataSource` is
 * its snapshot (https://kubernetes.io/docs/concepts/storage/persistent-volumes/#volume-snapshot-and-restore-volume-from-snapshot-support)
 * and the steps to move its workload onto it. Exit codes: 0 printed, 1 bad config, an unreadable
 * cluster, or no snapshot to restore from, 2 bad usage.
 */
import { Command } from "commander";
import type { KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { compare as compareVersions, valid as validVersion } from "semver";
import { BEFORE_LABEL, PVC_LABEL } from "../config/volume-config";
import { resolveKubeconfig } from "../discovery/kubeconfig";
import { DiscoveryError } from "../discovery/errors";
import { readVolumes, Snapshot, SNAPSHOT_GROUP, VolumeClaim, VolumesRead } from "../discovery/read-volumes";
import { InputErrors, ProblemList } from "../planning/errors";
import { shellQuote } from "../planning/commands";
import { parseStackConfig, type SshConfig, type StackConfig } from "../config/stack-config";
import { readStackFiles } from "../config/stack-file";
import { ownedDirProblem } from "../config/values";
import { CliIo, parseArgs, processIo } from "./io";

/** The data dir a restore goes to unless `--data-dir` says otherwise. */
export const DEFAULT_RESTORE_DATA_DIR = "/var/lib/etcd-restored";
/** etcd's peer port in a kubeadm cluster. */
export const DEFAULT_PEER_PORT = 2380;
/** kubeadm's etcd data dir: the live one, never a restore target. */
const LIVE_DATA_DIR = "/var/lib/etcd";
const SCRIPT = "etcd-restore.sh";
const ADMIN = "/etc/kubernetes/admin.conf";
/** An absolute path as etcd-restore.sh accepts it (no spaces, no `.` or `..` segments). */
const PATH_RE = /^(\/[A-Za-z0-9._-]+)+$/;
/** A member name as etcd-restore.sh accepts it. */
const MEMBER_RE = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

export type RestorePhase = "stop" | "restore" | "start";
export const RESTORE_PHASES: readonly RestorePhase[] = ["stop", "restore", "start"];

export interface RestoreOptions {
  /** The snapshot's absolute path on every member (its `.sha256` beside it). */
  readonly snapshot: string;
  /** The new data dir on every member. @default /var/lib/etcd-restored */
  readonly dataDir: string;
  /** etcd's peer port on every member. @default 2380 */
  readonly peerPort: number;
}

export interface RestoreMember {
  readonly name: string;
  readonly host: string;
  /** `https://host:peerPort` (an IPv6 host in brackets). */
  readonly peerUrl: string;
}

/** One command of the procedure: `where` is "here" (the operator's machine) or a node name. */
export interface RestoreCommand {
  readonly where: string;
  readonly command: string;
}

/** One section of the procedure, in order. */
export interface RestoreSection {
  readonly id: "copy" | "dry-run" | RestorePhase | "check";
  readonly title: string;
  readonly commands: readonly RestoreCommand[];
  /** Remarks printed after the commands (things with no command to print). */
  readonly notes: readonly string[];
}

export interface RestoreProcedure {
  readonly cluster: string;
  readonly snapshot: string;
  readonly dataDir: string;
  readonly peerPort: number;
  readonly members: readonly RestoreMember[];
  /** Every member as NAME=PEER_URL, comma-separated: the same on every member. */
  readonly initialCluster: string;
  /** How to reach each node of the commands over SSH (through the bastion when configured), by node name. */
  readonly ssh: readonly { readonly node: string; readonly command: string }[];
  readonly sections: readonly RestoreSection[];
}

const bracketed = (host: string) => (host.includes(":") ? `[${host}]` : host);
const portFlag = (flag: string, port: number) => (port === 22 ? [] : [flag, shellQuote(String(port))]);
function jumpFlag(ssh: SshConfig): string[] {
  const b = ssh.bastion;
  return b ? ["-J", shellQuote(`${b.user}@${bracketed(b.host)}${b.port === 22 ? "" : `:${b.port}`}`)] : [];
}

/** `sudo bash etcd-restore.sh ...` for one member, every value quoted. */
export function restoreCommand(p: Pick<RestoreProcedure, "snapshot" | "dataDir" | "initialCluster">, m: RestoreMember, mode: "dry-run" | "apply", phase: RestorePhase): string {
  return ["sudo bash", SCRIPT, ...[p.snapshot, m.name, p.initialCluster, m.peerUrl, p.dataDir, mode, phase].map(shellQuote)].join(" ");
}

/**
 * The restore procedure for a parsed stack config: plain data, printed by {@link renderRestoreText}.
 * @throws InputErrors when the control plane has no node or a node name is no etcd member name.
 */
export function restoreProcedure(config: StackConfig, options: RestoreOptions): RestoreProcedure {
  const problems = new ProblemList();
  if (config.controlPlane.length === 0) problems.add("controlPlane.nodes", [], "has no nodes", "list the control-plane nodes (the etcd members)");
  config.controlPlane.forEach((n, i) => {
    if (!MEMBER_RE.test(n.name)) problems.add(`controlPlane.nodes[${i}].name`, n.name, "is too long for an etcd member name (etcd-restore.sh takes at most 63 characters)", "use the node's short name");
  });
  problems.throwIfAny("invalid stack config for a restore");
  const { snapshot, dataDir, peerPort } = options;
  const members = config.controlPlane.map((n) => ({ name: n.name, host: n.host, peerUrl: `https://${bracketed(n.host)}:${peerPort}` }));
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
  const base = { snapshot, dataDir, initialCluster };
  const file = snapshot.slice(snapshot.lastIndexOf("/") + 1);
  const dir = snapshot.slice(0, snapshot.lastIndexOf("/")) || "/";
  const { ssh } = config;
  const target = (m: { host: string }) => `${ssh.user}@${bracketed(m.host)}`;
  const here = (command: string): RestoreCommand => ({ where: "here", command });
  const on = (m: { name: string }, command: string): RestoreCommand => ({ where: m.name, command });

  const fetch: RestoreCommand[] = config.backup
    ? [file, `${file}.sha256`].map((f) => here(["aws s3 cp", shellQuote(`s3://${config.backup!.bucket}/${config.backup!.prefix}${f}`), shellQuote(f), "--region", shellQuote(config.backup!.region)].join(" ")))
    : [];
  const copy: RestoreCommand[] = [
    ...fetch,
    here(`sha256sum -c ${shellQuote(`${file}.sha256`)}`),
    ...members.flatMap((m) => [
      here(["scp", ...jumpFlag(ssh), ...portFlag("-P", ssh.port), shellQuote(file), shellQuote(`${file}.sha256`), shellQuote(`node-scripts/${SCRIPT}`), shellQuote(`${target(m)}:`)].join(" ")),
      // mkdir -p -m 0700: creates the directory 0700 only when absent; an existing one (and any
      // parent) is left as it is (`install -d -m 0700` would chmod it). The directory is one of
      // the program's own (parseRestoreOptions), never a system one such as / or /tmp.
      on(m, `sudo mkdir -p -m 0700 ${shellQuote(dir)} && sudo install -m 0600 ${shellQuote(file)} ${shellQuote(`${file}.sha256`)} ${shellQuote(dir === "/" ? "/" : `${dir}/`)} && rm -f ${shellQuote(file)} ${shellQuote(`${file}.sha256`)}`),
    ]),
  ];
  const kubectl = `sudo kubectl --kubeconfig ${shellQuote(ADMIN)}`;
  const first = members[0]!;
  const others = config.pools.flatMap((p) => p.nodes);
  const check: RestoreCommand[] = [
    on(first, `${kubectl} -n kube-system get pods -o wide`),
    on(first, `${kubectl} get --raw /readyz`),
    on(first, [kubectl, "-n kube-system exec", shellQuote(`etcd-${first.name}`), "-- etcdctl --endpoints=https://127.0.0.1:2379",
      "--cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key",
      "endpoint health --cluster"].join(" ")),
    // Every kube-apiserver too: one that kept running would serve its watch cache from before the restore.
    ...members.map((m) => on(m, "sudo crictl rm -f $(sudo crictl ps -q --name 'kube-apiserver|kube-controller-manager|kube-scheduler')")),
    ...[...members, ...others.filter((n) => n.host !== "")].map((n) => on(n, "sudo systemctl restart kubelet")),
    on(first, `${kubectl} get nodes`),
  ];
  const noSsh = others.filter((n) => n.host === "").map((n) => n.name);
  const phaseSection = (id: RestorePhase, title: string): RestoreSection => ({ id, title, commands: members.map((m) => on(m, restoreCommand(base, m, "apply", id))), notes: [] });
  return {
    cluster: config.clusterName,
    snapshot,
    dataDir,
    peerPort,
    members,
    initialCluster,
    ssh: [...members, ...others.filter((n) => n.host !== "")].map((n) => ({ node: n.name, command: ["ssh", ...jumpFlag(ssh), ...portFlag("-p", ssh.port), shellQuote(target(n))].join(" ") })),
    sections: [
      {
        id: "copy",
        title: `Copy the snapshot, its .sha256 and ${SCRIPT} to every member (from this directory, where ${file} and ${file}.sha256 must be)`,
        commands: copy,
        notes: config.backup ? [] : [`put ${file} and ${file}.sha256 in this directory first (e.g. from the node that took it, or from your off-cluster copy)`],
      },
      {
        id: "dry-run",
        title: "Dry run of every phase on every member (prints every action, changes nothing; restore and start note that they wait for the phases before them)",
        commands: members.flatMap((m) => RESTORE_PHASES.map((ph) => on(m, restoreCommand(base, m, "dry-run", ph)))),
        notes: [],
      },
      phaseSection("stop", "Stop kube-apiserver, then etcd, on every member (the cluster is down from here until the start)"),
      phaseSection("restore", "Restore every member from the same snapshot into the new data dir"),
      phaseSection("start", "Start etcd, then kube-apiserver, on every member"),
      {
        id: "check",
        title: "Check, then restart every kube-apiserver, kube-controller-manager and kube-scheduler and every kubelet (so none serves or acts on state from before the restore)",
        commands: check,
        notes: [
          `the old data dir (${LIVE_DATA_DIR} by default) is left untouched on every member; remove it only when the restored cluster is healthy`,
          ...(noSsh.length ? [`no SSH host in this stack for ${noSsh.join(", ")}: restart their kubelet (or reboot them) by other means`] : []),
        ],
      },
    ],
  };
}

/** The procedure as text: a header, the SSH access, then the numbered sections. */
export function renderRestoreText(p: RestoreProcedure): string {
  const tag = (c: RestoreCommand) => `[${c.where === "here" ? "here" : `on ${c.where}`}]`;
  const width = Math.max(...p.sections.flatMap((s) => s.commands).map((c) => tag(c).length));
  const line = (c: RestoreCommand) => `   ${tag(c).padEnd(width)} ${c.command}`;
  const out = [
    `etcd restore for cluster ${p.cluster}: ${p.members.length} member(s) ${p.members.map((m) => m.name).join(", ")} from ${p.snapshot} into ${p.dataDir}`,
    "Printed only: nothing here connects anywhere or changes anything. Run each command yourself, in order,",
    "and start a section only when the one before it succeeded on every member.",
    "Procedure: https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#restoring-an-etcd-cluster",
    `INITIAL_CLUSTER ${p.initialCluster}`,
    "",
    "[on <node>] means: on that node, in the SSH user's home directory, reached with:",
    ...p.ssh.map((s) => `   ${s.node}: ${s.command}`),
  ];
  p.sections.forEach((s, i) => {
    out.push("", `${i + 1}. ${s.title}:`, ...s.commands.map(line), ...s.notes.map((n) => `   note: ${n}`));
  });
  return `${out.join("\n")}\n`;
}

/** Validates the options; every problem names the option, the value and the fix. */
export function parseRestoreOptions(raw: { snapshot: string; dataDir: string; peerPort: string }): RestoreOptions {
  const problems = new ProblemList();
  const snapshot = raw.snapshot;
  const badSegment = (p: string) => p.split("/").some((s) => s === "." || s === "..");
  if (!PATH_RE.test(snapshot) || !snapshot.endsWith(".db") || badSegment(snapshot)) {
    problems.add("--snapshot", snapshot, "must be the snapshot's absolute path on the nodes, ending in .db (letters, digits, '.', '_', '-'; no '.' or '..' segments)", "give it as etcd-snapshot.sh printed it, e.g. --snapshot /var/lib/cluster-maintenance/etcd-backups/etcd-20260101T000000Z-drill.db");
  } else {
    // The procedure creates the snapshot's directory (root only) where it is absent: it must be
    // one of the program's own, like etcd.backupDir, never a system one such as / or /tmp.
    const dirProblem = ownedDirProblem(snapshot.slice(0, snapshot.lastIndexOf("/")) || "/");
    if (dirProblem) problems.add("--snapshot", snapshot, `is in a directory that ${dirProblem} (the procedure copies the snapshot into its directory, root only)`, "put it in a directory of this program's own, e.g. --snapshot /var/lib/cluster-maintenance/etcd-backups/etcd-20260101T000000Z-drill.db");
  }
  const dataDir = raw.dataDir;
  if (!PATH_RE.test(dataDir) || badSegment(dataDir)) {
    problems.add("--data-dir", dataDir, "must be an absolute path (letters, digits, '.', '_', '-'; no '.' or '..' segments, no trailing '/')", `give a new directory, e.g. --data-dir ${DEFAULT_RESTORE_DATA_DIR}`);
  } else if (dataDir === LIVE_DATA_DIR) {
    problems.add("--data-dir", dataDir, "is kubeadm's live etcd data dir (a restore goes into a new, empty one)", `give a new directory, e.g. --data-dir ${DEFAULT_RESTORE_DATA_DIR}`);
  }
  const port = /^[0-9]{1,5}$/.test(raw.peerPort) ? Number(raw.peerPort) : NaN;
  if (!(port >= 1 && port <= 65535)) problems.add("--peer-port", raw.peerPort, "is not a port number", `give etcd's peer port, 1 to 65535 (kubeadm's is ${DEFAULT_PEER_PORT})`);
  problems.throwIfAny("invalid option");
  return { snapshot, dataDir, peerPort: port };
}

/** Where the volume restore's procedure comes from. */
export const VOLUME_RESTORE_DOC = "https://kubernetes.io/docs/concepts/storage/persistent-volumes/#volume-snapshot-and-restore-volume-from-snapshot-support";
/** A StatefulSet's claims: named `<template>-<statefulset>-<ordinal>`, kept when its pods go. */
const STATEFULSET_DOC = "https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#stable-storage";
const RETAIN_DOC = "https://kubernetes.io/docs/tasks/administer-cluster/change-pv-reclaim-policy/";
/** Longest object name (a DNS subdomain) a restored PVC may have. */
const NAME_MAX = 253;
/** The annotation each restored PVC carries: the VolumeSnapshot it was restored from, `namespace/name`. */
export const RESTORED_FROM_ANNOTATION = "cluster-maintenance.io/restored-from";

/** A PersistentVolumeClaim manifest as printed (core/v1). */
export interface ClaimManifest {
  readonly apiVersion: "v1";
  readonly kind: "PersistentVolumeClaim";
  readonly metadata: { readonly name: string; readonly namespace: string; readonly annotations: Readonly<Record<string, string>> };
  readonly spec: {
    readonly storageClassName?: string;
    readonly accessModes: readonly string[];
    readonly volumeMode: string;
    readonly resources: { readonly requests: { readonly storage: string } };
    readonly dataSource: { readonly apiGroup: typeof SNAPSHOT_GROUP; readonly kind: "VolumeSnapshot"; readonly name: string };
  };
}

/** One PVC to restore: its manifest, what to check about it, and the steps to swap its workload onto it. */
export interface VolumeRestoreEntry {
  /** The original PVC, `namespace/name`. */
  readonly pvc: string;
  /** The snapshot used, `namespace/name`, with its restoreSize and time. */
  readonly snapshot: { readonly name: string; readonly restoreSize?: string; readonly createdAt?: string };
  readonly manifest: ClaimManifest;
  /** Things to check before applying (a field guessed, the original gone). */
  readonly notes: readonly string[];
  /** The swap, one command or instruction each: a Deployment-like workload. */
  readonly steps: readonly string[];
  /** The swap for a claim of a StatefulSet's volumeClaimTemplates (name ending in `-<ordinal>`). */
  readonly statefulSetSteps?: readonly string[];
}

/** What `--volumes` prints. */
export interface VolumeRestore {
  readonly cluster: string;
  readonly server: string;
  /** The hop's label value, e.g. `v1.35.9`. */
  readonly hop: string;
  /** How the hop was chosen. */
  readonly chosen: "--hop" | "newest";
  /** Every hop with snapshots, newest first, with how many. */
  readonly hops: readonly { readonly hop: string; readonly snapshots: number }[];
  readonly restores: readonly VolumeRestoreEntry[];
  /** The hop's snapshots not readyToUse: listed, never used. */
  readonly notReady: readonly { readonly snapshot: string; readonly pvc: string; readonly error?: string }[];
}

/** Thrown when there is nothing to restore from; the message says why and what to do. */
export class NothingToRestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NothingToRestoreError";
  }
}

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/**
 * A Kubernetes quantity in bytes (`10Gi`, `500M`, `4294967296`, `1e9`), as
 * https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/ defines it;
 * undefined when it is not one.
 */
export function quantityBytes(q: string): number | undefined {
  const m = /^([+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([mkMGTPE]?)|[eE]([+-]?[0-9]+))$/.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] ? n * BINARY[m[2]]! : m[4] !== undefined ? n * 10 ** Number(m[4]) : n * DECIMAL[m[3] ?? ""]!;
}

/** The size of the restored PVC: the larger of the snapshot's restoreSize and the original's request (never below restoreSize). */
function restoredSize(restoreSize: string | undefined, requested: string | undefined): string | undefined {
  if (!restoreSize) return requested;
  if (!requested) return restoreSize;
  const [r, q] = [quantityBytes(restoreSize), quantityBytes(requested)];
  return r !== undefined && q !== undefined && q > r ? requested : restoreSize;
}

/** `v1.35.9` -> `v1-35-9` (for a name). */
const nameTag = (hop: string) => hop.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
/** `1.35.9` and `v1.35.9` alike. */
const bare = (hop: string) => hop.replace(/^v/, "");
/** Newest first: by version where both are versions, else by text. */
function newestFirst(a: string, b: string): number {
  const [va, vb] = [validVersion(bare(a)), validVersion(bare(b))];
  if (va && vb) return compareVersions(vb, va);
  if (va || vb) return va ? -1 : 1;
  return a < b ? 1 : a > b ? -1 : 0;
}

/**
 * The restore for the snapshots of `read` taken before `hop` (`v1.35.9` or `1.35.9`; default: the
 * newest hop found, by version). Per PVC the newest ready snapshot of the hop is used; the
 * hop's snapshots not readyToUse are listed in `notReady`.
 * @throws NothingToRestoreError when snapshot.storage.k8s.io/v1 is not served, no snapshot carries
 *   our labels, none is of `hop`, or none of the hop's is readyToUse.
 */
export function volumeRestore(read: VolumesRead, options: { readonly cluster: string; readonly server: string; readonly hop?: string }): VolumeRestore {
  if (!read.snapshotApi.served) throw new NothingToRestoreError(`no VolumeSnapshot to restore from in the cluster at ${options.server}: ${read.snapshotApi.reason}`);
  const ours = read.snapshotApi.snapshots.filter((s) => s.labels[BEFORE_LABEL] !== undefined && (s.pvc ?? s.labels[PVC_LABEL]));
  if (ours.length === 0) {
    throw new NothingToRestoreError(`no VolumeSnapshot labelled ${BEFORE_LABEL} and ${PVC_LABEL} in the cluster at ${options.server}: none was taken before a hop yet (backup.volumes in the stack config takes them before each control-plane hop; kubectl get volumesnapshots -A -l ${PVC_LABEL} lists them)`);
  }
  const counts = new Map<string, number>();
  for (const s of ours) counts.set(s.labels[BEFORE_LABEL]!, (counts.get(s.labels[BEFORE_LABEL]!) ?? 0) + 1);
  const hops = [...counts].sort(([a], [b]) => newestFirst(a, b)).map(([hop, snapshots]) => ({ hop, snapshots }));
  const listed = hops.map((h) => `${h.hop} (${h.snapshots})`).join(", ");
  const hop = options.hop === undefined ? hops[0]!.hop : hops.find((h) => bare(h.hop) === bare(options.hop!))?.hop;
  if (hop === undefined) throw new NothingToRestoreError(`no VolumeSnapshot labelled ${BEFORE_LABEL}=${options.hop} in the cluster at ${options.server}; the hops with snapshots (how many): ${listed}: give one of them with --hop`);
  const ofHop = ours.filter((s) => s.labels[BEFORE_LABEL] === hop);
  const pvcOf = (s: Snapshot) => s.pvc ?? s.labels[PVC_LABEL]!;
  const notReady = ofHop.filter((s) => !s.readyToUse).map((s) => ({ snapshot: `${s.namespace}/${s.name}`, pvc: `${s.namespace}/${pvcOf(s)}`, ...(s.error ? { error: s.error } : {}) }));
  const newest = new Map<string, Snapshot>();
  for (const s of ofHop.filter((x) => x.readyToUse)) {
    const k = `${s.namespace}/${pvcOf(s)}`;
    const seen = newest.get(k);
    if (!seen || (s.createdAt ?? "") > (seen.createdAt ?? "")) newest.set(k, s);
  }
  if (newest.size === 0) throw new NothingToRestoreError(`none of the ${ofHop.length} VolumeSnapshot(s) taken before ${hop} in the cluster at ${options.server} is readyToUse (${notReady.map((n) => `${n.snapshot}${n.error ? `: ${n.error}` : ""}`).join("; ")}); nothing can be restored from them${hops.length > 1 ? `; other hops with snapshots: ${listed}` : ""}`);
  const claims = new Map(read.claims.map((c) => [`${c.namespace}/${c.name}`, c]));
  const classes = new Map(read.snapshotApi.classes.map((c) => [c.name, c]));
  const restores = [...newest].sort(([a], [b]) => (a < b ? -1 : 1)).map(([pvc, s]) => restoreEntry(pvc, s, claims.get(pvc), s.className ? classes.get(s.className)?.driver : undefined, hop));
  return { cluster: options.cluster, server: options.server, hop, chosen: options.hop === undefined ? "newest" : "--hop", hops, restores, notReady };
}

/** One PVC's manifest, notes and steps. */
function restoreEntry(pvc: string, s: Snapshot, original: VolumeClaim | undefined, driver: string | undefined, hop: string): VolumeRestoreEntry {
  const [namespace, claimName] = [s.namespace, pvc.slice(s.namespace.length + 1)];
  const suffix = `-restored-${nameTag(hop)}`;
  const name = `${claimName.slice(0, NAME_MAX - suffix.length).replace(/[-.]+$/, "")}${suffix}`;
  const notes: string[] = [];
  const of = driver ? ` of its CSI driver ${driver}` : "";
  if (!original) notes.push(`the PVC ${pvc} no longer exists: storageClassName is left out (the cluster's default StorageClass is used: it must be one${of}), accessModes ReadWriteOnce and volumeMode Filesystem are guesses; check all three`);
  else if (original.storageClassName === "") notes.push(`the PVC ${pvc} has storageClassName "" (bound to a volume made by hand): set a StorageClass${of} that provisions from snapshots`);
  const size = restoredSize(s.restoreSize, original?.storage);
  if (!size) notes.push("neither the snapshot's restoreSize nor the original's request is known: set resources.requests.storage to at least the volume's size");
  const storageClassName = original?.storageClassName ? { storageClassName: original.storageClassName } : {};
  const manifest: ClaimManifest = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace, annotations: { [RESTORED_FROM_ANNOTATION]: `${s.namespace}/${s.name}` } },
    spec: {
      ...storageClassName,
      accessModes: original && original.accessModes.length > 0 ? original.accessModes : ["ReadWriteOnce"],
      volumeMode: original?.volumeMode ?? "Filesystem",
      resources: { requests: { storage: size ?? "1Gi" } },
      dataSource: { apiGroup: SNAPSHOT_GROUP, kind: "VolumeSnapshot", name: s.name },
    },
  };
  const k = `kubectl -n ${shellQuote(namespace)}`;
  const steps = !original ? [
    `${k} apply -f <this manifest> (or first set its metadata.name to ${claimName}, the name the workload's claim still names: then nothing else changes), then ${k} get pvc: Bound (a StorageClass with volumeBindingMode WaitForFirstConsumer binds it only when a pod uses it)`,
    `else point the workload at it: ${k} scale deployment/NAME --replicas=0; ${k} edit deployment/NAME: in spec.template.spec.volumes, set persistentVolumeClaim.claimName from ${claimName} to ${name}; ${k} scale deployment/NAME --replicas=<as before>`,
  ] : [
    `${k} apply -f <this manifest>, then ${k} get pvc ${shellQuote(name)}: Bound (a StorageClass with volumeBindingMode WaitForFirstConsumer binds it only when a pod uses it, in step 4)`,
    `${k} describe pvc ${shellQuote(claimName)}: "Used By" names the pods; their owner (kubectl get pod -o jsonpath='{.metadata.ownerReferences}') is the workload, e.g. deployment/NAME`,
    `${k} scale deployment/NAME --replicas=0 (note the replicas first), and wait until its pods are gone: ${k} get pods -w`,
    `${k} edit deployment/NAME: in spec.template.spec.volumes, set persistentVolumeClaim.claimName from ${claimName} to ${name}; then ${k} scale deployment/NAME --replicas=<as before>`,
    `check the data, then delete ${pvc} when it is no longer needed (its PersistentVolume goes with it under the reclaim policy Delete)`,
  ];
  const statefulSetSteps = original && /-[0-9]+$/.test(claimName)
    ? [
        `a StatefulSet only mounts the claim named ${claimName} (<volumeClaimTemplate>-<statefulset>-<ordinal>) and its volumeClaimTemplates cannot be changed, so the restored claim must take that name (${STATEFULSET_DOC}):`,
        `${k} scale statefulset/NAME --replicas=0, and wait until its pods are gone`,
        ...(original?.volumeName ? [`kubectl patch pv ${shellQuote(original.volumeName)} -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}' (keeps the old volume when its claim goes: ${RETAIN_DOC})`] : []),
        `${k} delete pvc ${shellQuote(claimName)}`,
        `${k} apply -f <this manifest> with metadata.name: ${claimName}`,
        `${k} scale statefulset/NAME --replicas=<as before>; check the data, then delete the old PersistentVolume${original?.volumeName ? ` ${original.volumeName}` : ""} when it is no longer needed`,
      ]
    : undefined;
  return {
    pvc,
    snapshot: { name: `${s.namespace}/${s.name}`, ...(s.restoreSize ? { restoreSize: s.restoreSize } : {}), ...(s.createdAt ? { createdAt: s.createdAt } : {}) },
    manifest,
    notes,
    steps,
    ...(statefulSetSteps ? { statefulSetSteps } : {}),
  };
}

/**
 * The restore as a YAML stream for `kubectl apply -f -`: one PersistentVolumeClaim document per
 * PVC; everything else (the hop, the snapshots not ready, what to check, the steps) is comments.
 */
export function renderVolumeRestoreText(r: VolumeRestore): string {
  const c = (line: string) => `# ${line}`.trimEnd();
  const others = r.hops.filter((h) => h.hop !== r.hop);
  const out = [
    c(`Volume restore for cluster ${r.cluster} (${r.server}): the VolumeSnapshots taken before ${r.hop} (label ${BEFORE_LABEL}=${r.hop}; ${r.chosen === "newest" ? "the newest hop found" : "--hop"})`),
    ...(others.length > 0 ? [c(`Other hops with snapshots (choose with --hop): ${others.map((h) => `${h.hop} (${h.snapshots})`).join(", ")}`)] : []),
    c("Printed only: nothing was created or changed. Each document is a new PersistentVolumeClaim restored from a snapshot"),
    c(`(${VOLUME_RESTORE_DOC});`),
    c("review it, kubectl apply -f it, then swap the workload onto it as its comments say."),
  ];
  if (r.notReady.length > 0) {
    out.push(c(`Not used: ${r.notReady.length} snapshot(s) of this hop not readyToUse:`));
    for (const n of r.notReady) out.push(c(`  ${n.snapshot} (PVC ${n.pvc})${n.error ? `: ${n.error}` : ""}`));
  }
  r.restores.forEach((e, i) => {
    out.push("---", c(`${i + 1}. ${e.pvc} from VolumeSnapshot ${e.snapshot.name} (ready${e.snapshot.restoreSize ? `, restoreSize ${e.snapshot.restoreSize}` : ""}${e.snapshot.createdAt ? `, taken ${e.snapshot.createdAt}` : ""})`));
    for (const n of e.notes) out.push(c(`CHECK: ${n}`));
    out.push(stringify(e.manifest).trimEnd());
    out.push(c("Swap the workload onto it:"), ...e.steps.map((s, j) => c(`  ${j + 1}. ${s}`)));
    if (e.statefulSetSteps) out.push(c(`Or, for a StatefulSet's claim: ${e.statefulSetSteps[0]}`), ...e.statefulSetSteps.slice(1).map((s, j) => c(`  ${j + 1}. ${s}`)));
  });
  return `${out.join("\n")}\n`;
}

/** What `--volumes` reads with (tests pass their own). */
export interface RestoreVolumesIo extends CliIo {
  /** For KUBECONFIG and ~/.kube/config. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Reads the volumes. @default discovery/read-volumes.ts readVolumes */
  readonly reader?: (kubeconfig: KubeConfig) => Promise<VolumesRead>;
}

/** A hop as --hop takes it: `v1.35.9` or `1.35.9`. */
const HOP_RE = /^v?[0-9]+\.[0-9]+\.[0-9]+$/;

/**
 * Runs `npm run restore -- --volumes ...`.
 * @returns the exit code: 0 printed, 1 bad config, an unreadable cluster or nothing to restore from, 2 bad usage.
 */
export async function runRestoreVolumes(args: readonly string[], io: RestoreVolumesIo): Promise<number> {
  const program = new Command("npm run restore -- --volumes")
    .description("Print, per PersistentVolumeClaim, a new claim restored from the VolumeSnapshot backup.volumes took before a hop, and the steps to swap its workload onto it (reads the cluster, changes nothing).")
    .requiredOption("--volumes", "restore volumes from VolumeSnapshots (instead of printing the etcd procedure)")
    .requiredOption("-s, --stack <name>", "stack whose Pulumi.<name>.yaml to read")
    .option("--hop <version>", "the hop the snapshots were taken before, e.g. v1.35.9 (default: the newest hop found)")
    .option("--kubeconfig <path>", "read the cluster with this kubeconfig (before kubernetes:kubeconfig, KUBECONFIG and ~/.kube/config)")
    .option("--json", "print the restore as JSON", false);
  const usage = parseArgs(program, args, io);
  if (usage !== undefined) return usage;
  const opts = program.opts<{ stack: string; hop?: string; kubeconfig?: string; json: boolean }>();
  if (opts.hop !== undefined && !HOP_RE.test(opts.hop)) {
    io.err(`error: invalid option: --hop: is not a version such as v1.35.9 (got ${JSON.stringify(opts.hop)}). give the hop as its snapshots' label ${BEFORE_LABEL} says, e.g. --hop v1.35.9\n`);
    return 2;
  }
  try {
    const files = readStackFiles(io.cwd, opts.stack);
    const config = parseStackConfig(files.raw, opts.stack);
    const providerConfig = opts.kubeconfig ?? files.providerKubeconfig;
    const { kubeconfig } = resolveKubeconfig({ ...(providerConfig ? { providerConfig } : {}), env: io.env ?? process.env });
    const read = await (io.reader ?? ((kc: KubeConfig) => readVolumes(kc)))(kubeconfig);
    const restore = volumeRestore(read, { cluster: config.clusterName, server: kubeconfig.getCurrentCluster()?.server ?? "", ...(opts.hop ? { hop: opts.hop } : {}) });
    io.out(opts.json ? `${JSON.stringify(restore, null, 2)}\n` : renderVolumeRestoreText(restore));
    return 0;
  } catch (e) {
    if (e instanceof InputErrors || e instanceof DiscoveryError || e instanceof NothingToRestoreError) {
      io.err(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** The entry point: `--volumes` runs {@link runRestoreVolumes}, anything else {@link runRestore}. */
export function restoreMain(args: readonly string[], io: RestoreVolumesIo): number | Promise<number> {
  return args.includes("--volumes") ? runRestoreVolumes(args, io) : runRestore(args, io);
}

/**
 * Runs the restore command.
 * @param args the arguments after the program name, e.g. `["--stack", "prod", "--snapshot", "/x/s.db"]`.
 * @returns the exit code: 0 printed, 1 bad config, 2 bad usage.
 */
export function runRestore(args: readonly string[], io: CliIo): number {
  const program = new Command("npm run restore --")
    .description("Print the etcd restore procedure for a stack's control plane (connects nowhere, changes nothing). With --volumes: the PersistentVolumeClaims to restore from VolumeSnapshots (npm run restore -- --volumes --help).")
    .requiredOption("-s, --stack <name>", "stack whose Pulumi.<name>.yaml to read")
    .requiredOption("--snapshot <path>", "the snapshot's absolute path on the nodes (its .sha256 beside it)")
    .option("--data-dir <dir>", "the new etcd data dir on every member", DEFAULT_RESTORE_DATA_DIR)
    .option("--peer-port <port>", "etcd's peer port on every member", String(DEFAULT_PEER_PORT))
    .option("--json", "print the procedure as JSON", false);
  const usage = parseArgs(program, args, io);
  if (usage !== undefined) return usage;
  const opts = program.opts<{ stack: string; snapshot: string; dataDir: string; peerPort: string; json: boolean }>();
  let options: RestoreOptions;
  try {
    options = parseRestoreOptions(opts);
  } catch (e) {
    if (e instanceof InputErrors) {
      io.err(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  try {
    const files = readStackFiles(io.cwd, opts.stack);
    const procedure = restoreProcedure(parseStackConfig(files.raw, opts.stack), options);
    io.out(opts.json ? `${JSON.stringify(procedure, null, 2)}\n` : renderRestoreText(procedure));
    return 0;
  } catch (e) {
    if (e instanceof InputErrors) {
      io.err(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

if (require.main === module) {
  void Promise.resolve(restoreMain(process.argv.slice(2), processIo())).then((code) => (process.exitCode = code));
}
