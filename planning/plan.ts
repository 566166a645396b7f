/**
 * The upgrade planner: a cluster state and a target version in, an {@link UpgradePlan} out.
 *
 * Rules (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/ and
 * https://kubernetes.io/releases/version-skew-policy/#supported-component-upgrade-order):
 * - one minor per hop, never skipping; intermediate hops go to the minor's latest patch;
 * - every hop that changes the control plane opens with an etcd snapshot, then upgrades the
 *   control-plane nodes one at a time, the first with `kubeadm upgrade apply`, the others
 *   with `kubeadm upgrade node`; kube-proxy (a kubeadm add-on) moves with the last one
 *   (kubeadm >= 1.28 upgrades add-ons after the last control-plane node). Then the
 *   control-plane kubelets, one at a time, each after a drain: the skew policy puts kubelets
 *   after every kube-apiserver, and a kubelet newer than any kube-apiserver is unsupported;
 * - then the worker pools, in config order. `rolling` pools are upgraded in place in
 *   batches of `maxUnavailable` and take every hop, because kubeadm on a node moves one
 *   minor per upgrade and never runs behind the control plane
 *   (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/create-cluster-kubeadm/#version-skew-policy).
 *   `blue-green` pools are replaced by nodes that join at the control plane's version, as
 *   late as the kubelet skew allows, so they are replaced the fewest times possible.
 * The planner checks the state after every step
 * against the version-skew policy and refuses rather than return a plan that breaks it.
 */
import { etcdRemovalProblems, NodeRemovalSpec, removalActions } from "./removal";
import { controlPlaneActions, kubeletActions, osPatchStepActions, replaceActions, resumeActions, snapshotActions, workerActions } from "./actions";
import { CONTROL_PLANE_COMPONENTS, CONTROL_PLANE_POOL, ClusterSpec, COMPONENTS, NodeState, PoolSpec, raised, UNPOOLED } from "./cluster";
import { PlanningError } from "./errors";
import { NodeTable } from "./node-table";
import type { Action, Hop, Phase, Step, StepKind, UpgradePlan } from "./plan-types";
import { ReleaseCatalogue } from "./releases";
import { colorNodeNames, replacementEstimate } from "./blue-green";
import { ApiserverBounds, apiserverBounds, checkSkew, maxKubeletLag, nodeViolations, SkewViolation } from "./skew";
import { KubeVersion } from "./versions";
import { hostKeyWarnings, planWarnings } from "./warnings";

export interface PlanOptions {
  /** Release catalogue: latest patch of each intermediate minor, end-of-life dates. */
  readonly catalogue: ReleaseCatalogue;
  /** "Today", for end-of-life warnings. @default new Date() */
  readonly now?: Date;
}

/** A step before it is placed in the plan's order. */
interface StepSpec {
  readonly kind: StepKind;
  readonly pool: string;
  readonly nodes: readonly string[];
  readonly version: KubeVersion;
  readonly actions: readonly Action[];
  /** Nodes as they are after the step. */
  readonly changes: readonly NodeState[];
  readonly touchesControlPlane: boolean;
  /** Nodes the step removes from the cluster for good (their state leaves the table). */
  readonly removes?: readonly string[];
  readonly batch?: { readonly index: number; readonly count: number };
  readonly replacement?: Step["replacement"];
}

const MAX_LISTED = 8;

/**
 * Plans the upgrade of `cluster` to `target`.
 * @param cluster nodes (control plane first, in upgrade order) and worker pools.
 * @param target the version every component ends at.
 * @returns the plan; with zero hops when the cluster is already at `target`.
 * @throws PlanningError when a pool has no nodes or a bad `maxUnavailable`, the current
 *   state breaks the skew policy (each broken rule listed), the target is older than a
 *   component (downgrade), an intermediate minor is missing from the catalogue, a rolling
 *   node is more than one minor behind its next hop, or no order keeps the policy.
 */
