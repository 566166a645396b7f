/**
 * A config without versions, filled in from the cluster: the control plane and every
 * selected pool get their nodes, each with the versions the cluster runs
 * (discovery/live-cluster.ts), its SSH address and host key. What the program and
 * `npm run plan` do next is the same as for a config that declares its nodes.
 */
import type { LiveCluster, LiveNode } from "../discovery/live-cluster";
import { CONTROL_PLANE_COMPONENTS, CONTROL_PLANE_POOL, UNPOOLED } from "../planning/cluster";
import { ProblemList } from "../planning/errors";
import type { KubeVersion } from "../planning/versions";
import { checkBatchFits, CONTROL_PLANE_LABEL, resolveMaxUnavailable } from "./live-config";
import { removalProblems } from "./removal-config";
import { selects } from "./selector";
import { MAX_NODES, NodeConfig, PROJECT, StackConfig } from "./stack-config";

/**
 * `config` with its nodes read from `live`. A config that declares its nodes is returned
 * with only `cordonedByUs` taken from the cluster (compare it first: config/drift.ts).
 * Rules: the control plane is the nodes labelled {@link CONTROL_PLANE_LABEL}, in
 * `controlPlane.order`, then by name; a rolling pool is the workers its selector selects;
 * workers no pool selects (and that are not a blue-green pool's) are `unpooled`: they are
 * not changed, but the plan keeps their kubelets within the version skew. kubectl's version on
 * a node is not visible through the API (REFERENCE.md, "Measured on a real kube-apiserver"):
 * it is taken to be the kubelet's, as the upgrade installs both together.
 * @throws InputErrors naming the config key to change for: an order naming no control-plane
 *   node, a node two pools select, a selector that selects nothing, a node without the
 *   address to reach it or without a host key, a kubectlNode that is not a control-plane node,
 *   maxUnavailable above maxNodesPerUpdate, more than {@link MAX_NODES} nodes, a control-plane
 *   node without one of its static pods, a `removeNodes` entry that cannot be carried out
 *   (config/removal-config.ts removalProblems).
 */
