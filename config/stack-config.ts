/**
 * Stack config (`Pulumi.<stack>.yaml`, keys under the `cluster-maintenance:` namespace)
 * parsed once into typed, validated values. Every problem names the key, the value and the
 * fix, and all problems are thrown together, before anything is planned or created.
 * The key reference is in README.md ("Configuration reference").
 */
import { CONTROL_PLANE_POOL, ClusterSpec, Component, NodeRole, NodeState, POOL_STRATEGIES, PoolStrategy, UNPOOLED } from "../planning/cluster";
import { ProblemList } from "../planning/errors";
import { assemblePlan } from "../planning/assembled-plan";
import type { UpgradePlan } from "../planning/plan-types";
import { ReleaseCatalogue } from "../planning/releases";
import { KubeVersion, parseCurrentVersionSpec, parseVersionSpec } from "../planning/versions";
import { DEFAULT_READY_TIMEOUT_SECONDS } from "../planning/actions";
import type { DrainOptions, EtcdOptions, ExecutionOptions } from "../planning/commands";
import { FieldReader, LABEL, plainData, RawObject, SUBDOMAIN } from "./fields";
import { hostProblem } from "./values";
import { parseHostKey, parseSsh, SshConfig, SshTarget } from "./ssh-config";
import { BackupConfig, parseBackup } from "./backup-config";
import { BLUE_GREEN_KEYS, BlueGreenPoolConfig, parseBlueGreen } from "./blue-green-config";
import { BlueGreenSpec, colorNodeNames } from "../planning/blue-green";
import { DEFAULT_DRAIN, parseDrain, parseEtcd, parseRevision } from "./maintenance-config";
import { NodeRemovalConfig, parseRemoveNodes, removalProblems, removalSpecs } from "./removal-config";
import { parseAcknowledge } from "./acknowledge-config";
import { MaintenanceWindow, parseMaintenanceWindow } from "./window-config";
import { checkBatchFits, LiveSelection, MaxUnavailable, parseLiveKeys, parseMaxUnavailableSpec, parseSelectorKey, PERCENT, resolveMaxUnavailable } from "./live-config";
import type { LabelSelector } from "./selector";

export type { SshConfig, SshTarget } from "./ssh-config";

/** The config namespace: the Pulumi project name. */
export const PROJECT = "cluster-maintenance";

/** Every top-level key this program reads (sshPrivateKey is read as a Pulumi secret, apart). */
export const CONFIG_KEYS = ["clusterName", "targetVersion", "releases", "controlPlane", "pools", "kubeProxyVersion", "ssh", "sshPrivateKey", "kubectlNode", "etcd", "readyTimeoutSeconds", "backup", "maxNodesPerUpdate", "hosts", "nodeAddressType", "kubeconfig", "acknowledge", "maintenanceWindow", "notificationWebhookUrl", "removeNodes"] as const;

/**
 * Default `maxNodesPerUpdate`: a rolling worker costs 8 registered resources (its component and
 * seven commands), so 250 workers keep one `pulumi up` at about 2,000 resources.
 */
export const DEFAULT_MAX_NODES_PER_UPDATE = 250;

export interface NodeConfig {
  readonly name: string;
  /** Address the node is reached at over SSH ("" for a blue-green pool's instances: no SSH). */
  readonly host: string;
  /** The node's SSH host key, `<type> <base64>`; absent with no SSH, or with `ssh.insecureIgnoreHostKey`. */
  readonly hostKey?: string;
  readonly role: NodeRole;
  readonly pool: string;
  /** Version of every component not given in `components`. */
  readonly version: KubeVersion;
  readonly components: Partial<Record<Component, KubeVersion>>;
  /** Read from the cluster: a drain of this program's left the node cordoned (annotation cluster-maintenance.io/cordoned). */
  readonly cordonedByUs?: boolean;
  /** Read from the cluster: its Ready condition is not True. */
  readonly notReady?: boolean;
}

