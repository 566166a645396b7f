/**
 * PoolColor at scale under Pulumi mocks: a join token per batch of launches (created once the
 * previous batch is Ready, revoked once its own batch is), and removals chained so that the
 * engine's end-of-update deletes never drain more than the pool's batchSize nodes at once.
 */
import * as pulumi from "@pulumi/pulumi";
import { settled, valueOf } from "./helpers/pulumi-mocks";
import { colorArgs, one, Rec, registered, urnName, V, WRAPPER } from "./helpers/color-mocks";
import { colorNodeNames, JOIN_BATCH_NODES, joinBatches, joinTokenTtlMinutes, PoolColor } from "../components/pool-color";

const COMMAND = "command:remote:Command";
const N = "prod-batch-v1-37-1";
const NODES = colorNodeNames("batch", V, 25);
const node = (i: number) => NODES[i - 1]!;

describe("joinBatches and joinTokenTtlMinutes", () => {
  it("batches of 10 nodes, named by their 1-based range; growing a pool changes only its last batch's range", () => {
    expect(JOIN_BATCH_NODES).toBe(10);
    expect(joinBatches(colorNodeNames("p", V, 3)).map((b) => b.range)).toEqual(["1-3"]);
    expect(joinBatches(colorNodeNames("p", V, 5)).map((b) => b.range)).toEqual(["1-5"]);
    expect(joinBatches(colorNodeNames("p", V, 10)).map((b) => b.range)).toEqual(["1-10"]);
    expect(joinBatches(colorNodeNames("p", V, 12)).map((b) => b.range)).toEqual(["1-10", "11-12"]);
    expect(joinBatches(colorNodeNames("p", V, 15)).map((b) => [b.first, b.last, b.nodes.length])).toEqual([[1, 10, 10], [11, 15, 5]]);
    expect(joinBatches(["a", "b", "c"], 2).map((b) => b.nodes)).toEqual([["a", "b"], ["c"]]);
  });

  it("TTL = nodes x 2 + 2 x ceil(ready timeout in minutes) + 5", () => {
    expect(joinTokenTtlMinutes(10, 600)).toBe(45);
    expect(joinTokenTtlMinutes(3, 900)).toBe(41);
    expect(joinTokenTtlMinutes(1, 61)).toBe(2 + 4 + 5);
  });
});

describe("a color of 25 nodes, batchSize 3, ready timeout 600 s", () => {
  let all: Rec[];
  const byName = () => new Map(all.map((r) => [r.name, r]));
  const deps = (name: string) => [...byName().get(name)!.dependsOn].map(urnName).sort();
  beforeAll(async () => {
    registered.splice(0);
    const color = new PoolColor(N, colorArgs({ nodes: NODES, batchSize: 3, readyTimeoutSeconds: 600 }));
    await valueOf(pulumi.all([...color.revokeCommands.map((r) => r.urn), ...color.instances.map((i) => i.urn)]));
    await settled();
    all = [...registered];
  });

  it("three join tokens (nodes 1-10, 11-20, 21-25) with TTLs 45, 45 and 35 minutes, each after the previous batch's gates", () => {
    const joins = all.filter((r) => r.type === COMMAND && r.name.startsWith(`${N}-join-`));
    expect(joins.map((r) => [r.name, r.inputs.create])).toEqual([
      [`${N}-join-1-10`, `${WRAPPER} join-command.sh '45' 'batch' '1.37.1' '1-10'`],
      [`${N}-join-11-20`, `${WRAPPER} join-command.sh '45' 'batch' '1.37.1' '11-20'`],
      [`${N}-join-21-25`, `${WRAPPER} join-command.sh '35' 'batch' '1.37.1' '21-25'`],
    ]);
    const gates = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => `${N}-${node(from + k)}-joined`).sort();
    expect(deps(`${N}-join-1-10`)).toEqual([]);
    expect(deps(`${N}-join-11-20`)).toEqual(gates(1, 10));
    expect(deps(`${N}-join-21-25`)).toEqual(gates(11, 20));
    expect(deps(`${N}-revoke-1-10`)).toEqual(gates(1, 10));
    expect(deps(`${N}-revoke-11-20`)).toEqual(gates(11, 20));
    expect(deps(`${N}-revoke-21-25`)).toEqual(gates(21, 25));
    expect(one(all, COMMAND, `${N}-revoke-21-25`).inputs.create).toBe(`${WRAPPER} join-command.sh 'revoke' 'batch' '1.37.1' '21-25'`);
  });

  it("each instance takes the user data of its batch's token", () => {
    for (const [i, join] of [[1, "1-10"], [10, "1-10"], [11, "11-20"], [20, "11-20"], [21, "21-25"], [25, "21-25"]] as const) {
      expect(deps(`${N}-${node(i)}`)).toEqual([`${N}-join-${join}`, `${N}-template`]);
    }
  });

  it("node i's removal depends on its instance and on node (i - 3)'s removal", () => {
    for (let i = 1; i <= 25; i++) {
      const expected = [`${N}-${node(i)}`, ...(i > 3 ? [`${N}-${node(i - 3)}-registered`] : [])].sort();
      expect([i, deps(`${N}-${node(i)}-registered`)]).toEqual([i, expected]);
    }
  });

  it("deleting the whole color as the engine schedules deletes drains at most 3 nodes at once, each node before its instance", () => {
    // pulumi pkg/resource/deploy/step_generator.go ScheduleDeletes: repeatedly take every condemned
    // resource that no other condemned resource depends on (dependsOn or parent); each such set is
    // deleted in parallel, the next set after it.
    const edges = new Map(all.map((r) => [r.name, new Set([...r.dependsOn, ...(r.parent ? [r.parent] : [])].map(urnName))]));
    const condemned = new Set(all.map((r) => r.name));
    const antichains: string[][] = [];
    while (condemned.size > 0) {
      const free = [...condemned].filter((n) => ![...condemned].some((m) => edges.get(m)!.has(n)));
      expect(free.length).toBeGreaterThan(0);
      antichains.push(free);
      free.forEach((n) => condemned.delete(n));
    }
    const removals = antichains.map((a) => a.filter((n) => n.endsWith("-registered")).length);
    expect(Math.max(...removals)).toBe(3);
    expect(removals.reduce((a, b) => a + b, 0)).toBe(25);
    const at = (name: string) => antichains.findIndex((a) => a.includes(name));
    for (const n of NODES) expect(at(`${N}-${n}-registered`)).toBeLessThan(at(`${N}-${n}`));
  });
});
