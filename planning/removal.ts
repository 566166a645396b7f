/**
 * Removing nodes for good (the stack config's `removeNodes`): which nodes, what each removal
 * runs, and the etcd quorum arithmetic that decides whether a control-plane node may go.
 *
 * The order follows kubeadm's "Clean up" procedure: drain, `kubeadm reset` on the node (on a
 * control-plane node with stacked etcd it removes the node's own etcd member: phase
 * remove-etcd-member), the clean-up reset leaves (kubelet, CNI configuration, iptables/IPVS),
 * then `kubectl delete node`. Sources:
 * https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/create-cluster-kubeadm/#remove-the-node ,
 * https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-reset/ .
 * A dead node is never reached over SSH: its etcd member is removed from a healthy member
 * (https://etcd.io/docs/v3.5/op-guide/runtime-configuration/#remove-a-member) and its Node deleted.
 */
import type { Action } from "./plan-types";

/** One node to remove, as the planner takes it (config/removal-config.ts reads it). */
export interface NodeRemovalSpec {
  /** The Kubernetes node name. */
  readonly name: string;
  /** Not Ready and not reachable: no drain and no SSH step; its pods are listed, its Node deleted. @default false */
  readonly dead: boolean;
  /**
   * No longer in the cluster: only its leftovers are cleaned (its etcd member, if one is still
   * listed under its name, removed from a healthy member). @default false
   */
  readonly gone: boolean;
  /** Accept leaving etcd with an even member count (control-plane nodes only). @default false */
  readonly allowEvenEtcdMembers: boolean;
}

/** etcd's members around one removal, as the plan (or etcd-member.sh, at run time) counts them. */
export interface EtcdRemovalInput {
  /** The member being removed (its node's name). */
  readonly node: string;
  /** Voting members now, the one being removed included. */
  readonly members: number;
  /** Other members that are not healthy now, by name. */
  readonly unhealthy: readonly string[];
  /** Whether the member being removed is healthy now (a dead node's is not). */
  readonly removedHealthy: boolean;
  /** The operator accepted an even member count after the removal. */
  readonly allowEven: boolean;
}

/** Votes etcd needs to commit anything with `members` voting members: a majority. https://etcd.io/docs/v3.5/faq/#what-is-failure-tolerance */
export function quorum(members: number): number {
  return Math.floor(members / 2) + 1;
}

/** Members that may fail while `members` keep a quorum. https://etcd.io/docs/v3.5/faq/#what-is-failure-tolerance */
export function failureTolerance(members: number): number {
  return Math.max(0, members - quorum(members));
}

/**
 * Why removing `input.node`'s etcd member must not happen now; empty when it may. The same
 * rules as node-scripts/etcd-member.sh applies to the live member list at run time:
 * - the last member: removing it leaves no etcd;
 * - any other member unhealthy: the removal needs every other member healthy (a second
 *   failure during or after it could lose the quorum);
 * - no quorum now: healthy members fewer than a majority, so `member remove` cannot be committed;
 * - an even count after it, unless accepted: it tolerates no more failures than one member fewer
 *   (https://etcd.io/docs/v3.5/faq/#why-an-odd-number-of-cluster-members).
 */
export function etcdRemovalProblems(input: EtcdRemovalInput): string[] {
  const { node, members, unhealthy } = input;
  const after = members - 1;
  if (after < 1) return [`${node} runs the only etcd member: removing it leaves the cluster without etcd`];
  const problems: string[] = [];
  if (unhealthy.length > 0) {
    problems.push(`etcd member(s) ${unhealthy.join(", ")} not healthy: removing ${node}'s member needs every other member healthy`);
  }
  const healthy = members - unhealthy.length - (input.removedHealthy ? 0 : 1);
  if (healthy < quorum(members)) {
    problems.push(`etcd has no quorum: ${healthy} of ${members} member(s) healthy, ${quorum(members)} needed, so the member removal cannot be committed; restore etcd first (README.md, "Disaster recovery")`);
  }
  if (after % 2 === 0 && !input.allowEven) {
    problems.push(`removing ${node} leaves etcd with ${after} members, an even count that tolerates ${failureTolerance(after)} failure(s), no more than ${after - 1} member(s) would`);
  }
  return problems;
}

/** The snapshot label of the etcd snapshot taken before removing `node`: `before-remove-<node>`, at most 64 characters (etcd-snapshot.sh's LABEL). */
export function removalSnapshotLabel(node: string): string {
  return `before-remove-${node}`.slice(0, 64);
}

/**
 * The actions of one removal, in order.
 * - a worker: drain, reset, delete the Node;
 * - a control-plane node: a verified etcd snapshot, the etcd check (etcd-member.sh check),
 *   drain, reset (which removes its member), the member removal confirmed from a healthy
 *   member (removes it if reset did not), delete the Node;
 * - a dead node: (control plane: snapshot, member removal from a healthy member,) its pods
 *   listed and the Node deleted;
 * - a node already gone: its etcd member removed if one is left under its name.
 */
export function removalActions(removal: NodeRemovalSpec, controlPlane: boolean): Action[] {
  const node = removal.name;
  const snapshot: Action = { kind: "etcd-snapshot", summary: `etcdctl snapshot save <backup dir>/etcd-<timestamp>-${removalSnapshotLabel(node)}.db; check it` };
  const allowEven = removal.allowEvenEtcdMembers;
  const memberRemove: Action = { kind: "etcd-member-remove", allowEven, summary: `etcdctl member remove <id of ${node}> from a healthy member, unless already gone; etcdctl member list confirms it` };
  if (removal.gone) return [{ ...memberRemove, summary: `node ${node} is not in the cluster: ${memberRemove.summary}` }];
  const deleteDead: Action = { kind: "delete-dead-node", summary: `list the pods bound to ${node} (those without a controller are lost for good); kubectl delete node ${node}` };
  if (removal.dead) return controlPlane ? [snapshot, memberRemove, deleteDead] : [deleteDead];
  const drain: Action = { kind: "drain", summary: `kubectl drain ${node} --ignore-daemonsets (the pool's drain settings)` };
  const reset: Action = { kind: "reset-node", summary: "kubeadm reset --force; systemctl stop and disable kubelet; rm /etc/cni/net.d/*; iptables -F, -t nat -F, -t mangle -F, -X; ipvsadm --clear" };
  const remove: Action = { kind: "delete-node", summary: `kubectl delete node ${node}` };
  if (!controlPlane) return [drain, reset, remove];
  const check: Action = { kind: "etcd-member-check", allowEven, summary: `etcdctl member list and endpoint health: every other member healthy, quorum kept${removal.allowEvenEtcdMembers ? "" : ", an odd member count left"}` };
  return [snapshot, check, drain, reset, memberRemove, remove];
}