export interface PoolConfig {
  readonly name: string;
  readonly strategy: PoolStrategy;
  readonly drain: DrainOptions;
  /** OS patch revision: changing it patches the pool's nodes (drain, apt-get upgrade, reboot if asked, uncordon). */
  readonly osPatchRevision?: string;
  /** Whole nodes, resolved from a count or a percentage. */
  readonly maxUnavailable: number;
  /**
   * Listed nodes; for a blue-green pool of this stack's instances, its current color's nodes;
   * for a pool with a `selector`, empty until the cluster is read (config/live-nodes.ts).
   */
  readonly nodes: readonly NodeConfig[];
  /** Blue-green pools: version, target, size, batches, soaks, capacity, AWS settings. */
  readonly blueGreen?: BlueGreenPoolConfig;
}

export interface StackConfig {
  readonly clusterName: string;
  readonly target: KubeVersion;
  readonly catalogue: ReleaseCatalogue;
  readonly controlPlane: readonly NodeConfig[];
  /** How control-plane nodes are drained before their kubelet upgrade. */
  readonly controlPlaneDrain: DrainOptions;
  /** OS patch revision of the control-plane nodes. */
  readonly controlPlaneOsPatchRevision?: string;
  readonly pools: readonly PoolConfig[];
  /** The control-plane node whose kubectl (admin.conf) cordons, drains and uncordons. @default the first */
  readonly kubectlNode: string;
  readonly etcd: EtcdOptions;
  /** Bound on waiting for an upgraded node to be Ready, seconds. @default 600 */
  readonly readyTimeoutSeconds: number;
  /** Off-cluster backups and resource export; absent: snapshots stay on the node. */
  readonly backup?: BackupConfig;
  /** The kube-proxy DaemonSet's version. @default the oldest kube-apiserver's version */
  readonly kubeProxyVersion?: KubeVersion;
  readonly ssh: SshConfig;
  /** Most nodes one `pulumi up` changes (planning/waves.ts). @default {@link DEFAULT_MAX_NODES_PER_UPDATE} */
  readonly maxNodesPerUpdate: number;
  /**
   * Present when the config declares no versions (no `controlPlane.nodes`): how the nodes are
   * found in the cluster and reached. The control plane and the selected pools have no nodes
   * until {@link resolveLive} (config/live-nodes.ts) fills them from the cluster.
   */
  readonly live?: LiveSelection;
  /** Nodes read from the cluster that no pool selects: they are not upgraded, but constrain the plan. */
  readonly unpooled: readonly NodeConfig[];
  /** Ids of go/no-go findings let through although blocking (preflight/findings.ts). @default [] */
  readonly acknowledge: readonly string[];
  /** When `pulumi up` may carry out a wave (config/window-config.ts); absent: any time. */
  readonly maintenanceWindow?: MaintenanceWindow;
  /** Nodes removed for good before any hop (config/removal-config.ts). @default [] */
  readonly removeNodes: readonly NodeRemovalConfig[];
}

const CP_COMPONENTS: readonly Component[] = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl"];
const WORKER_COMPONENTS: readonly Component[] = ["kubelet", "kubectl"];
const NODE_EXAMPLE = '[{ name: "cp-1", host: "10.0.0.11", hostKey: "ssh-ed25519 AAAA...", version: "1.34.9" }]';

/**
 * Most nodes a stack may have: the largest cluster Kubernetes supports (5,000 nodes,
 * https://kubernetes.io/docs/setup/best-practices/cluster-large/). A bigger config is refused
 * with one message before any node is read.
 */
export const MAX_NODES = 5000;

/** Nodes `raw` lists (control plane and pools) plus the instances of blue-green pools that list none, counted without reading them. */
function countNodes(raw: RawObject): number {
  const length = (v: unknown) => (Array.isArray(v) ? v.length : 0);
  const own = (o: unknown, k: string): unknown => (o !== null && typeof o === "object" && Object.hasOwn(o, k) ? (o as RawObject)[k] : undefined);
  const pools = Array.isArray(raw.pools) ? raw.pools : [];
  const inPools = pools.reduce<number>((sum, p) => {
    const size = own(p, "size");
    return sum + Math.max(length(own(p, "nodes")), typeof size === "number" && Number.isFinite(size) ? size : 0, 1);
  }, 0);
  return length(own(raw.controlPlane, "nodes")) + inPools;
}

