/**
 * The plan's text as `npm run plan` prints it and `pulumi preview` logs it: where the
 * versions came from, the plan (render.ts), its waves (waves.ts), then the go/no-go report
 * (preflight/readiness-text.ts). One function, so the
 * two cannot drift apart.
 */
import type { ClusterAddons } from "./addon-versions";
import type { Readiness } from "../preflight/findings";
import { readinessText } from "../preflight/readiness-text";
import type { MaintenanceWindow } from "../config/window-config";
import { describeWindowState, windowState } from "../preflight/window";
import { describeEstimate, DurationBounds, estimateWave } from "./duration";
import type { CommandSpec } from "./commands";
import type { UpgradePlan } from "./plan-types";
import { renderText } from "./render";
import { describeWave, Wave } from "./waves";

export interface ReportParts {
  readonly plan: UpgradePlan;
  /** The commands of the whole plan, shown under their steps. */
  readonly commands: readonly CommandSpec[];
  /** Where the versions came from (config/cluster-source.ts ClusterSource.origin). */
  readonly origin?: string;
  /** The plan's waves, when it starts from the live cluster; wave 1 is the next `pulumi up`'s. */
  readonly waves?: readonly Wave[];
  /** The bound the waves were cut with, nodes per update. */
  readonly maxNodesPerUpdate?: number;
  /** etcd and CoreDNS as the cluster runs them, when it was read (discovery/live-cluster.ts clusterAddons): rows of the version table. */
  readonly addons?: ClusterAddons;
  /** The go/no-go report (preflight/readiness.ts), when the cluster was read. */
  readonly readiness?: Readiness;
  /** What bounds the steps' durations (planning/duration.ts durationBounds): each wave's estimate is shown. */
  readonly durations?: DurationBounds;
  /** The maintenance window and the moment to say its state at. */
  readonly window?: { readonly window: MaintenanceWindow; readonly now: Date };
}

/** The report as text, ending with a newline. */
export function reportText(parts: ReportParts): string {
  const waves = parts.waves ?? [];
  return [
    ...(parts.origin ? [`Planned from ${parts.origin}.`] : []),
    renderText(parts.plan, parts.commands, parts.addons).trimEnd(),
    ...(waves.length > 0
      ? [
          "",
          `WAVES (one per pulumi up, at most ${parts.maxNodesPerUpdate} node(s) each; each pulumi up reads the cluster again, plans what is left and runs its first wave)`,
          ...waves.map((w, i) => `  ${describeWave(w, i === 0)}${parts.durations ? `; ${describeEstimate(estimateWave(parts.plan, w, parts.durations))}` : ""}`),
        ]
      : []),
    ...(parts.window ? ["", `${describeWindowState(parts.window.window, windowState(parts.window.window, parts.window.now))} (pulumi up runs a wave only inside it, and only one that ends by its close: maintenanceWindow.fit ${parts.window.window.fit})`] : []),
    ...(parts.readiness ? ["", ...readinessText(parts.readiness)] : []),
  ].join("\n") + "\n";
}
