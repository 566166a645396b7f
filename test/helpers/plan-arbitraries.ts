/**
 * Builders and fast-check generators for planner tests (test/plan.test.ts,
 * test/plan.property.test.ts): small cluster descriptions, and random clusters that pass
 * the version-skew policy, each with a target the planner must reach.
 */
import fc from "fast-check";
import { ClusterSpec, NodeState, PoolSpec, PoolStrategy } from "../../planning/cluster";
import { ReleaseCatalogue } from "../../planning/releases";
import { maxKubeletLag } from "../../planning/skew";
import { KubeVersion, parseFullVersion } from "../../planning/versions";

/** The catalogue shipped with the program (knows 1.24 to 1.37). */
export const CATALOGUE = ReleaseCatalogue.embedded();

/** `"1.35.9"` -> KubeVersion. */
export function v(text: string): KubeVersion {
  return parseFullVersion(text, "test");
}

/** A control-plane node whose static pods run `version`; kubelet/kubectl/kube-proxy default to it too. */
export function controlPlaneNode(
  name: string,
  version: string,
  rest: { kubelet?: string; kubectl?: string; proxy?: string } = {},
): NodeState {
  const cp = v(version);
  return {
    name,
    role: "control-plane",
    pool: "control-plane",
    versions: {
      "kube-apiserver": cp,
      "kube-controller-manager": cp,
      "kube-scheduler": cp,
      kubelet: v(rest.kubelet ?? version),
      kubectl: v(rest.kubectl ?? rest.kubelet ?? version),
      "kube-proxy": v(rest.proxy ?? version),
    },
  };
}

/** A worker of `pool` with kubelet and kubectl at `version`; kube-proxy (a DaemonSet) defaults to it. */
export function workerNode(name: string, pool: string, version: string, proxy: string = version): NodeState {
  return { name, role: "worker", pool, versions: { kubelet: v(version), kubectl: v(version), "kube-proxy": v(proxy) } };
}

/** `count` workers named `<pool>-1..count`. */
export function workers(pool: string, count: number, version: string, proxy: string = version): NodeState[] {
  return Array.from({ length: count }, (_, i) => workerNode(`${pool}-${i + 1}`, pool, version, proxy));
}

/**
 * The dev stack's shape: cp-1..3, rolling pool `general` (4 nodes, maxUnavailable 2),
 * blue-green pool `batch` (3 nodes); versions per group, kube-proxy at the control plane's.
 */
export function devCluster(
  versions: { controlPlane?: string; general?: string; batch?: string } = {},
): ClusterSpec {
  const cp = versions.controlPlane ?? "1.34.6";
  return {
    name: "dev",
    pools: [
      { name: "general", strategy: "rolling", maxUnavailable: 2 },
      { name: "batch", strategy: "blue-green", maxUnavailable: 1 },
    ],
    nodes: [
      controlPlaneNode("cp-1", cp),
      controlPlaneNode("cp-2", cp),
      controlPlaneNode("cp-3", cp),
      ...workers("general", 4, versions.general ?? cp, cp),
      ...workers("batch", 3, versions.batch ?? cp, cp),
    ],
  };
}

/** A random cluster and the version to upgrade it to. */
export interface UpgradeCase {
  readonly cluster: ClusterSpec;
  readonly target: KubeVersion;
}

/** Latest patch the catalogue knows for `minor`; minors older than the catalogue get 17. */
function latestPatch(minor: number): number {
  return CATALOGUE.get(minor)?.latestPatch.patch ?? 17;
}

/** Raw draws for one worker node: how many minors behind the control plane, which patch. */
const rawWorker = fc.record({ lag: fc.integer({ min: 0, max: 3 }), patch: fc.nat() });

const rawPool = fc.record({
  blueGreen: fc.boolean(),
  nodes: fc.array(rawWorker, { minLength: 1, maxLength: 8 }),
  maxUnavailable: fc.nat(),
});

const rawCluster = fc.record({
  cpMinor: fc.integer({ min: 25, max: 36 }),
  cpPatch: fc.nat(),
  cpCount: fc.integer({ min: 1, max: 5 }),
  pools: fc.array(rawPool, { maxLength: 4 }),
  targetMinor: fc.nat(),
  targetLatest: fc.boolean(),
  targetPatch: fc.nat(),
  /** Only read for clusters stopped mid-hop: control-plane nodes already past their hop's kubeadm step. */
  resumed: fc.nat(),
  /** ... and, when all of them are, control-plane kubelets already upgraded too. */
  kubeletsDone: fc.nat(),
  nextPatch: fc.nat(),
});

