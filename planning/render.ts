/**
 * Renderings of an {@link UpgradePlan}: text in the spirit of `kubeadm upgrade plan`
 * (its COMPONENT / NODE / CURRENT / TARGET tables, planning/version-tables.ts; the hops, the
 * ordered steps with what each runs, warnings) and JSON (the whole plan; each step lists the nodes it changed).
 */
import type { ClusterAddons } from "./addon-versions";
import { NodeState } from "./cluster";
import { CommandSpec, commandsByStep, shellQuote, WRAPPER } from "./commands";
import type { ReplacementEstimate } from "./blue-green";
import { inToolWords } from "./command-words";
import type { Hop, Phase, Step, UpgradePlan } from "./plan-types";
import { apiserverBounds } from "./skew";
import { versionTables } from "./version-tables";

function hopSummary(hop: Hop): string {
  const parts = hop.phases.map((phase) => {
    if (phase.kind === "control-plane") {
      const nodes = phase.steps.filter((s) => s.kind === "control-plane-upgrade").length;
      return `control plane (${nodes} node${nodes === 1 ? "" : "s"}, one at a time)`;
    }
    if (phase.strategy === "blue-green") {
      const r = phase.steps[0]!.replacement;
      return `pool ${phase.pool} (blue-green: replace ${phase.steps[0]!.nodes.length} nodes${r ? `, ${r.estimate.peakInstances} instances at the peak` : ""})`;
    }
    const batches = phase.steps[0]!.batch!.count;
    return `pool ${phase.pool} (rolling: ${phase.steps.length} nodes in ${batches} batch${batches === 1 ? "" : "es"})`;
  });
  return `${hop.index}. ${hop.from.tag} -> ${hop.to.tag}: ${parts.join(", ")}`;
}

function stepLines(step: Step, width: number, commands: readonly CommandSpec[]): string[] {
  const where = step.kind === "pool-replace" ? `pool ${step.pool}: ${step.nodes.join(", ")}` : step.nodes.join(", ");
  const batch = step.batch ? `  (pool ${step.pool}, batch ${step.batch.index}/${step.batch.count})` : "";
  const indent = " ".repeat(width + 5);
  const commandLines = commands.map((c) => {
    const call = `${indent}[on ${c.runsOn}] ${c.script} ${c.args.map(shellQuote).join(" ")}${c.bootIdFrom ? " '<boot id before the reboot, if os-patch.sh scheduled one>'" : ""}`;
    const undo = c.undo ? `   (undone on rollback: ${c.script} ${c.undo.map(shellQuote).join(" ")})` : "";
    return `${call}${undo}   # ${inToolWords(c.script, [...c.args, ...(c.bootIdFrom ? ["<boot id>"] : [])])}`;
  });
  const head = `${String(step.index).padStart(width)}. ${step.kind.padEnd(23)}${where}${batch}`;
  if (step.kind === "pool-replace") {
    const phases = step.actions.map((a, i) => `${indent}${String.fromCharCode(97 + i)}) ${a.summary}`);
    const capacity = step.replacement ? [`${indent}${capacityLine(step.replacement.estimate)}`] : [];
    const then = commandLines.length > 0 ? [`${indent}once the new nodes are Ready:`, ...commandLines] : [];
    return [head, ...phases, ...capacity, ...then];
  }
  return [head, ...(commandLines.length > 0 ? commandLines : step.actions.map((a) => `${indent}${a.summary}`))];
}

