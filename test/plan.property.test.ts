/**
 * Properties of planUpgrade over random clusters (test/helpers/plan-arbitraries.ts): every
 * plan hops one minor at a time to the target, keeps the control plane ahead of the
 * workers, passes the full skew check after every step (the independent proof of the
 * planner's incremental check), brings every component to the target, upgrades rolling
 * pools in bounded batches every hop, replaces blue-green pools the fewest times possible,
 * and is deterministic.
 */
import fc from "fast-check";
import { COMPONENTS, CONTROL_PLANE_POOL, NodeState } from "../planning/cluster";
import { NodeTable } from "../planning/node-table";
import { planUpgrade } from "../planning/plan";
import type { Hop, Step, UpgradePlan } from "../planning/plan-types";
import { apiserverBounds, checkSkew, maxKubeletLag } from "../planning/skew";
import { KubeVersion } from "../planning/versions";
import { CATALOGUE, midHopUpgradeCase, UpgradeCase, upgradeCase } from "./helpers/plan-arbitraries";

const NOW = new Date("2026-11-21");
const RUNS = { numRuns: 100 };

function plan(c: UpgradeCase): UpgradePlan {
  return planUpgrade(c.cluster, c.target, { catalogue: CATALOGUE, now: NOW });
}

const hopSteps = (p: UpgradePlan, hop: Hop): Step[] => p.steps.filter((s) => s.hop === hop.index);
const isControlPlaneStep = (s: Step) => s.pool === CONTROL_PLANE_POOL;

/** The state before step `i` (0-based position in plan.steps). */
function stateBefore(p: UpgradePlan, i: number): NodeTable {
  return i === 0 ? p.initialState : p.steps[i - 1]!.stateAfter;
}

/** The state before the first step of `hop`. */
function stateBeforeHop(p: UpgradePlan, hop: Hop): NodeTable {
  return stateBefore(p, p.steps.findIndex((s) => s.hop === hop.index));
}

function apiserverMinors(state: Iterable<NodeState>): number[] {
  return [...state].flatMap((n) => (n.versions["kube-apiserver"] ? [n.versions["kube-apiserver"].minor] : []));
}

/**
 * The fewest replacements of a blue-green pool, computed without the planner: the newest
 * kube-apiserver climbs one minor at a time to the target; a replacement joins at the
 * control plane's version at that moment; a pool whose oldest kubelet is at minor p must be
 * replaced before the newest apiserver goes above p + maxLag(p). Replacing as late as
 * possible (greedy) is optimal; one last replacement if the pool is not at the target.
 */
function fewestReplacements(nodes: readonly NodeState[], initialNewestMinor: number, target: KubeVersion): number {
  let oldest = nodes.map((n) => n.versions.kubelet).reduce((a, b) => (b.isBefore(a) ? b : a));
  let count = 0;
  for (let m = initialNewestMinor + 1; m <= target.minor; m++) {
    if (m - oldest.minor > maxKubeletLag(oldest)) {
      count++;
      oldest = KubeVersion.of(1, m - 1, 0);
    }
  }
  const atTarget = count === 0 && nodes.every((n) => n.versions.kubelet.equals(target) && n.versions.kubectl.equals(target));
  return atTarget ? count : count + 1;
}

