/**
 * The maintenance window's gate on `pulumi up`: outside the window nothing runs, and a wave
 * that would not end before the window closes is not started (issue 12, item 6). Checked
 * before anything is registered, so a refused update changes nothing: not even the resources
 * of an earlier wave, or a blue-green pool's serving instances, are touched.
 */
import type { MaintenanceWindow } from "../config/window-config";
import { describeEstimate, DurationEstimate, formatDuration } from "../planning/duration";
import { describeWindowState, fitSeconds, fitsInWindow, windowState } from "./window";

/** Thrown when the window is closed, or the next wave does not fit in what is left of it. */
export class WindowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WindowError";
  }
}

/**
 * Refuses to start a wave (`what`, e.g. `wave 1: hop 1 v1.36.4, control plane`) lasting
 * `estimate` at `now` unless the window is open and the wave's `fit` duration ends by its close.
 * @throws WindowError saying the window, when the next one opens (closed), or how long the wave
 *   needs against the time left, and what to change (fit: expected, a longer window, a smaller
 *   maxNodesPerUpdate).
 */
export function refuseOutsideWindow(window: MaintenanceWindow, now: Date, what: string, estimate: DurationEstimate): void {
  const state = windowState(window, now);
  if (!state.open) throw new WindowError(`outside the ${describeWindowState(window, state)}: nothing was run. Run pulumi up again then`);
  const needs = fitSeconds(window, estimate);
  if (fitsInWindow(state, needs)) return;
  throw new WindowError(
    `${what} needs ${formatDuration(needs)} (${describeEstimate(estimate)}; maintenanceWindow.fit: ${window.fit}) but the ${describeWindowState(window, state)}: ` +
      `it was not started, nothing was run. Run pulumi up when the next window opens, or lengthen the window, ` +
      `or lower maxNodesPerUpdate so that waves are shorter${window.fit === "bound" ? ", or set maintenanceWindow.fit: expected" : ""}`,
  );
}