export function resolveLive(config: StackConfig, live: LiveCluster): StackConfig {
  const byName = new Map(live.nodes.map((n) => [n.name, n]));
  const mark = (n: NodeConfig): NodeConfig => {
    const read = byName.get(n.name);
    return { ...n, ...(read?.cordonedByUs ? { cordonedByUs: true } : {}), ...(read && read.ready !== "True" ? { notReady: true } : {}) };
  };
  if (!config.live) {
    return { ...config, controlPlane: config.controlPlane.map(mark), pools: config.pools.map((p) => ({ ...p, nodes: p.nodes.map(mark) })) };
  }
  const selection = config.live;
  const problems = new ProblemList();
  // A node removed for good: a dead one is never reached over SSH, one no pool selects is (for its reset).
  const removal = new Map(config.removeNodes.map((r) => [r.name, r]));
  if (live.nodes.length > MAX_NODES) {
    problems.add("(the cluster)", `${live.nodes.length} nodes`, `has more than ${MAX_NODES} nodes, the most a Kubernetes cluster supports (https://kubernetes.io/docs/setup/best-practices/cluster-large/)`, "check that the kubeconfig points at the right cluster");
    problems.throwIfAny(`cannot plan from the cluster at ${live.server}`);
  }
  const reach = (n: LiveNode, needed: boolean): { host: string; hostKey?: string } => {
    const own = selection.hosts.get(n.name);
    if (!needed || removal.get(n.name)?.dead) return { host: "" };
    const host = own?.host ?? n.addresses.find((a) => a.type === selection.addressType)?.address;
    if (!host) {
      problems.add(`hosts.${n.name}.host`, undefined, `is needed: node ${n.name} reports no ${selection.addressType} address`, `set hosts.${n.name}.host, or nodeAddressType to one it has (${n.addresses.map((a) => a.type).join(", ") || "none"})`);
    }
    if (!own?.hostKey && !config.ssh.insecureIgnoreHostKey) {
      problems.add(`hosts.${n.name}.hostKey`, undefined, `is required: node ${n.name} is reached over SSH and its host key is checked`, `take the key part of \`ssh-keyscan -t ed25519 ${host ?? "<host>"}\`, run from a trusted network, e.g. hosts: { ${n.name}: { hostKey: "ssh-ed25519 AAAA..." } }`);
    }
    return { host: host ?? "", ...(own?.hostKey ? { hostKey: own.hostKey } : {}) };
  };
  const nodeConfig = (n: LiveNode, pool: string, needsSsh: boolean): NodeConfig => {
    const components: Partial<Record<(typeof CONTROL_PLANE_COMPONENTS)[number], KubeVersion>> = {};
    if (pool === CONTROL_PLANE_POOL) {
      for (const c of CONTROL_PLANE_COMPONENTS) {
        const v = n.staticPods?.[c];
        if (v) components[c] = v;
        else problems.add(`(the cluster) node ${n.name}`, undefined, `is a control-plane node without a ${c} mirror pod in kube-system`, `check the node (crictl ps on it); if it is no longer a control-plane node, remove its ${CONTROL_PLANE_LABEL} label`);
      }
    }
    return {
      name: n.name, ...reach(n, needsSsh), role: pool === CONTROL_PLANE_POOL ? "control-plane" : "worker", pool,
      version: n.kubeletVersion, components, ...(n.cordonedByUs ? { cordonedByUs: true } : {}), ...(n.ready !== "True" ? { notReady: true } : {}),
    };
  };

  const cpLive = live.nodes.filter((n) => Object.hasOwn(n.labels, CONTROL_PLANE_LABEL));
  const cpNames = new Set(cpLive.map((n) => n.name));
  selection.controlPlaneOrder.forEach((name, i) => {
    // A control-plane node removed for good may stay in the order: it is gone, its removeNodes entry cleans its leftovers.
    if (!cpNames.has(name) && !(removal.has(name) && !byName.has(name))) problems.add(`controlPlane.order[${i}]`, name, "is not a control-plane node of the cluster", `name one of ${[...cpNames].join(", ") || "(none found)"}`);
  });
  const rank = (name: string) => {
    const i = selection.controlPlaneOrder.indexOf(name);
    return i < 0 ? selection.controlPlaneOrder.length : i;
  };
  const controlPlane = [...cpLive].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name)).map((n) => nodeConfig(n, CONTROL_PLANE_POOL, true));
  if (controlPlane.length === 0) problems.add("(the cluster)", live.server, `has no node labelled ${CONTROL_PLANE_LABEL}`, "point the kubeconfig at a kubeadm cluster (kubeadm labels its control-plane nodes)");

  const owner = new Map<string, string>();
  const declared = new Set(config.pools.flatMap((p) => p.nodes.map((n) => n.name)));
  const pools = config.pools.map((pool, i) => {
    const chosen = selection.pools.get(pool.name);
    if (!chosen) return { ...pool, nodes: pool.nodes.map(mark) };
    const members = live.nodes.filter((n) => !cpNames.has(n.name) && !declared.has(n.name) && selects(chosen.selector, n.labels));
    for (const n of members) {
      const other = owner.get(n.name);
      if (other) problems.add(`pools[${i}].selector`, chosen.selector.text, `selects node ${n.name}, which pool ${other} selects too`, "make the selectors select disjoint nodes");
      owner.set(n.name, pool.name);
    }
    if (members.length === 0) problems.add(`pools[${i}].selector`, chosen.selector.text, "selects no worker node of the cluster", "check the label (kubectl get nodes --show-labels), or remove the pool");
    const maxUnavailable = resolveMaxUnavailable(chosen.maxUnavailable, members.length);
    if (members.length > 0 && maxUnavailable > members.length) problems.add(`pools[${i}].maxUnavailable`, maxUnavailable, `is more than the pool's ${members.length} node(s)`, `give a whole number from 1 to ${members.length}, or a percentage`);
    checkBatchFits(problems, `pools[${i}].maxUnavailable`, maxUnavailable, config.maxNodesPerUpdate);
    return { ...pool, maxUnavailable, nodes: members.map((n) => nodeConfig(n, pool.name, true)) };
  });
  const unpooled = live.nodes
    .filter((n) => !cpNames.has(n.name) && !owner.has(n.name) && !declared.has(n.name))
    .map((n) => nodeConfig(n, UNPOOLED, removal.has(n.name)));

  const kubectlNode = selection.kubectlNode ?? controlPlane[0]?.name;
  if (controlPlane.length > 0 && !cpNames.has(kubectlNode ?? "")) {
    problems.add("kubectlNode", selection.kubectlNode, "is not a control-plane node of the cluster", `name one of ${controlPlane.map((n) => n.name).join(", ")} (kubectl needs its admin.conf)`);
  }
  if (controlPlane.length > 0) {
    removalProblems(problems, config.removeNodes, {
      nodes: [...controlPlane, ...pools.flatMap((p) => p.nodes), ...unpooled].map((n) => ({ name: n.name, pool: n.pool, notReady: n.notReady === true })),
      blueGreenPools: new Set(config.pools.filter((p) => p.blueGreen).map((p) => p.name)),
      first: { name: controlPlane[0]!.name, key: "controlPlane.order" }, kubectlNode: kubectlNode!, live: true,
    });
  }
  problems.throwIfAny(`cannot plan ${PROJECT} from the cluster at ${live.server}`);
  return {
    ...config, controlPlane, pools, unpooled, kubectlNode: kubectlNode!,
    ...(live.kubeProxy && !config.kubeProxyVersion ? { kubeProxyVersion: live.kubeProxy.version } : {}),
  };
}
