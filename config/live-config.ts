/**
 * The keys of a stack config without versions: the nodes and their versions are read from
 * the cluster (discovery/), the config says only how to find and reach them.
 *
 * - the control plane is every node with the label `node-role.kubernetes.io/control-plane`
 *   (kubeadm sets it: https://kubernetes.io/docs/reference/labels-annotations-taints/#node-role-kubernetes-io-control-plane),
 *   upgraded in `controlPlane.order` (the nodes it does not name after, by name);
 * - a rolling pool is the nodes its `selector` selects (config/selector.ts);
 * - a node is reached at its address of type `nodeAddressType` (Node `status.addresses`),
 *   unless `hosts.<node>.host` says otherwise; its SSH host key is `hosts.<node>.hostKey`.
 */
import type { ProblemList } from "../planning/errors";
import { FieldReader, RawObject, SUBDOMAIN } from "./fields";
import { hostProblem } from "./values";
import { LabelSelector, parseSelector } from "./selector";

/** Node address types a kubelet reports. Source: https://kubernetes.io/docs/reference/node/node-status/#addresses */
export const ADDRESS_TYPES = ["InternalIP", "ExternalIP", "Hostname", "InternalDNS", "ExternalDNS"] as const;
export type AddressType = (typeof ADDRESS_TYPES)[number];

/** The label kubeadm puts on control-plane nodes. */
export const CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane";

/** A pool's `maxUnavailable` as written: a count, or a percentage of the pool's size (known once the pool is read). */
export type MaxUnavailable = { readonly count: number } | { readonly percent: number };

/** How nodes are found and reached when the config declares no versions. */
export interface LiveSelection {
  /** Control-plane nodes upgraded first, in this order; the other control-plane nodes follow by name. */
  readonly controlPlaneOrder: readonly string[];
  /** Rolling pools by name: which nodes, and how many at once. */
  readonly pools: ReadonlyMap<string, { readonly selector: LabelSelector; readonly maxUnavailable: MaxUnavailable }>;
  /** The address a node is reached at, unless `hosts` overrides it. @default "InternalIP" */
  readonly addressType: AddressType;
  /** Per-node SSH address and host key, by node name. */
  readonly hosts: ReadonlyMap<string, { readonly host?: string; readonly hostKey?: string }>;
  /** `kubectlNode` as written (checked against the control plane once it is read). */
  readonly kubectlNode?: string;
}

/** `controlPlane.order`: node names. */
export function parseOrder(r: FieldReader, value: unknown): string[] {
  if (value === undefined) return [];
  const items = r.array(value, "controlPlane.order", '["cp-1", "cp-2", "cp-3"]') ?? [];
  const seen = new Set<string>();
  return items.flatMap((item, i) => {
    const name = r.string(item, `controlPlane.order[${i}]`, SUBDOMAIN, "a Kubernetes node name (lowercase DNS name)");
    if (!name) return [];
    if (seen.has(name)) {
      r.problems.add(`controlPlane.order[${i}]`, name, "is listed twice", "list each control-plane node once");
      return [];
    }
    seen.add(name);
    return [name];
  });
}

/** A pool's `selector`: an equality-based label selector. */
export function parseSelectorKey(r: FieldReader, value: unknown, key: string): LabelSelector | undefined {
  const fix = 'give an equality-based label selector, as `kubectl get nodes -l` takes it, e.g. selector: "pool=general"';
  if (typeof value !== "string") {
    r.problems.add(key, value, "is not text", fix);
    return undefined;
  }
  const parsed = parseSelector(value);
  if (typeof parsed === "string") {
    r.problems.add(key, value, parsed, fix);
    return undefined;
  }
  return parsed;
}

/** A `maxUnavailable` percentage: "1%" to "100%". */
export const PERCENT = /^([1-9][0-9]?|100)%$/;

