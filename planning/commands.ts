/**
 * From plan steps to the commands that carry them out: which node script runs, with which
 * arguments, on which node's SSH connection, after which other commands. Pure data; the
 * Pulumi components turn each into a `remote.Command`.
 *
 * Each command runs one static script from node-scripts/, sent as the command's stdin, never
 * inside the command line; the command line is a fixed wrapper plus the script's name and
 * its arguments, each validated upstream and single-quoted here:
 *   sudo bash -c 's=$(cat) && exec bash -c "$s" "$0" "$@"' drain.sh 'general-1' '1.35.9' '600' ...
 * No secret is ever an argument: a failed command's error shows its whole command line.
 */
import type { VolumeBackupConfig } from "../config/volume-config";
import type { LabelSelector } from "../config/selector";
import type { Action, Step, UpgradePlan } from "./plan-types";
import { removalSnapshotLabel } from "./removal";
import { replacementCommands } from "./replacement-commands";

/** The node scripts (files in node-scripts/). */
export type ScriptName =
  | "etcd-snapshot.sh"
  | "switch-repository.sh"
  | "upgrade-packages.sh"
  | "kubeadm-upgrade.sh"
  | "drain.sh"
  | "upgrade-kubelet.sh"
  | "wait-ready.sh"
  | "uncordon.sh"
  | "os-patch.sh"
  | "upload-snapshot.sh"
  | "export-resources.sh"
  | "join-command.sh"
  | "pool-node.sh"
  | "cordon-node.sh"
  | "soak.sh"
  | "delete-nodes.sh"
  | "volume-snapshot.sh"
  | "reset-node.sh"
  | "etcd-member.sh";

/** How a pool's nodes are drained. Source: https://kubernetes.io/docs/reference/kubectl/generated/kubectl_drain/ */
export interface DrainOptions {
  /** `kubectl drain --timeout`, seconds. */
  readonly timeoutSeconds: number;
  /** Allow deleting emptyDir data (`--delete-emptydir-data`); otherwise such pods block the drain. */
  readonly deleteEmptyDirData: boolean;
  /** Allow deleting pods without a controller (`--force`); they are lost for good. */
  readonly deleteUnmanagedPods: boolean;
  /** Delete instead of evict, bypassing PodDisruptionBudgets (`--disable-eviction`). */
  readonly disableEviction: boolean;
}

/** Where and how the etcd snapshot is taken. Source: https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/ */
export interface EtcdOptions {
  readonly endpoint: string;
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
  readonly backupDir: string;
  /**
   * How a snapshot is verified before the hop may go on: `restore` restores it into a scratch
   * etcd and compares revision and keys (needs the etcd binary on the node); `status` checks
   * its status only.
   */
  readonly verify: "restore" | "status";
  /** Snapshots kept in backupDir (older ones deleted), so the disk never fills. */
  readonly keep: number;
}

export interface ExecutionOptions {
  /**
   * The node whose kubectl (with /etc/kubernetes/admin.conf) cordons, drains, waits and
   * uncordons; a control-plane node, never removed, so a node removal's etcd snapshot and
   * etcd member commands run there too (planning/removal.ts).
   */
  readonly kubectlNode: string;
  /** Drain options of a pool (`control-plane` for control-plane nodes). */
  readonly drain: (pool: string) => DrainOptions;
  readonly etcd: EtcdOptions;
  /** Bound on waiting for a node to be Ready at its new version, seconds. */
  readonly readyTimeoutSeconds: number;
  /** Where each pre-upgrade snapshot is copied off the cluster; absent: it stays on the node. */
  readonly upload?: { readonly bucket: string; readonly prefix: string; readonly region: string };
  /** Export of every listable resource before each control-plane hop; Secrets `exclude` or `encrypt:<cert>`. */
  readonly export?: { readonly dir: string; readonly secrets: string };
  /**
   * CSI VolumeSnapshots of the selected PVCs before each control-plane hop, taken on the kubectl
   * node after the etcd snapshot (and its upload and the export); absent: no volume is snapshotted.
   */
  readonly volumes?: VolumeBackupConfig;
}