describe.each([
  ["clusters at rest", upgradeCase],
  ["clusters stopped in the middle of a hop", midHopUpgradeCase],
])("planUpgrade over random %s", (_, upgradeCase) => {
  it("generates only clusters that pass the skew policy and targets at or after every component", () => {
    fc.assert(
      fc.property(upgradeCase, ({ cluster, target }) => {
        expect(checkSkew(cluster.nodes)).toEqual([]);
        for (const n of cluster.nodes) for (const c of COMPONENTS) expect(target.isBefore(n.versions[c] ?? target)).toBe(false);
        const t = CATALOGUE.get(target.minor)!;
        expect(target.compare(t.latestPatch)).toBeLessThanOrEqual(0);
      }),
      RUNS,
    );
  });

  it("(a) hops one minor at a time, through every minor of the control plane, ending at the target", () => {
    fc.assert(
      fc.property(upgradeCase, (c) => {
        const p = plan(c);
        const minors = p.hops.map((h) => h.to.minor);
        minors.forEach((m, i) => i > 0 && expect(m).toBe(minors[i - 1]! + 1));
        expect(p.hops.map((h) => h.index)).toEqual(p.hops.map((_, i) => i + 1));
        const cpMinor = Math.min(...apiserverMinors(p.initialState));
        for (let m = cpMinor + 1; m <= c.target.minor; m++) expect(minors).toContain(m);
        if (p.hops.length > 0) expect(p.hops[p.hops.length - 1]!.to.toString()).toBe(c.target.toString());
        // every intermediate hop goes to a released version of its minor
        for (const h of p.hops.slice(0, -1)) expect(h.to.compare(CATALOGUE.get(h.to.minor)!.latestPatch)).toBeLessThanOrEqual(0);
        // and no node's kube-apiserver skips a minor
        p.steps.forEach((s, i) => {
          if (s.kind !== "control-plane-upgrade") return;
          const before = stateBefore(p, i).get(s.nodes[0]!)!.versions["kube-apiserver"]!;
          expect(s.version.minor - before.minor).toBeLessThanOrEqual(1);
        });
        // zero hops exactly when nothing is behind the target
        const behind = [...p.initialState].some((n) => COMPONENTS.some((k) => n.versions[k] && !n.versions[k].equals(c.target)));
        expect(p.hops.length > 0).toBe(behind);
        expect(p.steps.length > 0).toBe(behind);
      }),
      RUNS,
    );
  });

  it("(b) puts every control-plane step of a hop before its worker steps, opening with an etcd snapshot", () => {
    fc.assert(
      fc.property(upgradeCase, (c) => {
        const p = plan(c);
        for (const hop of p.hops) {
          const steps = hopSteps(p, hop);
          const cp = steps.filter(isControlPlaneStep);
          const lastCp = Math.max(0, ...cp.map((s) => s.index));
          for (const w of steps.filter((s) => !isControlPlaneStep(s))) expect(w.index).toBeGreaterThan(lastCp);
          if (cp.length > 0) {
            expect(steps[0]!.kind).toBe("etcd-snapshot");
            expect(cp.filter((s) => s.kind === "etcd-snapshot")).toHaveLength(1);
            // static pods of every control-plane node before any control-plane kubelet
            const kubeadm = cp.filter((s) => s.kind === "control-plane-upgrade").map((s) => s.index);
            const kubelets = cp.filter((s) => s.kind === "kubelet-upgrade").map((s) => s.index);
            expect(Math.max(0, ...kubeadm)).toBeLessThan(Math.min(Infinity, ...kubelets));
            // `kubeadm upgrade apply` exactly once per hop unless an earlier run already applied it
            const applies = cp.filter((s) => s.actions.some((a) => a.kind === "kubeadm-upgrade-apply"));
            const applied = [...stateBeforeHop(p, hop)].some((n) => n.versions["kube-apiserver"] && !n.versions["kube-apiserver"].isBefore(hop.to));
            expect(applies).toHaveLength(kubeadm.length > 0 && !applied ? 1 : 0);
            if (applies.length === 1) expect(applies[0]!.index).toBe(kubeadm[0]);
          }
          // every kubelet minor upgrade after a drain: first thing on a control-plane node,
          // right after `kubeadm upgrade node` on a worker; uncordon last
          for (const s of steps.filter((x) => x.kind === "kubelet-upgrade" || x.kind === "worker-upgrade")) {
            const kinds = s.actions.map((a) => a.kind);
            expect(kinds.indexOf("drain")).toBe(s.kind === "kubelet-upgrade" ? 0 : kinds.indexOf("kubeadm-upgrade-node") + 1);
            expect(kinds.filter((k) => k === "drain")).toHaveLength(1);
            expect(kinds[kinds.length - 1]).toBe("uncordon");
          }
        }
      }),
      RUNS,
    );
  });

  it("(c) leaves a state that passes the full skew check after every step", () => {
    fc.assert(
      fc.property(upgradeCase, (c) => {
        const p = plan(c);
        for (const s of p.steps) expect([s.id, checkSkew(s.stateAfter)]).toEqual([s.id, []]);
        expect(checkSkew(p.finalState)).toEqual([]);
      }),
      RUNS,
    );
  });

  it("never makes a kubelet newer than any kube-apiserver", () => {
    fc.assert(
      fc.property(upgradeCase, (c) => {
        const p = plan(c);
        const offenders: string[] = [];
        for (const s of p.steps) {
          const apiservers = [...s.stateAfter].flatMap((n) => (n.versions["kube-apiserver"] ? [n.versions["kube-apiserver"]] : []));
          for (const n of s.stateAfter) {
            for (const api of apiservers) if (n.versions.kubelet.minorsAfter(api) > 0) offenders.push(`${s.id}: kubelet on ${n.name} ${n.versions.kubelet} > ${api}`);
          }
          // a kubelet the step moves is not even a patch ahead of any apiserver
          const before = s.index === 1 ? p.initialState : p.steps[s.index - 2]!.stateAfter;
          for (const name of s.nodes) {
            const kubelet = s.stateAfter.get(name)!.versions.kubelet;
            if (kubelet.equals(before.get(name)!.versions.kubelet)) continue;
            for (const api of apiservers) if (kubelet.compare(api) > 0) offenders.push(`${s.id}: moved kubelet on ${name} ${kubelet} > ${api}`);
          }
        }
        expect(offenders).toEqual([]);
      }),
      RUNS,
    );
  });

  it("(d) brings every component of every node to the target", () => {
    fc.assert(
      fc.property(upgradeCase, (c) => {
        const p = plan(c);
        expect(p.finalState.size).toBe(c.cluster.nodes.length);
        for (const n of p.finalState) {
          for (const k of COMPONENTS) {
            const want = k === "kube-apiserver" || k === "kube-controller-manager" || k === "kube-scheduler" ? (n.role === "control-plane" ? c.target.toString() : undefined) : c.target.toString();
            expect([n.name, k, n.versions[k]?.toString()]).toEqual([n.name, k, want]);
          }
        }
        if (p.steps.length > 0) expect(p.finalState).toBe(p.steps[p.steps.length - 1]!.stateAfter);
      }),
      RUNS,
    );
  });

  it("(e) upgrades every lagging rolling node each hop, after the control plane, at most maxUnavailable at a time", () => {
    fc.assert(
      fc.property(upgradeCase, (c) => {
        const p = plan(c);
        for (const pool of c.cluster.pools.filter((x) => x.strategy === "rolling")) {
          for (const hop of p.hops) {
            const before = stateBeforeHop(p, hop);
            const steps = hopSteps(p, hop);
            const mine = steps.filter((s) => s.pool === pool.name);
            for (const s of mine) expect(s.kind).toBe("worker-upgrade");
            const upgraded = mine.flatMap((s) => s.nodes);
            expect(new Set(upgraded).size).toBe(upgraded.length);
            const members = [...before].filter((n) => n.pool === pool.name);
            // must: every node a minor behind the hop moves in it (rolling pools take every hop)
            for (const n of members) if (n.versions.kubelet.minor < hop.to.minor) expect(upgraded).toContain(n.name);
            // only: nodes older than the hop's version, brought to it, one minor at most
            for (const s of mine) {
              const was = before.get(s.nodes[0]!)!.versions.kubelet;
              expect(was.isBefore(hop.to)).toBe(true);
              expect(hop.to.minor - was.minor).toBeLessThanOrEqual(1);
              expect(s.version.toString()).toBe(hop.to.toString());
            }
            if (mine.length === 0) continue;
            const lastCp = Math.max(0, ...steps.filter(isControlPlaneStep).map((s) => s.index));
            expect(Math.min(...mine.map((s) => s.index))).toBeGreaterThan(lastCp);
            const batches = new Map<number, Step[]>();
            for (const s of mine) batches.set(s.batch!.index, [...(batches.get(s.batch!.index) ?? []), s]);
            expect([...batches.keys()]).toEqual([...batches.keys()].map((_, i) => i + 1));
            for (const [index, batch] of batches) {
              expect(batch.length).toBeLessThanOrEqual(pool.maxUnavailable);
              for (const s of batch) expect(s.batch!.count).toBe(batches.size);
              for (const s of batch) expect(s.stage).toBe(batch[0]!.stage);
              if (index > 1) expect(batch[0]!.stage).toBe(batches.get(index - 1)![0]!.stage + 1);
            }
          }
          // a node below the target at the start is upgraded at least once
          for (const n of c.cluster.nodes.filter((x) => x.pool === pool.name)) {
            if (n.versions.kubelet.isBefore(c.target)) expect(p.steps.some((s) => s.kind === "worker-upgrade" && s.nodes.includes(n.name))).toBe(true);
          }
        }
      }),
      RUNS,
    );
  });

  it("(f) replaces each blue-green pool the fewest times the kubelet skew allows", () => {
    fc.assert(
      fc.property(upgradeCase, (c) => {
        const p = plan(c);
        const newest = Math.max(...apiserverMinors(c.cluster.nodes));
        for (const pool of c.cluster.pools.filter((x) => x.strategy === "blue-green")) {
          const nodes = c.cluster.nodes.filter((n) => n.pool === pool.name);
          const replaced = p.steps.filter((s) => s.pool === pool.name);
          for (const s of replaced) {
            expect(s.kind).toBe("pool-replace");
            expect([...s.nodes].sort()).toEqual(nodes.map((n) => n.name).sort());
          }
          expect([pool.name, replaced.length]).toEqual([pool.name, fewestReplacements(nodes, newest, c.target)]);
          // each replacement joins at the control plane's version of that moment
          p.steps.forEach((s, i) => {
            if (s.pool !== pool.name) return;
            const bounds = apiserverBounds(stateBefore(p, i))!;
            expect(s.version.toString()).toBe(bounds.oldest.version.toString());
            expect(s.version.toString()).toBe(bounds.newest.version.toString());
          });
        }
      }),
      RUNS,
    );
  });

  it("(h) changes in each step only the components of the nodes it names, forward, to its version", () => {
    const staticPods = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;
    fc.assert(
      fc.property(upgradeCase, (c) => {
        const p = plan(c);
        const problems: string[] = [];
        p.steps.forEach((s, i) => {
          const before = stateBefore(p, i);
          const lastKubeadm = s.kind === "control-plane-upgrade" && !p.steps.some((x) => x.hop === s.hop && x.kind === "control-plane-upgrade" && x.index > s.index);
          for (const after of s.stateAfter) {
            const was = before.get(after.name)!;
            for (const k of COMPONENTS) {
              const from = was.versions[k]?.toString();
              const to = after.versions[k]?.toString();
              if (from === to) continue;
              const allowed =
                (s.nodes.includes(after.name) &&
                  ((s.kind === "control-plane-upgrade" && (staticPods as readonly string[]).includes(k)) ||
                    (s.kind !== "control-plane-upgrade" && s.kind !== "etcd-snapshot" && (k === "kubelet" || k === "kubectl")))) ||
                (lastKubeadm && k === "kube-proxy");
              const forward = was.versions[k] !== undefined && after.versions[k] !== undefined && was.versions[k].isBefore(after.versions[k]);
              if (!allowed || !forward || to !== s.version.toString()) problems.push(`${s.id}: ${k} on ${after.name} ${from} -> ${to}`);
            }
          }
        });
        expect(problems).toEqual([]);
      }),
      RUNS,
    );
  });

  it("numbers the stages in order without gaps (a rolling batch one stage, any other step one alone), with unique ids and 1-based indexes", () => {
    fc.assert(
      fc.property(upgradeCase, (c) => {
        const p = plan(c);
        expect(p.steps.map((s) => s.index)).toEqual(p.steps.map((_, i) => i + 1));
        expect(new Set(p.steps.map((s) => s.id)).size).toBe(p.steps.length);
        expect(p.hops.flatMap((h) => h.phases.flatMap((ph) => ph.steps.map((s) => s.id)))).toEqual(p.steps.map((s) => s.id));
        // a stage: one batch of one rolling pool in one hop, or any other single step
        const stages: Step[][] = [];
        let key = "";
        for (const s of p.steps) {
          const k = s.kind === "worker-upgrade" ? `${s.hop}/${s.pool}/${s.batch!.index}` : s.id;
          if (k === key) stages[stages.length - 1]!.push(s);
          else stages.push([s]);
          key = k;
        }
        stages.forEach((stage, i) => {
          for (const s of stage) expect([s.id, s.stage]).toEqual([s.id, i + 1]);
        });
      }),
      RUNS,
    );
  });

  it("(g) is deterministic: the same input gives the same steps", () => {
    fc.assert(
      fc.property(upgradeCase, (c) => {
        const shape = (p: UpgradePlan) => p.steps.map((s) => [s.id, s.kind, s.version.toString(), s.nodes.join(","), s.stage].join(" "));
        const first = plan(c);
        const second = plan(c);
        expect(shape(second)).toEqual(shape(first));
        expect(JSON.stringify(second.finalState)).toBe(JSON.stringify(first.finalState));
        expect(second.warnings).toEqual(first.warnings);
      }),
      { numRuns: 30 },
    );
  });
});
