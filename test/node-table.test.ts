/**
 * planning/node-table.ts: an immutable node list with structural sharing, a tree of 32-wide
 * arrays. 150 nodes make leaves of 32 under one branch, so changes in several leaves and on leaf
 * boundaries are exercised; a property test against a plain array covers deeper trees.
 */
import fc from "fast-check";
import { Component, NodeState } from "../planning/cluster";
import { NodeTable } from "../planning/node-table";
import { cp, v, worker } from "./helpers/cluster-fixtures";

const COUNT = 150;
const makeNodes = (): NodeState[] => [
  cp("cp-0", "1.35.9"),
  ...Array.from({ length: COUNT - 1 }, (_, i) => worker(`n-${i + 1}`, i % 2 ? "web" : "db", "1.35.9")),
];
const nameAt = (i: number): string => (i === 0 ? "cp-0" : `n-${i}`);
/** The node with some component versions replaced. */
const withVersions = (node: NodeState, changes: Partial<Record<Component, ReturnType<typeof v>>>): NodeState => ({ ...node, versions: { ...node.versions, ...changes } });
const upgraded = (node: NodeState): NodeState => withVersions(node, { kubelet: v("1.36.4"), kubectl: v("1.36.4") });

let nodes: NodeState[];
let table: NodeTable;
beforeEach(() => {
  nodes = makeNodes();
  table = NodeTable.from(nodes);
});

describe("from, get, size, iteration", () => {
  it("holds every node, found by name, as the same objects", () => {
    expect(table.size).toBe(COUNT);
    for (const [i, node] of nodes.entries()) expect(table.get(nameAt(i))).toBe(node);
    expect(table.get("n-63")).toBe(nodes[63]);
    expect(table.get("n-64")).toBe(nodes[64]);
    expect(table.get("n-149")).toBe(nodes[149]);
    expect(table.get("ghost")).toBeUndefined();
  });

  it("iterates in the original order, across chunks", () => {
    const seen = [...table];
    expect(seen).toHaveLength(COUNT);
    seen.forEach((node, i) => expect(node).toBe(nodes[i]));
    expect(table.toArray().map((n) => n.name)).toEqual(nodes.map((n) => n.name));
    expect(table.toJSON()).toEqual(nodes);
  });

  it("does not follow later changes to the array it was built from", () => {
    const first = nodes[0];
    nodes[0] = upgraded(nodes[0]!);
    nodes.push(worker("late", "web", "1.35.9"));
    expect(table.get("cp-0")).toBe(first);
    expect(table.get("late")).toBeUndefined();
    expect(table.size).toBe(COUNT);
  });

  it("builds an empty table", () => {
    const empty = NodeTable.from([]);
    expect(empty.size).toBe(0);
    expect([...empty]).toEqual([]);
    expect(empty.get("cp-0")).toBeUndefined();
  });

  it("throws on duplicate names", () => {
    const dup = [...makeNodes(), worker("n-5", "web", "1.36.4")];
    expect(() => NodeTable.from(dup)).toThrow(/duplicate node name n-5/);
  });
});

describe("with", () => {
  it("replaces the named nodes in a new table and leaves the original unchanged", () => {
    const a = upgraded(table.get("n-3")!);
    const b = upgraded(table.get("n-100")!);
    const next = table.with([a, b]);
    expect(next.get("n-3")).toBe(a);
    expect(next.get("n-100")).toBe(b);
    expect(next.size).toBe(COUNT);
    expect(table.get("n-3")).toBe(nodes[3]);
    expect(table.get("n-100")).toBe(nodes[100]);
    expect([...table]).toEqual(nodes);
  });

  it("shares every unchanged node (same objects) and keeps the order", () => {
    const a = upgraded(table.get("n-70")!);
    const next = table.with([a]);
    const after = [...next];
    expect(after.map((n) => n.name)).toEqual(nodes.map((n) => n.name));
    after.forEach((node, i) => expect(node).toBe(i === 70 ? a : nodes[i]));
  });

  it("lets the last of two updates of the same node win", () => {
    const first = upgraded(table.get("n-9")!);
    const second = withVersions(first, { "kube-proxy": v("1.36.4") });
    expect(table.with([first, second]).get("n-9")).toBe(second);
  });

  it("throws for a name not in the table, without changing it", () => {
    expect(() => table.with([upgraded(table.get("n-1")!), worker("ghost", "web", "1.36.4")])).toThrow(/unknown node ghost/);
    expect(table.get("n-1")).toBe(nodes[1]);
    expect(table.get("ghost")).toBeUndefined();
  });

  it("keeps derived tables independent of each other", () => {
    const left = table.with([upgraded(table.get("n-10")!)]);
    const right = table.with([withVersions(table.get("n-10")!, { kubelet: v("1.34.9") })]);
    expect(left.get("n-10")!.versions.kubelet.toString()).toBe("1.36.4");
    expect(right.get("n-10")!.versions.kubelet.toString()).toBe("1.34.9");
    expect(table.get("n-10")!.versions.kubelet.toString()).toBe("1.35.9");
  });
});

