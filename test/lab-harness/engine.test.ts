/**
 * The engine emulation, driven directly through its mocks: a command runs over real SSH once,
 * is left alone while its inputs are unchanged, re-runs when they change, and fails the way the
 * provider does.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { labMocks, readLabState, REMOTE_COMMAND, type LabMocksOptions } from "../lab/engine";
import { runRemote, startSshLab, type SshLab } from "../lab/ssh-lab";
import { lines, tempLab, type TempLab } from "./harness";

const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
let temp: TempLab;
let lab: SshLab;
let stateFile: string;

beforeAll(async () => {
  temp = tempLab("cm-engine-test-");
  lab = await startSshLab({ labDir: temp.labDir, nodes: ["cp-1", "w-1"], standinsDir: temp.standinsDir });
  stateFile = path.join(temp.labDir, "engine-state.json");
});

afterAll(async () => {
  await lab?.stop();
  temp?.remove();
});

/** A fresh engine run on the shared state file (what one `pulumi up` is). */
const run = (extra: Partial<LabMocksOptions> = {}) => labMocks({ stateFile, runRemote, ...extra });

/** Registration args of a remote.Command as the SDK hands them to the mocks (connection secret). */
function command(name: string, inputs: Record<string, unknown>, node = "cp-1"): pulumi.runtime.MockResourceArgs {
  const connection = { host: lab.hostOf(node), port: lab.port, user: "root", privateKey: lab.privateKey, dialErrorLimit: 10, perDialTimeout: 15 };
  return { type: REMOTE_COMMAND, name, inputs: { connection: { ...SECRET, value: connection }, ...inputs }, provider: "", custom: true, id: "" };
}

/** Appends the node and a label to a log in the lab dir, so tests see what really ran. */
const logging = (label: string) => `echo "$CM_LAB_NODE ${label} $(cat)" >> "$CM_LAB_DIR/ran.log"; echo done-${label}`;
const ranLog = () => lines(path.join(temp.labDir, "ran.log"));

