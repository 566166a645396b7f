/**
 * How long a wave (planning/waves.ts) takes: an expected duration and an upper bound, from its
 * steps' actions. Inside a step the actions run one after another; the steps of one stage (a
 * batch of a pool) run together, so a stage lasts as long as its longest step; stages run one
 * after another. A blue-green replacement counts its own estimate (planning/blue-green.ts).
 *
 * Where the numbers come from: each bound is what the stack config allows (drain: the pool's
 * `drain.timeoutSeconds`; wait-ready: `readyTimeoutSeconds`) or the timeouts our node scripts
 * put on their commands (node-scripts/*.sh), except where a comment says otherwise. Each
 * expected time is our estimate for a healthy node with its package mirror and image registry
 * reachable; none is a measurement: the lab (test/lab) runs stand-in binaries, so its times
 * say nothing about a real node. kubeadm's own guidance is cited where it gives a number.
 */
import { TYPICAL_DRAIN_SECONDS } from "./blue-green";
import type { ExecutionOptions } from "./commands";
import type { ActionKind, Step, UpgradePlan } from "./plan-types";
import type { Wave } from "./waves";

/** Seconds: what an action typically takes, and the most it may take before it fails. */
export interface ActionSeconds {
  readonly expected: number;
  readonly bound: number;
}

/** What bounds the actions that the stack config bounds. */
export interface DurationBounds {
  /** A pool's `drain.timeoutSeconds` (`control-plane` for control-plane nodes), seconds. */
  drainTimeoutSeconds(pool: string): number;
  /** `readyTimeoutSeconds`: the wait for a node to be Ready at its new version, seconds. */
  readonly readyTimeoutSeconds: number;
  /** Each snapshot is copied off the cluster (stack config `backup` with a bucket): adds {@link UPLOAD_SNAPSHOT}. @default false */
  readonly upload?: boolean;
  /** Every listable resource is exported before each control-plane hop (`backup.exportDir`): adds {@link EXPORT_RESOURCES}. @default false */
  readonly exportResources?: boolean;
  /** With `backup.volumes`: its readyTimeoutSeconds; each control-plane hop's snapshot step adds {@link volumeSnapshotSeconds}. @default none */
  readonly volumeReadyTimeoutSeconds?: number;
  /**
   * Most steps of one stage running at once (`pulumi up --parallel`); a stage of n steps then
   * counts ceil(n / parallel) times its longest step (an approximation: the engine limits resource
   * operations, and each step is a chain of commands). @default unlimited: a batch counts once
   */
  readonly parallel?: number;
}

/** An expected duration and an upper bound, seconds; bound >= expected. */
export interface DurationEstimate {
  readonly expectedSeconds: number;
  readonly boundSeconds: number;
}

/** One stage of a wave: its steps run together. */
export interface StageEstimate extends DurationEstimate {
  /** Step.stage. */
  readonly stage: number;
  /** Ids of its steps in the wave. */
  readonly steps: readonly string[];
}

/** A wave's duration: the sum of its stages'. */
export interface WaveEstimate extends DurationEstimate {
  readonly stages: readonly StageEstimate[];
}

/**
 * Each command's own cost: the engine opens an SSH session (through the bastion, if any) and
 * sends the script on stdin. Our estimate; nothing of ours bounds it, so the bound counts it
 * the same.
 */
export const COMMAND_OVERHEAD_SECONDS = 3;

/** `etcd-snapshot.sh` with `etcd.verify: restore`. */
export const ETCD_SNAPSHOT: ActionSeconds = {
  // Our estimate for an etcd database of a few hundred MB: save, status, restore into a scratch etcd, compare.
  expected: 90,
  // etcd-snapshot.sh's timeouts: health and status 30 + 30, snapshot save 300, snapshot status
  // 300, restore 300, scratch etcd healthy 60, three checks of 60.
  bound: 1200,
};
/** `upload-snapshot.sh`: the snapshot copied to the backup bucket. */
export const UPLOAD_SNAPSHOT: ActionSeconds = {
  // Our estimate: a few hundred MB to S3 from inside the cloud.
  expected: 60,
  // upload-snapshot.sh: head-object 60 + `aws s3 cp` 900.
  bound: 960,
};
/** `export-resources.sh`: every listable resource type exported as YAML. */
export const EXPORT_RESOURCES: ActionSeconds = {
  // Our estimate: about a hundred types at a second or so each.
  expected: 120,
  // NOT a hard bound: the script bounds each kubectl call (150 s), not their number, which is the
  // cluster's count of resource types. Our estimate of a slow export of a large cluster.
  bound: 1800,
};
/**
 * `volume-snapshot.sh`: a VolumeSnapshot per selected PVC, waited for until readyToUse.
 * Expected: our estimate (a CSI snapshot is typically ready in a minute or two); bound: the
 * wait's `readyTimeoutSeconds` plus the script's bounded kubectl calls before and after it
 * (listing PVCs, PVs and classes, creating, pruning: our estimate of 300 s).
 */
