/**
 * The dependency rules the Pulumi engine (v3.248) deletes by, as pure functions over the lab's
 * state, so that tests can check them directly:
 *
 * - {@link dependenciesOf} follows pkg/resource/graph/dependency_graph.go `DependenciesOf`: a
 *   resource depends on its `dependsOn` resources, on its parent, and, for a dependency that is
 *   a component, on every transitive child of that component that comes before it in the state.
 * - {@link scheduleDeletes} follows pkg/resource/deploy/step_generator.go `ScheduleDeletes`:
 *   repeatedly take every condemned resource none of whose dependencies is still condemned
 *   (one antichain), then reverse the list. Each antichain is deleted in parallel
 *   (deployment_executor.go `performPostSteps`, step_executor.go `ExecuteParallel`), and the next
 *   starts only when the whole antichain has finished.
 * - {@link transitiveDependenciesOf} is what `performPostSteps` spares when a step failed under
 *   `--continue-on-error` (`dg.TransitiveDependenciesOf` of the failed resource).
 */

/** What the graph needs of one resource of the state. */
export interface GraphNode {
  readonly name: string;
  /** Components are not custom resources. */
  readonly custom: boolean;
  /** The parent's name, "" for none. */
  readonly parent: string;
  readonly dependsOn: readonly string[];
}

/** The resources `node` depends on, among `order` (the state, in its order). */
export function dependenciesOf(node: GraphNode, order: readonly GraphNode[]): Set<string> {
  const index = new Map(order.map((n, i) => [n.name, i]));
  const at = index.get(node.name) ?? order.length;
  const out = new Set<string>();
  const wanted = new Set(node.dependsOn);
  for (let i = at - 1; i >= 0; i--) {
    const candidate = order[i]!;
    if (wanted.has(candidate.name)) {
      out.add(candidate.name);
      if (!candidate.custom) {
        for (const child of descendants(candidate.name, order)) if ((index.get(child) ?? Infinity) < at) out.add(child);
      }
    }
    if (candidate.name === node.parent) out.add(candidate.name);
  }
  return out;
}

function descendants(name: string, order: readonly GraphNode[]): string[] {
  const out: string[] = [];
  const frontier = [name];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const n of order) {
      if (n.parent === parent) {
        out.push(n.name);
        frontier.push(n.name);
      }
    }
  }
  return out;
}

/**
 * The antichains in which `condemned` are deleted, in execution order (dependents first).
 * @param order every resource of the state (condemned ones included), in state order.
 */
export function scheduleDeletes(condemned: readonly string[], order: readonly GraphNode[]): string[][] {
  const byName = new Map(order.map((n) => [n.name, n]));
  const left = new Set(condemned);
  const deps = new Map(condemned.map((name) => [name, dependenciesOf(byName.get(name)!, order)]));
  const antichains: string[][] = [];
  while (left.size > 0) {
    const chain = [...left].filter((name) => ![...deps.get(name)!].some((d) => left.has(d)));
    if (chain.length === 0) throw new Error(`lab engine: a dependency cycle among ${[...left].join(", ")}`);
    for (const name of chain) left.delete(name);
    antichains.push(chain);
  }
  return antichains.reverse();
}

/** Every resource `name` depends on, directly or not. */
export function transitiveDependenciesOf(name: string, order: readonly GraphNode[]): Set<string> {
  const byName = new Map(order.map((n) => [n.name, n]));
  const out = new Set<string>();
  const frontier = [name];
  while (frontier.length > 0) {
    const node = byName.get(frontier.pop()!);
    if (!node) continue;
    for (const d of dependenciesOf(node, order)) {
      if (!out.has(d)) {
        out.add(d);
        frontier.push(d);
      }
    }
  }
  return out;
}