export function planUpgrade(cluster: ClusterSpec, target: KubeVersion, options: PlanOptions): UpgradePlan {
  checkShape(cluster);
  const removing = checkRemovals(cluster);
  const initial = NodeTable.from(cluster.nodes);
  // What the hops plan from: the cluster without the nodes removed for good.
  const kept = keptCluster(cluster, new Set(removing.map((r) => r.spec.name)));
  const keptState = initial.without(removing.filter((r) => r.node).map((r) => r.spec.name));
  const broken = checkSkew(keptState);
  if (broken.length > 0) {
    throw new PlanningError(listed(broken.map((v) => v.message)), "the cluster already breaks the version-skew policy; bring it within the policy before planning an upgrade");
  }
  refuseDowngrade(keptState, target);
  const builder = new PlanBuilder(kept, target, initial);
  const minors = hopMinors(kept, keptState, target);
  const versions = hopVersions(minors, keptState, target, options.catalogue);
  builder.resume();
  builder.removals(removing, cluster.pools);
  minors.forEach((minor, i) => builder.hop(minor, versions[i]!, versions[i + 1]));
  builder.osPatching();
  const plan = builder.finish();
  return { ...plan, warnings: [...hostKeyWarnings(cluster), ...planWarnings(plan, options.catalogue, options.now ?? new Date())] };
}

function checkShape(cluster: ClusterSpec): void {
  const reasons: string[] = [];
  if (!cluster.nodes.some((n) => n.role === "control-plane")) reasons.push("the cluster has no control-plane node");
  const poolNames = new Set<string>();
  for (const pool of cluster.pools) {
    if (poolNames.has(pool.name)) reasons.push(`pool ${pool.name} is declared twice`);
    poolNames.add(pool.name);
    const size = cluster.nodes.filter((n) => n.pool === pool.name).length;
    if (size === 0) reasons.push(`pool ${pool.name} has no nodes; give it nodes or remove it`);
    else if (!Number.isInteger(pool.maxUnavailable) || pool.maxUnavailable < 1 || pool.maxUnavailable > size) {
      reasons.push(`pool ${pool.name}: maxUnavailable ${pool.maxUnavailable} is out of range; use a whole number from 1 to the pool's ${size} node(s)`);
    }
  }
  for (const node of cluster.nodes) {
    const cp = node.role === "control-plane";
    if (cp !== (node.pool === CONTROL_PLANE_POOL)) reasons.push(`node ${node.name}: role ${node.role} does not match pool ${node.pool}`);
    if (!cp && node.pool !== UNPOOLED && !poolNames.has(node.pool)) reasons.push(`node ${node.name} is in pool ${node.pool}, which is not declared`);
    const hasCp = node.versions["kube-apiserver"] && node.versions["kube-controller-manager"] && node.versions["kube-scheduler"];
    if (cp && !hasCp) reasons.push(`control-plane node ${node.name} lacks a kube-apiserver, kube-controller-manager or kube-scheduler version`);
  }
  if (reasons.length > 0) throw new PlanningError(reasons, "the cluster description is not valid");
}

/** A node to remove, with its state when it is still in the cluster. */
interface Removing {
  readonly spec: NodeRemovalSpec;
  readonly node?: NodeState;
}

/**
 * The removals of `cluster`, each with its node.
 * @throws PlanningError when one names a node not in the cluster without being `gone`, is
 *   listed twice, is a blue-green pool's node (the pool owns its instances), or is the first
 *   control-plane node (it runs every hop's kubeadm upgrade apply and etcd snapshot).
 */
function checkRemovals(cluster: ClusterSpec): Removing[] {
  const byName = new Map(cluster.nodes.map((n) => [n.name, n]));
  const blueGreen = new Set(cluster.pools.filter((p) => p.strategy === "blue-green").map((p) => p.name));
  const first = cluster.nodes.find((n) => n.role === "control-plane")?.name;
  const reasons: string[] = [];
  const seen = new Set<string>();
  const out = (cluster.removals ?? []).map((spec) => {
    const node = byName.get(spec.name);
    if (seen.has(spec.name)) reasons.push(`node ${spec.name} is listed twice`);
    seen.add(spec.name);
    if (!node && !spec.gone) reasons.push(`node ${spec.name} is not a node of the cluster`);
    if (node && spec.gone) reasons.push(`node ${spec.name} is in the cluster, not gone`);
    if (node && blueGreen.has(node.pool)) reasons.push(`node ${spec.name} belongs to blue-green pool ${node.pool}, which owns its instances: change the pool's size instead`);
    if (node && node.name === first) reasons.push(`node ${spec.name} is the first control-plane node, which runs kubeadm upgrade apply and the etcd snapshots: put another control-plane node first`);
    return { spec, ...(node ? { node } : {}) };
  });
  if (reasons.length > 0) throw new PlanningError(listed(reasons), "cannot remove these nodes");
  return out;
}

