/**
 * Rebuilds the cluster's component versions over time from the lab's calls.log, so a lab
 * test can check every state the real run went through against the version-skew policy
 * (planning/skew.ts) and count cordoned nodes per pool.
 *
 * Effects, in call order: `apt-get install PKG=V-*` installs V; `kubeadm upgrade apply vV`
 * moves that node's control-plane components to V, `kubeadm upgrade node` on a control-plane
 * node moves them to its installed kubeadm's version; `systemctl restart kubelet` runs the
 * installed kubelet; kube-proxy (a kubeadm add-on) moves once every kube-apiserver is at a
 * version (kubeadm >= 1.28 upgrades add-ons after the last control-plane node); `kubectl
 * cordon|uncordon|drain NODE` (drain cordons) changes the cordoned set. New nodes: `kubeadm
 * join` on a machine adds it (pool from `poolOf`) with its installed kubelet and kubectl and
 * the cluster's kube-proxy; `kubectl delete node NODE` removes it.
 */
import { CONTROL_PLANE_POOL, NodeState } from "../../planning/cluster";
import { KubeVersion, parseFullVersion } from "../../planning/versions";
import type { LabCall } from "./node-kit";

export interface TimelineNode {
  readonly name: string;
  readonly pool: string;
  readonly version: string;
}

export interface Moment {
  readonly call: LabCall;
  readonly nodes: readonly NodeState[];
  /** Nodes cordoned after the call. */
  readonly cordoned: ReadonlySet<string>;
}

const v = (s: string): KubeVersion => parseFullVersion(s, "calls.log");

/** apt-get's words without its options (`-o Name=value` pairs, `-y`): `install kubeadm=1.35.9-*`. */
function aptWords(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "-o") i++;
    else if (!args[i]!.startsWith("-")) out.push(args[i]!);
  }
  return out;
}

/**
 * Every state after each call that changed versions, cordons or membership, in order.
 * @param poolOf the pool of a node that joins during the timeline.
 */
export function replay(calls: readonly LabCall[], nodes: readonly TimelineNode[], poolOf: (node: string) => string = () => "joined"): Moment[] {
  const state = new Map<string, NodeState>();
  const packages = new Map<string, Map<string, KubeVersion>>();
  for (const n of nodes) {
    const x = v(n.version);
    const cp = n.pool === CONTROL_PLANE_POOL ? { "kube-apiserver": x, "kube-controller-manager": x, "kube-scheduler": x } : {};
    state.set(n.name, { name: n.name, role: n.pool === CONTROL_PLANE_POOL ? "control-plane" : "worker", pool: n.pool, versions: { ...cp, kubelet: x, kubectl: x, "kube-proxy": x } });
    packages.set(n.name, new Map([["kubeadm", x], ["kubelet", x], ["kubectl", x]]));
  }
  const cordoned = new Set<string>();
  const moments: Moment[] = [];
  const set = (name: string, changes: Partial<NodeState["versions"]>) => {
    const node = state.get(name)!;
    state.set(name, { ...node, versions: { ...node.versions, ...changes } });
  };
  for (const call of [...calls].sort((a, b) => a.ms - b.ms)) {
    const node = state.get(call.node);
    const [sub, ...rest] = call.command === "apt-get" ? aptWords(call.args) : call.args;
    let changed = false;
    if (!packages.has(call.node)) packages.set(call.node, new Map());
    if (call.command === "apt-get" && sub === "install") {
      for (const spec of rest) {
        const m = /^(kubeadm|kubelet|kubectl)=([0-9.]+)-/.exec(spec);
        if (!m) continue;
        packages.get(call.node)!.set(m[1]!, v(m[2]!));
        if (m[1] === "kubectl" && node) set(call.node, { kubectl: v(m[2]!) });
        changed = true;
      }
    } else if (call.command === "kubeadm" && sub === "upgrade" && node?.role === "control-plane" && (rest[0] === "apply" || rest[0] === "node")) {
      const to = rest[0] === "apply" ? v(rest[1]!.replace(/^v/, "")) : packages.get(call.node)!.get("kubeadm")!;
      set(call.node, { "kube-apiserver": to, "kube-controller-manager": to, "kube-scheduler": to });
      const apiservers = [...state.values()].flatMap((n) => (n.versions["kube-apiserver"] ? [n.versions["kube-apiserver"]] : []));
      if (apiservers.every((a) => a.equals(to))) for (const n of state.keys()) set(n, { "kube-proxy": to });
      changed = true;
    } else if (call.command === "systemctl" && call.args.includes("restart") && call.args.includes("kubelet")) {
      set(call.node, { kubelet: packages.get(call.node)!.get("kubelet")! });
      changed = true;
    } else if (call.command === "kubeadm" && sub === "join" && !node) {
      const installed = packages.get(call.node)!;
      const proxy = [...state.values()].find((n) => n.role === "control-plane")!.versions["kube-proxy"];
      state.set(call.node, { name: call.node, role: "worker", pool: poolOf(call.node), versions: { kubelet: installed.get("kubelet")!, kubectl: installed.get("kubectl")!, "kube-proxy": proxy } });
      changed = true;
    } else if (call.command === "kubectl") {
      const [verb, target, name] = call.args.filter((a) => !a.startsWith("-"));
      if (verb === "uncordon") cordoned.delete(target!);
      if (verb === "cordon" || verb === "drain") cordoned.add(target!);
      if (verb === "delete" && target === "node" && state.has(name!)) {
        state.delete(name!);
        cordoned.delete(name!);
        changed = true;
      }
      changed ||= verb === "uncordon" || verb === "cordon" || verb === "drain";
    }
    if (changed) moments.push({ call, nodes: [...state.values()], cordoned: new Set(cordoned) });
  }
  return moments;
}