export interface CommandSpec {
  /** Unique within the node, its intent: `v1.35.9-drain`, `os-2026-11-drain` ({@link intentLabel}); the component prefixes its own name. */
  readonly name: string;
  /** The plan step it belongs to. */
  readonly step: string;
  /** The node the command is about (its component parents the command). */
  readonly node: string;
  /** The node whose SSH connection runs it. */
  readonly runsOn: string;
  readonly script: ScriptName;
  readonly args: readonly string[];
  /** Keys of what must finish first: commands (`node/name`) or a stage barrier ({@link StageBarrier.key}). */
  readonly dependsOn: readonly string[];
  /**
   * For the wait after an OS patch: the key of the os-patch command whose output's last
   * line may be `reboot-scheduled <boot id>`; that boot id (checked to be a UUID) becomes
   * the last argument, and the wait lasts until the node has booted again.
   */
  readonly bootIdFrom?: string;
  /** The full command line (the wrapper, the script's name, its quoted arguments). */
  readonly command: string;
  /**
   * Blue-green: this command also waits for the named pool's new (green) nodes to be Ready;
   * the green color is created after the command's other dependencies.
   */
  readonly greenOf?: string;
  /** The command's `delete` hook: the same script with these arguments (e.g. undo a cordon). */
  readonly undo?: readonly string[];
  /** The delete hook's command line (the wrapper, the script's name, `undo` quoted). */
  readonly undoCommand?: string;
  /** Set when the command belongs to a whole pool (then `node` is the pool's name). */
  readonly pool?: string;
}

/** The fixed wrapper: reads the script from stdin, then runs it with stdin at end of file. */
export const WRAPPER = `sudo bash -c 's=$(cat) && exec bash -c "$s" "$0" "$@"'`;

/** Single-quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The command line that runs `script` with `args` (each single-quoted) through {@link WRAPPER}. */
export function commandLine(script: ScriptName, args: readonly string[]): string {
  return [WRAPPER, script, ...args.map(shellQuote)].join(" ");
}

/** The boot id in an os-patch command's output (`reboot-scheduled <uuid>`), or "" when no reboot was scheduled. */
export function scheduledRebootBootId(stdout: string): string {
  const m = /^reboot-scheduled ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/m.exec(stdout);
  return m ? m[1]! : "";
}

/** The commands of each step, by step id, in plan order. */
export function commandsByStep(commands: readonly CommandSpec[]): Map<string, CommandSpec[]> {
  const byStep = new Map<string, CommandSpec[]>();
  for (const c of commands) {
    const list = byStep.get(c.step);
    if (list) list.push(c);
    else byStep.set(c.step, [c]);
  }
  return byStep;
}

/** The key of a command, unique in the plan: `node/name`. */
export function commandKey(spec: Pick<CommandSpec, "node" | "name">): string {
  return `${spec.node}/${spec.name}`;
}

type Invocation = Pick<CommandSpec, "runsOn" | "script" | "args"> & { readonly name: string };

/**
 * A selector as volume-snapshot.sh's SELECTOR takes it: its requirements joined by commas, each
 * `key=value`, `key!=value`, `key` or `!key` (no spaces, `==` written `=`); `-` for none.
 */
export function selectorArg(selector: LabelSelector | undefined): string {
  if (!selector) return "-";
  return selector.requirements
    .map((q) => {
      switch (q.op) {
        case "exists":
          return q.key;
        case "!exists":
          return `!${q.key}`;
        default:
          return `${q.key}${q.op}${q.value}`;
      }
    })
    .join(",");
}

/**
 * The arguments of `volume-snapshot.sh LABEL KEEP READY_TIMEOUT_SECONDS REQUIRED NAMESPACES
 * SELECTOR CLASSES` for the hop to `label` (`v1.35.9`): KEEP and READY_TIMEOUT_SECONDS in
 * decimal (seconds), REQUIRED `true`|`false`, NAMESPACES comma-joined or `*` for every
 * namespace, SELECTOR as {@link selectorArg}, CLASSES `driver=class` pairs comma-joined (in the
 * config's order) or `-` for each driver's default class. Every value was checked by
 * config/volume-config.ts parseVolumeBackup, as the script checks it again.
 */
export function volumeSnapshotArgs(label: string, volumes: VolumeBackupConfig): string[] {
  const classes = Object.entries(volumes.classes).map(([driver, cls]) => `${driver}=${cls}`);
  return [
    label, String(volumes.keep), String(volumes.readyTimeoutSeconds), String(volumes.required),
    volumes.namespaces.length > 0 ? volumes.namespaces.join(",") : "*",
    selectorArg(volumes.selector),
    classes.length > 0 ? classes.join(",") : "-",
  ];
}

