/**
 * Real `@pulumi/command` remote.Command resources under the lab mocks, over the SSH lab:
 * `dependsOn` orders execution (a dependent is registered only after its dependency's command
 * finished), a failed command keeps everything after it from running and gets no answer (the
 * program is told nothing; the reason is in the engine's diagnostics), and a second run with the
 * same state file runs nothing.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { labMocks, REMOTE_COMMAND, type LabMocks } from "../lab/engine";
import { runRemote, startSshLab, type SshLab } from "../lab/ssh-lab";
import { chainProgram, step, type ChainConfig } from "./fixtures/depends-on-chain";
import { lines, tempLab, type TempLab } from "./harness";

let temp: TempLab;
let lab: SshLab;
let config: ChainConfig;

beforeAll(async () => {
  temp = tempLab("cm-engine-pulumi-test-");
  lab = await startSshLab({ labDir: temp.labDir, nodes: ["cp-1", "cp-2", "w-1"], standinsDir: temp.standinsDir });
  config = { port: lab.port, privateKey: lab.privateKey, hosts: { "cp-1": lab.hostOf("cp-1"), "cp-2": lab.hostOf("cp-2"), "w-1": lab.hostOf("w-1") } };
});

afterAll(async () => {
  await lab?.stop();
  temp?.remove();
});

interface Stamp {
  readonly ns: bigint;
  readonly what: "start" | "end";
  readonly label: string;
  readonly node: string;
}

function timeline(labDir: string): Stamp[] {
  return lines(path.join(labDir, "timeline")).map((l) => {
    const [ns, what, label, node] = l.split(" ");
    return { ns: BigInt(ns!), what: what as Stamp["what"], label: label!, node: node! };
  });
}

const at = (stamps: Stamp[], what: Stamp["what"], label: string) => {
  const found = stamps.find((s) => s.what === what && s.label === label);
  if (!found) throw new Error(`no ${what} of ${label} in the timeline`);
  return found.ns;
};

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** What became of an output so far: "pending" while the engine has not answered its registration. */
function settlement(output: pulumi.Output<unknown>): () => string {
  let state = "pending";
  // Output's promise is internal to the SDK; it settles when the registration is answered.
  (output as unknown as { promise(): Promise<unknown> }).promise().then(() => (state = "resolved"), (e: Error) => (state = `rejected: ${e.message}`));
  return () => state;
}

/** One `pulumi up` of the chain program on the shared state file. */
async function up(stateFile: string, extra: Partial<ChainConfig> = {}) {
  const run: LabMocks = labMocks({ stateFile, runRemote });
  await pulumi.runtime.setMocks(run.mocks, "cluster-maintenance", "lab", false);
  const resources = chainProgram({ ...config, ...extra });
  await run.settled(30_000);
  await run.finish();
  return { run, resources };
}

