/**
 * Warnings a plan carries for the operator: SSH host keys not checked, end of life, support
 * window, the per-minor package repository switch, add-ons to check, kube-proxy before
 * kubeadm 1.28, and how far blue-green pools trail the control plane.
 */
import type { ClusterSpec } from "./cluster";
import type { PlanWarning, UpgradePlan } from "./plan-types";
import { repositoryFor } from "./actions";
import { ReleaseCatalogue, SUPPORTED_MINORS } from "./releases";
import { apiserverBounds } from "./skew";

/** First kubeadm minor that upgrades add-ons (kube-proxy, CoreDNS) after the last control-plane node. */
const ADDONS_AFTER_LAST_CONTROL_PLANE = 28;

/**
 * The warning for nodes (and a bastion) reached with no SSH host key check: any machine
 * answering at their address would get the commands and what they carry (join tokens,
 * kubeconfigs). Empty when every host key is checked.
 */
export function hostKeyWarnings(cluster: Pick<ClusterSpec, "uncheckedHostKeys">): PlanWarning[] {
  const unchecked = cluster.uncheckedHostKeys ?? [];
  if (unchecked.length === 0) return [];
  return [{
    kind: "host-keys",
    message: `SSH host keys are not checked (ssh.insecureIgnoreHostKey: true) for ${unchecked.join(", ")}: any machine answering at their address gets the commands and their secrets; add each one's hostKey (ssh-keyscan -t ed25519 <host>, the key part) and remove ssh.insecureIgnoreHostKey`,
  }];
}

/** Warnings for a finished plan, in plan order. `now` decides end of life. */
export function planWarnings(plan: Omit<UpgradePlan, "warnings">, catalogue: ReleaseCatalogue, now: Date): PlanWarning[] {
  const warnings: PlanWarning[] = [];
  const today = now.toISOString().slice(0, 10);
  const current = apiserverBounds(plan.initialState)!.oldest.version;
  const eol = (minor: number) => catalogue.get(minor)?.endOfLife;
  if (catalogue.isEndOfLife(current.minor, now)) {
    warnings.push({ kind: "end-of-life", message: `the control plane's ${current.minorLine} reached end of life on ${eol(current.minor)}: it gets no more fixes` });
  }
  const supported = catalogue.supportedMinors();
  if (!supported.includes(plan.target.minor)) {
    warnings.push({
      kind: "unsupported",
      message: `target ${plan.target.minorLine} is not one of the ${SUPPORTED_MINORS} newest minors the catalogue knows (1.${supported.join(", 1.")}); upstream supports only those (https://kubernetes.io/releases/version-skew-policy/#supported-versions)`,
    });
  }
  for (const hop of plan.hops) {
    const minor = hop.to.minor;
    if (catalogue.isEndOfLife(minor, now) && minor !== current.minor) {
      warnings.push({ kind: "end-of-life", message: `hop ${hop.index} passes through ${hop.to.minorLine}, end of life since ${eol(minor)} (today is ${today})` });
    }
    const switches = hop.phases.some((p) => p.steps.some((st) => st.actions.some((a) => a.kind === "switch-repository")));
    if (switches) {
      warnings.push({
        kind: "repository",
        message: `hop ${hop.index}: every upgraded node's apt source switches to the ${hop.to.minorLine} repository (${repositoryFor(hop.to)}); each minor has its own, and the legacy repositories are frozen`,
      });
    }
    if (hop.from.minor !== minor) {
      warnings.push({
        kind: "add-ons",
        message: `hop ${hop.index}: before moving to ${hop.to.minorLine}, check that your CNI plugin, CSI drivers, ingress controller and other add-ons support it, and that nothing uses an API removed in ${hop.to.minorLine} (https://kubernetes.io/docs/reference/using-api/deprecation-guide/)`,
      });
    }
    const controlPlane = hop.phases.find((p) => p.kind === "control-plane");
    const kubeadmSteps = controlPlane?.steps.filter((st) => st.kind === "control-plane-upgrade").length ?? 0;
    if (minor < ADDONS_AFTER_LAST_CONTROL_PLANE && kubeadmSteps > 1) {
      warnings.push({
        kind: "kube-proxy-addon",
        message: `hop ${hop.index}: kubeadm before 1.28 upgrades kube-proxy and CoreDNS during \`kubeadm upgrade apply\`, so until the last control-plane node is done kube-proxy runs newer than the other kube-apiservers`,
      });
    }
  }
  for (const pool of plan.pools.filter((p) => p.strategy === "blue-green")) {
    const replacements = plan.steps.filter((s) => s.kind === "pool-replace" && s.pool === pool.name);
    if (replacements.length === 0) continue;
    const at = replacements.map((s) => `${s.version.tag} (hop ${s.hop})`).join(", ");
    warnings.push({
      kind: "pool-lag",
      message: `blue-green pool ${pool.name} is replaced ${replacements.length} time(s), at ${at}; until then its kubelets trail the control plane, within the kubelet skew`,
    });
  }
  return warnings;
}