/** `1h 05m` from seconds. */
function duration(seconds: number): string {
  const m = Math.round(seconds / 60);
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/**
 * The temporary double capacity of a replacement during the update that carries it out, and its
 * cost; the old instances run on until the next `pulumi up` after the pool's version is set.
 */
function capacityLine(e: ReplacementEstimate): string {
  const cost = e.extraCostUsd ? `, about $${e.extraCostUsd.typical.toFixed(2)} (at most $${e.extraCostUsd.bound.toFixed(2)})` : "";
  return `capacity: ${e.peakInstances} instances at the peak (${e.peakInstances - e.extraInstances} old + ${e.extraInstances} new) for about ${duration(e.typicalSeconds)} (at most ${duration(e.boundSeconds)}): ${e.extraInstanceHours.typical} extra instance-hours (at most ${e.extraInstanceHours.bound})${cost}, then until the old instances are terminated`;
}

/**
 * The plan as text for a terminal or `pulumi preview` log. Ends with a newline.
 * @param commands the commands that carry the plan out (planning/commands.ts): shown under
 *   their steps in place of the steps' action summaries.
 * @param addons etcd and CoreDNS as the cluster runs them (discovery/live-cluster.ts
 *   clusterAddons): their rows in the version table; absent when the cluster was not read.
 */
export function renderText(plan: UpgradePlan, commands: readonly CommandSpec[] = [], addons?: ClusterAddons): string {
  const from = apiserverBounds(plan.initialState)!.oldest.version;
  const out: string[] = [];
  const nodes = plan.initialState.size;
  if (plan.hops.length === 0) {
    out.push(`Cluster ${plan.cluster} is already at ${plan.target.tag}: nothing to upgrade.`);
  } else {
    out.push(`Upgrade plan for cluster ${plan.cluster}: ${from.tag} -> ${plan.target.tag}, ${plan.hops.length} hop(s), ${plan.steps.length} step(s), ${nodes} node(s)`);
    out.push("", ...versionTables(plan, addons), "", "HOPS", ...plan.hops.map((h) => `  ${hopSummary(h)}`));
  }
  if (plan.resume.length > 0) out.push("", `RESUME first: ${plan.resume.length} node(s) a stopped run left cordoned after their upgrade (${plan.resume.map((s) => s.nodes[0]).join(", ")}): wait until Ready, uncordon`);
  if (plan.removals.length > 0) {
    const names = plan.removals.flatMap((s) => s.nodes);
    out.push("", `REMOVE for good, before any hop: ${names.length} node(s) (${names.join(", ")}); no hop or OS patch touches them`);
  }
  const patched = plan.maintenance.flatMap((p) => p.steps).length;
  if (patched > 0) out.push("", `OS PATCHING after the hops: ${patched} node(s) not drained by an upgrade (nodes the upgrade drains are patched inside that drain)`);
  if (plan.steps.length > 0) {
    out.push("", "STEPS (in order; steps of one batch run together)");
    if (commands.length > 0) {
      out.push(`  Each [on NODE] line is a remote command over SSH to NODE: ${WRAPPER} SCRIPT ARGS, with node-scripts/SCRIPT on stdin;`);
      out.push("  after its # what it runs there, in kubeadm's, kubectl's and apt's words (the script first checks the node and does nothing when the step is done).");
    }
    const width = String(plan.steps.length).length;
    const byStep = commandsByStep(commands);
    const section = (title: string, phases: UpgradePlan["maintenance"]) => {
      out.push(title);
      for (const phase of phases) for (const step of phase.steps) out.push(...stepLines(step, width, byStep.get(step.id) ?? []).map((l) => `  ${l}`));
    };
    if (plan.resume.length > 0) section("Resume", [{ kind: "workers", pool: "", steps: plan.resume }]);
    if (plan.removals.length > 0) section("Removal", [{ kind: "workers", pool: "", steps: plan.removals }]);
    for (const hop of plan.hops) section(`Hop ${hop.index}: ${hop.from.tag} -> ${hop.to.tag}`, hop.phases);
    if (patched > 0) section("OS patching", plan.maintenance);
  }
  if (plan.warnings.length > 0) out.push("", "WARNINGS", ...plan.warnings.map((w) => `  - ${w.message}`));
  return `${out.join("\n")}\n`;
}

function phaseJson(phase: Phase): object {
  return { ...phase, steps: phase.steps.map((s) => s.id) };
}

interface JsonStep extends Omit<Step, "stateAfter"> {
  /** Nodes as they are after the step, for every node the step changed. */
  readonly changes: readonly NodeState[];
  /** The remote commands that carry the step out, in order. */
  readonly commands: readonly Pick<CommandSpec, "runsOn" | "script" | "args" | "command" | "undoCommand">[];
}

/**
 * The plan as a JSON-ready object. Each step's `changes` holds the nodes it changed, so the
 * state after step k is `initialState` with the changes of steps 1..k applied; its
 * `commands` are the remote commands that carry it out (with `undoCommand`, the delete hook
 * that undoes one on a blue-green rollback); its `stage` orders it (Step.stage: it starts once
 * every step of the stage before has finished), so the JSON grows linearly with the steps.
 */
export function planToJson(plan: UpgradePlan, commands: readonly CommandSpec[] = []): object {
  let previous = plan.initialState;
  const byStep = commandsByStep(commands);
  const steps: JsonStep[] = plan.steps.map(({ stateAfter, ...step }) => {
    const changes = stateAfter.changedFrom(previous);
    previous = stateAfter;
    const own = (byStep.get(step.id) ?? []).map(({ runsOn, script, args, command, undoCommand }) => ({ runsOn, script, args, command, ...(undoCommand ? { undoCommand } : {}) }));
    return { ...step, changes, commands: own };
  });
  return {
    cluster: plan.cluster,
    target: plan.target,
    pools: plan.pools,
    initialState: plan.initialState,
    hops: plan.hops.map((h) => ({ ...h, phases: h.phases.map(phaseJson) })),
    maintenance: plan.maintenance.map(phaseJson),
    resume: plan.resume.map((s) => s.id),
    removals: plan.removals.map((s) => s.id),
    steps,
    finalState: plan.finalState,
    warnings: plan.warnings,
  };
}