/** `cluster` without the nodes named in `removed`, and without the pools that leaves with no node. */
function keptCluster(cluster: ClusterSpec, removed: ReadonlySet<string>): ClusterSpec {
  if (removed.size === 0) return cluster;
  const nodes = cluster.nodes.filter((n) => !removed.has(n.name));
  const pools = cluster.pools.filter((p) => nodes.some((n) => n.pool === p.name)).map((p) => {
    const size = nodes.filter((n) => n.pool === p.name).length;
    return p.maxUnavailable > size ? { ...p, maxUnavailable: size } : p;
  });
  return { ...cluster, nodes, pools };
}

function refuseDowngrade(state: NodeTable, target: KubeVersion): void {
  const newer: string[] = [];
  for (const node of state) {
    for (const c of COMPONENTS) {
      const v = node.versions[c];
      if (v && target.isBefore(v)) newer.push(`${c} on ${node.name} is at ${v}, newer than the target ${target}`);
    }
  }
  if (newer.length > 0) throw new PlanningError(listed(newer), "downgrades are not supported (kubeadm upgrades only go forward)");
}

/** Minors from the oldest control-plane or rolling-pool minor to the target's. */
function hopMinors(cluster: ClusterSpec, state: NodeTable, target: KubeVersion): number[] {
  const rolling = new Set(cluster.pools.filter((p) => p.strategy === "rolling").map((p) => p.name));
  let lo = target.minor;
  for (const node of state) {
    const v = node.versions["kube-apiserver"] ?? (rolling.has(node.pool) ? node.versions.kubelet : undefined);
    if (v) lo = Math.min(lo, v.minor);
  }
  const minors: number[] = [];
  for (let m = lo; m <= target.minor; m++) minors.push(m);
  return minors;
}

/**
 * The version of the hop to each minor: the target for its own minor; the version an
 * interrupted hop already reached; else the minor's latest patch.
 * @throws PlanningError naming every minor the catalogue lacks.
 */
function hopVersions(minors: readonly number[], state: NodeTable, target: KubeVersion, catalogue: ReleaseCatalogue): KubeVersion[] {
  const reached = new Map<number, KubeVersion>();
  for (const node of state) {
    const v = node.versions["kube-apiserver"];
    const seen = v && reached.get(v.minor);
    if (v && (!seen || seen.isBefore(v))) reached.set(v.minor, v);
  }
  const missing: string[] = [];
  const versions = minors.map((minor) => {
    const v = minor === target.minor ? target : (reached.get(minor) ?? catalogue.get(minor)?.latestPatch);
    if (!v) missing.push(`the release catalogue does not know 1.${minor}, which the upgrade passes through`);
    return v!;
  });
  if (missing.length > 0) throw new PlanningError(missing, "cannot plan the hops; declare the minors under the config key \"releases\"");
  return versions;
}

class PlanBuilder {
  private state: NodeTable;
  private bounds: ApiserverBounds | undefined;
  private readonly steps: Step[] = [];
  private readonly hops: Hop[] = [];
  private stages = 0;
  private readonly controlPlane: readonly string[];
  private readonly rollingFailures: string[] = [];
  private readonly maintenance: Phase[] = [];
  private readonly resumed: Step[] = [];
  private readonly removed: Step[] = [];
  /** Nodes whose OS patch is planned, or that are replaced by new nodes. */
  private readonly patched = new Set<string>();

  constructor(
    private readonly cluster: ClusterSpec,
    private readonly target: KubeVersion,
    private readonly initial: NodeTable,
  ) {
    this.state = initial;
    this.bounds = apiserverBounds(initial);
    this.controlPlane = cluster.nodes.filter((n) => n.role === "control-plane").map((n) => n.name);
  }

  /** True when `v` must move in the hop to `to`. */
  private behind(v: KubeVersion, to: KubeVersion): boolean {
    return v.minor < to.minor || (to.minor === this.target.minor && v.isBefore(this.target));
  }