/**
 * Parses raw stack config (keys without the namespace; values as YAML or Pulumi config gives them).
 * Only own keys are read (a key `__proto__` is an unknown key, never a prototype).
 * @param stack the stack name: the default `clusterName`.
 * @throws InputErrors listing every problem, each naming its key, value and fix; one problem
 *   alone when the config has more than {@link MAX_NODES} nodes.
 */
export function parseStackConfig(input: RawObject, stack: string): StackConfig {
  const raw = plainData(input);
  const problems = new ProblemList();
  const r = new FieldReader(problems);
  const count = countNodes(raw);
  if (count > MAX_NODES) {
    problems.add("controlPlane.nodes, pools", `${count} nodes`, `has more than ${MAX_NODES} nodes, the most a Kubernetes cluster supports (https://kubernetes.io/docs/setup/best-practices/cluster-large/)`, "check the stack file: list the cluster's own nodes only");
    problems.throwIfAny(`invalid stack config for ${PROJECT}`);
  }
  r.noUnknownKeys(raw, PROJECT, CONFIG_KEYS);
  const clusterName = r.string(raw.clusterName ?? stack, "clusterName", LABEL, "a DNS label (lowercase letters, digits, '-'; at most 63)");
  const releases = raw.releases === undefined ? [] : r.array(raw.releases, "releases", '[{ minor: "1.38", latestPatch: "1.38.0", released: "2026-12-16", endOfLife: "2028-02-28" }]');
  const catalogue = r.attempt(() => ReleaseCatalogue.embedded().withOverrides(releases ?? [])) ?? ReleaseCatalogue.embedded();
  const version = (value: unknown, key: string) =>
    r.attempt(() => catalogue.resolve(parseVersionSpec(value, key), key, value));
  // What runs now (a node's version and components, a blue-green pool's version): an exact patch.
  const current = (value: unknown, key: string) =>
    r.attempt(() => catalogue.resolve(parseCurrentVersionSpec(value, key), key, value));

  if (raw.targetVersion === undefined) problems.add("targetVersion", undefined, "is required", 'set the version to upgrade to, e.g. targetVersion: "1.37"');
  const target = raw.targetVersion === undefined ? undefined : version(raw.targetVersion, "targetVersion");
  const kubeProxyVersion = raw.kubeProxyVersion === undefined ? undefined : version(raw.kubeProxyVersion, "kubeProxyVersion");

  const ssh = parseSsh(r, raw.ssh);
  // A bad ssh.insecureIgnoreHostKey is reported once, not again as every missing hostKey.
  const rawInsecure = (raw.ssh as RawObject | undefined)?.insecureIgnoreHostKey;
  const insecure = ssh ? ssh.insecureIgnoreHostKey : rawInsecure !== undefined && rawInsecure !== false;
  const hostKey = (value: unknown, key: string, host: string | undefined) => parseHostKey(r, value, key, host, ssh?.port ?? 22, insecure);
  const seen = new Map<string, string>();
  const nodes = (list: unknown, key: string, role: NodeRole, pool: string): NodeConfig[] => {
    const items = r.array(list, key, NODE_EXAMPLE) ?? [];
    if (items.length === 0 && Array.isArray(list)) problems.add(key, list, "has no nodes", `list the nodes, e.g. ${NODE_EXAMPLE}`);
    return items.flatMap((item, i) => {
      const node = parseNode(r, item, `${key}[${i}]`, role, pool, current, hostKey);
      if (!node) return [];
      const before = seen.get(node.name);
      if (before) problems.add(`${key}[${i}].name`, node.name, `repeats the node name at ${before}`, "give every node its own name");
      seen.set(node.name, `${key}[${i}].name`);
      return [node];
    });
  };

  const cp = raw.controlPlane === undefined ? plainData({}) : r.object(raw.controlPlane, "controlPlane", `{ nodes: ${NODE_EXAMPLE} }`);
  // Without controlPlane.nodes the config declares no versions: the cluster is read (config/live-config.ts).
  const live = cp !== undefined && cp.nodes === undefined;
  if (cp) r.noUnknownKeys(cp, "controlPlane", ["nodes", "drain", "osPatchRevision", "order"]);
  if (!live) refuseLiveKeys(r, raw);
  const controlPlaneOsPatch = parseRevision(r, cp?.osPatchRevision, "controlPlane.osPatchRevision");
  const controlPlane = cp && !live ? nodes(cp.nodes, "controlPlane.nodes", "control-plane", CONTROL_PLANE_POOL) : [];
  const selected = new Map<string, { selector: LabelSelector; maxUnavailable: MaxUnavailable }>();
  const controlPlaneDrain = parseDrain(r, cp?.drain, "controlPlane.drain");
  const poolItems = raw.pools === undefined ? [] : (r.array(raw.pools, "pools", '[{ name: "general", strategy: "rolling", maxUnavailable: 1, nodes: [...] }]') ?? []);
  const poolNames = new Set<string>([CONTROL_PLANE_POOL]);
  const pools = poolItems.flatMap((item, i): PoolConfig[] => {
    const key = `pools[${i}]`;
    const p = r.object(item, key, '{ name: "general", strategy: "rolling", maxUnavailable: 1, nodes: [...] }');
    if (!p) return [];
    const strategy = r.choice(p.strategy, `${key}.strategy`, POOL_STRATEGIES, "rolling");
    const blueGreen = strategy === "blue-green";
    r.noUnknownKeys(p, key, ["name", "strategy", "maxUnavailable", "nodes", "drain", "osPatchRevision", ...(blueGreen ? BLUE_GREEN_KEYS : ["selector"])]);
    const name = r.string(p.name, `${key}.name`, LABEL, "a DNS label (lowercase letters, digits, '-'; at most 63)");
    if (name && poolNames.has(name)) problems.add(`${key}.name`, name, "is already used by another pool (control-plane is reserved)", "give every pool its own name");
    if (name) poolNames.add(name);
    const drain = parseDrain(r, p.drain, `${key}.drain`);
    if (blueGreen) {
      const listed = p.nodes === undefined ? [] : nodes(p.nodes, `${key}.nodes`, "worker", name ?? "");
      const bg = parseBlueGreen(r, p, key, name, listed.length, version, current);
      if (bg?.targetVersion && target?.isBefore(bg.targetVersion)) {
        problems.add(`${key}.targetVersion`, p.targetVersion, `is newer than the cluster's targetVersion ${target}`, `give ${target} or older: a kubelet is never newer than the kube-apiserver`);
      }
      if (!name || !drain || !bg) return [];
      const own = bg.adopted ? listed : colorNodeNames(name, bg.version!, bg.size).map((n) => ({ name: n, host: "", role: "worker" as const, pool: name, version: bg.version!, components: {} }));
      return [{ name, strategy, maxUnavailable: 1, drain, nodes: own, blueGreen: bg }];
    }
    const osPatchRevision = parseRevision(r, p.osPatchRevision, `${key}.osPatchRevision`);
    if (live) {
      if (p.nodes !== undefined) problems.add(`${key}.nodes`, "(a list)", "lists nodes in a config without versions (no controlPlane.nodes)", `select the pool's nodes with ${key}.selector, e.g. selector: "pool=${name ?? "general"}"; or declare every node with its version, control plane included`);
      const selector = p.selector === undefined ? undefined : parseSelectorKey(r, p.selector, `${key}.selector`);
      if (p.selector === undefined) problems.add(`${key}.selector`, undefined, "is required when the nodes are read from the cluster", `give a label selector for the pool's nodes, e.g. selector: "pool=${name ?? "general"}"`);
      const spec = parseMaxUnavailableSpec(r, p.maxUnavailable, `${key}.maxUnavailable`);
      if (!name || !strategy || !spec || !drain || !selector) return [];
      selected.set(name, { selector, maxUnavailable: spec });
      return [{ name, strategy, maxUnavailable: 1, drain, nodes: [], ...(osPatchRevision ? { osPatchRevision } : {}) }];
    }
    const poolNodes = nodes(p.nodes, `${key}.nodes`, "worker", name ?? "");
    const maxUnavailable = parseMaxUnavailable(r, p.maxUnavailable, `${key}.maxUnavailable`, poolNodes.length);
    if (!name || !strategy || maxUnavailable === undefined || !drain) return [];
    return [{ name, strategy, maxUnavailable, drain, nodes: poolNodes, ...(osPatchRevision ? { osPatchRevision } : {}) }];
  });

  const etcd = parseEtcd(r, raw.etcd);
  const backup = parseBackup(r, raw.backup, clusterName);
  const readyTimeoutSeconds = r.integer(raw.readyTimeoutSeconds, "readyTimeoutSeconds", 30, 86400, DEFAULT_READY_TIMEOUT_SECONDS);
  const maxNodesPerUpdate = r.integer(raw.maxNodesPerUpdate, "maxNodesPerUpdate", 1, MAX_NODES, DEFAULT_MAX_NODES_PER_UPDATE);
  if (maxNodesPerUpdate !== undefined) pools.forEach((p, i) => checkBatchFits(problems, `pools[${i}].maxUnavailable`, p.maxUnavailable, maxNodesPerUpdate));
  const liveSelection = live ? parseLiveKeys(r, raw, cp, selected, hostKey) : undefined;
  const acknowledge = parseAcknowledge(r, raw.acknowledge);
  const maintenanceWindow = parseMaintenanceWindow(r, raw.maintenanceWindow);
  const removeNodes = parseRemoveNodes(r, raw.removeNodes);
  const kubectlNode = raw.kubectlNode ?? controlPlane[0]?.name;
  if (controlPlane.length > 0 && !controlPlane.some((n) => n.name === kubectlNode)) {
    problems.add("kubectlNode", raw.kubectlNode, "is not a control-plane node", `name one of ${controlPlane.map((n) => n.name).join(", ")} (kubectl needs its admin.conf)`);
  }
  // Nodes read from the cluster are checked once read (config/live-nodes.ts).
  if (!live && removeNodes && controlPlane.length > 0) {
    removalProblems(problems, removeNodes, {
      nodes: [...controlPlane, ...pools.flatMap((p) => p.nodes)], blueGreenPools: new Set(pools.filter((p) => p.blueGreen).map((p) => p.name)),
      first: { name: controlPlane[0]!.name, key: "controlPlane.nodes" }, kubectlNode: String(kubectlNode), live: false,
    });
  }
  problems.throwIfAny(`invalid stack config for ${PROJECT}`);
  return {
    clusterName: clusterName!, target: target!, catalogue, controlPlane, controlPlaneDrain: controlPlaneDrain!, pools, ssh: ssh!,
    kubectlNode: kubectlNode as string, etcd: etcd!, readyTimeoutSeconds: readyTimeoutSeconds!, maxNodesPerUpdate: maxNodesPerUpdate!, unpooled: [], acknowledge: acknowledge!, removeNodes: removeNodes!,
    ...(liveSelection ? { live: liveSelection } : {}),
    ...(kubeProxyVersion ? { kubeProxyVersion } : {}),
    ...(controlPlaneOsPatch ? { controlPlaneOsPatchRevision: controlPlaneOsPatch } : {}),
    ...(backup ? { backup } : {}),
    ...(maintenanceWindow ? { maintenanceWindow } : {}),
  };
}

