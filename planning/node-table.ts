/**
 * NodeTable: an immutable list of nodes with structural sharing. Replacing a few nodes copies
 * one chunk per changed node plus the chunk index, not the whole list, so a plan can keep
 * the cluster state after each of its ~15,000 steps for a 5,000-node cluster in a few MB.
 */
import { NodeState } from "./cluster";

const CHUNK = 64;

export class NodeTable implements Iterable<NodeState> {
  private constructor(
    private readonly chunks: readonly (readonly NodeState[])[],
    /** name -> position; shared by every table derived from the same original. */
    private readonly positions: ReadonlyMap<string, number>,
  ) {}

  /** @throws Error on duplicate node names (config validation reports them first). */
  static from(nodes: readonly NodeState[]): NodeTable {
    const positions = new Map<string, number>();
    nodes.forEach((n, i) => {
      if (positions.has(n.name)) throw new Error(`duplicate node name ${n.name}`);
      positions.set(n.name, i);
    });
    const chunks: NodeState[][] = [];
    for (let i = 0; i < nodes.length; i += CHUNK) chunks.push(nodes.slice(i, i + CHUNK));
    return new NodeTable(chunks, positions);
  }

  get size(): number {
    return this.positions.size;
  }

  get(name: string): NodeState | undefined {
    const i = this.positions.get(name);
    return i === undefined ? undefined : this.chunks[Math.floor(i / CHUNK)]![i % CHUNK];
  }

  /**
   * A table with each of `updated` replacing the node of the same name.
   * @throws Error when a name is not in the table (nodes are never added or removed).
   */
  with(updated: readonly NodeState[]): NodeTable {
    const chunks = [...this.chunks];
    const copied = new Set<number>();
    for (const node of updated) {
      const i = this.positions.get(node.name);
      if (i === undefined) throw new Error(`unknown node ${node.name}`);
      const c = Math.floor(i / CHUNK);
      if (!copied.has(c)) {
        chunks[c] = [...chunks[c]!];
        copied.add(c);
      }
      (chunks[c] as NodeState[])[i % CHUNK] = node;
    }
    return new NodeTable(chunks, this.positions);
  }

  /**
   * Nodes that differ from `previous` (a table this one was derived from), found by
   * comparing shared chunks by reference: cost grows with the change, not the cluster.
   */
  changedFrom(previous: NodeTable): NodeState[] {
    const changed: NodeState[] = [];
    this.chunks.forEach((chunk, c) => {
      const before = previous.chunks[c];
      if (chunk === before) return;
      chunk.forEach((node, i) => {
        if (before?.[i] !== node) changed.push(node);
      });
    });
    return changed;
  }

  *[Symbol.iterator](): Iterator<NodeState> {
    for (const chunk of this.chunks) yield* chunk;
  }

  toArray(): NodeState[] {
    return [...this];
  }

  toJSON(): NodeState[] {
    return this.toArray();
  }
}
