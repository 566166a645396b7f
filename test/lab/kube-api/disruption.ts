/**
 * PodDisruptionBudgets and the eviction API, as the disruption controller and the eviction
 * subresource compute them (https://kubernetes.io/docs/concepts/workloads/pods/disruptions/ ,
 * https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/ ,
 * https://kubernetes.io/docs/tasks/run-application/configure-pdb/ ; REFERENCE.md "Drain,
 * cordon, eviction" and "Measured on a real kube-apiserver"). The status is recomputed from the
 * pods whenever it is read, as a disruption controller that never lags would.
 */
import type { KubeObject } from "./types";
import { ApiError } from "./status";
import { apiTime } from "./store";

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };

/** Whether a metav1.LabelSelector matches `labels` (policy/v1: an empty selector matches every pod, a missing one none). */
export function selectorMatches(selector: Selector | undefined, labels: Record<string, string> = {}): boolean {
  if (selector === undefined || selector === null) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    if (e.operator === "In" && !inValues) return false;
    if (e.operator === "NotIn" && inValues) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/** A pod counts as healthy when it is Ready and not being deleted (the disruption controller's countHealthyPods). */
export function podReady(pod: KubeObject): boolean {
  const conditions = ((pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []);
  return pod.metadata.deletionTimestamp === undefined && conditions.some((c) => c.type === "Ready" && c.status === "True");
}

/** The pods a budget covers: its namespace, its selector. */
export function coveredPods(pdb: KubeObject, pods: readonly KubeObject[]): KubeObject[] {
  const spec = pdb.spec as { selector?: Selector };
  return pods.filter((p) => p.metadata.namespace === pdb.metadata.namespace && selectorMatches(spec.selector, p.metadata.labels));
}

/** int or "N%" of `of`, rounded up (intstr.GetScaledValueFromIntOrPercent with roundUp, as the controller calls it). */
function scaled(v: number | string, of: number): number {
  return typeof v === "number" ? v : Math.ceil((Number(v.replace("%", "")) * of) / 100);
}

/**
 * The budget's status as the disruption controller writes it (its getExpectedPodCount and
 * updatePdbStatus): minAvailable as a number counts the covered pods as expected; maxUnavailable
 * or a percentage counts the replicas of their controllers (`scaleOf` gives a pod's controller
 * key and replicas; a pod without one leaves the status as it was, as the controller fails to sync).
 * disruptionsAllowed = currentHealthy - desiredHealthy, at least 0 (0 when nothing is expected);
 * pods evicted but not yet gone (disruptedPods, for 2 minutes) are not healthy.
 */
export function budgetStatus(
  pdb: KubeObject,
  pods: readonly KubeObject[],
  scaleOf: (pod: KubeObject) => { key: string; replicas: number } | undefined,
  now: number,
): Record<string, unknown> {
  const spec = pdb.spec as { minAvailable?: number | string; maxUnavailable?: number | string };
  const old = (pdb.status ?? {}) as { disruptedPods?: Record<string, string>; conditions?: { status: string; lastTransitionTime?: string }[] };
  const covered = coveredPods(pdb, pods);
  const disrupted = Object.fromEntries(
    Object.entries(old.disruptedPods ?? {}).filter(([name, at]) => covered.some((p) => p.metadata.name === name) && now - Date.parse(at) < 120_000),
  );
  let expected: number;
  let desired: number;
  if (typeof spec.minAvailable === "number") {
    expected = covered.length;
    desired = spec.minAvailable;
  } else {
    const controllers = new Map<string, number>();
    for (const p of covered) {
      const scale = scaleOf(p);
      if (scale === undefined) return pdb.status as Record<string, unknown>;
      controllers.set(scale.key, scale.replicas);
    }
    expected = [...controllers.values()].reduce((a, b) => a + b, 0);
    desired = spec.maxUnavailable !== undefined ? Math.max(0, expected - scaled(spec.maxUnavailable, expected)) : scaled(spec.minAvailable ?? 0, expected);
  }
  const healthy = covered.filter((p) => podReady(p) && disrupted[p.metadata.name] === undefined).length;
  const allowed = expected <= 0 ? 0 : Math.max(0, healthy - desired);
  const status = allowed > 0 ? "True" : "False";
  const previous = old.conditions?.[0];
  const generation = pdb.metadata.generation ?? 1;
  return {
    ...(Object.keys(disrupted).length > 0 ? { disruptedPods: disrupted } : {}),
    observedGeneration: generation,
    disruptionsAllowed: allowed,
    currentHealthy: healthy,
    desiredHealthy: desired,
    expectedPods: expected,
    conditions: [
      {
        type: "DisruptionAllowed",
        status,
        observedGeneration: generation,
        lastTransitionTime: previous?.status === status && previous.lastTransitionTime ? previous.lastTransitionTime : apiTime(now),
        reason: allowed > 0 ? "SufficientPods" : "InsufficientPods",
        message: "",
      },
    ],
  };
}

/** The outcome of an eviction the API allows: whether a budget's disruptionsAllowed is spent on it. */
export interface EvictionVerdict {
  /** The budget to charge (its status after: disruptionsAllowed - 1, the pod in disruptedPods), if any. */
  readonly charge?: KubeObject;
}

/**
 * Whether the eviction API lets `pod` go (registry/core/pod/storage/eviction.go): a pod that is
 * not running (Succeeded, Failed, Pending) or already being deleted, or one no budget covers,
 * goes; more than one budget is a 500; a budget whose disruptionsAllowed is 0 answers 429 with
 * the cause "The disruption budget NAME needs N healthy pods and has M currently" (the body of
 * eviction-denied-by-pdb.json); a pod that is not Ready goes when the budget is already met
 * (unhealthyPodEvictionPolicy IfHealthyBudget, the default) or always (AlwaysAllow).
 * `budgets` carry their current status.
 */
export function evictionVerdict(pod: KubeObject, budgets: readonly KubeObject[]): EvictionVerdict {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (phase === "Succeeded" || phase === "Failed" || phase === "Pending" || pod.metadata.deletionTimestamp !== undefined) return {};
  const covering = budgets.filter((b) => coveredPods(b, [pod]).length === 1);
  if (covering.length === 0) return {};
  if (covering.length > 1) {
    throw new ApiError(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.", {
      causes: [{ message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." }],
    });
  }
  const pdb = covering[0]!;
  const status = pdb.status as { disruptionsAllowed: number; currentHealthy: number; desiredHealthy: number };
  const policy = (pdb.spec as { unhealthyPodEvictionPolicy?: string }).unhealthyPodEvictionPolicy;
  if (!podReady(pod) && (policy === "AlwaysAllow" || (status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0))) return {};
  if (status.disruptionsAllowed <= 0) {
    throw new ApiError(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.", {
      causes: [
        {
          reason: "DisruptionBudget",
          message: `The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`,
        },
      ],
    });
  }
  return { charge: pdb };
}
