/**
 * The engine emulation, driven directly through its mocks: a command runs over real SSH once,
 * is left alone while its inputs (after ignoreChanges) are unchanged, is updated or replaced as
 * the real engine decides, fails the way the provider does and is then not in the state.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { clearPendingOperations, labMocks, processIgnoreChanges, readLabState, REMOTE_COMMAND, type LabMocksOptions } from "../lab/engine";
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
export function command(name: string, inputs: Record<string, unknown>, node = "cp-1", port?: number): pulumi.runtime.MockResourceArgs {
  const connection = { host: lab.hostOf(node), port: port ?? lab.port, user: "root", privateKey: lab.privateKey, dialErrorLimit: 10, perDialTimeout: 15 };
  return { type: REMOTE_COMMAND, name, inputs: { connection: { ...SECRET, value: connection }, ...inputs }, provider: "", custom: true, id: "" };
}

/** Appends the node and a label to a log in the lab dir, so tests see what really ran. */
const logging = (label: string) => `echo "$CM_LAB_NODE ${label} $(cat)" >> "$CM_LAB_DIR/ran.log"; echo done-${label}`;
const ranLog = () => lines(path.join(temp.labDir, "ran.log"));
const record = (name: string) => readLabState(stateFile).resources.find((r) => r.name === name && !r.delete);
/** What became of a registration so far: "pending" while the engine has not answered it. */
function settlement(p: unknown): () => string {
  let state = "pending";
  Promise.resolve(p).then(() => (state = "resolved"), (e: Error) => (state = `rejected: ${e.message}`));
  return () => state;
}

