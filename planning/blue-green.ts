/**
 * Blue-green node pools, the pure part: colors and node names, the settings that shape a
 * replacement, and its estimated duration and extra capacity (what `npm run plan` shows).
 *
 * A color is everything one version of a pool is made of (launch template, instances, node
 * names): it derives from the version, so a new version is a new set of resources, created
 * before the old set is removed. Blue is the pool serving now, green the one replacing it.
 */
import { PlanningError } from "./errors";
import type { UpgradePlan } from "./plan-types";
import type { KubeVersion } from "./versions";

/** Color tag of a version, usable in resource and node names: `v1-37-1` for 1.37.1. */
export function colorTag(version: KubeVersion): string {
  return `v${version.major}-${version.minor}-${version.patch}`;
}

/**
 * Node names of a pool's color: `<pool>-<color tag>-<i>`, i = 1..size, e.g. `batch-v1-37-1-2`.
 * Each is the instance's `Name` tag and its Kubernetes node name (user data joins with it).
 */
export function colorNodeNames(pool: string, version: KubeVersion, size: number): string[] {
  return Array.from({ length: size }, (_, i) => `${pool}-${colorTag(version)}-${i + 1}`);
}

/**
 * Nodes launched per join token: a color's nodes are launched in batches of this many, each
 * batch with its own bootstrap token, created only once the previous batch's nodes are Ready, so
 * no instance boots with a token that expired while earlier batches were waiting. Ten keeps a
 * batch's launches and readiness gates within the engine's default parallelism on a small host
 * (`pulumi up --parallel` defaults to 4 x CPUs: 8 on 2 CPUs) and a token's exposure short.
 */
export const JOIN_BATCH_NODES = 10;
/** Bound on one EC2 launch as the engine sees it (RunInstances until the instance runs), minutes. */
export const LAUNCH_MINUTES_PER_INSTANCE = 2;
/** Added to a join token's validity for clock skew and the API calls around it, minutes. */
export const JOIN_TOKEN_MARGIN_MINUTES = 5;

/** One batch of launches: nodes `first`..`last` (1-based, inclusive) of a color, and their names. */
export interface JoinBatch {
  readonly first: number;
  readonly last: number;
  /** `${first}-${last}`: names the batch's token commands and its token's description. */
  readonly range: string;
  readonly nodes: readonly string[];
}

/**
 * A color's nodes in batches of {@link JOIN_BATCH_NODES}: batch k holds nodes [k*J, (k+1)*J)
 * (0-based), so growing a pool changes only its last batch's range (and adds batches).
 */
export function joinBatches(nodes: readonly string[], per = JOIN_BATCH_NODES): JoinBatch[] {
  const out: JoinBatch[] = [];
  for (let i = 0; i < nodes.length; i += per) {
    const batch = nodes.slice(i, i + per);
    out.push({ first: i + 1, last: i + batch.length, range: `${i + 1}-${i + batch.length}`, nodes: batch });
  }
  return out;
}

/**
 * Validity of a batch's join token, minutes:
 * `nodes x LAUNCH_MINUTES_PER_INSTANCE + 2 x ceil(readyTimeoutSeconds / 60) + JOIN_TOKEN_MARGIN_MINUTES`.
 * The token is created when the batch is about to launch; its launches may run one after another
 * (nodes x 2 min), may wait for an engine worker held by other readiness gates (at most the ready
 * timeout), and a node must join before its own gate gives up (the ready timeout again); a join
 * after that is of no use. E.g. 10 nodes, 600 s: 20 + 20 + 5 = 45 minutes.
 */
export function joinTokenTtlMinutes(nodes: number, readyTimeoutSeconds: number): number {
  return nodes * LAUNCH_MINUTES_PER_INSTANCE + 2 * Math.ceil(readyTimeoutSeconds / 60) + JOIN_TOKEN_MARGIN_MINUTES;
}

/** Bound on a pool name for blue-green pools, so `<pool>-v1-NN-NN-NNN` stays a DNS label (63). */
export const BLUE_GREEN_POOL_NAME_MAX = 40;

