/**
 * Drain blockers, batch by batch, before anything runs: what would stop or hurt each drain
 * the plan makes, judged from the pods where they run now (a hop after the first sees the
 * pods where they are today; where earlier drains move them is not known in advance).
 *
 * Rules (https://kubernetes.io/docs/reference/kubectl/generated/kubectl_drain/ ,
 * https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/ , REFERENCE.md
 * "Drain, cordon, eviction"):
 * - a drain evicts every pod on the node except mirror pods, DaemonSet pods and finished pods;
 * - an eviction of a pod a PodDisruptionBudget selects is refused (429) while the budget's
 *   `status.disruptionsAllowed` is 0, and kubectl retries until `--timeout`: a budget that
 *   allows no disruption blocks every batch holding one of its pods. One that allows fewer
 *   disruptions than the batch evicts only slows the drain (the rest go as replacements
 *   become healthy);
 * - node-scripts/drain.sh refuses pods without a controller (lost for good when deleted)
 *   unless the pool's `drain.deleteUnmanagedPods`, and pods with emptyDir volumes (their data
 *   is deleted) unless `drain.deleteEmptyDirData`; with the flag the finding stays, not blocking;
 * - with `drain.disableEviction` pods are deleted, bypassing budgets: said, not blocking.
 * Also, not blocking: a Deployment or StatefulSet whose every pod is on one batch's nodes
 * (it has no ready pod until its replacements start elsewhere).
 */
import type { DrainOptions } from "../planning/commands";
import type { Step, UpgradePlan } from "../planning/plan-types";
import { Finding, findingId } from "./findings";
import { Budget, drainEvicts, selectorMatches, WorkloadPod, Workloads, workloadOf } from "./workloads";

/** One drain batch: the nodes one stage of the plan drains together. */
export interface DrainBatch {
  /** The finding's hop: the step's hop, or {@link osPatchHop} for OS patching. */
  readonly hop: number;
  readonly pool: string;
  readonly nodes: readonly string[];
  /** How it is named in messages: `pool batch batch 1 of 2 (hop 1, to 1.32.13)`. */
  readonly label: string;
}

/** The hop number OS-patch findings carry: one after the plan's last hop. */
export function osPatchHop(plan: UpgradePlan): number {
  return plan.hops.length + 1;
}

/**
 * The plan's drains in plan order: one batch per stage of steps that drain (a pool's batch, a
 * control-plane node), and for a blue-green replacement its old nodes in batches of the pool's
 * `batchSize` (its `drain-blue` action: pool-node.sh drains them with the pool's drain settings).
 */
export function drainBatches(plan: UpgradePlan): DrainBatch[] {
  const patchHop = osPatchHop(plan);
  const out: DrainBatch[] = [];
  let stage: { step: Step; nodes: string[] } | undefined;
  const flush = () => {
    if (!stage) return;
    const { step, nodes } = stage;
    const where = step.kind === "os-patch" ? "OS patching" : step.kind === "node-removal" ? "removal for good" : `hop ${step.hop}, to ${step.version}`;
    const which = step.batch ? `batch ${step.batch.index} of ${step.batch.count}` : nodes.join(", ");
    out.push({ hop: step.kind === "os-patch" ? patchHop : step.hop, pool: step.pool, nodes, label: `${step.pool} ${which} (${where})` });
    stage = undefined;
  };
  for (const step of plan.steps) {
    if (step.kind === "pool-replace" && step.replacement && step.actions.some((a) => a.kind === "drain-blue")) {
      flush();
      const size = Math.max(1, step.replacement.estimate.batchSize);
      const count = Math.ceil(step.nodes.length / size);
      for (let i = 0; i < count; i++) {
        out.push({ hop: step.hop, pool: step.pool, nodes: step.nodes.slice(i * size, (i + 1) * size), label: `${step.pool} replacement, old nodes batch ${i + 1} of ${count} (hop ${step.hop}, to ${step.version})` });
      }
      continue;
    }
    if (step.kind === "resume" || !step.actions.some((a) => a.kind === "drain")) continue;
    if (stage && stage.step.stage !== step.stage) flush();
    if (stage) stage.nodes.push(...step.nodes);
    else stage = { step, nodes: [...step.nodes] };
  }
  flush();
  return out;
}

/**
 * The drain findings of every batch of the plan (budgets counted over the whole batch: its
 * nodes are drained together).
 * @param drain the drain settings of a pool (`control-plane` for control-plane nodes).
 * @returns findings with ids `pdb-blocks-drain/<ns>/<pdb>`, `pod-without-controller/<ns>/<pod>`,
 *   `pod-with-local-data/<ns>/<pod>`, `workload-on-one-batch/<Kind>/<ns>/<name>`; one per
 *   node and hop where it applies.
 */
