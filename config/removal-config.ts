/**
 * `removeNodes`: the nodes to remove from the cluster for good (planning/removal.ts), each by
 * its Kubernetes node name, either a plain name or `{ name, dead, allowEvenEtcdMembers }`:
 *
 *   cluster-maintenance:removeNodes:
 *     - general-7                                  # drained, reset over SSH, deleted
 *     - { name: cp-3, allowEvenEtcdMembers: true } # a control-plane node leaving 2 etcd members
 *     - { name: general-9, dead: true }            # gone for good: no SSH, its Node deleted
 *
 * The parser checks the shape here; {@link removalProblems} checks each entry against the
 * cluster's nodes (the declared ones, or those read from the cluster).
 */
import { CONTROL_PLANE_POOL } from "../planning/cluster";
import type { ProblemList } from "../planning/errors";
import type { NodeRemovalSpec } from "../planning/removal";
import { FieldReader, SUBDOMAIN } from "./fields";
import { flag } from "./maintenance-config";

/** One `removeNodes` entry. */
export interface NodeRemovalConfig {
  readonly name: string;
  /** The node is dead: not Ready, its machine unreachable. No drain and no SSH step. @default false */
  readonly dead: boolean;
  /** A control-plane node whose removal may leave etcd an even member count. @default false */
  readonly allowEvenEtcdMembers: boolean;
}

const EXAMPLE = '[general-7, { name: cp-3, allowEvenEtcdMembers: true }, { name: general-9, dead: true }]';

/**
 * Reads `removeNodes`. @default []
 * Problems (each naming the key, the value and the fix): not a list; an entry that is neither a
 * node name nor an object with `name`; a bad name; `dead` or `allowEvenEtcdMembers` not true or
 * false; an unknown key; a node listed twice.
 */
export function parseRemoveNodes(r: FieldReader, value: unknown): readonly NodeRemovalConfig[] | undefined {
  if (value === undefined) return [];
  const list = r.array(value, "removeNodes", EXAMPLE);
  if (!list) return undefined;
  const seen = new Set<string>();
  let ok = true;
  const out = list.flatMap((entry, i): NodeRemovalConfig[] => {
    const key = `removeNodes[${i}]`;
    const o = typeof entry === "string" ? { name: entry } : r.object(entry, key, "a node name, or { name: cp-3, dead: false, allowEvenEtcdMembers: false }");
    if (!o) {
      ok = false;
      return [];
    }
    r.noUnknownKeys(o, key, ["name", "dead", "allowEvenEtcdMembers"]);
    const name = r.string(o.name, typeof entry === "string" ? key : `${key}.name`, SUBDOMAIN, "a Kubernetes node name (lowercase DNS name)");
    const dead = flag(r, o.dead, `${key}.dead`);
    const allowEvenEtcdMembers = flag(r, o.allowEvenEtcdMembers, `${key}.allowEvenEtcdMembers`);
    if (name && seen.has(name)) r.problems.add(key, name, "is listed twice", "list each node once");
    if (!name || dead === undefined || allowEvenEtcdMembers === undefined || seen.has(name)) {
      ok = false;
      return [];
    }
    seen.add(name);
    return [{ name, dead, allowEvenEtcdMembers }];
  });
  return ok ? out : undefined;
}

/** A node as {@link removalProblems} needs it. */
export interface RemovableNode {
  readonly name: string;
  /** Worker pool name, or `control-plane`. */
  readonly pool: string;
  /** Read from the cluster: Ready is not True. Absent for declared nodes (not known). */
  readonly notReady?: boolean;
}

/** What the removals are checked against. */
export interface RemovalContext {
  /** Every node of the cluster (or of the config, when it declares its nodes). */
  readonly nodes: readonly RemovableNode[];
  /** Names of the blue-green pools (their instances are the pool's). */
  readonly blueGreenPools: ReadonlySet<string>;
  /** The first control-plane node, and the key that makes it first (`controlPlane.order` or `controlPlane.nodes`). */
  readonly first: { readonly name: string; readonly key: string };
  /** The kubectl node (`kubectlNode`, by default the first control-plane node). */
  readonly kubectlNode: string;
  /** The nodes were read from the cluster: a node not among them is already gone. */
  readonly live: boolean;
}

/**
 * Adds a problem for each `removeNodes` entry that cannot be carried out, naming its key and the
 * config key to change first:
 * - a node not in the config (declared nodes: a name cannot be told from a typo);
 * - a blue-green pool's node: the pool owns its instances (change its size);
 * - the first control-plane node (controlPlane.order / controlPlane.nodes) or the kubectl node
 *   (kubectlNode): the snapshots, kubeadm upgrade apply, drains and etcd commands run there;
 * - `allowEvenEtcdMembers` on a worker;
 * - read from the cluster: `dead` on a Ready node (it would be deleted while its kubelet runs,
 *   and register again), or a node not Ready without `dead` (a drain cannot finish on it).
 */
export function removalProblems(problems: ProblemList, removals: readonly NodeRemovalConfig[], ctx: RemovalContext): void {
  const byName = new Map(ctx.nodes.map((n) => [n.name, n]));
  removals.forEach((r, i) => {
    const key = `removeNodes[${i}]`;
    const node = byName.get(r.name);
    if (!node) {
      if (!ctx.live) problems.add(key, r.name, "is not a node of this config", "name a node listed in controlPlane.nodes or a pool's nodes; a node already gone from the cluster is cleaned of its leftovers only in a config that reads its nodes from the cluster");
      return;
    }
    const cp = node.pool === CONTROL_PLANE_POOL;
    if (ctx.blueGreenPools.has(node.pool)) problems.add(key, r.name, `belongs to blue-green pool ${node.pool}, whose instances are the pool's`, "lower the pool's size instead");
    if (r.name === ctx.first.name) problems.add(key, r.name, "is the first control-plane node, which runs every hop's etcd snapshot and kubeadm upgrade apply", `change ${ctx.first.key} first so that another control-plane node comes first, then remove it`);
    else if (r.name === ctx.kubectlNode) problems.add(key, r.name, "is the kubectl node, which drains the nodes and runs the etcd commands of every removal", "set kubectlNode to another control-plane node first, then remove it");
    if (!cp && r.allowEvenEtcdMembers) problems.add(`${key}.allowEvenEtcdMembers`, true, `applies to control-plane nodes only; ${r.name} is a worker`, "leave it out");
    if (ctx.live && r.dead && node.notReady === false) problems.add(`${key}.dead`, true, `but node ${r.name} is Ready: its kubelet would register it again once deleted`, `leave dead out to drain and reset it over SSH, or stop it first`);
    if (ctx.live && !r.dead && node.notReady) problems.add(key, r.name, "is not Ready: its pods cannot be drained and its machine may not answer over SSH", `if the machine is gone for good, write { name: ${r.name}, dead: true } (no SSH step, its Node deleted); otherwise bring it back Ready first`);
  });
}

/** The planner's removals (ClusterSpec.removals): a node not among `nodes` is `gone`. */
export function removalSpecs(removals: readonly NodeRemovalConfig[], nodes: ReadonlySet<string>): NodeRemovalSpec[] {
  return removals.map((r) => ({ name: r.name, dead: r.dead, allowEvenEtcdMembers: r.allowEvenEtcdMembers, gone: !nodes.has(r.name) }));
}