/**
 * The commands of one action: one, except the etcd snapshot, which may be followed (in this
 * order, each after the one before, all before the hop's next action) by its upload, the
 * resource export and the volume snapshots; before a node removal, by its upload only, all on
 * the kubectl node.
 */
function invocations(step: Step, action: Action, node: string, options: ExecutionOptions): Invocation[] {
  const call = { ...invocation(step, action, node, options), name: action.kind };
  if (action.kind !== "etcd-snapshot") return [call];
  const more: Invocation[] = [];
  if (options.upload) {
    const u = options.upload;
    more.push({ name: "upload-snapshot", runsOn: call.runsOn, script: "upload-snapshot.sh", args: [options.etcd.backupDir, snapshotLabel(step, node), u.bucket, u.prefix, u.region] });
  }
  if (step.kind === "node-removal") return [call, ...more];
  if (options.export) {
    more.push({ name: "export-resources", runsOn: options.kubectlNode, script: "export-resources.sh", args: [options.export.dir, options.export.secrets] });
  }
  if (options.volumes) {
    more.push({ name: "volume-snapshot", runsOn: options.kubectlNode, script: "volume-snapshot.sh", args: volumeSnapshotArgs(step.version.tag, options.volumes) });
  }
  return [call, ...more];
}

/** The label of an etcd snapshot step's snapshot: `before-<hop version>`, or before a removal `before-remove-<node>`. */
function snapshotLabel(step: Step, node: string): string {
  return step.kind === "node-removal" ? removalSnapshotLabel(node) : `before-${step.version.tag}`;
}

function invocation(step: Step, action: Action, node: string, options: ExecutionOptions): Pick<CommandSpec, "runsOn" | "script" | "args"> {
  const v = step.version.toString();
  const kubectl = (script: ScriptName, args: string[]) => ({ runsOn: options.kubectlNode, script, args });
  const local = (script: ScriptName, args: string[]) => ({ runsOn: node, script, args });
  const e = options.etcd;
  const member = (mode: "check" | "remove") => kubectl("etcd-member.sh", [mode, node, String(action.allowEven ?? false), e.endpoint, e.caCert, e.cert, e.key]);
  switch (action.kind) {
    case "etcd-snapshot": {
      const args = [e.backupDir, snapshotLabel(step, node), e.endpoint, e.caCert, e.cert, e.key, e.verify, String(e.keep)];
      return step.kind === "node-removal" ? kubectl("etcd-snapshot.sh", args) : local("etcd-snapshot.sh", args);
    }
    case "switch-repository":
      return local("switch-repository.sh", [step.version.minorLine]);
    case "upgrade-kubeadm":
      return local("upgrade-packages.sh", [v, "kubeadm"]);
    case "kubeadm-upgrade-apply":
      return local("kubeadm-upgrade.sh", ["apply", v]);
    case "kubeadm-upgrade-node":
      return local("kubeadm-upgrade.sh", ["node", v]);
    case "drain": {
      const d = options.drain(step.pool);
      // An upgrade's drain skips a node already at or past its version; an OS patch or a removal drains whatever the version.
      const at = step.kind === "os-patch" || step.kind === "node-removal" ? "any" : v;
      return kubectl("drain.sh", [node, at, String(d.timeoutSeconds), String(d.deleteEmptyDirData), String(d.deleteUnmanagedPods), String(d.disableEviction)]);
    }
    case "upgrade-kubelet":
      return local("upgrade-kubelet.sh", [v]);
    case "wait-ready":
      return kubectl("wait-ready.sh", [node, v, String(options.readyTimeoutSeconds)]);
    case "uncordon":
      return kubectl("uncordon.sh", [node]);
    case "os-patch":
      return local("os-patch.sh", [action.revision!]);
    case "etcd-member-check":
      return member("check");
    case "etcd-member-remove":
      return member("remove");
    case "reset-node":
      return local("reset-node.sh", [node]);
    case "delete-node":
      return kubectl("delete-nodes.sh", [node]);
    case "delete-dead-node":
      return kubectl("delete-nodes.sh", ["--dead", node]);
    default:
      throw new Error(`${action.kind} is carried out by the blue-green node pool, not by a node command`);
  }
}