export function drainFindings(plan: UpgradePlan, workloads: Workloads, drain: (pool: string) => DrainOptions): Finding[] {
  const byNode = new Map<string, WorkloadPod[]>();
  const podsOf = new Map<string, WorkloadPod[]>();
  for (const pod of workloads.pods) {
    if (pod.node === "") continue;
    byNode.set(pod.node, [...(byNode.get(pod.node) ?? []), pod]);
    const workload = pod.terminating ? undefined : workloadOf(pod, workloads.replicaSetOwners);
    if (workload) podsOf.set(workload, [...(podsOf.get(workload) ?? []), pod]);
  }
  const budgetsByNamespace = new Map<string, Budget[]>();
  for (const b of workloads.budgets) budgetsByNamespace.set(b.namespace, [...(budgetsByNamespace.get(b.namespace) ?? []), b]);

  const findings: Finding[] = [];
  for (const batch of drainBatches(plan)) {
    const options = drain(batch.pool);
    const touched = new Set<string>();
    const evicted: WorkloadPod[] = [];
    for (const node of batch.nodes) {
      const here = (byNode.get(node) ?? []).filter((p) => drainEvicts(p) && !p.terminating);
      for (const p of here) touched.add(workloadOf(p, workloads.replicaSetOwners) ?? "");
      findings.push(...podFindings(batch, node, here, options));
      evicted.push(...here);
    }
    if (!options.disableEviction) findings.push(...budgetFindings(batch, evicted, budgetsByNamespace, options));
    touched.delete("");
    findings.push(...wholeWorkloads(batch, touched, podsOf));
  }
  return findings;
}

function podFindings(batch: DrainBatch, node: string, evicted: readonly WorkloadPod[], options: DrainOptions): Finding[] {
  const out: Finding[] = [];
  for (const pod of evicted) {
    const object = `Pod ${pod.namespace}/${pod.name}`;
    if (!pod.controller) {
      out.push({
        id: findingId("pod-without-controller", `${pod.namespace}/${pod.name}`),
        kind: "pod-without-controller",
        hop: batch.hop,
        node,
        object,
        blocking: !options.deleteUnmanagedPods,
        detail: options.deleteUnmanagedPods
          ? `${object} on ${node} has no controller: draining ${batch.label} deletes it for good (pool ${batch.pool} has drain.deleteUnmanagedPods)`
          : `${object} on ${node} has no controller, so draining ${batch.label} would lose it for good and the drain refuses it: move it to a Deployment, or delete it yourself, or set drain.deleteUnmanagedPods on pool ${batch.pool}`,
      });
    }
    if (pod.emptyDirs.length > 0) {
      const volumes = pod.emptyDirs.join(", ");
      out.push({
        id: findingId("pod-with-local-data", `${pod.namespace}/${pod.name}`),
        kind: "pod-with-local-data",
        hop: batch.hop,
        node,
        object,
        blocking: !options.deleteEmptyDirData,
        detail: options.deleteEmptyDirData
          ? `${object} on ${node} has emptyDir volumes (${volumes}): draining ${batch.label} deletes their data (pool ${batch.pool} has drain.deleteEmptyDirData)`
          : `${object} on ${node} has emptyDir volumes (${volumes}), whose data a drain deletes, so the drain of ${batch.label} refuses it: set drain.deleteEmptyDirData on pool ${batch.pool} if the data can go`,
      });
    }
  }
  return out;
}

/** Per budget, the pods the whole batch evicts against its disruptionsAllowed; one finding per node holding such pods. */
function budgetFindings(batch: DrainBatch, evicted: readonly WorkloadPod[], budgets: ReadonlyMap<string, Budget[]>, options: DrainOptions): Finding[] {
  const out: Finding[] = [];
  const namespaces = new Set(evicted.map((p) => p.namespace));
  for (const ns of namespaces) {
    for (const b of budgets.get(ns) ?? []) {
      const selected = evicted.filter((p) => p.namespace === ns && selectorMatches(b.selector, p.labels));
      if (selected.length === 0 || selected.length <= b.disruptionsAllowed) continue;
      const object = `PodDisruptionBudget ${b.namespace}/${b.name}`;
      const health = `${b.currentHealthy} healthy of ${b.expectedPods}, ${b.desiredHealthy} needed`;
      const blocking = b.disruptionsAllowed === 0;
      for (const node of [...new Set(selected.map((p) => p.node))]) {
        const names = selected.filter((p) => p.node === node).map((p) => p.name).join(", ");
        out.push({
          id: findingId("pdb-blocks-drain", `${b.namespace}/${b.name}`),
          kind: "pdb-blocks-drain",
          hop: batch.hop,
          node,
          object,
          blocking,
          detail: blocking
            ? `${object} allows no disruption (${health}); draining ${node} in ${batch.label} would evict ${names}, so the drain would wait ${options.timeoutSeconds} s and stop the hop: scale the workload up or relax the budget before the upgrade`
            : `${object} allows ${b.disruptionsAllowed} disruption(s) (${health}) and ${batch.label} evicts ${selected.length} of its pods (on ${node}: ${names}): the drain goes on as replacements become healthy, within its ${options.timeoutSeconds} s`,
        });
      }
    }
  }
  return out;
}

/** Workloads (among `touched`, those the batch evicts pods of) whose every pod runs on the batch's nodes. */
function wholeWorkloads(batch: DrainBatch, touched: ReadonlySet<string>, podsOf: ReadonlyMap<string, WorkloadPod[]>): Finding[] {
  const out: Finding[] = [];
  const inBatch = new Set(batch.nodes);
  for (const workload of touched) {
    const pods = podsOf.get(workload) ?? [];
    if (!pods.every((p) => inBatch.has(p.node))) continue;
    const nodes = [...new Set(pods.map((p) => p.node))].sort();
    out.push({
      id: findingId("workload-on-one-batch", workload.replace(" ", "/")),
      kind: "workload-on-one-batch",
      hop: batch.hop,
      node: nodes[0]!,
      object: workload,
      blocking: false,
      detail: `every pod of ${workload} (${pods.length}) runs on ${nodes.join(", ")}, drained together in ${batch.label}: it has no running pod until its replacements start elsewhere`,
    });
  }
  return out;
}
