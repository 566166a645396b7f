/**
 * The Kubernetes version-skew policy as a pure function: a cluster state in, every violation
 * out. Source of every rule: https://kubernetes.io/releases/version-skew-policy/
 *
 * - kube-apiserver: in an HA control plane, newest and oldest within 1 minor.
 * - kube-controller-manager, kube-scheduler: never newer than the kube-apiserver they talk to,
 *   at most 1 minor older. In a kubeadm cluster each talks to the kube-apiserver of its own
 *   node (kubeadm writes the node's local API endpoint into controller-manager.conf and
 *   scheduler.conf), which is what lets kubeadm upgrade an HA control plane one node at a
 *   time; so they are checked against their node's kube-apiserver.
 * - kubelet: never newer than the oldest kube-apiserver; at most 3 minors older than the
 *   newest (2 for a kubelet older than 1.25).
 * - kube-proxy: the same bounds as kubelet against kube-apiserver (2 for a kube-proxy older
 *   than 1.25), and within 3 minors, older or newer, of the kubelet on its node (2 below 1.25).
 * - kubectl: within 1 minor of every kube-apiserver. Checked on control-plane nodes, whose
 *   kubectl uses admin.conf; kubeadm gives workers no credentials to use theirs.
 */
import { CONTROL_PLANE_POOL, Component, NodeState } from "./cluster";
import { KubeVersion } from "./versions";

export const SKEW_POLICY_URL = "https://kubernetes.io/releases/version-skew-policy/";

export type SkewRule =
  | "apiserver-ha"
  | "newer-than-apiserver"
  | "too-old-for-apiserver"
  | "kube-proxy-kubelet"
  | "kubectl";

/** One broken rule: which component on which node, against what. */
export interface SkewViolation {
  readonly rule: SkewRule;
  readonly component: Component;
  readonly node: string;
  readonly version: KubeVersion;
  /** The component instance the rule compares against. */
  readonly against: { readonly component: Component; readonly node: string; readonly version: KubeVersion };
  /** One sentence naming both sides and the bound, ending with the policy section URL. */
  readonly message: string;
}

/** An apiserver instance: the version and the node it runs on. */
export interface ApiserverInstance {
  readonly node: string;
  readonly version: KubeVersion;
}

/** The oldest and newest kube-apiserver in a state: every cross-node rule compares with these. */
export interface ApiserverBounds {
  readonly oldest: ApiserverInstance;
  readonly newest: ApiserverInstance;
}

/** How many minors a kubelet may trail the newest kube-apiserver: 3, or 2 below 1.25. */
export function maxKubeletLag(kubelet: KubeVersion): number {
  return kubelet.major === 1 && kubelet.minor < 25 ? 2 : 3;
}

/** Oldest and newest kube-apiserver, or undefined when no node runs one. */
export function apiserverBounds(nodes: Iterable<NodeState>): ApiserverBounds | undefined {
  let oldest: ApiserverInstance | undefined;
  let newest: ApiserverInstance | undefined;
  for (const node of nodes) {
    const v = node.versions["kube-apiserver"];
    if (v === undefined) continue;
    if (oldest === undefined || v.isBefore(oldest.version)) oldest = { node: node.name, version: v };
    if (newest === undefined || newest.version.isBefore(v)) newest = { node: node.name, version: v };
  }
  return oldest && newest ? { oldest, newest } : undefined;
}

/**
 * Every violation in a cluster state, control-plane rules first, then node by node.
 * @param nodes the state; iterated twice.
 */
export function checkSkew(nodes: Iterable<NodeState>): SkewViolation[] {
  const bounds = apiserverBounds(nodes);
  const violations: SkewViolation[] = [];
  if (bounds && bounds.newest.version.minorsAfter(bounds.oldest.version) > 1) {
    violations.push(
      violation("apiserver-ha", "kube-apiserver", bounds.oldest, { component: "kube-apiserver", ...bounds.newest },
        `kube-apiserver on ${bounds.oldest.node} (${bounds.oldest.version}) is more than 1 minor older than kube-apiserver on ${bounds.newest.node} (${bounds.newest.version}); HA apiservers must be within 1 minor`, "#kube-apiserver"),
    );
  }
  for (const node of nodes) violations.push(...nodeViolations(node, bounds));
  return violations;
}

