/**
 * The commands of a blue-green pool replacement, after its new (green) nodes are Ready:
 * cordon every old (blue) node, drain them in batches (optionally soaking after each), soak
 * with green watched, delete the blue Node objects. All run on the kubectl node. The green
 * instances and their readiness gates are the blue-green node pool component's. The blue
 * instances stay registered (components/blue-green-node-pool.ts): Pulumi terminates them in the
 * first `pulumi up` after the operator sets the pool's `version` to the new version, never in
 * the update that replaces the pool (not even under --continue-on-error).
 * Rollback: each cordon's `delete` hook uncordons its node, so reverting the pool's version
 * (which drops these commands from the program) gives blue back its pods' places.
 */
import { colorTag } from "./blue-green";
import { CommandSpec, commandKey, commandLine, ExecutionOptions, ScriptName } from "./commands";
import type { Step, UpgradePlan } from "./plan-types";

/**
 * @param before keys of the commands the replacement waits for (the previous steps').
 * @returns the commands in order; empty when the pool has no blue-green settings.
 */
export function replacementCommands(plan: UpgradePlan, step: Step, options: ExecutionOptions, before: readonly string[]): CommandSpec[] {
  const spec = plan.pools.find((p) => p.name === step.pool)?.blueGreen;
  const r = step.replacement;
  if (!spec || !r) return [];
  const tag = colorTag(step.version);
  const out: CommandSpec[] = [];
  const add = (node: string, name: string, script: ScriptName, args: string[], dependsOn: readonly string[], extra: Partial<CommandSpec> = {}): string => {
    const undo = extra.undo;
    const spec: CommandSpec = {
      name, step: step.id, node, runsOn: options.kubectlNode, script, args, dependsOn, command: commandLine(script, args), ...extra,
      ...(undo ? { undoCommand: commandLine(script, undo) } : {}),
    };
    out.push(spec);
    return commandKey(spec);
  };
  const pool = { pool: step.pool };
  let previous = step.nodes.map((n) => add(n, `${tag}-cordon`, "cordon-node.sh", ["cordon", n], before, { greenOf: step.pool, undo: ["uncordon", n] }));
  const d = options.drain(step.pool);
  const drainArgs = [step.version.toString(), String(d.timeoutSeconds), String(d.deleteEmptyDirData), String(d.deleteUnmanagedPods), String(d.disableEviction)];
  const batches = r.estimate.batches;
  for (let b = 0; b < batches; b++) {
    const batch = step.nodes.slice(b * r.estimate.batchSize, (b + 1) * r.estimate.batchSize);
    previous = batch.map((n) => add(n, `${tag}-drain`, "drain.sh", [n, ...drainArgs], previous));
    if (b < batches - 1 && spec.batchSoakSeconds > 0) {
      previous = [add(step.pool, `${tag}-soak-after-batch-${b + 1}`, "soak.sh", [String(spec.batchSoakSeconds), ...r.newNodes], previous, pool)];
    }
  }
  const soak = add(step.pool, `${tag}-soak`, "soak.sh", [String(spec.soakSeconds), ...r.newNodes], previous, pool);
  add(step.pool, `${tag}-delete-old-nodes`, "delete-nodes.sh", [...step.nodes], [soak], pool);
  return out;
}