  /**
   * Nodes a stopped run left cordoned (cordonedByUs) whose kubelet has caught up with the
   * oldest kube-apiserver: the step that cordoned them finished but for its wait and uncordon,
   * which are all that is left, one node at a time, before anything else. A node whose kubelet
   * is behind is in the middle of the step for the control plane's version: that step, still
   * in the plan, finds it cordoned by us and goes on (drain.sh). A blue-green pool's nodes are
   * the replacement's to uncordon; unpooled nodes are not ours.
   */
  resume(): void {
    const blueGreen = new Set(this.cluster.pools.filter((p) => p.strategy === "blue-green").map((p) => p.name));
    const controlPlane = this.bounds!.oldest.version;
    for (const named of this.cluster.nodes) {
      const node = this.node(named.name);
      if (!node.cordonedByUs || blueGreen.has(node.pool) || node.pool === UNPOOLED || node.versions.kubelet.isBefore(controlPlane)) continue;
      this.resumed.push(...this.stage(0, "resume", [{
        kind: "resume", pool: node.pool, nodes: [node.name], version: node.versions.kubelet,
        actions: resumeActions(node.name, node.versions.kubelet), changes: [], touchesControlPlane: false,
      }]));
    }
  }

  /**
   * The removals (planning/removal.ts), before any hop: workers first, by pool in batches of the
   * pool's maxUnavailable (of `pools`, as configured; a node no pool selects alone), then
   * control-plane nodes one at a time, each after etcd's quorum arithmetic allows it (counting
   * the stacked members left by the removals before it), then nodes already gone, one at a time.
   * @throws PlanningError listing every control-plane removal etcd's quorum forbids.
   */
  removals(removing: readonly Removing[], pools: readonly PoolSpec[]): void {
    const workers = removing.filter((r) => r.node && r.node.role === "worker");
    for (const poolName of new Set(workers.map((r) => r.node!.pool))) {
      const inPool = workers.filter((r) => r.node!.pool === poolName);
      const size = Math.max(1, Math.min(pools.find((p) => p.name === poolName)?.maxUnavailable ?? 1, inPool.length));
      const batches = inBatches(inPool, size);
      batches.forEach((batch, b) => {
        this.removed.push(...this.stage(0, "remove", batch.map((r) => this.removalSpec(r, { index: b + 1, count: batches.length }))));
      });
    }
    const refused: string[] = [];
    for (const r of removing.filter((x) => x.node?.role === "control-plane")) {
      const members = [...this.state].filter((n) => n.role === "control-plane");
      const problems = etcdRemovalProblems({
        node: r.spec.name, members: members.length, allowEven: r.spec.allowEvenEtcdMembers,
        unhealthy: members.filter((n) => n.name !== r.spec.name && n.notReady).map((n) => n.name),
        removedHealthy: !r.spec.dead && !r.node!.notReady,
      });
      if (problems.length > 0) {
        refused.push(...problems);
        continue;
      }
      this.removed.push(...this.stage(0, "remove", [this.removalSpec(r)]));
    }
    if (refused.length > 0) {
      throw new PlanningError(listed(refused), "etcd's quorum forbids these removals (https://etcd.io/docs/v3.5/faq/#what-is-failure-tolerance); bring the unhealthy members back, add a control-plane node first (kubeadm join --control-plane), or, for an even member count you accept, set allowEvenEtcdMembers: true on the node's removeNodes entry");
    }
    for (const r of removing.filter((x) => !x.node)) {
      this.removed.push(...this.stage(0, "remove", [{
        kind: "node-removal", pool: CONTROL_PLANE_POOL, nodes: [r.spec.name], version: this.bounds!.oldest.version,
        actions: removalActions(r.spec, true), changes: [], touchesControlPlane: false,
      }]));
    }
  }

  private removalSpec(r: Removing, batch?: { index: number; count: number }): StepSpec {
    const node = r.node!;
    const cp = node.role === "control-plane";
    return {
      kind: "node-removal", pool: node.pool, nodes: [node.name], version: node.versions.kubelet,
      actions: removalActions(r.spec, cp), changes: [], removes: [node.name], touchesControlPlane: cp,
      ...(batch ? { batch } : {}),
    };
  }