export function volumeSnapshotSeconds(readyTimeoutSeconds: number): ActionSeconds {
  return { expected: Math.min(120, readyTimeoutSeconds), bound: readyTimeoutSeconds + 300 };
}
/** The seconds of each action whose bound our node scripts set (drain and wait-ready: the config's, {@link DRAIN_EXPECTED_SECONDS}, {@link WAIT_READY_EXPECTED_SECONDS}). */
export const ACTION_SECONDS = {
  "etcd-snapshot": ETCD_SNAPSHOT,
  "switch-repository": {
    // Our estimate: apt-get update of a handful of repositories.
    expected: 30,
    // switch-repository.sh: apt_get 300 update, plus up to 300 waiting for another apt's lock (node-scripts/lib/apt.sh).
    bound: 600,
  },
  "upgrade-kubeadm": {
    // Our estimate: download and install one package.
    expected: 60,
    // upgrade-packages.sh: apt_get 600 install, plus up to 300 for apt's lock.
    bound: 900,
  },
  "kubeadm-upgrade-apply": {
    // kubeadm restarts etcd, kube-apiserver, kube-controller-manager and kube-scheduler one by
    // one and says of each "This might take a minute or longer depending on the component/version
    // gap (timeout 5m0s)" ([upgrade/staticpods]); 4 x 60, with `kubeadm upgrade plan`, the image
    // pull and the add-ons (CoreDNS, kube-proxy) our estimate of another 120.
    expected: 360,
    // kubeadm-upgrade.sh: `kubeadm config images list` 60, `kubeadm upgrade plan` 600, `kubeadm upgrade apply` 1200.
    bound: 1860,
  },
  "kubeadm-upgrade-node": {
    // On a control-plane node: the same four static pods as apply (4 x "a minute or longer"),
    // without plan and add-ons, and our 30 for the rest. On a worker: WORKER_KUBEADM_UPGRADE_NODE.
    expected: 270,
    // kubeadm-upgrade.sh: images list 60, `kubeadm upgrade node` 1200.
    bound: 1260,
  },
  "upgrade-kubelet": {
    // Our estimate: install kubelet and kubectl, restart kubelet.
    expected: 60,
    // upgrade-kubelet.sh: apt_get 600 install + 300 for apt's lock, restart 120, active within 60.
    bound: 1080,
  },
  "os-patch": {
    // Our estimate: apt-get update and a month of updates. The reboot, if any, is counted in the wait after it (REBOOT_SECONDS).
    expected: 300,
    // os-patch.sh: apt_get 300 update and apt_get 1800 upgrade, each plus up to 300 for apt's lock.
    bound: 2700,
  },
  uncordon: {
    // Our estimate: a few API calls.
    expected: 5,
    // uncordon.sh: up to four kubectl calls with --request-timeout=30s.
    bound: 120,
  },
  "etcd-member-check": {
    // Our estimate: a member list and every member's health, side by side.
    expected: 10,
    // etcd-member.sh: member list 15, endpoint health of every member side by side 10.
    bound: 15 + 10,
  },
  "etcd-member-remove": {
    // Our estimate: the check, member remove and member list again.
    expected: 15,
    // etcd-member.sh: member list 15, health 10, member remove retried for up to 60 (etcd refuses
    // it for about 5 s after a member restarts), member list again 15.
    bound: 15 + 10 + 60 + 15,
  },
  "reset-node": {
    // Our estimate: kubeadm reset stops the static pods and cleans its directories.
    expected: 60,
    // reset-node.sh: kubeadm reset 300; systemctl and iptables reads 30 each (4); stop, disable,
    // flush and clear 60 each.
    bound: 300 + 4 * 30 + 4 * 60,
  },
  "delete-node": {
    // Our estimate: a few API calls.
    expected: 10,
    // delete-nodes.sh: get node 30, list pods 30, delete node 60.
    bound: 120,
  },
  "delete-dead-node": {
    // As delete-node, with the pods listed.
    expected: 10,
    bound: 120,
  },
} as const satisfies Partial<Record<ActionKind, ActionSeconds>>;

/**
 * `kubeadm upgrade node` on a worker, which only rewrites the kubelet's configuration ("For
 * worker nodes this upgrades the local kubelet configuration",
 * https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/upgrading-linux-nodes/). Our
 * estimate; the bound is kubeadm-upgrade.sh's, as on a control-plane node.
 */
