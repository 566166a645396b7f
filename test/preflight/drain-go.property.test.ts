/**
 * Property of the go/no-go check (issue 12 item 8): a plan the report calls go never drains a
 * batch that the PodDisruptionBudget arithmetic says would block, and every such budget makes
 * its hop no-go. Random clusters and plans (test/helpers/plan-arbitraries.ts), random pods on
 * their nodes (controllers, mirror, finished and terminating pods, labels in two namespaces)
 * and random budgets (matchLabels, set-based expressions, `{}` and no selector;
 * disruptionsAllowed 0..3), random drain settings per pool.
 *
 * The oracle is written here from the rules, not from preflight/: a drain (a `drain` action of
 * a control-plane kubelet or rolling worker step, or a blue-green replacement's `drain-blue` of
 * its old nodes, when the pool has its blue-green settings and so its commands) evicts every pod on its nodes but mirror,
 * DaemonSet, finished (Succeeded/Failed) and terminating ones; the eviction API refuses (429)
 * a pod a budget selects while the budget's status.disruptionsAllowed is 0
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/ ;
 * ../shared/data/kube-api/v1.31-kubeadm-ha/eviction-denied-by-pdb.json), unless the pool's
 * drain deletes instead of evicting (drain.disableEviction). Budgets allowing a disruption only
 * slow a drain: never a blocker.
 */
import fc from "fast-check";
import type { DrainOptions } from "../../planning/commands";
import { planUpgrade } from "../../planning/plan";
import { drainFindings } from "../../preflight/drain-blockers";
import { judge } from "../../preflight/findings";
import { judgedHops } from "../../preflight/readiness";
import type { Budget, ObjectSelector, WorkloadPod, Workloads } from "../../preflight/workloads";
import { CATALOGUE, upgradeCase } from "../helpers/plan-arbitraries";

const NOW = new Date("2026-11-28");
const RUNS = { numRuns: 300 };

const NAMESPACES = ["shop", "jobs"] as const;
const APPS = ["web", "db", "cache"] as const;

const rawPod = fc.record({
  node: fc.nat(),
  namespace: fc.constantFrom(...NAMESPACES),
  app: fc.constantFrom(...APPS),
  tier: fc.option(fc.constantFrom("front", "back"), { nil: undefined }),
  owner: fc.constantFrom("ReplicaSet", "StatefulSet", "DaemonSet", "none", "mirror"),
  phase: fc.constantFrom("Running", "Running", "Running", "Pending", "Succeeded", "Failed"),
  /** One pod in eight is being deleted. */
  terminating: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
});

const selector: fc.Arbitrary<ObjectSelector | undefined> = fc.oneof(
  fc.constantFrom(...APPS).map((app) => ({ matchLabels: { app } })),
  fc.record({ app: fc.constantFrom(...APPS), tier: fc.constantFrom("front", "back") }).map((matchLabels) => ({ matchLabels })),
  fc.subarray([...APPS], { minLength: 1 }).map((values) => ({ matchExpressions: [{ key: "app", operator: "In", values }] })),
  fc.constantFrom("front", "back").map((t) => ({ matchExpressions: [{ key: "tier", operator: "NotIn", values: [t] }] })),
  fc.constantFrom("Exists", "DoesNotExist").map((operator) => ({ matchLabels: {}, matchExpressions: [{ key: "tier", operator }] })),
  fc.constant({}),
  fc.constant(undefined),
);

const rawBudget = fc.record({ namespace: fc.constantFrom(...NAMESPACES), selector, disruptionsAllowed: fc.integer({ min: 0, max: 3 }) });

const rawDrain = fc.record({ disableEviction: fc.boolean(), deleteEmptyDirData: fc.boolean(), deleteUnmanagedPods: fc.boolean() });