  hop(minor: number, to: KubeVersion, next: KubeVersion | undefined): void {
    const index = this.hops.length + 1;
    const from = this.bounds!.oldest.version;
    const phases: Phase[] = [];
    const cp = this.controlPlanePhase(index, to);
    if (cp) phases.push(cp);
    for (const pool of this.cluster.pools) {
      const phase = pool.strategy === "rolling" ? this.rollingPhase(index, pool, minor, to) : this.blueGreenPhase(index, pool, to, next);
      if (phase) phases.push(phase);
    }
    if (this.rollingFailures.length > 0) {
      throw new PlanningError(listed(this.rollingFailures), "rolling pools cannot skip minors: kubeadm upgrades a node one minor at a time and never behind the control plane (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/create-cluster-kubeadm/#version-skew-policy); replace these nodes or give their pool the blue-green strategy");
    }
    if (phases.length > 0) this.hops.push({ index, from, to, phases });
  }

  /**
   * Every control-plane node's kubeadm step, one at a time, then every control-plane
   * kubelet, one at a time: a kubelet must not be newer than any kube-apiserver, so it
   * waits until all of them run the new version.
   */
  private controlPlanePhase(hop: number, to: KubeVersion): Phase | undefined {
    // A hop below the control plane's minor only catches up rolling workers.
    if (to.minor < this.bounds!.oldest.version.minor) return undefined;
    const staticPods = (n: NodeState) => CONTROL_PLANE_COMPONENTS.some((c) => this.behind(n.versions[c]!, to));
    const kubelets = (n: NodeState) => this.behind(n.versions.kubelet, to) || this.behind(n.versions.kubectl, to);
    const kubeadmTodo = this.controlPlane.filter((name) => staticPods(this.node(name)));
    const kubeletTodo = this.controlPlane.filter((name) => kubelets(this.node(name)));
    if (kubeadmTodo.length === 0 && kubeletTodo.length === 0) return undefined;
    const first = this.controlPlane[0]!;
    const steps = [
      this.stage(hop, `v${to.minorLine}`, [{ kind: "etcd-snapshot", pool: CONTROL_PLANE_POOL, nodes: [first], version: to, actions: snapshotActions(to), changes: [], touchesControlPlane: false }]),
    ];
    kubeadmTodo.forEach((name, i) => {
      const node = this.node(name);
      const applied = [...this.state].some((n) => n.versions["kube-apiserver"] && !n.versions["kube-apiserver"].isBefore(to));
      const changes = new Map([[name, raised(node, CONTROL_PLANE_COMPONENTS, to)]]);
      if (i === kubeadmTodo.length - 1) {
        for (const n of this.state) {
          if (n.versions["kube-proxy"].isBefore(to)) changes.set(n.name, raised(changes.get(n.name) ?? n, ["kube-proxy"], to));
        }
      }
      steps.push(this.stage(hop, `v${to.minorLine}`, [{
        kind: "control-plane-upgrade", pool: CONTROL_PLANE_POOL, nodes: [name], version: to,
        actions: controlPlaneActions(node.versions["kube-apiserver"]!, to, !applied),
        changes: [...changes.values()], touchesControlPlane: true,
      }]));
    });
    for (const name of kubeletTodo) {
      const node = this.node(name);
      steps.push(this.stage(hop, `v${to.minorLine}`, [{
        kind: "kubelet-upgrade", pool: CONTROL_PLANE_POOL, nodes: [name], version: to,
        actions: kubeletActions(name, to, this.patchDue(node)), changes: [raised(node, ["kubelet", "kubectl"], to)], touchesControlPlane: false,
      }]));
    }
    return { kind: "control-plane", pool: CONTROL_PLANE_POOL, steps: steps.flat() };
  }

