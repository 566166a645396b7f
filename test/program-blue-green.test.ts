/**
 * The program (index.ts) with the dev stack's blue-green pool `batch` (3 instances at 1.34.6):
 * what a version change registers and in which order, what a rollback (the pool's
 * targetVersion set back to its version) removes, and what confirming it (the pool's version set
 * to the new one) removes. Four programs are compared:
 *   before:     targetVersion 1.34.6, nothing to upgrade: the pool serves with its 1.34.6 color;
 *   upgrade:    targetVersion 1.37: the 1.37.1 color (green) replaces it, blue (1.34.6) kept;
 *   rolledBack: the same with pools[1].targetVersion "1.34.6";
 *   confirmed:  everything at 1.37.1, the pool's version "1.37.1": green serves, blue is gone.
 * Pulumi deletes what a program no longer registers at the end of the update (also under
 * --continue-on-error), running `delete` hooks, dependents first; so "removed" below is what
 * an update deletes.
 */
import { nameOf, programRegistrations } from "./helpers/program-runs";
import { FAKE_JOIN_LINE, Registered, stackConfig } from "./helpers/pulumi-mocks";
import { testHostKey } from "./helpers/host-keys";

const dev = stackConfig("dev");
const pools = dev.pools as Record<string, unknown>[];
const COMMAND = "command:remote:Command";
const INSTANCE = "aws:ec2/instance:Instance";
const TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";

let before: Registered[];
let upgrade: Registered[];
let rolledBack: Registered[];
let confirmed: Registered[];

beforeAll(async () => {
  before = await programRegistrations({ ...dev, targetVersion: "1.34.6" });
  upgrade = await programRegistrations(dev);
  rolledBack = await programRegistrations({ ...dev, pools: [pools[0], { ...pools[1], targetVersion: "1.34.6" }] });
  const at = (nodes: unknown) => (nodes as Record<string, unknown>[]).map((n) => ({ ...n, version: "1.37.1" }));
  const cp = dev.controlPlane as { nodes: unknown };
  confirmed = await programRegistrations({
    ...dev, controlPlane: { ...cp, nodes: at(cp.nodes) },
    pools: [{ ...pools[0], nodes: at(pools[0]!.nodes) }, { ...pools[1], version: "1.37.1" }],
  });
}, 180_000);

const names = (rs: Registered[]) => new Set(rs.map((r) => r.name));
const byName = (rs: Registered[]) => new Map(rs.map((r) => [r.name, r]));
/** Every resource `name` depends on, directly or through others. */
function ancestors(rs: Registered[], name: string): Set<string> {
  const map = byName(rs);
  const seen = new Set<string>();
  const todo = [name];
  while (todo.length > 0) {
    const r = map.get(todo.pop()!);
    for (const dep of r?.dependsOn ?? []) {
      const d = nameOf(dep);
      if (!seen.has(d)) {
        seen.add(d);
        todo.push(d);
      }
    }
  }
  return seen;
}
const ofType = (rs: Registered[], type: string, part: string) => rs.filter((r) => r.type === type && r.name.includes(part)).map((r) => r.name);
/** The registrations of a color's component and everything under it. */
const colorOf = (rs: Registered[], tag: string) => rs.filter((r) => r.name === `dev-batch-${tag}` || r.parent.endsWith(`cluster-maintenance:pool:PoolColor::dev-batch-${tag}`));
const BLUE_REMOVALS = [1, 2, 3].map((i) => `dev-batch-v1-34-6-batch-v1-34-6-${i}-registered`);

describe("before any upgrade", () => {
  it("keeps the pool's 1.34.6 color: 3 instances from one launch template, each with its removal command and readiness gate, one join token", () => {
    expect(ofType(before, INSTANCE, "")).toEqual(["dev-batch-v1-34-6-batch-v1-34-6-1", "dev-batch-v1-34-6-batch-v1-34-6-2", "dev-batch-v1-34-6-batch-v1-34-6-3"]);
    expect(ofType(before, TEMPLATE, "")).toEqual(["dev-batch-v1-34-6-template"]);
    expect(ofType(before, COMMAND, "-joined")).toHaveLength(3);
    expect(ofType(before, COMMAND, "-registered")).toEqual(BLUE_REMOVALS);
    expect(ofType(before, COMMAND, "dev-batch-v1-34-6-join-")).toEqual(["dev-batch-v1-34-6-join-1-3"]);
    expect(ofType(before, COMMAND, "dev-batch-v1-34-6-revoke-")).toEqual(["dev-batch-v1-34-6-revoke-1-3"]);
  });
});