/**
 * The violations of one node's components, given the cluster's apiserver bounds. A state's
 * violations are the HA rule plus these for every node, so a change that touches no
 * kube-apiserver only needs its own nodes rechecked.
 */
export function nodeViolations(node: NodeState, bounds: ApiserverBounds | undefined): SkewViolation[] {
  const out: SkewViolation[] = [];
  const v = node.versions;
  const local = v["kube-apiserver"];
  for (const component of ["kube-controller-manager", "kube-scheduler"] as const) {
    const mine = v[component];
    if (mine === undefined || local === undefined) continue;
    const self = { node: node.name, version: mine };
    const against = { component: "kube-apiserver" as const, node: node.name, version: local };
    if (mine.minorsAfter(local) > 0) {
      out.push(violation("newer-than-apiserver", component, self, against,
        `${component} on ${node.name} (${mine}) is newer than the kube-apiserver it talks to (${local})`, "#kube-controller-manager-kube-scheduler-and-cloud-controller-manager"));
    } else if (local.minorsAfter(mine) > 1) {
      out.push(violation("too-old-for-apiserver", component, self, against,
        `${component} on ${node.name} (${mine}) is more than 1 minor older than the kube-apiserver it talks to (${local})`, "#kube-controller-manager-kube-scheduler-and-cloud-controller-manager"));
    }
  }
  if (bounds) {
    for (const component of ["kubelet", "kube-proxy"] as const) {
      const mine = v[component];
      const self = { node: node.name, version: mine };
      const lag = maxKubeletLag(mine);
      const anchor = component === "kubelet" ? "#kubelet" : "#kube-proxy";
      if (mine.minorsAfter(bounds.oldest.version) > 0) {
        out.push(violation("newer-than-apiserver", component, self, { component: "kube-apiserver", ...bounds.oldest },
          `${component} on ${node.name} (${mine}) is newer than kube-apiserver on ${bounds.oldest.node} (${bounds.oldest.version})`, anchor));
      } else if (bounds.newest.version.minorsAfter(mine) > lag) {
        out.push(violation("too-old-for-apiserver", component, self, { component: "kube-apiserver", ...bounds.newest },
          `${component} on ${node.name} (${mine}) is more than ${lag} minors older than kube-apiserver on ${bounds.newest.node} (${bounds.newest.version})`, anchor));
      }
    }
    if (node.pool === CONTROL_PLANE_POOL) {
      for (const api of [bounds.oldest, bounds.newest]) {
        if (Math.abs(v.kubectl.minorsAfter(api.version)) > 1) {
          out.push(violation("kubectl", "kubectl", { node: node.name, version: v.kubectl }, { component: "kube-apiserver", ...api },
            `kubectl on ${node.name} (${v.kubectl}) is more than 1 minor from kube-apiserver on ${api.node} (${api.version})`, "#kubectl"));
          break;
        }
      }
    }
  }
  const proxyLag = maxKubeletLag(v["kube-proxy"]);
  if (Math.abs(v["kube-proxy"].minorsAfter(v.kubelet)) > proxyLag) {
    out.push(violation("kube-proxy-kubelet", "kube-proxy", { node: node.name, version: v["kube-proxy"] }, { component: "kubelet", node: node.name, version: v.kubelet },
      `kube-proxy on ${node.name} (${v["kube-proxy"]}) is more than ${proxyLag} minors from the kubelet on its node (${v.kubelet})`, "#kube-proxy"));
  }
  return out;
}

function violation(
  rule: SkewRule,
  component: Component,
  self: ApiserverInstance,
  against: SkewViolation["against"],
  text: string,
  anchor: string,
): SkewViolation {
  return { rule, component, node: self.node, version: self.version, against, message: `${text} (${SKEW_POLICY_URL}${anchor})` };
}