export const WORKER_KUBEADM_UPGRADE_NODE: ActionSeconds = { expected: 15, bound: ACTION_SECONDS["kubeadm-upgrade-node"].bound };

/**
 * A drain no PodDisruptionBudget holds back: TYPICAL_DRAIN_SECONDS (planning/blue-green.ts, our
 * estimate, the one a blue-green replacement counts too). Its bound is the pool's
 * `drain.timeoutSeconds` plus {@link DRAIN_OVERHEAD_SECONDS}.
 */
export const DRAIN_EXPECTED_SECONDS = TYPICAL_DRAIN_SECONDS;

/**
 * A restarted kubelet reporting Ready and renewing its lease: our estimate. Its bound is
 * `readyTimeoutSeconds` (wait-ready.sh's deadline covers every call it makes).
 */
export const WAIT_READY_EXPECTED_SECONDS = 30;

/**
 * Added to a drain's `timeoutSeconds` for its bound: drain.sh stops `kubectl drain` 60 s after
 * its --timeout; before it, it reads, annotates and cordons the node and lists its pods in up to
 * seven kubectl calls of at most 30 s each (--request-timeout=30s); after a drain that did not
 * finish, it takes up to 60 s more to say why for the pods left.
 */
export const DRAIN_OVERHEAD_SECONDS = 60 + 7 * 30 + 60;

/**
 * Added to the expected wait after an OS patch, for the reboot the OS may ask for: our estimate
 * of shutdown, boot, kubelet start and Ready on a cloud VM. Counted whether or not the patch
 * reboots (the plan cannot know); the bound is readyTimeoutSeconds either way.
 */
export const REBOOT_SECONDS = 150;

const min = (a: ActionSeconds): ActionSeconds => ({ expected: Math.min(a.expected, a.bound), bound: a.bound });

/**
 * Seconds of one action of `step`, with its config bound. The expected time is never above the
 * bound (a drain timeout shorter than TYPICAL_DRAIN_SECONDS caps it).
 * @throws Error for a blue-green phase (create-green ... terminate-blue): those are counted by the
 *   replacement's estimate ({@link estimateStep}).
 */
export function actionSeconds(step: Step, kind: ActionKind, bounds: DurationBounds): ActionSeconds {
  switch (kind) {
    case "drain":
      return min({ expected: DRAIN_EXPECTED_SECONDS, bound: bounds.drainTimeoutSeconds(step.pool) + DRAIN_OVERHEAD_SECONDS });
    case "wait-ready": {
      const reboot = step.actions.some((a) => a.kind === "os-patch") ? REBOOT_SECONDS : 0;
      return min({ expected: WAIT_READY_EXPECTED_SECONDS + reboot, bound: bounds.readyTimeoutSeconds });
    }
    case "kubeadm-upgrade-node":
      return step.kind === "worker-upgrade" ? WORKER_KUBEADM_UPGRADE_NODE : ACTION_SECONDS["kubeadm-upgrade-node"];
    case "etcd-snapshot":
    case "switch-repository":
    case "upgrade-kubeadm":
    case "kubeadm-upgrade-apply":
    case "upgrade-kubelet":
    case "os-patch":
    case "uncordon":
    case "etcd-member-check":
    case "etcd-member-remove":
    case "reset-node":
    case "delete-node":
    case "delete-dead-node":
      return ACTION_SECONDS[kind];
    default:
      throw new Error(`${kind} is a phase of a blue-green replacement, counted by the replacement's estimate`);
  }
}

/**
 * One step's duration, seconds: its actions one after another, each with
 * {@link COMMAND_OVERHEAD_SECONDS}; an etcd snapshot also uploads and exports when `bounds` say
 * so. A blue-green `pool-replace` step is its replacement's estimate (`typicalSeconds`,
 * `boundSeconds`: planning/blue-green.ts replacementEstimate); 0 without one (a pool without
 * blue-green settings: no commands carry it out).
 * @throws Error for a blue-green phase in a step that is not a `pool-replace` (the planner makes none).
 */
