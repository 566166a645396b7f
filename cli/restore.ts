/**
 * `npm run restore`: the etcd restore procedure for a stack's control plane, printed, never run.
 * Reads Pulumi.yaml and Pulumi.<stack>.yaml from the working directory like `npm run plan`,
 * connects nowhere and changes nothing: a restore stays deliberate, never a side effect of
 * `pulumi up`. The order is the Kubernetes one
 * (https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#restoring-an-etcd-cluster):
 * copy the snapshot to every member, dry-run every phase, stop kube-apiserver and etcd on every
 * member, restore every member from the same snapshot, start them all, then check.
 * Exit codes: 0 printed, 1 bad config, 2 bad usage (unknown or bad option).
 */
import { Command } from "commander";
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

/**
 * Runs the restore command.
 * @param args the arguments after the program name, e.g. `["--stack", "prod", "--snapshot", "/x/s.db"]`.
 * @returns the exit code: 0 printed, 1 bad config, 2 bad usage.
 */
export function runRestore(args: readonly string[], io: CliIo): number {
  const program = new Command("npm run restore --")
    .description("Print the etcd restore procedure for a stack's control plane (connects nowhere, changes nothing).")
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
  process.exitCode = runRestore(process.argv.slice(2), processIo());
}