/** What shapes one blue-green pool's replacement (config: pools[i] of strategy blue-green). */
export interface BlueGreenSpec {
  /**
   * The version the pool should end at; a replacement is planned when its nodes are behind
   * it. Setting it back to the pool's current version is how a failed or soaking
   * replacement is rolled back. @default the cluster's target version
   */
  readonly targetVersion?: KubeVersion;
  /** Instances of the new (green) color. */
  readonly size: number;
  /** Old (blue) nodes drained at once. @default 1 */
  readonly batchSize: number;
  /** Wait after each drained batch but the last, seconds. @default 0 */
  readonly batchSoakSeconds: number;
  /** Wait after the last drain, with green watched, before blue is deleted, seconds. @default 600 */
  readonly soakSeconds: number;
  /** Instances this pool may run at once (blue and green together); absent: not checked. */
  readonly instanceQuota?: number;
  /** Price of one instance-hour in USD, for the cost shown in the plan; absent: hours only. */
  readonly hourlyCostUsd?: number;
  /** The old nodes are instances of this stack (true) or nodes it adopted from config (false). */
  readonly managed: boolean;
  /** Bound on waiting for green nodes to be Ready, seconds (readyTimeoutSeconds). */
  readonly readyTimeoutSeconds: number;
  /** Bound on one drain, seconds (the pool's drain.timeoutSeconds). */
  readonly drainTimeoutSeconds: number;
}

/** Seconds an instance typically takes to boot, install its packages and join. */
export const TYPICAL_JOIN_SECONDS = 300;
/** Seconds a drain typically takes when no PodDisruptionBudget holds it back. */
export const TYPICAL_DRAIN_SECONDS = 120;

export interface ReplacementEstimate {
  /** Blue nodes drained per batch, and the number of batches. */
  readonly batchSize: number;
  readonly batches: number;
  /** Instances running at the peak (blue + green), and the extra (green) ones. */
  readonly peakInstances: number;
  readonly extraInstances: number;
  /** Typical duration, seconds: join + drains + soaks. */
  readonly typicalSeconds: number;
  /** Longest duration the bounds allow, seconds: ready timeout + drain timeouts + soaks. */
  readonly boundSeconds: number;
  /** Extra instance-hours (green running while blue still runs) for the typical and the bound duration. */
  readonly extraInstanceHours: { readonly typical: number; readonly bound: number };
  /** Their cost in USD, when an hourly cost is configured. */
  readonly extraCostUsd?: { readonly typical: number; readonly bound: number };
}

/**
 * The temporary double capacity of replacing `blueCount` nodes during the update that replaces
 * them: green runs from its creation on. Blue is terminated by the first `pulumi up` after the
 * pool's `version` is set to the new version, so it runs on (idle, its Nodes deleted) until then;
 * that time is not counted here.
 */
export function replacementEstimate(blueCount: number, spec: BlueGreenSpec): ReplacementEstimate {
  const batchSize = Math.min(spec.batchSize, Math.max(blueCount, 1));
  const batches = Math.ceil(blueCount / batchSize);
  const soaks = (batches - 1) * spec.batchSoakSeconds + spec.soakSeconds;
  const typicalSeconds = TYPICAL_JOIN_SECONDS + batches * TYPICAL_DRAIN_SECONDS + soaks;
  const boundSeconds = spec.readyTimeoutSeconds + batches * spec.drainTimeoutSeconds + soaks;
  const hours = (s: number) => Math.round((spec.size * s) / 36) / 100;
  const extraInstanceHours = { typical: hours(typicalSeconds), bound: hours(boundSeconds) };
  const cost = spec.hourlyCostUsd;
  return {
    batchSize, batches, peakInstances: blueCount + spec.size, extraInstances: spec.size, typicalSeconds, boundSeconds, extraInstanceHours,
    ...(cost !== undefined
      ? { extraCostUsd: { typical: Math.round(extraInstanceHours.typical * cost * 100) / 100, bound: Math.round(extraInstanceHours.bound * cost * 100) / 100 } }
      : {}),
  };
}

/**
 * Refuses a plan that replaces a blue-green pool more than once: one `pulumi up` replaces a
 * pool at most once (an intermediate color would be created and terminated in the same
 * update). Called where the plan is made for both the program and `npm run plan`
 * (planning/assembled-plan.ts assemblePlan), so both refuse the same plan.
 * @throws PlanningError naming each such pool and the versions it would be replaced at.
 */
export function refuseRepeatedReplacement(plan: UpgradePlan): void {
  const reasons: string[] = [];
  for (const p of plan.pools.filter((x) => x.blueGreen)) {
    const at = plan.steps.filter((s) => s.kind === "pool-replace" && s.pool === p.name).map((s) => s.version.tag);
    if (at.length > 1) reasons.push(`pool ${p.name} must be replaced ${at.length} times (at ${at.join(", then ")}) to keep the kubelet version skew`);
  }
  if (reasons.length > 0) {
    throw new PlanningError(reasons, "one pulumi up replaces a blue-green pool once: first upgrade to the earlier version (targetVersion), run pulumi up, then to the next");
  }
}