describe("the lab engine", () => {
  it("runs a new command over SSH with its stdin, returns the provider's state and records it", async () => {
    const r = run();
    const result = await r.mocks.newResource(command("first", { create: logging("first"), stdin: "in-1", triggers: ["1.35.9"] }));
    expect(result.state).toMatchObject({ create: logging("first"), stdin: "in-1", triggers: ["1.35.9"], stdout: "done-first", stderr: "" });
    expect(result.state.connection).toEqual(expect.objectContaining(SECRET)); // still a secret in the state
    expect(r.ran).toEqual(["first"]);
    expect(r.skipped).toEqual([]);
    expect(ranLog()).toEqual(["cp-1 first in-1"]);
    expect(r.resources).toEqual([
      expect.objectContaining({ type: REMOTE_COMMAND, name: "first", secrets: ["connection"], inputs: expect.objectContaining({ stdin: "in-1" }) }),
    ]);
    expect(r.resources[0]!.inputs.connection.privateKey).toBe(lab.privateKey);
    const record = readLabState(stateFile).commands.first!;
    expect(record.status).toBe("ok");
    expect(record.stdout).toBe("done-first");
    expect(fs.readFileSync(stateFile, "utf8")).not.toContain("PRIVATE KEY"); // keys are kept as hashes
  });

  it("leaves an unchanged command alone on the next run and returns its recorded outputs", async () => {
    const r = run();
    const result = await r.mocks.newResource(command("first", { create: logging("first"), stdin: "in-1", triggers: ["1.35.9"] }));
    expect(r.ran).toEqual([]);
    expect(r.skipped).toEqual(["first"]);
    expect(result.state.stdout).toBe("done-first");
    expect(ranLog()).toEqual(["cp-1 first in-1"]);
  });

  it("re-runs a command whose create, stdin, connection or triggers changed", async () => {
    const r = run();
    await r.mocks.newResource(command("first", { create: logging("first"), stdin: "in-2", triggers: ["1.35.9"] }));
    await r.mocks.newResource(command("first", { create: logging("first"), stdin: "in-2", triggers: ["1.35.9"] }, "w-1"));
    await r.mocks.newResource(command("first", { create: logging("first"), stdin: "in-2", triggers: ["1.36.4"] }, "w-1"));
    await r.mocks.newResource(command("first", { create: logging("first-b"), stdin: "in-2", triggers: ["1.36.4"] }, "w-1"));
    expect(r.ran).toEqual(["first", "first", "first", "first"]);
    expect(ranLog().slice(1)).toEqual(["cp-1 first in-2", "w-1 first in-2", "w-1 first in-2", "w-1 first-b in-2"]);
    const again = run();
    await again.mocks.newResource(command("first", { create: logging("first-b"), stdin: "in-2", triggers: ["1.36.4"] }, "w-1"));
    expect(again.skipped).toEqual(["first"]);
  });

  it("runs update (not create) on an in-place change, create on a trigger change, then the old copy's delete", async () => {
    const r = run();
    const inputs = { create: logging("c"), update: logging("u"), delete: logging("d"), triggers: ["t1"] };
    await r.mocks.newResource(command("upd", inputs));
    await r.mocks.newResource(command("upd", { ...inputs, stdin: "changed" }));
    await r.mocks.newResource(command("upd", { ...inputs, stdin: "changed", triggers: ["t2"] }));
    expect(ranLog().slice(-4)).toEqual(["cp-1 c ", "cp-1 u changed", "cp-1 c changed", "cp-1 d changed"]); // one stdin for create, update and delete
    expect(r.ran).toEqual(["upd", "upd", "upd", "upd (delete of the replaced copy)"]);
  });

  it("fails a non-zero command with the provider's message (command, stdout and stderr), and re-runs it next time", async () => {
    const create = "echo 'draining w-1'; echo 'cluster-maintenance: drain.sh: drain of w-1 did not finish within 5s' >&2; exit 4";
    const r = run();
    const error = await Promise.resolve(r.mocks.newResource(command("drain", { create }, "w-1"))).then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toBe(
      `Process exited with status 4: running ${JSON.stringify(create)}:\ndraining w-1\ncluster-maintenance: drain.sh: drain of w-1 did not finish within 5s\n`,
    );
    expect(r.failed).toEqual([{ name: "drain", message: error!.message }]);
    expect(readLabState(stateFile).commands.drain!.status).toBe("failed");

    // The engine starts nothing after a failure.
    await expect(r.mocks.newResource(command("later", { create: logging("later") }))).rejects.toThrow(/later not started: the update already failed \(drain\)/);
    expect(r.cancelled).toEqual(["later"]);
    expect(ranLog()).not.toContainEqual(expect.stringContaining("later"));

    // Same inputs next run: a failed resource is updated again (it has initialisation errors).
    const next = run();
    await expect(next.mocks.newResource(command("drain", { create }, "w-1"))).rejects.toThrow(/status 4/);
    expect(next.ran).toEqual(["drain"]);
  });

  it("with failureMode hold, a failed registration never settles and settled() still ends the run", async () => {
    const r = run({ failureMode: "hold" });
    let outcome = "pending";
    void Promise.resolve(r.mocks.newResource(command("held", { create: "echo nope >&2; exit 1" }))).then(() => (outcome = "resolved"), () => (outcome = "rejected"));
    await r.settled(10_000, 100);
    expect(outcome).toBe("pending");
    expect(r.failed).toEqual([{ name: "held", message: expect.stringContaining("nope") }]);
  });

  it("refuses the environment input (sshd refuses Setenv without AcceptEnv; the provider ignores that)", async () => {
    const r = run();
    await expect(r.mocks.newResource(command("env", { create: "true", environment: { KUBECONFIG: "/x" } }))).rejects.toThrow(
      /environment needs sshd AcceptEnv.*VAR='v' prefixes/,
    );
  });

  it("records other resources with an id and their inputs as state, and refuses provider calls", async () => {
    const r = run();
    const res = await r.mocks.newResource({ type: "cluster-maintenance:upgrade:NodeUpgrade", name: "dev-cp-1", inputs: { a: 1 }, custom: false });
    expect(res).toEqual({ id: "dev-cp-1-id", state: { a: 1 } });
    expect(r.resources).toEqual([{ type: "cluster-maintenance:upgrade:NodeUpgrade", name: "dev-cp-1", inputs: { a: 1 }, secrets: [] }]);
    expect(() => r.mocks.call({ token: "aws:index/getRegion:getRegion", inputs: {}, provider: "" })).toThrow(/unexpected provider function call/);
  });

  it("runs nothing during a preview", async () => {
    const r = run();
    await pulumi.runtime.setMocks(r.mocks, "cluster-maintenance", "lab", true);
    const result = await r.mocks.newResource(command("preview-only", { create: logging("preview") }));
    await pulumi.runtime.setMocks(r.mocks, "cluster-maintenance", "lab", false);
    expect(result.state.create).toBe(logging("preview"));
    expect(r.ran).toEqual([]);
    expect(ranLog()).not.toContainEqual(expect.stringContaining("preview"));
    expect(readLabState(stateFile).commands["preview-only"]).toBeUndefined();
  });

  describe("at the end of an update (finish)", () => {
    const file = () => path.join(temp.labDir, "finish-state.json");
    const fresh = (extra: Partial<LabMocksOptions> = {}) => labMocks({ stateFile: file(), runRemote, privateKey: lab.privateKey, ...extra });
    const instance = (name: string) => ({ type: "aws:ec2/instance:Instance", name, inputs: {}, custom: true });

    it("deletes what this run did not register, dependents first, running delete hooks with their stdin", async () => {
      const created: string[] = [];
      const deletedTypes: string[] = [];
      const first = fresh({ onCreate: (r) => void created.push(r.name), onDelete: (name, type) => void deletedTypes.push(`${name} ${type}`) });
      first.noteDependencies("vm", []);
      await first.mocks.newResource(instance("vm"));
      first.noteDependencies("gate", ["vm"]);
      await first.mocks.newResource(command("gate", { create: logging("gate-create"), delete: logging("gate-delete"), stdin: "script-g" }));
      first.noteDependencies("cordon", ["gate"]);
      await first.mocks.newResource(command("cordon", { create: logging("cordon-create"), delete: logging("cordon-delete"), stdin: "script-c" }));
      expect(await first.finish()).toEqual([]);
      expect(created).toEqual(["vm"]);

      const again = fresh({ onCreate: (r) => void created.push(r.name) });
      again.noteDependencies("vm", []);
      await again.mocks.newResource(instance("vm"));
      expect(created).toEqual(["vm"]); // created once

      const last = fresh({ onDelete: (name, type) => void deletedTypes.push(`${name} ${type}`) });
      expect(await last.finish()).toEqual(["cordon (delete hook)", "gate (delete hook)", "vm"]);
      expect(ranLog().slice(-2)).toEqual(["cp-1 cordon-delete script-c", "cp-1 gate-delete script-g"]);
      expect(deletedTypes).toEqual(["vm aws:ec2/instance:Instance"]);
      expect(readLabState(file()).resources).toEqual({});
    });

    it("deletes nothing when a command of the run failed", async () => {
      const r = fresh({ failureMode: "hold" });
      r.noteDependencies("keep", []);
      await r.mocks.newResource(command("keep", { create: "true", delete: logging("must-not-run") }));
      const next = fresh({ failureMode: "hold" });
      void next.mocks.newResource(command("broken", { create: "exit 3" }));
      await next.settled(10_000, 100);
      expect(await next.finish()).toEqual([]);
      expect(Object.keys(readLabState(file()).resources)).toContain("keep");
      expect(ranLog()).not.toContainEqual(expect.stringContaining("must-not-run"));
    });
  });
});
