/**
 * Engine events as pulumi/pulumi v3.248 puts them in the event log (sdk/go/common/apitype/events.go
 * shapes; `sequence` and `timestamp` are added by the writer, here the pulumi stand-in):
 * - diagnostics carry Pulumi's color directives, `color: "raw"` (pkg/engine/events.go `diagEvent`:
 *   `Color: colors.Raw`), the message wrapped in `<{%reset%}>` and ending in "\n", an error's
 *   prefix `<{%fg 1%}>error: <{%reset%}>` (pkg/engine/eventsink.go `Stringify`: SpecError = Red =
 *   "fg 1", SpecNote = Reset);
 * - a failed step: the error diagnostic with the step's URN, then `resOpFailedEvent`
 *   (pkg/engine/update.go `updateActions.OnResourceStepPost`);
 * - the summary, then `cancelEvent`, last.
 */
import type { EngineEvent, StepMetadata } from "../../cli/up-events";

type Event = Omit<EngineEvent, "sequence" | "timestamp">;

export const STACK = "dev";
export const PROJECT = "cluster-maintenance";
const CLUSTER_T = "cluster-maintenance:upgrade:ClusterUpgrade";
const NODE_T = "cluster-maintenance:upgrade:NodeUpgrade";
const COMMAND_T = "command:remote:Command";

export function urn(typeChain: string, name: string, stack = STACK): string {
  return `urn:pulumi:${stack}::${PROJECT}::${typeChain}::${name}`;
}
export const STACK_URN = urn("pulumi:pulumi:Stack", `${PROJECT}-${STACK}`);
export const clusterUrn = (cluster: string) => urn(CLUSTER_T, cluster);
export const nodeUrn = (cluster: string, node: string) => urn(`${CLUSTER_T}$${NODE_T}`, `${cluster}-${node}`);
export const commandUrn = (name: string) => urn(`${CLUSTER_T}$${NODE_T}$${COMMAND_T}`, name);

function metadata(op: string, u: string, type: string, parent: string): StepMetadata {
  return { op, urn: u, type, old: null, new: { type, urn: u, parent } };
}
export function pre(op: string, u: string, type: string, parent: string): Event {
  return { resourcePreEvent: { metadata: metadata(op, u, type, parent) } };
}
export function outputs(op: string, u: string, type: string, parent: string): Event {
  return { resOutputsEvent: { metadata: metadata(op, u, type, parent) } };
}
export function opFailed(op: string, u: string, type: string, parent: string, steps: number): Event {
  return { resOpFailedEvent: { metadata: metadata(op, u, type, parent), status: 0, steps } };
}
export function diag(severity: "info" | "error" | "warning", u: string | undefined, text: string): Event {
  const prefix = severity === "info" ? undefined : severity === "error" ? "<{%fg 1%}>error: <{%reset%}>" : "<{%fg 3%}>warning: <{%reset%}>";
  return { diagnosticEvent: { ...(u ? { urn: u } : {}), ...(prefix ? { prefix } : {}), message: `<{%reset%}>${text}<{%reset%}>\n`, color: "raw", severity } };
}
export function summary(result: "succeeded" | "failed" | "canceled", durationSeconds: number, changes: Record<string, number>): Event {
  return { summaryEvent: { maybeCorrupt: false, durationSeconds, resourceChanges: changes, isPreview: false, result } };
}
export const cancel = (): Event => ({ cancelEvent: {} });

/** The failed command's error as @pulumi/command words it (test/lab/engine.ts does the same). */
export function commandError(status: number, commandLine: string, output: string): string {
  return `Process exited with status ${status}: running ${JSON.stringify(commandLine)}:\n${output}`;
}

/** The stack, the ClusterUpgrade (with its wave announcement) and a NodeUpgrade per node: the start of every update. */
export function opening(cluster: string, nodes: readonly string[], waveLine: string | undefined): Event[] {
  return [
    { preludeEvent: { config: {} } } as Event,
    pre("create", STACK_URN, "pulumi:pulumi:Stack", ""),
    pre("create", clusterUrn(cluster), CLUSTER_T, STACK_URN),
    ...(waveLine ? [diag("info", clusterUrn(cluster), waveLine)] : []),
    ...nodes.map((n) => pre("create", nodeUrn(cluster, n), NODE_T, clusterUrn(cluster))),
  ];
}

/** A command that ran and succeeded. */
export function commandRan(cluster: string, node: string, name: string): Event[] {
  return [pre("create", commandUrn(name), COMMAND_T, nodeUrn(cluster, node)), outputs("create", commandUrn(name), COMMAND_T, nodeUrn(cluster, node))];
}

/** A command whose create failed with `message`. */
export function commandFailed(cluster: string, node: string, name: string, message: string, steps: number): Event[] {
  return [
    pre("create", commandUrn(name), COMMAND_T, nodeUrn(cluster, node)),
    diag("error", commandUrn(name), message),
    opFailed("create", commandUrn(name), COMMAND_T, nodeUrn(cluster, node), steps),
  ];
}

export { COMMAND_T, NODE_T, CLUSTER_T };