/** Refuses the keys only a config without versions has (config/live-config.ts), in a config that declares its nodes. */
function refuseLiveKeys(r: FieldReader, raw: RawObject): void {
  const fix = "declared nodes carry their own host and hostKey; to read the nodes from the cluster instead, remove controlPlane.nodes and every pool's nodes";
  for (const k of ["hosts", "nodeAddressType"] as const) {
    if (raw[k] !== undefined) r.problems.add(k, raw[k], "applies only to nodes read from the cluster (no controlPlane.nodes)", fix);
  }
  const cp = raw.controlPlane as RawObject | undefined;
  if (cp && typeof cp === "object" && Object.hasOwn(cp, "order")) r.problems.add("controlPlane.order", cp.order, "applies only to nodes read from the cluster", "list controlPlane.nodes in the order they are upgraded");
  if (Array.isArray(raw.pools)) {
    raw.pools.forEach((p, i) => {
      if (p && typeof p === "object" && Object.hasOwn(p, "selector")) r.problems.add(`pools[${i}].selector`, (p as RawObject).selector, "applies only to nodes read from the cluster (no controlPlane.nodes)", `list the pool's nodes with their versions, or ${fix}`);
    });
  }
}

function parseNode(
  r: FieldReader,
  item: unknown,
  key: string,
  role: NodeRole,
  pool: string,
  version: (value: unknown, key: string) => KubeVersion | undefined,
  readHostKey: (value: unknown, key: string, host: string | undefined) => string | undefined,
): NodeConfig | undefined {
  const n = r.object(item, key, '{ name: "cp-1", host: "10.0.0.11", hostKey: "ssh-ed25519 AAAA...", version: "1.34.9" }');
  if (!n) return undefined;
  r.noUnknownKeys(n, key, ["name", "host", "hostKey", "version", "components"]);
  const name = r.string(n.name, `${key}.name`, SUBDOMAIN, "a Kubernetes node name (lowercase DNS name)");
  const host = r.checked(n.host, `${key}.host`, hostProblem, "a host name or IP address", "a host name or IP address, without a port (that is ssh.port)");
  const hostKey = readHostKey(n.hostKey, `${key}.hostKey`, host);
  const base = version(n.version, `${key}.version`);
  const allowed = role === "control-plane" ? CP_COMPONENTS : WORKER_COMPONENTS;
  const components: Partial<Record<Component, KubeVersion>> = {};
  if (n.components !== undefined) {
    const c = r.object(n.components, `${key}.components`, '{ kubelet: "1.34.3" }');
    if (c) {
      r.noUnknownKeys(c, `${key}.components`, allowed);
      for (const comp of allowed) {
        if (c[comp] !== undefined) {
          const v = version(c[comp], `${key}.components.${comp}`);
          if (v) components[comp] = v;
        }
      }
    }
  }
  return name && host && base ? { name, host, ...(hostKey ? { hostKey } : {}), role, pool, version: base, components } : undefined;
}