/**
 * What a step's commands are for, the prefix of their names: the exact version of an upgrade
 * step (`v1.37.1`), so that another patch is another command, the revision of an OS patch
 * step (`os-2026-11`, the label of its id), or `remove` for a node removal. A finished command
 * never runs again whatever else changes (components/command-intent.ts), so its name must say
 * everything it is for.
 */
export function intentLabel(step: Step): string {
  return step.kind === "os-patch" || step.kind === "node-removal" ? step.id.slice(0, step.id.indexOf("/")) : step.version.tag;
}

/**
 * A point between two stages of several steps each, which runs nothing: the first command of
 * every step of the later stage waits for it, and it waits for the last command of every step
 * of the earlier one, so k + k dependencies stand for the k x k of waiting on each other.
 */
export interface StageBarrier {
  /**
   * The stage it opens, by intent: `<intent label>-<pool>-batch-<index>`, e.g.
   * `v1.35.9-general-batch-2` ({@link intentLabel}); the component prefixes its own name.
   */
  readonly name: string;
  /** Its key in a command's `dependsOn`: `barrier:<name>` (no node name holds a colon). */
  readonly key: string;
  /** Keys of the commands it waits for: the last command of every step of the previous stage. */
  readonly dependsOn: readonly string[];
}

/** The commands that carry a plan out, and the barriers between its stages. */
export interface PlanCommands {
  /** Every remote command, in plan order. */
  readonly commands: readonly CommandSpec[];
  /** The stage barriers, in plan order; each comes after the commands it waits for. */
  readonly barriers: readonly StageBarrier[];
}

/**
 * The commands of a plan, in plan order. Inside a step they run one after another; the first
 * command of a step waits for the last command of every step of the previous stage
 * (Step.stage): directly when either stage has one step, else through a {@link StageBarrier},
 * so the dependencies grow with the steps, not with the square of a batch.
 * A blue-green pool replacement becomes the commands of {@link replacementCommands} (its
 * new nodes are the blue-green node pool component's); without blue-green settings on the
 * pool it has none, and the next stage waits for what the replacement would have waited for.
 */
export function planCommands(plan: UpgradePlan, options: ExecutionOptions): PlanCommands {
  const specs: CommandSpec[] = [];
  const barriers: StageBarrier[] = [];
  /** Last commands of the steps of the stage being placed, and of the stage before. */
  let ends = new Set<string>();
  let before: readonly string[] = [];
  plan.steps.forEach((step, i) => {
    if (i === 0 || step.stage !== plan.steps[i - 1]!.stage) {
      const finished = [...ends];
      ends = new Set();
      before = finished;
      if (finished.length > 1 && plan.steps[i + 1]?.stage === step.stage) {
        // A stage of several steps is a batch of a pool.
        const name = `${intentLabel(step)}-${step.pool}-batch-${step.batch!.index}`;
        const barrier: StageBarrier = { name, key: `barrier:${name}`, dependsOn: finished };
        barriers.push(barrier);
        before = [barrier.key];
      }
    }
    const own = step.kind === "pool-replace" ? replacementCommands(plan, step, options, before) : stepCommands(step, options, before);
    specs.push(...own);
    for (const key of own.length > 0 ? [commandKey(own[own.length - 1]!)] : before) ends.add(key);
  });
  return { commands: specs, barriers };
}

/** A node step's commands, one after another, the first after `before`. */
function stepCommands(step: Step, options: ExecutionOptions, before: readonly string[]): CommandSpec[] {
  const node = step.nodes[0]!;
  const specs: CommandSpec[] = [];
  let previous = before;
  let patch: string | undefined;
  for (const action of step.actions) {
    for (const { name, ...call } of invocations(step, action, node, options)) {
      const spec: CommandSpec = {
        name: `${intentLabel(step)}-${name}`,
        step: step.id,
        node,
        ...call,
        dependsOn: previous,
        ...(action.kind === "wait-ready" && patch ? { bootIdFrom: patch } : {}),
        command: commandLine(call.script, call.args),
      };
      specs.push(spec);
      previous = [commandKey(spec)];
      if (action.kind === "os-patch") patch = commandKey(spec);
    }
  }
  return specs;
}