/** A label selector as policy/v1 reads it: none selects nothing, `{}` everything. Written here, apart from preflight/workloads.ts. */
function selects(s: ObjectSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (s === undefined) return false;
  const labelsOk = Object.entries(s.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const expressionsOk = (s.matchExpressions ?? []).every((e) => {
    const value = labels[e.key];
    if (e.operator === "In") return value !== undefined && (e.values ?? []).includes(value);
    if (e.operator === "NotIn") return value === undefined || !(e.values ?? []).includes(value);
    if (e.operator === "Exists") return value !== undefined;
    if (e.operator === "DoesNotExist") return value === undefined;
    throw new Error(`operator ${e.operator} not generated`);
  });
  return labelsOk && expressionsOk;
}

/** Whether a drain evicts the pod (kubectl drain --ignore-daemonsets: not mirror, DaemonSet, finished, or already going). */
const evicted = (p: WorkloadPod) => !p.mirror && p.controller?.kind !== "DaemonSet" && p.phase !== "Succeeded" && p.phase !== "Failed" && !p.terminating;

it("a hop the report calls go has no drain a budget allowing no disruption would stop, and every such budget makes its hop no-go", () => {
  fc.assert(
    fc.property(
      upgradeCase,
      fc.array(rawPod, { maxLength: 40 }),
      fc.array(rawBudget, { maxLength: 6 }),
      fc.array(rawDrain, { minLength: 1, maxLength: 6 }),
      (c, rawPods, rawBudgets, drains) => {
        const plan = planUpgrade(c.cluster, c.target, { catalogue: CATALOGUE, now: NOW });
        const nodes = c.cluster.nodes.map((n) => n.name);
        const pods: WorkloadPod[] = rawPods.map((r, i) => ({
          namespace: r.namespace,
          name: `${r.app}-${i}`,
          node: nodes[r.node % nodes.length]!,
          labels: { app: r.app, ...(r.tier ? { tier: r.tier } : {}) },
          ...(r.owner === "none" || r.owner === "mirror" ? {} : { controller: { kind: r.owner, name: r.owner === "ReplicaSet" ? `${r.app}-7d4b9c` : r.app } }),
          mirror: r.owner === "mirror",
          phase: r.phase,
          terminating: r.terminating,
          ready: r.phase === "Running",
          emptyDirs: [],
        }));
        const budgets: Budget[] = rawBudgets.map((b, i) => ({
          namespace: b.namespace,
          name: `pdb-${i}`,
          ...(b.selector ? { selector: b.selector } : {}),
          disruptionsAllowed: b.disruptionsAllowed,
          currentHealthy: 2,
          desiredHealthy: 2 - b.disruptionsAllowed,
          expectedPods: 2,
        }));
        const owners = new Map(NAMESPACES.flatMap((ns) => APPS.map((app) => [`${ns}/${app}-7d4b9c`, app] as [string, string])));
        const workloads: Workloads = { pods, budgets, replicaSetOwners: owners };
        const pools = ["control-plane", ...c.cluster.pools.map((p) => p.name)];
        const drain = (pool: string): DrainOptions => ({ timeoutSeconds: 600, ...drains[Math.max(0, pools.indexOf(pool)) % drains.length]! });

        const readiness = judge(drainFindings(plan, workloads, drain), judgedHops(plan), []);

        // The oracle: per hop, the budgets that would stop one of its drains.
        const blocking = new Map<number, Set<string>>();
        for (const step of plan.steps) {
          if (!step.actions.some((a) => a.kind === "drain" || (a.kind === "drain-blue" && step.replacement !== undefined)) || drain(step.pool).disableEviction) continue;
          for (const node of step.nodes) {
            for (const pod of pods.filter((p) => p.node === node && evicted(p))) {
              for (const b of budgets) {
                if (b.namespace !== pod.namespace || b.disruptionsAllowed !== 0 || !selects(b.selector, pod.labels)) continue;
                blocking.set(step.hop, (blocking.get(step.hop) ?? new Set()).add(`pdb-blocks-drain/${b.namespace}/${b.name}`));
              }
            }
          }
        }
        expect(readiness.verdicts.map((v) => v.hop)).toEqual(plan.hops.map((h) => h.index));
        for (const v of readiness.verdicts) {
          const expected = [...(blocking.get(v.hop) ?? [])].sort();
          // Go: none of the hop's drains meets a budget allowing no disruption ...
          if (v.go) expect(expected).toEqual([]);
          // ... and each such budget is a blocker of its hop, and no other budget is.
          expect(v.blockers.filter((id) => id.startsWith("pdb-blocks-drain/")).sort()).toEqual(expected);
        }
        // Acknowledging every blocker lets every hop through; the budgets stay reported.
        const all = [...new Set(readiness.verdicts.flatMap((v) => v.blockers))];
        const acked = judge(drainFindings(plan, workloads, drain), judgedHops(plan), all);
        expect(acked.verdicts.every((v) => v.go)).toBe(true);
        expect(acked.unusedAcknowledgements).toEqual([]);
      },
    ),
    RUNS,
  );
});