describe("the lab engine: one command", () => {
  it("runs a new command over SSH with its stdin, returns the provider's state and records it, secrets sealed", async () => {
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
    expect(record("first")!.outputs).toEqual({ stdout: "done-first", stderr: "" });
    expect(record("first")!.inputs.connection).toEqual(expect.objectContaining({ ...SECRET, ciphertext: expect.any(String) }));
    expect(fs.readFileSync(stateFile, "utf8")).not.toContain("PRIVATE KEY"); // sealed, as a checkpoint keeps secrets
    expect(readLabState(stateFile).pendingOperations).toEqual([]);
  });

  it("leaves an unchanged command alone on the next run and returns its recorded outputs", async () => {
    const r = run();
    const result = await r.mocks.newResource(command("first", { create: logging("first"), stdin: "in-1", triggers: ["1.35.9"] }));
    expect(r.ran).toEqual([]);
    expect(r.skipped).toEqual(["first"]);
    expect(result.state.stdout).toBe("done-first");
    expect(ranLog()).toEqual(["cp-1 first in-1"]);
  });

  it("runs create again on any changed input when there is no update (stdin, connection), create on a trigger change", async () => {
    const r = run();
    await r.mocks.newResource(command("first", { create: logging("first"), stdin: "in-2", triggers: ["1.35.9"] }));
    await r.mocks.newResource(command("first", { create: logging("first"), stdin: "in-2", triggers: ["1.35.9"] }, "w-1"));
    await r.mocks.newResource(command("first", { create: logging("first"), stdin: "in-2", triggers: ["1.36.4"] }, "w-1"));
    expect(r.ran).toEqual(["first", "first", "first"]);
    expect(r.replaced).toEqual(["first"]);
    expect(ranLog().slice(1)).toEqual(["cp-1 first in-2", "w-1 first in-2", "w-1 first in-2"]);
  });

  it("with ignoreChanges, a changed connection, stdin or create runs nothing and the state keeps the old values", async () => {
    const r = run();
    r.noteRegistration("first", { ignoreChanges: ["connection", "create", "stdin"] });
    await r.mocks.newResource(command("first", { create: logging("other"), stdin: "in-3", triggers: ["1.36.4"] }, "cp-1", lab.port + 1));
    expect(r.ran).toEqual([]);
    expect(r.skipped).toEqual(["first"]);
    expect(ranLog()).toHaveLength(4);
    const again = run();
    await again.mocks.newResource(command("first", { create: logging("first"), stdin: "in-2", triggers: ["1.36.4"] }, "w-1"));
    expect(again.skipped).toEqual(["first"]); // what the state kept: w-1, the old create and stdin
  });

  it("processIgnoreChanges takes the old value, or drops the property the old inputs lack", () => {
    expect(processIgnoreChanges({ a: 1, b: 2, c: { d: 3, e: 4 } }, { a: 9, c: { d: 8 } }, ["a", "b", "c.d", "c.e"])).toEqual({ a: 9, c: { d: 8 } });
  });

  it("runs update (not create) on an in-place change; a trigger change creates the new copy now and deletes the old one at the end", async () => {
    const r = run();
    const inputs = { create: logging("c"), update: logging("u"), delete: logging("d"), triggers: ["t1"] };
    await r.mocks.newResource(command("upd", inputs));
    await r.mocks.newResource(command("upd", { ...inputs, stdin: "changed" }));
    await r.mocks.newResource(command("first", { create: logging("first"), stdin: "in-2", triggers: ["1.36.4"] }, "w-1"));
    expect(await r.finish()).toEqual(["first"]); // the copy the trigger change above replaced (it has no delete)
    const next = run();
    await next.mocks.newResource(command("upd", { ...inputs, stdin: "changed", triggers: ["t2"] }));
    expect(ranLog().slice(-3)).toEqual(["cp-1 c ", "cp-1 u changed", "cp-1 c changed"]);
    expect(readLabState(stateFile).resources.filter((x) => x.name === "upd").map((x) => x.delete ?? false)).toEqual([true, false]);
    await next.mocks.newResource(command("first", { create: logging("first"), stdin: "in-2", triggers: ["1.36.4"] }, "w-1"));
    expect(await next.finish()).toEqual(["upd (delete hook)"]);
    expect(ranLog().slice(-1)).toEqual(["cp-1 d changed"]); // one stdin for create, update and delete
    expect(readLabState(stateFile).resources.filter((x) => x.name === "upd")).toHaveLength(1);
  });

  it("fails a non-zero command: answers no registration, reports the provider's message in its diagnostics, records nothing, starts nothing after it, fails the update, creates it afresh next time", async () => {
    const create = "echo 'draining w-1'; echo 'cluster-maintenance: drain.sh: drain of w-1 did not finish within 5s' >&2; exit 4";
    const r = run();
    const drain = settlement(r.mocks.newResource(command("drain", { create, delete: logging("never") }, "w-1")));
    await r.settled(30_000);
    expect(drain()).toBe("pending"); // CreateStep.Apply returned no completion: the program is told nothing
    expect(r.failed).toEqual([{
      name: "drain",
      message: `Process exited with status 4: running ${JSON.stringify(create)}:\ndraining w-1\ncluster-maintenance: drain.sh: drain of w-1 did not finish within 5s\n`,
    }]);
    expect(record("drain")).toBeUndefined(); // a failed create is not in the state
    expect(readLabState(stateFile).pendingOperations).toEqual([]);

    const later = settlement(r.mocks.newResource(command("later", { create: logging("later") })));
    await r.settled(10_000);
    expect(later()).toBe("pending"); // the engine no longer reads registrations
    expect(r.cancelled).toEqual(["later"]);
    expect(r.failed.map((f) => f.name)).toEqual(["drain"]); // a step never started is no diagnostic
    expect(ranLog()).not.toContainEqual(expect.stringContaining("later"));
    expect(r.result()).toBeUndefined();
    expect(await r.finish()).toEqual([]);
    expect(r.result()).toBe("failed");

    const next = run();
    const again = settlement(next.mocks.newResource(command("drain", { create }, "w-1")));
    await next.settled(30_000);
    expect([again(), next.ran, next.failed.map((f) => f.message)]).toEqual(["pending", ["drain"], [expect.stringMatching(/^Process exited with status 4/)]]);
    const last = run();
    await last.mocks.newResource(command("first", { create: logging("first"), stdin: "in-2", triggers: ["1.36.4"] }, "w-1"));
    await last.mocks.newResource(command("upd", { create: logging("c"), update: logging("u"), delete: logging("d"), triggers: ["t2"], stdin: "changed" }));
    expect(await last.finish()).toEqual([]); // nothing of drain to delete: its delete never runs
    expect(ranLog()).not.toContainEqual(expect.stringContaining("never"));
  });

  it("refuses what it does not emulate (a bastion) by rejecting the registration: no step failure, the run goes on", async () => {
    const r = run();
    const args = command("via-bastion", { create: logging("bastion") });
    const connection = (args.inputs.connection as { value: Record<string, unknown> }).value;
    const refused = settlement(r.mocks.newResource({ ...args, inputs: { ...args.inputs, connection: { ...SECRET, value: { ...connection, proxy: { host: "10.0.0.9" } } } } }));
    await r.settled(10_000);
    expect(refused()).toMatch(/^rejected: lab: via-bastion: connection\.proxy \(bastion\) is not supported by the lab/);
    expect([r.failed, r.cancelled]).toEqual([[], []]);
    expect((await r.mocks.newResource(command("after-refusal", { create: "echo ok" }))).state.stdout).toBe("ok");
  });

  it("fails a command with environment (sshd refuses Setenv without AcceptEnv, and the provider fails): held, reported", async () => {
    const r = run();
    const env = settlement(r.mocks.newResource(command("env", { create: "true", environment: { KUBECONFIG: "/x" } })));
    await r.settled(10_000);
    expect(env()).toBe("pending");
    expect(r.failed).toEqual([{ name: "env", message: expect.stringMatching(/environment is sent with SSH Setenv.*provider then fails.*VAR='v' prefixes/) }]);
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
    expect(record("preview-only")).toBeUndefined();
  });

  it("runs at most `parallel` steps at once, in arrival order", async () => {
    const r = run({ parallel: 2 });
    const slow = (label: string) => `sleep 0.3; ${logging(label)}`;
    await Promise.all(["p1", "p2", "p3", "p4"].map((n) => r.mocks.newResource(command(n, { create: slow(n) }))));
    expect(r.peakParallel()).toBe(2);
    expect(r.ran).toEqual(["p1", "p2", "p3", "p4"]);
  });

  it("an interrupted update leaves its pending create; the next update warns and creates it again; a refresh clears it", async () => {
    const r = run();
    const marker = path.join(temp.labDir, "interrupted-started");
    void r.mocks.newResource(command("long", { create: `touch ${marker}; sleep 1; ${logging("long")}` }));
    for (const deadline = Date.now() + 30_000; !fs.existsSync(marker) && Date.now() < deadline; ) await new Promise((res) => setTimeout(res, 10));
    r.interrupt();
    await r.settled(30_000);
    expect(readLabState(stateFile).pendingOperations).toEqual([{ name: "long", type: REMOTE_COMMAND, operation: "creating" }]);
    expect(record("long")).toBeUndefined();
    expect(await r.finish()).toEqual([]);

    // A run that fails first leaves "long" not started: its pending operation stays as it was.
    const failing = run();
    void failing.mocks.newResource(command("fails-first", { create: "exit 3" }));
    await failing.settled(10_000);
    void failing.mocks.newResource(command("long", { create: logging("long-not-started") }));
    await failing.settled(10_000);
    expect([failing.failed.map((f) => f.name), failing.cancelled]).toEqual([["fails-first"], ["long"]]);
    expect(readLabState(stateFile).pendingOperations).toEqual([{ name: "long", type: REMOTE_COMMAND, operation: "creating" }]);

    const next = run();
    expect(next.warnings).toEqual([expect.stringMatching(/with 1 pending operations from previous deployment\.\n {2}\* long, interrupted while creating/)]);
    await next.mocks.newResource(command("long", { create: logging("long-again") }));
    expect(next.ran).toEqual(["long"]);
    expect(readLabState(stateFile).pendingOperations).toHaveLength(1); // until a refresh clears it
    clearPendingOperations(stateFile);
    expect(run().warnings).toEqual([]);
  });
});
