/**
 * The plan with everything computed from it, once, for both of its readers: `npm run plan`
 * (cli/plan.ts) prints it, the program (components/cluster-upgrade.ts) logs it and carries out
 * its first wave. So what the plan says and what `pulumi up` runs cannot drift apart
 * (../shared/DESIGN.md, "How data flows", point 6).
 */
import type { Readiness } from "../preflight/findings";
import { assessReadiness, ReadinessContext } from "../preflight/readiness";
import { refuseRepeatedReplacement } from "./blue-green";
import type { ClusterSpec } from "./cluster";
import { ExecutionOptions, planCommands, PlanCommands } from "./commands";
import { DurationBounds, durationBounds } from "./duration";
import { planUpgrade } from "./plan";
import type { UpgradePlan } from "./plan-types";
import type { ReleaseCatalogue } from "./releases";
import type { KubeVersion } from "./versions";
import { planWaves, Wave } from "./waves";

export interface PlanInputs {
  /** Nodes (control plane first, in upgrade order), pools, removals. */
  readonly cluster: ClusterSpec;
  readonly target: KubeVersion;
  readonly catalogue: ReleaseCatalogue;
  /** "Today" for end-of-life warnings. @default new Date() */
  readonly now?: Date;
  /** How the plan is carried out (planning/commands.ts). */
  readonly execution: ExecutionOptions;
  /** Most nodes one update changes: the plan is cut into waves (planning/waves.ts). Absent: no waves. */
  readonly maxNodesPerUpdate?: number;
  /** The go/no-go reads, when the cluster was read: the plan is judged with them (preflight/readiness.ts). */
  readonly preflight?: Omit<ReadinessContext, "plan" | "drain">;
}

export interface AssembledPlan {
  readonly plan: UpgradePlan;
  /** Every command of the plan and the barriers between its batches. */
  readonly commands: PlanCommands;
  /** The waves, wave 1 the next `pulumi up`'s; empty without `maxNodesPerUpdate`. */
  readonly waves: readonly Wave[];
  /** The go/no-go report, with `preflight`. */
  readonly readiness?: Readiness;
  /** What bounds each step's duration (the execution options' timeouts). */
  readonly durations: DurationBounds;
}

/**
 * Plans `inputs.cluster` to `inputs.target` and computes its commands, waves, go/no-go report and
 * duration bounds.
 * @throws PlanningError as planUpgrade does, and for a blue-green pool replaced more than once
 *   (planning/blue-green.ts refuseRepeatedReplacement); Error when one batch is larger than
 *   `maxNodesPerUpdate` (the config refuses that first).
 */
export function assemblePlan(inputs: PlanInputs): AssembledPlan {
  const plan = planUpgrade(inputs.cluster, inputs.target, { catalogue: inputs.catalogue, ...(inputs.now ? { now: inputs.now } : {}) });
  refuseRepeatedReplacement(plan);
  const commands = planCommands(plan, inputs.execution);
  const waves = inputs.maxNodesPerUpdate === undefined ? [] : planWaves(plan, { maxNodes: inputs.maxNodesPerUpdate, commands: commands.commands });
  const readiness = inputs.preflight ? assessReadiness({ ...inputs.preflight, plan, drain: inputs.execution.drain }) : undefined;
  return { plan, commands, waves, ...(readiness ? { readiness } : {}), durations: durationBounds(inputs.execution) };
}
