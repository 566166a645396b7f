/**
 * Go/no-go findings of the nodes removed for good (`removeNodes`, planning/removal.ts): a dead
 * node is deleted without a drain, so each of its pods with no controller is lost for good. Its
 * pods with a controller are made again elsewhere by their controllers, once the pod garbage
 * collector deletes the pods bound to a Node that no longer exists
 * (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-garbage-collection).
 * A live node's removal drains it: drain-blockers.ts judges that drain like any other.
 */
import type { UpgradePlan } from "../planning/plan-types";
import { Finding, findingId } from "./findings";
import type { Workloads } from "./workloads";

/** The nodes the plan removes for good. */
export function removedNodes(plan: UpgradePlan): Set<string> {
  return new Set(plan.removals.flatMap((s) => s.nodes));
}

/**
 * A note `pod-lost-with-dead-node/<ns>/<pod>` for each pod with no controller (not a static pod's
 * mirror) bound to a node removed with `dead: true`; hop 0, the removal comes before any hop.
 */
export function removalFindings(plan: UpgradePlan, workloads: Workloads): Finding[] {
  const dead = new Set(plan.removals.filter((s) => s.actions.some((a) => a.kind === "delete-dead-node")).flatMap((s) => s.nodes));
  if (dead.size === 0) return [];
  return workloads.pods
    .filter((p) => dead.has(p.node) && !p.controller && !p.mirror)
    .map((p) => ({
      id: findingId("pod-lost-with-dead-node", `${p.namespace}/${p.name}`),
      kind: "pod-lost-with-dead-node" as const,
      hop: 0,
      node: p.node,
      object: `Pod ${p.namespace}/${p.name}`,
      blocking: false,
      detail: `pod ${p.namespace}/${p.name} has no controller and is bound to the dead node ${p.node}: it is lost for good when the Node is deleted (nothing makes it again); recreate it from its manifest if you need it`,
    }));
}
