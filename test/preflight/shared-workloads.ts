/** Test helper: the workloads of ../shared/data/kube-api/v1.31-kubeadm-ha (pods.json, poddisruptionbudgets.json, replicasets.json) as the check reads them. */
import { replicaSetOwner, slimBudget, slimWorkloadPod, Workloads } from "../../preflight/workloads";
import { readData } from "../discovery/static-api";

export function sharedWorkloads(): Workloads {
  return {
    pods: readData("pods.json").items.map(slimWorkloadPod),
    budgets: readData("poddisruptionbudgets.json").items.map(slimBudget),
    replicaSetOwners: new Map(readData("replicasets.json").items.flatMap((rs: unknown) => { const owner = replicaSetOwner(rs); return owner ? [owner] : []; })),
  };
}
