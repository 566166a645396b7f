/**
 * Blue-green node pools, the pure part: colors and node names, the settings that shape a
 * replacement, and its estimated duration and extra capacity (what `npm run plan` shows).
 *
 * A color is everything one version of a pool is made of (launch template, instances, node
 * names): it derives from the version, so a new version is a new set of resources, created
 * before the old set is removed. Blue is the pool serving now, green the one replacing it.
 */
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
 * The temporary double capacity of replacing `blueCount` nodes: green runs from its creation
 * until blue is terminated at the end of the update.
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
