/**
 * The end of an update in the engine emulation: what is deleted, in which antichains (the
 * engine's ScheduleDeletes), with which connection, and what a failure or --continue-on-error
 * changes. The scheduling is checked as a pure function too.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { dependenciesOf, scheduleDeletes, type GraphNode } from "../lab/engine-graph";
import { labMocks, readLabState, REMOTE_COMMAND, type LabMocks, type LabMocksOptions } from "../lab/engine";
import { runRemote, startSshLab, type SshLab } from "../lab/ssh-lab";
import { lines, tempLab, type TempLab } from "./harness";

const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
let temp: TempLab;
let lab: SshLab;

beforeAll(async () => {
  temp = tempLab("cm-engine-deletes-test-");
  lab = await startSshLab({ labDir: temp.labDir, nodes: ["cp-1", "w-1"], standinsDir: temp.standinsDir });
});

afterAll(async () => {
  await lab?.stop();
  temp?.remove();
});

const node = (name: string, dependsOn: string[] = [], parent = "", custom = true): GraphNode => ({ name, dependsOn, parent, custom });

describe("scheduleDeletes (step_generator.go ScheduleDeletes)", () => {
  it("layers by the longest path to a dependency, then reverses: dependents first", () => {
    const order = [node("vm"), node("gate", ["vm"]), node("cordon", ["gate"]), node("alone")];
    expect(scheduleDeletes(["vm", "gate", "cordon", "alone"], order)).toEqual([["cordon"], ["gate"], ["vm", "alone"]]);
  });

  it("counts a parent as a dependency, and a component dependency as its earlier children too", () => {
    const order = [node("color", [], "", false), node("i1", [], "color"), node("i2", [], "color"), node("after", ["color"])];
    expect([...dependenciesOf(order[1]!, order)]).toEqual(["color"]);
    expect([...dependenciesOf(order[3]!, order)].sort()).toEqual(["color", "i1", "i2"]);
    expect(scheduleDeletes(["color", "i1", "i2", "after"], order)).toEqual([["after"], ["i1", "i2"], ["color"]]);
  });

  it("a removal chain i -> i - batch keeps every antichain at most `batch` removals", () => {
    const order: GraphNode[] = [];
    for (let i = 0; i < 7; i++) order.push(node(`vm-${i}`), node(`rm-${i}`, [`vm-${i}`, ...(i >= 3 ? [`rm-${i - 3}`] : [])]));
    const chains = scheduleDeletes(order.map((n) => n.name), order);
    for (const chain of chains) expect(chain.filter((n) => n.startsWith("rm-")).length).toBeLessThanOrEqual(3);
    expect(chains.flat().filter((n) => n.startsWith("rm-"))).toHaveLength(7);
  });
});

describe("the lab engine at the end of an update (finish)", () => {
  let file = "";
  let k = 0;
  beforeEach(() => {
    file = path.join(temp.labDir, `finish-state-${++k}.json`);
  });
  const fresh = (extra: Partial<LabMocksOptions> = {}) => labMocks({ stateFile: file, runRemote, ...extra });
  const connection = (host: string, key = lab.privateKey) => ({ ...SECRET, value: { host, port: lab.port, user: "root", privateKey: key } });
  const command = (name: string, inputs: Record<string, unknown>, host = lab.hostOf("cp-1"), key?: string): pulumi.runtime.MockResourceArgs => ({
    type: REMOTE_COMMAND, name, inputs: { connection: connection(host, key), ...inputs }, provider: "", custom: true, id: "",
  });
  const instance = (name: string) => ({ type: "aws:ec2/instance:Instance", name, inputs: {}, custom: true });
  /** A delete hook that stamps its start and end (ns) into a log, sleeping in between. */
  const stamped = (label: string) => `echo "$(date +%s%N) start ${label}" >> "$CM_LAB_DIR/deletes.log"; sleep 0.3; echo "$(date +%s%N) end ${label}" >> "$CM_LAB_DIR/deletes.log"`;
  const stamps = () => lines(path.join(temp.labDir, "deletes.log")).map((l) => l.split(" ")).map(([ns, what, label]) => ({ ns: BigInt(ns!), what, label }));
  const at = (what: string, label: string) => stamps().find((s) => s.what === what && s.label === label)!.ns;

  async function register(r: LabMocks, name: string, dependsOn: string[], args: pulumi.runtime.MockResourceArgs) {
    r.noteRegistration(name, { dependsOn });
    return r.mocks.newResource(args);
  }

  it("deletes what this run did not register, antichain by antichain, each in parallel, hooks with their stored stdin", async () => {
    const created: string[] = [];
    const first = fresh({ onCreate: (r) => void created.push(r.name) });
    await register(first, "vm", [], instance("vm"));
    await register(first, "gate-1", ["vm"], command("gate-1", { create: "true", delete: stamped("gate-1"), stdin: "s1" }));
    await register(first, "gate-2", ["vm"], command("gate-2", { create: "true", delete: stamped("gate-2"), stdin: "s2" }));
    await register(first, "cordon", ["gate-1", "gate-2"], command("cordon", { create: "true", delete: stamped("cordon") }));
    expect(await first.finish()).toEqual([]);
    expect(first.result()).toBe("succeeded");
    expect(created).toEqual(["vm"]);

    const deletedTypes: string[] = [];
    const last = fresh({ onDelete: (name, type) => void deletedTypes.push(`${name} ${type}`) });
    await last.finish();
    expect(last.deleteAntichains).toEqual([["cordon"], [expect.stringMatching(/^gate-/), expect.stringMatching(/^gate-/)], ["vm"]]);
    expect(last.deleted.slice(0, 1)).toEqual(["cordon (delete hook)"]);
    expect(deletedTypes).toEqual(["vm aws:ec2/instance:Instance"]);
    // gate-1 and gate-2 ran together, after the cordon's hook had finished.
    expect(at("start", "gate-1")).toBeGreaterThan(at("end", "cordon"));
    expect(at("start", "gate-2")).toBeLessThan(at("end", "gate-1"));
    expect(at("start", "gate-1")).toBeLessThan(at("end", "gate-2"));
    expect(readLabState(file).resources).toEqual([]);
  });

  it("runs a delete hook with the connection in the state, not this run's", async () => {
    const first = fresh();
    await register(first, "hook", [], command("hook", { create: "true", delete: 'echo "$CM_LAB_NODE" >> "$CM_LAB_DIR/hook-host.log"' }, lab.hostOf("w-1")));
    // This run would use a key the nodes refuse; the delete needs none of it.
    const last = fresh();
    await register(last, "other", [], command("other", { create: "true" }, lab.hostOf("cp-1")));
    expect(await last.finish()).toEqual(["hook (delete hook)"]);
    expect(lines(path.join(temp.labDir, "hook-host.log"))).toEqual(["w-1"]);
  });

  it("deletes nothing when a step of the run failed", async () => {
    const first = fresh();
    await register(first, "keep", [], command("keep", { create: "true", delete: "echo must-not-run >> \"$CM_LAB_DIR/never.log\"" }));
    const next = fresh();
    void next.mocks.newResource(command("broken", { create: "exit 3" }));
    await next.settled(10_000);
    expect(await next.finish()).toEqual([]);
    expect(next.result()).toBe("failed");
    expect(readLabState(file).resources.map((r) => r.name)).toEqual(["keep"]);
    expect(lines(path.join(temp.labDir, "never.log"))).toEqual([]);
  });

  it("with continueOnError, still deletes at the end after a failed create (it spares nothing)", async () => {
    const first = fresh();
    await register(first, "blue", [], instance("blue"));
    const next = fresh({ continueOnError: true });
    void next.mocks.newResource(command("gate", { create: "exit 3" }));
    await register(next, "beside", [], command("beside", { create: "true" }));
    await next.settled(10_000);
    expect(next.failed.map((f) => f.name)).toEqual(["gate"]);
    expect(next.ran).toEqual(["gate", "beside"]); // goes on with what does not depend on the failure
    expect(await next.finish()).toEqual(["blue"]);
    expect(next.result()).toBe("failed"); // the executor still saw the error (cancelDueToError)
  });

  it("with continueOnError, spares the dependencies of a failed update", async () => {
    const first = fresh();
    await register(first, "dep", [], command("dep", { create: "true", delete: "true" }));
    await register(first, "upd", ["dep"], command("upd", { create: "true" }));
    const next = fresh({ continueOnError: true });
    next.noteRegistration("upd", { dependsOn: ["dep"] });
    void next.mocks.newResource(command("upd", { create: "exit 5" }));
    await next.settled(10_000);
    expect(next.failed.map((f) => f.name)).toEqual(["upd"]);
    expect(await next.finish()).toEqual([]); // dep is not registered, but upd (still in the state) depends on it
    expect(readLabState(file).resources.map((r) => r.name)).toEqual(["dep", "upd"]);
  });
});