/** A count (1..size) or a percentage of the pool ("25%", rounded down, at least 1). @default 1 */
function parseMaxUnavailable(r: FieldReader, value: unknown, key: string, size: number): number | undefined {
  if (value === undefined) return 1;
  const fix = `give a whole number from 1 to the pool's ${size} node(s), or a percentage such as "25%"`;
  if (typeof value === "string" && PERCENT.test(value)) return resolveMaxUnavailable({ percent: Number(value.slice(0, -1)) }, size);
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= Math.max(size, 1)) return value;
  r.problems.add(key, value, "is out of range", fix);
  return undefined;
}

/** The planner's view of the config: pools and nodes with every component's version. */
export function toClusterSpec(config: StackConfig): ClusterSpec {
  const all = [...config.controlPlane, ...config.pools.flatMap((p) => p.nodes), ...config.unpooled];
  const oldestApiserver = config.controlPlane
    .map((n) => n.components["kube-apiserver"] ?? n.version)
    .reduce((a, b) => (b.isBefore(a) ? b : a));
  const kubeProxy = config.kubeProxyVersion ?? oldestApiserver;
  const nodes: NodeState[] = all.map((n) => {
    const v = (c: Component) => n.components[c] ?? n.version;
    const cp = n.role === "control-plane"
      ? { "kube-apiserver": v("kube-apiserver"), "kube-controller-manager": v("kube-controller-manager"), "kube-scheduler": v("kube-scheduler") }
      : {};
    return {
      name: n.name, role: n.role, pool: n.pool, versions: { ...cp, kubelet: v("kubelet"), kubectl: v("kubectl"), "kube-proxy": kubeProxy },
      ...(n.cordonedByUs ? { cordonedByUs: true } : {}),
      ...(n.notReady ? { notReady: true } : {}),
    };
  });
  const osPatch: Record<string, string> = {};
  if (config.controlPlaneOsPatchRevision) osPatch[CONTROL_PLANE_POOL] = config.controlPlaneOsPatchRevision;
  for (const p of config.pools) if (p.osPatchRevision) osPatch[p.name] = p.osPatchRevision;
  const unchecked = uncheckedHostKeys(config);
  return {
    name: config.clusterName,
    ...(unchecked.length > 0 ? { uncheckedHostKeys: unchecked } : {}),
    pools: config.pools.map((p) => ({
      name: p.name, strategy: p.strategy, maxUnavailable: p.maxUnavailable,
      ...(p.blueGreen ? { blueGreen: blueGreenSpec(p.blueGreen, p.drain, config.readyTimeoutSeconds) } : {}),
    })),
    nodes,
    osPatch,
    ...(config.removeNodes.length > 0 ? { removals: removalSpecs(config.removeNodes, new Set(all.map((n) => n.name))) } : {}),
  };
}