type Raw = typeof rawCluster extends fc.Arbitrary<infer T> ? T : never;

/**
 * Turns raw draws into a cluster that passes the skew policy by construction: every node's
 * components at the control plane's version, except that rolling workers may be one minor
 * behind and blue-green workers up to three (two for a kubelet older than 1.25) behind the
 * newest kube-apiserver; kube-proxy everywhere at the control plane's version (kubeadm
 * upgrades the DaemonSet with it). The target is at or after every component: its minor
 * from the control plane's to 1.37, its patch the minor's latest or one from the newest
 * patch already running to the latest.
 *
 * With `midHop`, a cluster whose target is past its control plane's minor may have stopped
 * during the next hop: its first control-plane nodes already run the next minor's static
 * pods (`kubeadm upgrade apply`/`node` done, kubelet not yet); when all of them do, kube-proxy
 * has moved too (kubeadm >= 1.28 upgrades add-ons after the last control-plane node) and the
 * first control-plane kubelets may be done as well. Its rolling workers are then at the
 * control plane's minor: the hop before brought them there.
 */
function build(raw: Raw, midHop: boolean): UpgradeCase {
  const { cpMinor } = raw;
  const targetMinor = cpMinor + (raw.targetMinor % (37 - cpMinor + 1));
  const cpVersion = `1.${cpMinor}.${raw.cpPatch % (latestPatch(cpMinor) + 1)}`;
  const resumed = midHop && targetMinor > cpMinor ? raw.resumed % (raw.cpCount + 1) : 0;
  const next = `1.${cpMinor + 1}.${raw.nextPatch % (latestPatch(cpMinor + 1) + 1)}`;
  const allResumed = resumed === raw.cpCount;
  const kubeletsDone = allResumed ? raw.kubeletsDone % (raw.cpCount + 1) : 0;
  const proxy = allResumed ? next : cpVersion;
  const newestMinor = resumed > 0 ? cpMinor + 1 : cpMinor;
  const nodes: NodeState[] = [];
  for (let i = 1; i <= raw.cpCount; i++) {
    const kubelet = i <= kubeletsDone ? next : cpVersion;
    nodes.push(controlPlaneNode(`cp-${i}`, i <= resumed ? next : cpVersion, { kubelet, proxy }));
  }
  const pools: PoolSpec[] = raw.pools.map((p, i) => {
    const strategy: PoolStrategy = p.blueGreen ? "blue-green" : "rolling";
    const name = `${strategy === "rolling" ? "roll" : "bg"}${i + 1}`;
    p.nodes.forEach((w, j) => {
      // a rolling pool catches up before its control plane's next hop, so a stopped hop finds it at the control plane's minor
      let lag = strategy === "rolling" ? (resumed > 0 ? 0 : w.lag % 2) : w.lag;
      while (lag > 0 && newestMinor - (cpMinor - lag) > maxKubeletLag(KubeVersion.of(1, cpMinor - lag, 0))) lag--;
      const minor = cpMinor - lag;
      nodes.push(workerNode(`${name}-${j + 1}`, name, `1.${minor}.${w.patch % (latestPatch(minor) + 1)}`, proxy));
    });
    return { name, strategy, maxUnavailable: 1 + (p.maxUnavailable % p.nodes.length) };
  });
  const latest = latestPatch(targetMinor);
  let lowest = 0;
  for (const n of nodes) {
    for (const version of Object.values(n.versions)) {
      if (version && version.minor === targetMinor) lowest = Math.max(lowest, version.patch);
    }
  }
  const patch = raw.targetLatest ? latest : lowest + (raw.targetPatch % (latest - lowest + 1));
  return { cluster: { name: "prop", pools, nodes }, target: KubeVersion.of(1, targetMinor, patch) };
}

/**
 * Clusters of 1-5 control-plane nodes (control plane at 1.25-1.36) and 0-4 pools of 1-8
 * nodes, rolling or blue-green, with a target from the control plane's minor to 1.37.
 */
export const upgradeCase: fc.Arbitrary<UpgradeCase> = rawCluster.map((raw) => build(raw, false));

/**
 * Like {@link upgradeCase}, but a cluster whose target is past its control plane's minor
 * may have stopped in the middle of its next hop (see {@link build}): what a re-run of
 * `pulumi up` after a failure plans from.
 */
export const midHopUpgradeCase: fc.Arbitrary<UpgradeCase> = rawCluster.map((raw) => build(raw, true));