describe("a version change (1.34.6 -> 1.37.1)", () => {
  it("creates the green color (1.37.1) and keeps blue registered, so no update of the replacement terminates blue", () => {
    expect(ofType(upgrade, INSTANCE, "v1-37-1")).toEqual(["dev-batch-v1-37-1-batch-v1-37-1-1", "dev-batch-v1-37-1-batch-v1-37-1-2", "dev-batch-v1-37-1-batch-v1-37-1-3"]);
    expect(ofType(upgrade, TEMPLATE, "")).toEqual(["dev-batch-v1-34-6-template", "dev-batch-v1-37-1-template"]);
    expect(ofType(upgrade, INSTANCE, "v1-34-6")).toEqual(ofType(before, INSTANCE, ""));
  });

  it("registers blue exactly as when it was the serving color: same names, same inputs, same dependencies", () => {
    const blue = colorOf(before, "v1-34-6");
    expect(blue.length).toBe(1 + 1 + 1 + 1 + 3 * 3);
    const now = byName(upgrade);
    for (const r of blue) expect([r.name, now.get(r.name)?.inputs, now.get(r.name)?.dependsOn.map(nameOf).sort()]).toEqual([r.name, r.inputs, r.dependsOn.map(nameOf).sort()]);
    expect(colorOf(upgrade, "v1-34-6").map((r) => r.name).sort()).toEqual(blue.map((r) => r.name).sort());
  });

  it("creates green only after the last rolling pool of the hop (its join token is created then)", () => {
    const join = ofType(upgrade, COMMAND, "dev-batch-v1-37-1-join")[0]!;
    expect(join).toBe("dev-batch-v1-37-1-join-1-3");
    const deps = [...ancestors(upgrade, join)];
    for (const last of ["dev-general-3", "dev-general-4"]) expect([last, deps.some((d) => d.startsWith(`${last}-v1.37`) && d.endsWith("-uncordon"))]).toEqual([last, true]);
  });

  it("cordons and drains no blue node before every green node is Ready at the new version", () => {
    const greenGates = ofType(upgrade, COMMAND, "-joined").filter((n) => n.includes("v1-37-1"));
    expect(greenGates).toHaveLength(3);
    for (const gate of greenGates) expect(byName(upgrade).get(gate)!.inputs.create).toContain("pool-node.sh 'wait-joined'");
    const blueTouching = upgrade.filter((r) => r.type === COMMAND && /batch-v1-34-6-\d-v1-37-1-(cordon|drain)$/.test(r.name)).map((r) => r.name);
    expect(blueTouching).toHaveLength(6);
    for (const name of blueTouching) {
      const deps = ancestors(upgrade, name);
      for (const gate of greenGates) expect(deps.has(gate)).toBe(true);
      for (const instance of ofType(upgrade, INSTANCE, "v1-37-1")) expect(deps.has(instance)).toBe(true);
    }
  });

  it("deletes the blue nodes from the cluster only after every drain and the soak", () => {
    const deleteNodes = ofType(upgrade, COMMAND, "v1-37-1-delete-old-nodes");
    expect(deleteNodes).toEqual(["dev-batch-v1-37-1-delete-old-nodes"]);
    const deps = ancestors(upgrade, deleteNodes[0]!);
    for (const i of [1, 2, 3]) expect(deps.has(`dev-batch-v1-34-6-${i}-v1-37-1-drain`)).toBe(true);
    expect(deps.has("dev-batch-v1-37-1-soak")).toBe(true);
    expect(byName(upgrade).get(deleteNodes[0]!)!.inputs.create).toContain("delete-nodes.sh 'batch-v1-34-6-1' 'batch-v1-34-6-2' 'batch-v1-34-6-3'");
  });

  it("never puts the join token or CA hash in a command line, stdin or plain input", () => {
    const token = FAKE_JOIN_LINE.match(/--token (\S+)/)![1]!;
    for (const r of upgrade) {
      for (const [key, value] of Object.entries(r.inputs)) {
        if (key === "userData") continue; // checked to be a secret by test/pool-color.test.ts
        expect(JSON.stringify(value)).not.toContain(token);
      }
    }
  });
});