export function estimateStep(step: Step, bounds: DurationBounds): DurationEstimate {
  if (step.kind === "pool-replace") {
    const e = step.replacement?.estimate;
    // Without blue-green settings on the pool the replacement has no commands (planning/commands.ts planCommands).
    if (!e) return { expectedSeconds: 0, boundSeconds: 0 };
    return { expectedSeconds: e.typicalSeconds, boundSeconds: Math.max(e.boundSeconds, e.typicalSeconds) };
  }
  let expectedSeconds = 0;
  let boundSeconds = 0;
  const add = (a: ActionSeconds) => {
    expectedSeconds += a.expected + COMMAND_OVERHEAD_SECONDS;
    boundSeconds += a.bound + COMMAND_OVERHEAD_SECONDS;
  };
  for (const action of step.actions) {
    add(actionSeconds(step, action.kind, bounds));
    if (action.kind === "etcd-snapshot") {
      if (bounds.upload) add(UPLOAD_SNAPSHOT);
      // Before a node removal: the snapshot and its upload only (planning/commands.ts).
      if (step.kind === "node-removal") continue;
      if (bounds.exportResources) add(EXPORT_RESOURCES);
      if (bounds.volumeReadyTimeoutSeconds !== undefined) add(volumeSnapshotSeconds(bounds.volumeReadyTimeoutSeconds));
    }
  }
  return { expectedSeconds, boundSeconds };
}

/**
 * A wave's duration, seconds: for each stage of its steps (Step.stage, in order) the longest
 * step's expected time and the longest step's bound (times ceil(steps / parallel) when
 * `bounds.parallel` is set), added up over the stages.
 * @param bounds what the stack config bounds: typically `{ drainTimeoutSeconds: (p) =>
 *   options.drain(p).timeoutSeconds, readyTimeoutSeconds: options.readyTimeoutSeconds }` from
 *   ExecutionOptions (planning/commands.ts).
 * @returns expectedSeconds <= boundSeconds, and each stage's share.
 * @throws Error when a step id of `wave` is not in `plan` (a wave of another plan), or as
 *   {@link estimateStep} does.
 */
export function estimateWave(plan: UpgradePlan, wave: Wave, bounds: DurationBounds): WaveEstimate {
  return estimateSteps(plan, wave.steps, bounds, `wave ${wave.index}`);
}

/** The whole plan's duration, as {@link estimateWave} adds up a wave's: for a plan carried out in one update. */
export function estimatePlan(plan: UpgradePlan, bounds: DurationBounds): WaveEstimate {
  return estimateSteps(plan, plan.steps.map((s) => s.id), bounds, "the plan");
}

function estimateSteps(plan: UpgradePlan, ids: readonly string[], bounds: DurationBounds, what: string): WaveEstimate {
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  const stages: { stage: number; steps: Step[] }[] = [];
  for (const id of ids) {
    const step = byId.get(id);
    if (!step) throw new Error(`${what} has step ${id}, which is not in the plan`);
    const last = stages[stages.length - 1];
    if (last && last.stage === step.stage) last.steps.push(step);
    else stages.push({ stage: step.stage, steps: [step] });
  }
  const parallel = bounds.parallel !== undefined && bounds.parallel >= 1 ? Math.floor(bounds.parallel) : Infinity;
  const estimates: StageEstimate[] = stages.map(({ stage, steps }) => {
    const each = steps.map((s) => estimateStep(s, bounds));
    const rounds = Number.isFinite(parallel) ? Math.ceil(steps.length / parallel) : 1;
    return {
      stage,
      steps: steps.map((s) => s.id),
      expectedSeconds: rounds * Math.max(...each.map((e) => e.expectedSeconds)),
      boundSeconds: rounds * Math.max(...each.map((e) => e.boundSeconds)),
    };
  });
  return {
    expectedSeconds: estimates.reduce((sum, s) => sum + s.expectedSeconds, 0),
    boundSeconds: estimates.reduce((sum, s) => sum + s.boundSeconds, 0),
    stages: estimates,
  };
}

/**
 * A duration for people, rounded up to the minute from one minute on: `45 s`, `1 min`,
 * `1 h 25 min`, `3 h`, `26 h 5 min` (hours are not turned into days). An estimate rounds up, so
 * 61 s is `2 min`.
 * @param seconds >= 0.
 * @throws RangeError when seconds is negative or not a finite number.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`a duration must be a finite number of seconds >= 0, got ${seconds}`);
  if (Math.ceil(seconds) < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.ceil(seconds / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** The bounds a stack's execution options set (planning/commands.ts ExecutionOptions): drain and ready timeouts, backup upload, export and volume snapshots. */
export function durationBounds(execution: ExecutionOptions): DurationBounds {
  return { drainTimeoutSeconds: (pool) => execution.drain(pool).timeoutSeconds, readyTimeoutSeconds: execution.readyTimeoutSeconds, upload: execution.upload !== undefined, exportResources: execution.export !== undefined,
    ...(execution.volumes ? { volumeReadyTimeoutSeconds: execution.volumes.readyTimeoutSeconds } : {}) };
}

/** `expected 33 min, at most 5 h 6 min`. */
export function describeEstimate(e: DurationEstimate): string {
  return `expected ${formatDuration(e.expectedSeconds)}, at most ${formatDuration(e.boundSeconds)}`;
}