describe("changedFrom", () => {
  it("returns exactly the changed nodes, in table order, across chunks and chunk boundaries", () => {
    const names = ["n-149", "n-64", "cp-0", "n-63", "n-65", "n-128"];
    const changes = names.map((name) => upgraded(table.get(name)!));
    const next = table.with(changes);
    expect(next.changedFrom(table).map((n) => n.name)).toEqual(["cp-0", "n-63", "n-64", "n-65", "n-128", "n-149"]);
    for (const node of next.changedFrom(table)) expect(changes).toContain(node);
  });

  it("returns nothing for the same table or an update with no nodes", () => {
    expect(table.changedFrom(table)).toEqual([]);
    expect(table.with([]).changedFrom(table)).toEqual([]);
  });

  it("returns nothing for a node replaced by itself", () => {
    expect(table.with([table.get("n-20")!]).changedFrom(table)).toEqual([]);
  });

  it("accumulates over several derivations and only counts the latest step against its parent", () => {
    const a = upgraded(table.get("n-2")!);
    const b = upgraded(table.get("n-90")!);
    const c = upgraded(table.get("n-140")!);
    const t1 = table.with([a]);
    const t2 = t1.with([b]);
    const t3 = t2.with([c]);
    expect(t3.changedFrom(table)).toEqual([a, b, c]);
    expect(t3.changedFrom(t2)).toEqual([c]);
    expect(t3.changedFrom(t1)).toEqual([b, c]);
  });

  it("leaves out a node changed and then changed back", () => {
    const b = upgraded(table.get("n-90")!);
    const changed = table.with([upgraded(table.get("n-91")!), b]);
    const reverted = changed.with([nodes[91]!]);
    expect(reverted.changedFrom(table)).toEqual([b]);
    expect(reverted.changedFrom(changed)).toEqual([nodes[91]]);
  });

  it("stays exact over a long chain of single-node steps", () => {
    let current = table;
    for (let i = 1; i < COUNT; i += 7) current = current.with([upgraded(current.get(nameAt(i))!)]);
    const expected = nodes.filter((_, i) => i >= 1 && (i - 1) % 7 === 0).map((n) => n.name);
    expect(current.changedFrom(table).map((n) => n.name)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(20);
  });
});

describe("against a plain array (fast-check), trees one to three levels deep", () => {
  it("get, iteration and changedFrom agree with the model after any sequence of updates", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40_000 }),
        fc.array(fc.array(fc.nat(), { maxLength: 40 }), { maxLength: 6 }),
        (size, steps) => {
          const model = Array.from({ length: size }, (_, i) => worker(`n-${i}`, "web", "1.35.9"));
          let t = NodeTable.from(model);
          for (const picks of steps) {
            if (size === 0) break;
            const updates = picks.map((k) => upgraded(model[k % size]!));
            const before = t;
            const touched = new Map<string, NodeState>();
            for (const u of updates) touched.set(u.name, u);
            t = t.with(updates);
            for (const u of updates) model[Number(u.name.slice(2))] = touched.get(u.name)!;
            expect(t.changedFrom(before).map((n) => n.name)).toEqual(model.filter((n) => touched.get(n.name) === n).map((n) => n.name));
          }
          expect(t.size).toBe(size);
          expect(t.toArray()).toEqual(model);
          for (const k of [0, size - 1, size >> 1]) if (size > 0) expect(t.get(`n-${k}`)).toBe(model[k]);
        },
      ),
      { numRuns: 40 },
    );
  });
});
