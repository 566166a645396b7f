/**
 * The actions inside each kind of step, in the order the kubeadm upgrade procedure runs them.
 * Source: https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/
 * (control plane: first node `kubeadm upgrade apply`, the others `kubeadm upgrade node`;
 * workers: `kubeadm upgrade node`; every kubelet minor upgrade after a drain).
 */
import { JOIN_BATCH_NODES, type BlueGreenSpec, type ReplacementEstimate } from "./blue-green";
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

/** Default bound on waiting for a node to be Ready at its new version, in seconds. */
export const DEFAULT_READY_TIMEOUT_SECONDS = 600;

/**
 * A kubelet minor upgrade: drain, kubelet and kubectl packages with daemon-reload and
 * kubelet restart, wait until the node is Ready at the new version, uncordon.
 */
export function kubeletActions(node: string, to: KubeVersion, osPatchRevision?: string): Action[] {
  return drained(node, to, [
    {
      kind: "upgrade-kubelet",
      summary: `apt-mark unhold kubelet kubectl; apt-get install -y kubelet=${pkg(to)} kubectl=${pkg(to)}; apt-mark hold kubelet kubectl; systemctl daemon-reload; systemctl restart kubelet`,
    },
    ...(osPatchRevision ? osPatchActions(osPatchRevision) : []),
  ]);
}

/** Drain, `inside`, wait until Ready with kubelet `version`, uncordon. */
function drained(node: string, version: KubeVersion, inside: Action[]): Action[] {
  return [
    { kind: "drain", summary: `kubectl drain ${node} --ignore-daemonsets --timeout=${DEFAULT_DRAIN_TIMEOUT_SECONDS}s` },
    ...inside,
    { kind: "wait-ready", summary: `kubectl wait until ${node} is Ready with kubelet ${version.tag}` },
    { kind: "uncordon", summary: `kubectl uncordon ${node}` },
  ];
}

/** What is left of a step a stopped run left with its node cordoned: wait until Ready with kubelet `version`, uncordon. */
export function resumeActions(node: string, version: KubeVersion): Action[] {
  return drained(node, version, []).slice(1);
}

function osPatchActions(revision: string): Action[] {
  return [{ kind: "os-patch", revision, summary: `apt-get upgrade (OS patch revision ${revision}), held packages kept; reboot if the OS asks for it` }];
}

/** OS patching of a node whose Kubernetes version does not change: drain, patch (reboot if asked), wait Ready, uncordon. */
export function osPatchStepActions(node: string, version: KubeVersion, revision: string): Action[] {
  return drained(node, version, osPatchActions(revision));
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

/** Actions of one rolling-pool worker's step; an OS patch due on the node shares its drain. */
export function workerActions(node: string, from: KubeVersion, to: KubeVersion, osPatchRevision?: string): Action[] {
  return [...kubeadmActions(from, to), { kind: "kubeadm-upgrade-node", summary: "kubeadm upgrade node" }, ...kubeletActions(node, to, osPatchRevision)];
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

/**
 * The phases of a blue-green replacement of `blue` by `green` at `to`: green created and
 * Ready before blue is touched, blue cordoned, drained in batches, soaked, deleted from the
 * cluster; blue's instances (of this stack) are terminated by the first `pulumi up` after the
 * pool's `version` is set to `to`, not by the update that replaces it.
 */
export function replaceActions(blue: readonly string[], green: readonly string[], to: KubeVersion, estimate: ReplacementEstimate | undefined, managed: boolean, spec: BlueGreenSpec | undefined): Action[] {
  const batches = estimate ? `${estimate.batches} batch(es) of ${estimate.batchSize}` : "batches";
  const drainBound = spec ? ` (each drain at most ${spec.drainTimeoutSeconds}s)` : "";
  const batchSoak = spec && spec.batchSoakSeconds > 0 && estimate && estimate.batches > 1 ? `, soak ${spec.batchSoakSeconds}s after each batch but the last` : "";
  return [
    { kind: "create-green", summary: `create ${green.length} new instance(s) ${green.join(", ")} joining at ${to.tag} (kubelet, kubeadm, kubectl held at ${to}; a join token per ${JOIN_BATCH_NODES} instances); ${blue.length + green.length} instances run until the old ones are terminated` },
    { kind: "wait-green-ready", summary: `wait until every new node is Ready at ${to.tag}${spec ? ` (at most ${spec.readyTimeoutSeconds}s)` : ""}; on failure the old nodes keep serving, untouched` },
    { kind: "cordon-blue", summary: `cordon the ${blue.length} old node(s): ${blue.join(", ")}` },
    { kind: "drain-blue", summary: `drain the old nodes in ${batches}${drainBound}${batchSoak}` },
    { kind: "soak", summary: `soak ${spec ? `${spec.soakSeconds}s` : ""} watching the new nodes stay Ready (revert the pool's version to roll back)`.replace("soak  ", "soak ") },
    { kind: "delete-blue-nodes", summary: `kubectl delete node ${blue.join(" ")}` },
    {
      kind: "terminate-blue",
      summary: managed
        ? `the old instances keep running (the pool's nodes stay registered in Pulumi) until you set the pool's version to ${to}: the next pulumi up then terminates them, draining at most batchSize at once any node still in the cluster`
        : "the old nodes are not instances of this stack: terminate their machines yourself",
    },
  ];
}