describe("remote.Command under the lab mocks", () => {
  const stateFile = () => path.join(temp.labDir, "state.json");

  it("hands the provider's inputs to the mocks: connection secret with defaults, triggers as given", async () => {
    const { run, resources } = await up(stateFile());
    const b = run.resources.find((r) => r.name === "b")!;
    expect(b.type).toBe(REMOTE_COMMAND);
    expect(b.secrets).toEqual(["connection"]);
    expect(b.inputs).toEqual({
      connection: { host: "127.0.1.2", port: lab.port, user: "root", privateKey: lab.privateKey, dialErrorLimit: 10, perDialTimeout: 15 },
      create: step("b", false),
      stdin: "stdin-b",
      triggers: ["b", 1],
    });
    expect(await valueOf(resources.c.stdout)).toBe("c on w-1: stdin-c");
    expect(await valueOf(resources.c.stderr)).toBe("");
  });

  it("registers (and so runs) a command only after the command it depends on has finished", () => {
    const stamps = timeline(temp.labDir);
    expect(at(stamps, "start", "b")).toBeGreaterThan(at(stamps, "end", "a"));
    expect(at(stamps, "start", "c")).toBeGreaterThan(at(stamps, "end", "b"));
    expect(at(stamps, "start", "d")).toBeGreaterThan(at(stamps, "end", "a"));
    expect(at(stamps, "start", "e")).toBeGreaterThan(at(stamps, "end", "d"));
    expect(stamps.filter((s) => s.what === "start").map((s) => `${s.label}@${s.node}`).sort()).toEqual(["a@cp-1", "b@cp-2", "c@w-1", "d@w-1", "e@cp-1"]);
  });

  it("runs nothing on a second run with unchanged inputs, and still resolves the recorded outputs", async () => {
    const before = timeline(temp.labDir).length;
    const { run, resources } = await up(stateFile());
    expect(run.ran).toEqual([]);
    expect([...run.skipped].sort()).toEqual(["a", "b", "c", "d", "e"]);
    expect(timeline(temp.labDir)).toHaveLength(before);
    expect(await valueOf(resources.e.stdout)).toBe("e on cp-1: stdin-e");
  });

  it("after a failed command, answers none of its registrations, never registers what depends on it, starts nothing new; the reason only in the diagnostics", async () => {
    // A fresh state file and timeline: the whole chain is new, b fails, d is still running then.
    fs.rmSync(path.join(temp.labDir, "timeline"));
    const { run, resources } = await up(path.join(temp.root, "fresh-hold-state.json"), { failAt: "b", slowD: 1 });
    expect(run.failed).toEqual([
      { name: "b", message: `Process exited with status 4: running ${JSON.stringify(step("b", true))}:\nb out\ncluster-maintenance: b: failed on cp-2\n` },
    ]);
    expect(run.result()).toBe("failed");
    // The program is told nothing: b (failed), c (never sent) and e (sent after the failure) stay unanswered.
    const unanswered = [settlement(resources.b.urn), settlement(resources.c.urn), settlement(resources.e.urn), settlement(resources.b.stdout)];
    expect(await valueOf(resources.d.stdout)).toBe("d on w-1: stdin-d");
    await run.settled(10_000);
    expect(unanswered.map((s) => s())).toEqual(["pending", "pending", "pending", "pending"]);
    const registered = run.resources.map((r) => r.name);
    expect(registered).not.toContain("c"); // depends on b: never registered
    expect(run.cancelled).toEqual(["e"]); // registered after the failure: not started
    expect([...run.ran].sort()).toEqual(["a", "b", "d"]); // d was already running: it finishes
    const started = timeline(temp.labDir).filter((s) => s.what === "start").map((s) => s.label);
    expect(started.sort()).toEqual(["a", "b", "d"]);
    expect(timeline(temp.labDir).filter((s) => s.label === "b" && s.what === "end")).toEqual([]);
  });

  it("does the same in a process of its own, as under pulumi up: no error reaches the program, which the language host then interrupts", async () => {
    const dir = path.join(temp.root, "fresh-own-process");
    fs.mkdirSync(dir);
    const cfgFile = path.join(dir, "config.json");
    fs.writeFileSync(cfgFile, JSON.stringify({ ...config, failAt: "b", slowD: 1, stateFile: path.join(dir, "state.json") }));
    const tsx = path.resolve(__dirname, "../../node_modules/.bin/tsx");
    const out = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(tsx, [path.join(__dirname, "fixtures/depends-on-chain.ts"), cfgFile], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`fixture timed out: ${stderr}`))), 40_000);
      child.once("close", (code, signal) => (clearTimeout(timer), resolve({ code, signal, stdout, stderr })));
    });
    // Ended by the interrupt (tsx passes its child's SIGINT on as exit code 130), nothing on
    // stderr: no rejection, no notice of pending promises.
    expect([out.stderr, out.code]).toEqual(["", 130]);
    const report = JSON.parse(out.stdout) as { result: string; registered: string[]; ran: string[]; failed: { name: string; message: string }[]; cancelled: string[]; errors: string[] };
    expect(report.errors).toEqual([]); // the provider's reason never reaches the program
    expect(report.result).toBe("failed");
    expect(report.failed).toEqual([{ name: "b", message: expect.stringMatching(/^Process exited with status 4: running .*cluster-maintenance: b: failed on cp-2/s) }]);
    expect(report.registered).not.toContain("c");
    expect(report.cancelled).toEqual(["e"]);
    expect([...report.ran].sort()).toEqual(["a", "b", "d"]);
  });
});