  private rollingPhase(hop: number, pool: PoolSpec, minor: number, to: KubeVersion): Phase | undefined {
    const todo = this.poolNodes(pool).filter((n) => this.behind(n.versions.kubelet, to) || this.behind(n.versions.kubectl, to));
    if (todo.length === 0) return undefined;
    const controlPlaneMinor = this.bounds!.oldest.version.minor;
    for (const n of todo) {
      const lag = controlPlaneMinor - n.versions.kubelet.minor;
      if (n.versions.kubelet.minor < minor - 1 || controlPlaneMinor > minor) {
        this.rollingFailures.push(`node ${n.name} of rolling pool ${pool.name} is at ${n.versions.kubelet}, ${lag} minors behind the control plane (${this.bounds!.oldest.version})`);
      }
    }
    if (this.rollingFailures.length > 0) return undefined;
    const batches = inBatches(todo, pool.maxUnavailable);
    const steps = batches.map((batch, b) =>
      this.stage(hop, `v${to.minorLine}`, batch.map((n) => ({
        kind: "worker-upgrade" as const, pool: pool.name, nodes: [n.name], version: to,
        actions: workerActions(n.name, n.versions.kubelet, to, this.patchDue(n)),
        changes: [raised(n, ["kubelet", "kubectl"], to)], touchesControlPlane: false,
        batch: { index: b + 1, count: batches.length },
      }))),
    );
    return { kind: "workers", pool: pool.name, strategy: "rolling", steps: steps.flat() };
  }

  /**
   * Replaces the pool only when it must move now: at the last hop, or when the next hop's
   * kube-apiserver would leave its kubelets further behind than the skew allows; never
   * beyond the pool's own target version. New nodes join at the hop's version (or the pool's
   * target, when that is older).
   * @throws PlanningError when blue and green together exceed the pool's instance quota.
   */
  private blueGreenPhase(hop: number, pool: PoolSpec, to: KubeVersion, next: KubeVersion | undefined): Phase | undefined {
    const nodes = this.poolNodes(pool);
    const desired = pool.blueGreen?.targetVersion ?? this.target;
    const at = desired.isBefore(to) ? desired : to;
    const lags = (v: KubeVersion) => (at.equals(desired) ? v.isBefore(desired) : v.minor < at.minor);
    if (!nodes.some((n) => lags(n.versions.kubelet) || lags(n.versions.kubectl))) return undefined;
    const mustMove = next === undefined || nodes.some((n) => next.minorsAfter(n.versions.kubelet) > maxKubeletLag(n.versions.kubelet));
    if (!mustMove) return undefined;
    const spec = pool.blueGreen;
    const blue = nodes.map((n) => n.name);
    const estimate = spec ? replacementEstimate(blue.length, spec) : undefined;
    if (spec?.instanceQuota !== undefined && estimate && estimate.peakInstances > spec.instanceQuota) {
      throw new PlanningError(
        [`pool ${pool.name} needs ${estimate.peakInstances} instances at once (${blue.length} old + ${spec.size} new) during its replacement at ${at.tag}; its instance quota is ${spec.instanceQuota}`],
        "not enough capacity for a blue-green replacement; raise the pool's aws.instanceQuota (after raising the AWS quota), or replace it in smaller pools",
      );
    }
    const green = colorNodeNames(pool.name, at, spec?.size ?? blue.length);
    for (const n of nodes) this.patched.add(n.name);
    const step = this.stage(hop, `v${at.minorLine}`, [{
      kind: "pool-replace", pool: pool.name, nodes: blue, version: at,
      actions: replaceActions(blue, green, at, estimate, spec?.managed ?? true, spec),
      changes: nodes.map((n) => raised(n, ["kubelet", "kubectl"], at)), touchesControlPlane: false,
      ...(estimate ? { replacement: { newNodes: green, managed: spec!.managed, estimate } } : {}),
    }]);
    return { kind: "workers", pool: pool.name, strategy: "blue-green", steps: step };
  }

  /** Places steps that may run together, as the next stage; checks each resulting state. */
  private stage(hop: number, label: string, specs: readonly StepSpec[]): Step[] {
    const stage = ++this.stages;
    return specs.map((spec) => {
      const id = `${label}/${spec.kind === "pool-replace" ? spec.pool : spec.nodes[0]}/${spec.kind}`;
      this.state = spec.removes ? this.state.without(spec.removes) : this.state.with(spec.changes);
      this.check(id, this.state, spec.touchesControlPlane, spec.changes);
      const step: Step = {
        id, index: this.steps.length + 1, hop, kind: spec.kind, pool: spec.pool, nodes: spec.nodes,
        version: spec.version, actions: spec.actions, stage, stateAfter: this.state,
        ...(spec.batch ? { batch: spec.batch } : {}),
        ...(spec.replacement ? { replacement: spec.replacement } : {}),
      };
      this.steps.push(step);
      return step;
    });
  }