function blueGreenSpec(bg: BlueGreenPoolConfig, drain: DrainOptions, readyTimeoutSeconds: number): BlueGreenSpec {
  return {
    size: bg.size, batchSize: bg.batchSize, batchSoakSeconds: bg.batchSoakSeconds, soakSeconds: bg.soakSeconds, managed: !bg.adopted,
    readyTimeoutSeconds, drainTimeoutSeconds: drain.timeoutSeconds,
    ...(bg.targetVersion ? { targetVersion: bg.targetVersion } : {}),
    ...(bg.instanceQuota !== undefined ? { instanceQuota: bg.instanceQuota } : {}),
    ...(bg.hourlyCostUsd !== undefined ? { hourlyCostUsd: bg.hourlyCostUsd } : {}),
  };
}

/**
 * The upgrade plan for a parsed stack config, as {@link assemblePlan} (planning/assembled-plan.ts)
 * makes it for `npm run plan` and the program's ClusterUpgrade component.
 * @param now "today" for end-of-life warnings. @default new Date()
 * @throws PlanningError as assemblePlan does: as planUpgrade does, and for a blue-green pool
 *   replaced more than once.
 */
export function planFromConfig(config: StackConfig, now?: Date): UpgradePlan {
  return assemblePlan({ cluster: toClusterSpec(config), target: config.target, catalogue: config.catalogue, execution: executionOptions(config), ...(now ? { now } : {}) }).plan;
}

