/**
 * NodeTable: an immutable list of nodes with structural sharing, kept as a tree of 32-wide
 * arrays (a persistent vector: leaves of nodes, branches of subtrees). Replacing a few nodes
 * copies only the path from the root to each changed leaf, log32(n) arrays of at most 32
 * entries, never an index of the whole list: a plan keeps the cluster state after each of its
 * steps in memory that grows with nodes + steps, not nodes x steps.
 */
import { NodeState } from "./cluster";

const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;

/**
 * A leaf holds nodes (`undefined` where a node was removed: positions never move); a branch holds
 * subtrees. Which one a level holds follows from the depth.
 */
type Tree = readonly (NodeState | Tree | undefined)[];

/** Groups `items` into arrays of WIDTH. */
function group<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += WIDTH) out.push(items.slice(i, i + WIDTH));
  return out;
}

export class NodeTable implements Iterable<NodeState> {
  private constructor(
    /** The root; its leaves are `depth` levels below it (depth 0: the root is the only leaf). */
    private readonly root: Tree,
    private readonly depth: number,
    /** name -> position; shared by every table derived from the same original (removed nodes keep theirs). */
    private readonly positions: ReadonlyMap<string, number>,
    /** Nodes in the table: positions less the removed. */
    private readonly count: number = positions.size,
  ) {}

  /** @throws Error on duplicate node names (config validation reports them first). */
  static from(nodes: readonly NodeState[]): NodeTable {
    const positions = new Map<string, number>();
    nodes.forEach((n, i) => {
      if (positions.has(n.name)) throw new Error(`duplicate node name ${n.name}`);
      positions.set(n.name, i);
    });
    let level: Tree[] = group(nodes);
    let depth = 0;
    while (level.length > 1) {
      level = group(level);
      depth++;
    }
    return new NodeTable(level[0] ?? [], depth, positions);
  }

  get size(): number {
    return this.count;
  }

  get(name: string): NodeState | undefined {
    const i = this.positions.get(name);
    if (i === undefined) return undefined;
    let tree = this.root;
    for (let level = this.depth; level > 0; level--) tree = tree[(i >> (level * BITS)) & MASK] as Tree;
    return tree[i & MASK] as NodeState | undefined;
  }

  /**
   * A table with each of `updated` replacing the node of the same name.
   * @throws Error when a name is not in the table (nodes are never added; removed ones stay out).
   */
  with(updated: readonly NodeState[]): NodeTable {
    return this.replaced(updated.map((n) => [n.name, n]), 0);
  }

  /**
   * A table without the nodes named `names` (a node removed for good, planning/removal.ts).
   * @throws Error when a name is not in the table.
   */
  without(names: readonly string[]): NodeTable {
    return this.replaced(names.map((n) => [n, undefined]), names.length);
  }

  private replaced(updates: readonly (readonly [string, NodeState | undefined])[], removed: number): NodeTable {
    if (updates.length === 0) return this;
    // Arrays copied by this call: written in place by later updates of the same call.
    const fresh = new Set<Tree>();
    const copy = (tree: Tree): (NodeState | Tree | undefined)[] => {
      if (fresh.has(tree)) return tree as (NodeState | Tree | undefined)[];
      const c = [...tree];
      fresh.add(c);
      return c;
    };
    let root = this.root;
    for (const [name, node] of updates) {
      const i = this.positions.get(name);
      if (i === undefined || this.get(name) === undefined) throw new Error(`unknown node ${name}`);
      const top = copy(root);
      let tree = top;
      for (let level = this.depth; level > 0; level--) {
        const slot = (i >> (level * BITS)) & MASK;
        const child = copy(tree[slot] as Tree);
        tree[slot] = child;
        tree = child;
      }
      tree[i & MASK] = node;
      root = top;
    }
    return new NodeTable(root, this.depth, this.positions, this.count - removed);
  }

  /**
   * Nodes that differ from `previous` (a table this one was derived from), found by
   * comparing shared chunks by reference: cost grows with the change, not the cluster.
   * A node removed since `previous` is not listed.
   */
  changedFrom(previous: NodeTable): NodeState[] {
    const changed: NodeState[] = [];
    const walk = (now: Tree, before: Tree | undefined, level: number): void => {
      if (now === before) return;
      now.forEach((item, k) => {
        if (level === 0) {
          if (item !== undefined && before?.[k] !== item) changed.push(item as NodeState);
        } else walk(item as Tree, before?.[k] as Tree | undefined, level - 1);
      });
    };
    walk(this.root, previous.depth === this.depth ? previous.root : undefined, this.depth);
    return changed;
  }

  *[Symbol.iterator](): Iterator<NodeState> {
    function* walk(tree: Tree, level: number): Generator<NodeState> {
      if (level === 0) {
        for (const node of tree) if (node !== undefined) yield node as NodeState;
      }
      else for (const child of tree) yield* walk(child as Tree, level - 1);
    }
    yield* walk(this.root, this.depth);
  }

  toArray(): NodeState[] {
    return [...this];
  }

  toJSON(): NodeState[] {
    return this.toArray();
  }
}
