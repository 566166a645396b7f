/**
 * Kubelets the plan leaves at the edge of the version-skew policy: a kubelet the plan does not
 * move (a node in no pool, a blue-green pool held at its version) that ends as far behind the
 * newest kube-apiserver as the policy allows (3 minors; 2 for kubelets older than 1.25). Not a
 * blocker: the planner has already refused any plan that would break the policy (planning/skew.ts
 * checks every step's state); this says that the next minor upgrade of the control plane needs
 * these kubelets moved first. https://kubernetes.io/releases/version-skew-policy/#kubelet
 */
import { UNPOOLED } from "../planning/cluster";
import type { UpgradePlan } from "../planning/plan-types";
import { apiserverBounds, maxKubeletLag } from "../planning/skew";
import { Finding, findingId } from "./findings";

/** One note per kubelet at the limit after the plan (hop: the plan's last; 0 without hops), id `kubelet-skew/<node>`. */
export function kubeletSkewFindings(plan: UpgradePlan): Finding[] {
  const bounds = apiserverBounds(plan.finalState);
  if (!bounds) return [];
  const newest = bounds.newest.version;
  const hop = plan.hops.length;
  const out: Finding[] = [];
  for (const node of plan.finalState) {
    const kubelet = node.versions.kubelet;
    const lag = maxKubeletLag(kubelet);
    if (newest.minorsAfter(kubelet) < lag) continue;
    out.push({
      id: findingId("kubelet-skew", node.name),
      kind: "kubelet-skew",
      hop,
      node: node.name,
      blocking: false,
      detail: `after the plan, the kubelet on ${node.name} (${kubelet}) is ${newest.minorsAfter(kubelet)} minors behind kube-apiserver ${newest}, the most the version-skew policy allows: the next minor upgrade of the control plane needs it moved first${node.pool === UNPOOLED ? " (it is in no pool: select it with a pool to have it upgraded)" : ""}`,
    });
  }
  return out;
}
