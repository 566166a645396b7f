/**
 * The actions inside each kind of step, in the order the kubeadm upgrade procedure runs them.
 * Source: https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/
 * (control plane: first node `kubeadm upgrade apply`, the others `kubeadm upgrade node`;
 * workers: `kubeadm upgrade node`; every kubelet minor upgrade after a drain).
 */
import type { Action } from "./plan-types";
import { KubeVersion } from "./versions";

/** Default bound on a drain, in seconds (`kubectl drain --timeout`). */
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 600;

/** The per-minor package repository a node must use for `version`. */
export function repositoryFor(version: KubeVersion): string {
  return `https://pkgs.k8s.io/core:/stable:/v${version.minorLine}/deb/`;
}

/** Debian package version pattern for apt, e.g. `1.35.9-*`. */
function pkg(version: KubeVersion): string {
  return `'${version}-*'`;
}

/** Drain, kubelet and kubectl packages, kubelet restart, uncordon: a kubelet minor upgrade. */
export function kubeletActions(node: string, to: KubeVersion): Action[] {
  return [
    { kind: "drain", summary: `kubectl drain ${node} --ignore-daemonsets --timeout=${DEFAULT_DRAIN_TIMEOUT_SECONDS}s` },
    {
      kind: "upgrade-kubelet-kubectl",
      summary: `apt-mark unhold kubelet kubectl; apt-get install -y kubelet=${pkg(to)} kubectl=${pkg(to)}; apt-mark hold kubelet kubectl`,
    },
    { kind: "restart-kubelet", summary: "systemctl daemon-reload; systemctl restart kubelet" },
    { kind: "uncordon", summary: `kubectl uncordon ${node}` },
  ];
}

function kubeadmActions(from: KubeVersion, to: KubeVersion): Action[] {
  const actions: Action[] = [];
  if (from.minor !== to.minor) {
    actions.push({ kind: "switch-repository", summary: `apt source -> ${repositoryFor(to)}` });
  }
  actions.push({
    kind: "upgrade-kubeadm",
    summary: `apt-mark unhold kubeadm; apt-get install -y kubeadm=${pkg(to)}; apt-mark hold kubeadm`,
  });
  return actions;
}

/**
 * Actions of a control-plane node's kubeadm step (its kubelet follows in a later step).
 * @param from the node's kube-apiserver version before the step (decides the repository switch).
 * @param first true for the node that runs `kubeadm upgrade apply`.
 */
export function controlPlaneActions(from: KubeVersion, to: KubeVersion, first: boolean): Action[] {
  return [
    ...kubeadmActions(from, to),
    first
      ? { kind: "kubeadm-upgrade-apply", summary: `kubeadm upgrade plan; kubeadm upgrade apply ${to.tag} --yes` }
      : { kind: "kubeadm-upgrade-node", summary: "kubeadm upgrade node" },
  ];
}

/** Actions of one rolling-pool worker's step. */
export function workerActions(node: string, from: KubeVersion, to: KubeVersion): Action[] {
  return [...kubeadmActions(from, to), { kind: "kubeadm-upgrade-node", summary: "kubeadm upgrade node" }, ...kubeletActions(node, to)];
}

/** The action of the etcd snapshot that opens a control-plane hop. */
export function snapshotActions(to: KubeVersion): Action[] {
  return [
    {
      kind: "etcd-snapshot",
      summary: `etcdctl snapshot save <backup dir>/etcd-<timestamp>-before-${to.tag}.db; check its status (hash, revision, keys, size)`,
    },
  ];
}

/** The action of a blue-green pool replacement (carried out by the blue-green issue's component). */
export function replaceActions(pool: string, count: number, to: KubeVersion): Action[] {
  return [
    {
      kind: "replace-pool",
      summary: `bring up ${count} new node(s) for pool ${pool} joining at ${to.tag}, drain the old nodes, remove them`,
    },
  ];
}