  /** The OS patch revision due on `node` in the drain being planned, if any (once per node). */
  private patchDue(node: NodeState): string | undefined {
    const revision = this.cluster.osPatch?.[node.pool];
    if (revision === undefined || this.patched.has(node.name)) return undefined;
    this.patched.add(node.name);
    return revision;
  }

  /**
   * OS patching of every node of a patched pool that no hop drained and no replacement
   * renewed: control-plane nodes one at a time, then each pool in batches of maxUnavailable.
   */
  osPatching(): void {
    const pools = [{ name: CONTROL_PLANE_POOL, maxUnavailable: 1 }, ...this.cluster.pools];
    for (const pool of pools) {
      const revision = this.cluster.osPatch?.[pool.name];
      const todo = this.cluster.nodes.filter((n) => n.pool === pool.name && !this.patched.has(n.name)).map((n) => this.node(n.name));
      if (revision === undefined || todo.length === 0) continue;
      const batches = inBatches(todo, pool.maxUnavailable);
      const steps = batches.flatMap((batch, b) =>
        this.stage(0, `os-${revision}`, batch.map((n) => {
          this.patched.add(n.name);
          return {
            kind: "os-patch" as const, pool: pool.name, nodes: [n.name], version: n.versions.kubelet,
            actions: osPatchStepActions(n.name, n.versions.kubelet, revision), changes: [], touchesControlPlane: false,
            batch: { index: b + 1, count: batches.length },
          };
        })),
      );
      this.maintenance.push({ kind: pool.name === CONTROL_PLANE_POOL ? "control-plane" : "workers", pool: pool.name, steps });
    }
  }

  private check(id: string, state: NodeTable, full: boolean, changed: readonly NodeState[] = []): void {
    let violations: SkewViolation[];
    if (full) {
      violations = checkSkew(state);
      this.bounds = apiserverBounds(state);
    } else {
      violations = changed.flatMap((n) => nodeViolations(n, this.bounds));
    }
    if (violations.length > 0) {
      throw new PlanningError(listed(violations.map((v) => v.message)), `no upgrade order keeps the version-skew policy: step ${id} would break it`);
    }
  }

  private node(name: string): NodeState {
    return this.state.get(name)!;
  }

  private poolNodes(pool: PoolSpec): NodeState[] {
    return this.cluster.nodes.filter((n) => n.pool === pool.name).map((n) => this.node(n.name));
  }

  finish(): Omit<UpgradePlan, "warnings"> {
    this.bounds = apiserverBounds(this.state);
    const left: string[] = [];
    const held = new Map(this.cluster.pools.filter((p) => p.blueGreen?.targetVersion).map((p) => [p.name, p.blueGreen!.targetVersion!]));
    for (const node of this.state) {
      if (node.pool === UNPOOLED) continue;
      for (const c of COMPONENTS) {
        const v = node.versions[c];
        const expected = (c === "kubelet" || c === "kubectl" ? held.get(node.pool) : undefined) ?? this.target;
        if (v && !v.equals(expected)) left.push(`${c} on ${node.name} would stay at ${v}`);
      }
    }
    if (left.length > 0) {
      throw new PlanningError(listed(left), `the plan cannot bring every component to ${this.target}; if a previous upgrade stopped half-way, run \`kubeadm upgrade node\` on the last control-plane node to finish its add-ons, then plan again`);
    }
    return {
      cluster: this.cluster.name,
      target: this.target,
      pools: this.cluster.pools.map((p) => ({ name: p.name, strategy: p.strategy, maxUnavailable: p.maxUnavailable, ...(p.blueGreen ? { blueGreen: p.blueGreen } : {}) })),
      initialState: this.initial,
      finalState: this.state,
      hops: this.hops,
      maintenance: this.maintenance,
      resume: this.resumed,
      removals: this.removed,
      steps: this.steps,
    };
  }
}

/** `items` in consecutive batches of `size` (the last may be smaller). */
function inBatches<T>(items: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

function listed(items: readonly string[]): string[] {
  return items.length <= MAX_LISTED ? [...items] : [...items.slice(0, MAX_LISTED), `... and ${items.length - MAX_LISTED} more`];
}