/** A pool's `maxUnavailable` before its size is known: a whole number from 1, or "N%". @default 1 */
export function parseMaxUnavailableSpec(r: FieldReader, value: unknown, key: string): MaxUnavailable | undefined {
  if (value === undefined) return { count: 1 };
  if (typeof value === "string" && PERCENT.test(value)) return { percent: Number(value.slice(0, -1)) };
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 5000) return { count: value };
  r.problems.add(key, value, "is out of range", 'give a whole number of nodes from 1, or a percentage of the pool such as "25%"');
  return undefined;
}

/** Whole nodes for a pool of `size` nodes: a count as is, a percentage rounded down and at least 1. */
export function resolveMaxUnavailable(spec: MaxUnavailable, size: number): number {
  return "count" in spec ? spec.count : Math.max(1, Math.floor((size * spec.percent) / 100));
}

/** Records that a pool's batch (`maxUnavailable` nodes) does not fit in one update, when it does not. */
export function checkBatchFits(problems: ProblemList, key: string, maxUnavailable: number, maxNodesPerUpdate: number): void {
  if (maxUnavailable > maxNodesPerUpdate) {
    problems.add(key, maxUnavailable, `is more than maxNodesPerUpdate (${maxNodesPerUpdate}): a batch must fit in one update`, `lower it, or raise maxNodesPerUpdate to at least ${maxUnavailable}`);
  }
}

/** `nodeAddressType`. @default "InternalIP" */
export function parseAddressType(r: FieldReader, value: unknown): AddressType | undefined {
  return r.choice(value, "nodeAddressType", ADDRESS_TYPES, "InternalIP");
}

/**
 * `hosts`: `{ <node name>: { host?, hostKey? } }`.
 * @param readHostKey reads one hostKey (config/ssh-config.ts parseHostKey with the ssh settings).
 */
export function parseHosts(
  r: FieldReader,
  value: unknown,
  readHostKey: (value: unknown, key: string, host: string | undefined) => string | undefined,
): Map<string, { host?: string; hostKey?: string }> {
  const hosts = new Map<string, { host?: string; hostKey?: string }>();
  if (value === undefined) return hosts;
  const all = r.object(value, "hosts", '{ cp-1: { host: "10.0.0.11", hostKey: "ssh-ed25519 AAAA..." } }');
  if (!all) return hosts;
  for (const [name, item] of Object.entries(all)) {
    const key = `hosts.${name}`;
    if (!SUBDOMAIN.test(name)) r.problems.add(key, name, "is not a Kubernetes node name", "key each entry by the node's name, as `kubectl get nodes` shows it");
    const h = r.object(item, key, '{ host: "10.0.0.11", hostKey: "ssh-ed25519 AAAA..." }');
    if (!h) continue;
    r.noUnknownKeys(h, key, ["host", "hostKey"]);
    const host = h.host === undefined ? undefined : r.checked(h.host, `${key}.host`, hostProblem, "a host name or IP address", "a host name or IP address, without a port (that is ssh.port)");
    // A missing hostKey is checked once the node's address is known (it may come from the cluster).
    const hostKey = h.hostKey === undefined ? undefined : readHostKey(h.hostKey, `${key}.hostKey`, host);
    hosts.set(name, { ...(host ? { host } : {}), ...(hostKey ? { hostKey } : {}) });
  }
  return hosts;
}

/** Reads the live-only top-level keys of `raw`. */
export function parseLiveKeys(
  r: FieldReader,
  raw: RawObject,
  cp: RawObject | undefined,
  pools: LiveSelection["pools"],
  readHostKey: (value: unknown, key: string, host: string | undefined) => string | undefined,
): LiveSelection | undefined {
  const controlPlaneOrder = parseOrder(r, cp?.order);
  const addressType = parseAddressType(r, raw.nodeAddressType);
  const hosts = parseHosts(r, raw.hosts, readHostKey);
  const kubectlNode = raw.kubectlNode === undefined ? undefined : r.string(raw.kubectlNode, "kubectlNode", SUBDOMAIN, "a Kubernetes node name (lowercase DNS name)");
  if (!addressType) return undefined;
  return { controlPlaneOrder, pools, addressType, hosts, ...(kubectlNode ? { kubectlNode } : {}) };
}
