/**
 * The program (index.ts) with the dev stack's blue-green pool `batch` (3 instances at 1.34.6):
 * what a version change registers and in which order, and what a rollback (the pool's
 * targetVersion set back to its version) removes. Three programs are compared:
 *   before:     targetVersion 1.34.6, nothing to upgrade: the pool serves with its 1.34.6 color;
 *   upgrade:    targetVersion 1.37: the 1.37.1 color (green) replaces it;
 *   rolledBack: the same with pools[1].targetVersion "1.34.6".
 * Pulumi deletes what a program no longer registers at the end of an update that did not fail,
 * running `delete` hooks, dependents first; so "removed" below is what an update deletes.
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

beforeAll(async () => {
  before = await programRegistrations({ ...dev, targetVersion: "1.34.6" });
  upgrade = await programRegistrations(dev);
  rolledBack = await programRegistrations({ ...dev, pools: [pools[0], { ...pools[1], targetVersion: "1.34.6" }] });
}, 120_000);

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

describe("before any upgrade", () => {
  it("keeps the pool's 1.34.6 color: 3 instances from one launch template, each with its readiness gate", () => {
    expect(ofType(before, INSTANCE, "")).toEqual(["dev-batch-v1-34-6-batch-v1-34-6-1", "dev-batch-v1-34-6-batch-v1-34-6-2", "dev-batch-v1-34-6-batch-v1-34-6-3"]);
    expect(ofType(before, TEMPLATE, "")).toEqual(["dev-batch-v1-34-6-template"]);
    expect(ofType(before, COMMAND, "-joined")).toHaveLength(3);
  });
});

describe("a version change (1.34.6 -> 1.37.1)", () => {
  it("creates the green color (1.37.1) and no longer registers blue, so blue is terminated only at the end of an update that did not fail", () => {
    expect(ofType(upgrade, INSTANCE, "")).toEqual(["dev-batch-v1-37-1-batch-v1-37-1-1", "dev-batch-v1-37-1-batch-v1-37-1-2", "dev-batch-v1-37-1-batch-v1-37-1-3"]);
    expect(ofType(upgrade, TEMPLATE, "")).toEqual(["dev-batch-v1-37-1-template"]);
  });

  it("creates green only after the last rolling pool of the hop (its join token is created then)", () => {
    const join = ofType(upgrade, COMMAND, "dev-batch-v1-37-1-join")[0]!;
    for (const last of ["dev-general-3-v1.37-uncordon", "dev-general-4-v1.37-uncordon"]) expect(ancestors(upgrade, join).has(last)).toBe(true);
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

  it("removes only green and the replacement's commands; their delete hooks uncordon blue and drain and remove green", () => {
    const removed = upgrade.filter((r) => !names(rolledBack).has(r.name));
    for (const r of removed) expect(r.name).toMatch(/v1-37-1/);
    const hooks = removed.filter((r) => r.type === COMMAND && r.inputs.delete !== undefined);
    expect(hooks.map((r) => [r.name, r.inputs.delete])).toEqual(expect.arrayContaining([
      ["dev-batch-v1-34-6-1-v1-37-1-cordon", expect.stringMatching(/ cordon-node\.sh 'uncordon' 'batch-v1-34-6-1'$/)],
      [expect.stringMatching(/batch-v1-37-1-1-joined$/), expect.stringMatching(/ pool-node\.sh 'remove' 'batch-v1-37-1-1' '600' 'false' 'false' 'false'$/)],
    ]));
    expect(hooks).toHaveLength(3 + 3); // 3 blue cordons, 3 green gates
    // Dependents are deleted first: every cordon depends on every green gate, so blue is
    // uncordoned before green is drained, and green instances go last.
    for (const cordon of hooks.filter((h) => h.name.endsWith("-cordon"))) {
      for (const gate of hooks.filter((h) => h.name.endsWith("-joined"))) expect(ancestors(upgrade, cordon.name).has(gate.name)).toBe(true);
    }
  });

  it("keeps the control-plane and rolling-pool commands of the upgrade as they were", () => {
    const cp = (rs: Registered[]) => rs.filter((r) => r.type === COMMAND && !r.name.includes("batch")).map((r) => [r.name, r.inputs.create]);
    expect(cp(rolledBack)).toEqual(cp(upgrade));
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