describe("a rollback (the pool's targetVersion set back to 1.34.6)", () => {
  it("registers the blue color exactly as before the upgrade: blue is not touched", () => {
    const blue = before.filter((r) => r.name.includes("v1-34-6") || r.name.startsWith("dev-batch-profile"));
    expect(blue.length).toBeGreaterThan(0);
    const now = byName(rolledBack);
    for (const r of blue) expect(now.get(r.name)?.inputs).toEqual(r.inputs);
  });

  it("removes only green and the replacement's commands; their delete hooks uncordon blue and drain and remove green, one at a time (batchSize 1)", () => {
    const removed = upgrade.filter((r) => !names(rolledBack).has(r.name));
    for (const r of removed) expect(r.name).toMatch(/v1-37-1/);
    const hooks = removed.filter((r) => r.type === COMMAND && r.inputs.delete !== undefined);
    const greenRemovals = [1, 2, 3].map((i) => `dev-batch-v1-37-1-batch-v1-37-1-${i}-registered`);
    expect(hooks.map((r) => [r.name, r.inputs.delete]).sort()).toEqual([
      ...[1, 2, 3].map((i) => [`dev-batch-v1-34-6-${i}-v1-37-1-cordon`, expect.stringMatching(new RegExp(` cordon-node\\.sh 'uncordon' 'batch-v1-34-6-${i}'$`))]),
      ...[1, 2, 3].map((i) => [greenRemovals[i - 1], expect.stringMatching(new RegExp(` pool-node\\.sh 'remove' 'batch-v1-37-1-${i}' '600' 'false' 'false' 'false'$`))]),
    ]);
    // The gates have no delete hook: a failed gate is not in the state, its removal command is.
    for (const gate of removed.filter((r) => r.name.endsWith("-joined"))) expect([gate.name, gate.inputs.delete]).toEqual([gate.name, undefined]);
    // Dependents are deleted first: every cordon depends on every green gate and removal, so blue is
    // uncordoned before green is drained, and green instances go last.
    for (const cordon of hooks.filter((h) => h.name.endsWith("-cordon"))) {
      for (const removal of greenRemovals) expect(ancestors(upgrade, cordon.name).has(removal)).toBe(true);
    }
    // Chained removals: node 3's depends on node 2's, node 2's on node 1's, so one drains at a time.
    expect(byName(upgrade).get(greenRemovals[2]!)!.dependsOn.map(nameOf)).toContain(greenRemovals[1]);
    expect(byName(upgrade).get(greenRemovals[1]!)!.dependsOn.map(nameOf)).toContain(greenRemovals[0]);
  });

  it("keeps the control-plane and rolling-pool commands of the upgrade as they were", () => {
    const cp = (rs: Registered[]) => rs.filter((r) => r.type === COMMAND && !r.name.includes("batch")).map((r) => [r.name, r.inputs.create]);
    expect(cp(rolledBack)).toEqual(cp(upgrade));
  });
});

describe("confirming the replacement (the pool's version set to 1.37.1)", () => {
  it("registers green, now the serving color, with the names and inputs it had as green", () => {
    const green = colorOf(upgrade, "v1-37-1");
    expect(green.length).toBe(1 + 1 + 1 + 1 + 3 * 3);
    const now = byName(confirmed);
    for (const r of green) expect([r.name, now.get(r.name)?.inputs]).toEqual([r.name, r.inputs]);
    expect(ofType(confirmed, INSTANCE, "")).toEqual(ofType(upgrade, INSTANCE, "v1-37-1"));
  });

  it("drops blue and the replacement's commands: blue's removal hooks (no-ops for Nodes already deleted) run after the uncordon hooks, one at a time, then its instances are terminated", () => {
    const removed = upgrade.filter((r) => r.name.startsWith("dev-batch") && !names(confirmed).has(r.name));
    expect(ofType(removed, INSTANCE, "")).toEqual(ofType(before, INSTANCE, ""));
    const hooks = removed.filter((r) => r.type === COMMAND && r.inputs.delete !== undefined).map((r) => r.name).sort();
    expect(hooks).toEqual([...[1, 2, 3].map((i) => `dev-batch-v1-34-6-${i}-v1-37-1-cordon`), ...BLUE_REMOVALS].sort());
    for (const i of [1, 2, 3]) {
      expect(byName(upgrade).get(BLUE_REMOVALS[i - 1]!)!.inputs.delete).toMatch(new RegExp(` pool-node\\.sh 'remove' 'batch-v1-34-6-${i}' '600' 'false' 'false' 'false'$`));
      for (const removal of BLUE_REMOVALS) expect(ancestors(upgrade, `dev-batch-v1-34-6-${i}-v1-37-1-cordon`).has(removal)).toBe(true);
    }
    expect(byName(upgrade).get(BLUE_REMOVALS[2]!)!.dependsOn.map(nameOf)).toEqual(["dev-batch-v1-34-6-batch-v1-34-6-3", BLUE_REMOVALS[1]]);
  });
});

describe("refusals", () => {
  it("refuses to replace a pool of this stack's instances twice in one update, naming the versions and the way out", async () => {
    const raw = { ...dev, pools: [pools[0], { ...pools[1], version: "1.32.13" }] };
    await expect(programRegistrations(raw)).rejects.toThrow(
      /one pulumi up replaces a blue-green pool once.*pool batch must be replaced 2 times \(at v1\.35\.9, then v1\.37\.1\)/s,
    );
  });

  it("refuses it for a pool of adopted nodes too", async () => {
    const adopted = { ...pools[1], version: undefined, size: undefined, nodes: [{ name: "old-1", host: "10.0.2.11", hostKey: testHostKey("old-1"), version: "1.32.13" }] };
    await expect(programRegistrations({ ...dev, pools: [pools[0], adopted] })).rejects.toThrow(/pool batch must be replaced 2 times/);
  });
});