/**
 * How the plan is carried out on the nodes (planning/commands.ts); with `backup`, each hop's
 * etcd snapshot is uploaded and the resources exported, and with `backup.volumes` the PVCs are
 * snapshotted too.
 */
export function executionOptions(config: StackConfig): ExecutionOptions {
  const drains = new Map(config.pools.map((p) => [p.name, p.drain]));
  return {
    kubectlNode: config.kubectlNode,
    // A node no pool selects is drained (before its removal) with the defaults.
    drain: (pool) => drains.get(pool) ?? (pool === UNPOOLED ? DEFAULT_DRAIN : config.controlPlaneDrain),
    etcd: config.etcd,
    readyTimeoutSeconds: config.readyTimeoutSeconds,
    ...(config.backup
      ? {
          upload: { bucket: config.backup.bucket, prefix: config.backup.prefix, region: config.backup.region },
          export: { dir: config.backup.exportDir, secrets: config.backup.exportSecrets },
          ...(config.backup.volumes ? { volumes: config.backup.volumes } : {}),
        }
      : {}),
  };
}

/** Node name -> address and host key, for every node reached over SSH (not a blue-green pool's instances, not a dead node, not a node no pool selects unless it is removed). */
export function sshTargetsOf(config: StackConfig): ReadonlyMap<string, SshTarget> {
  return new Map(
    [...config.controlPlane, ...config.pools.flatMap((p) => p.nodes), ...config.unpooled]
      .filter((n) => n.host !== "")
      .map((n) => [n.name, { host: n.host, ...(n.hostKey ? { hostKey: n.hostKey } : {}) }]),
  );
}

/**
 * What is reached over SSH with no host key check (only with `ssh.insecureIgnoreHostKey`):
 * node names, then `bastion <host>`. Empty when every node and the bastion have a hostKey.
 */
export function uncheckedHostKeys(config: StackConfig): string[] {
  const nodes = [...config.controlPlane, ...config.pools.flatMap((p) => p.nodes)].filter((n) => n.host !== "" && !n.hostKey).map((n) => n.name);
  const bastion = config.ssh.bastion && !config.ssh.bastion.hostKey ? [`bastion ${config.ssh.bastion.host}`] : [];
  return [...nodes, ...bastion];
}
