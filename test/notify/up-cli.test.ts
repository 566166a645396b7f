/**
 * `npm run up` (cli/up.ts) against a stand-in `pulumi` (test/notify/standin/pulumi: the config
 * get and up commands as the CLI's source defines them, the event log in the engine's format)
 * and a local HTTPS webhook receiver: "started" while the update runs, then "finished" or
 * "failed" with the node and the reason; the URL nowhere but in the request line to the receiver.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runUp } from "../../cli/up";
import type { CliIo } from "../../cli/io";
import { failureReason } from "../../cli/up-notices";
import { cancel, commandError, commandFailed, commandRan, diag, opening, STACK_URN, summary } from "./engine-events";
import { Receiver, startReceiver } from "./receiver";

const STANDIN = path.join(__dirname, "standin");
const SECRET_PATH = "/services/T0AAA/B0BBB/Zz9SeCrEtKeY";
const WAVE = "wave 1 (next pulumi up): hop 1 v1.34.6 -> v1.35.9, control plane: 3 node(s), 9 step(s)";
const KUBEADM_LINE = "sudo bash -c 's=$(cat) && exec bash -c \"$s\" \"$0\" \"$@\"' kubeadm-upgrade.sh 'node' '1.35.9'";
const KUBEADM_OUT = "[upgrade] Reading configuration from the cluster...\n[upgrade/apply] FATAL: etcd is not healthy\ntoken leaked? abcdef.0123456789abcdef\n";

let receiver: Receiver;
let dir: string;
beforeEach(async () => {
  receiver = await startReceiver();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "npm-run-up-"));
});
afterEach(async () => {
  await receiver.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const webhookUrl = () => `${receiver.origin}${SECRET_PATH}`;

function scenario(s: { config?: { value: string; secret: boolean } | null; events?: unknown[]; exitCode?: number; stdout?: string }): void {
  fs.writeFileSync(path.join(dir, "scenario.json"), JSON.stringify({ config: { value: webhookUrl(), secret: true }, ...s }));
}

function io(): CliIo & { text: () => string } {
  let all = "";
  return { cwd: dir, out: (t) => (all += t), err: (t) => (all += t), text: () => all };
}

function run(args: string[], out: CliIo) {
  return runUp(args, out, {
    env: { ...process.env, PATH: `${STANDIN}:${process.env.PATH}`, STANDIN_DIR: dir },
    pollMs: 20,
    output: "io",
    post: { ca: receiver.ca, retryDelaysMs: [10, 10], timeoutMs: 2000 },
  });
}

const calls = (): { argv: string[]; env: Record<string, string> }[] => fs.readFileSync(path.join(dir, "calls.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
const texts = () => receiver.received.map((r) => (JSON.parse(r.body) as { text: string }).text);

/** Nothing but the receiver saw the URL or its secret path: not our output, not pulumi's arguments or environment. */
function expectUrlNowhere(out: string): void {
  for (const s of [webhookUrl(), SECRET_PATH, "Zz9SeCrEtKeY"]) {
    expect(out).not.toContain(s);
    expect(JSON.stringify(calls().map((c) => c.argv))).not.toContain(s);
    expect(JSON.stringify(calls().filter((c) => c.argv[0] === "up").map((c) => c.env))).not.toContain(s);
    expect(texts().join("\n")).not.toContain(s);
  }
}

describe("npm run up", () => {
  it("posts started while the update runs, then failed with the node and the reason; exits with pulumi's code", async () => {
    const failure = commandError(1, KUBEADM_LINE, KUBEADM_OUT);
    scenario({
      events: [
        ...opening("dev", ["cp-1", "cp-2"], `this update: ${WAVE}; 2 more wave(s) after it: run pulumi up again`),
        { gate: "release" },
        ...commandRan("dev", "cp-1", "dev-cp-1-v1.35.9-kubeadm"),
        ...commandFailed("dev", "cp-2", "dev-cp-2-v1.35.9-kubeadm", failure, 5),
        diag("error", STACK_URN, "update failed"),
        summary("failed", 42, { create: 5 }),
        cancel(),
      ],
      stdout: "Updating (dev)\n",
      exitCode: 255,
    });
    const out = io();
    const done = run(["--stack", "dev"], out);
    await receiver.waitFor(1); // "started", with pulumi up still held at the gate
    expect(fs.existsSync(path.join(dir, "release"))).toBe(false);
    expect(texts()).toEqual([`cluster-maintenance dev: wave started: ${WAVE.replace("->", "-&gt;")}\nwaves after it: 2`]);
    fs.writeFileSync(path.join(dir, "release"), "");
    expect(await done).toBe(255);

    expect(receiver.received).toHaveLength(2);
    const failed = texts()[1]!.split("\n");
    const reason = failureReason(failure);
    expect(reason).toBe("kubeadm-upgrade.sh exited with status 1: [upgrade] Reading configuration from the cluster... | [upgrade/apply] FATAL: etcd is not healthy | token leaked? [secret]");
    expect(failed).toEqual([
      `cluster-maintenance dev: wave failed: ${WAVE.replace("->", "-&gt;")}`,
      `node cp-2: ${reason} (dev-cp-2-v1.35.9-kubeadm)`,
      "duration: 42s",
      "pulumi up exit code: 255",
      "the update stopped at the failure: fix it and run npm run up again",
    ]);
    const up = calls().find((c) => c.argv[0] === "up")!;
    expect(up.argv.slice(0, 4)).toEqual(["up", "--yes", "--skip-preview", "--event-log"]);
    expect(up.argv.slice(5)).toEqual(["--stack", "dev"]);
    expect(up.env.PULUMI_DEBUG_COMMANDS).toBe("true");
    expect(fs.existsSync(up.argv[4]!)).toBe(false); // the event log's directory is removed
    expect(calls()[0]!.argv).toEqual(["config", "get", "notificationWebhookUrl", "--json", "--stack", "dev"]);
    expect(out.text()).toContain("Updating (dev)\n");
    expect(out.text()).toContain('notification "started" sent (HTTP 200)\n');
    expect(out.text()).toContain('notification "failed" sent (HTTP 200)\n');
    expectUrlNowhere(out.text());
  });

  it("posts started and finished for a wave that succeeds, extra pulumi arguments passed on", async () => {
    scenario({ events: [...opening("dev", ["cp-1"], `this update: ${WAVE}`), ...commandRan("dev", "cp-1", "dev-cp-1-v1.35.9-kubeadm"), summary("succeeded", 30, { create: 3 }), cancel()], exitCode: 0 });
    const out = io();
    expect(await run(["--stack", "dev", "--", "--parallel", "8"], out)).toBe(0);
    expect(texts()).toEqual([
      `cluster-maintenance dev: wave started: ${WAVE.replace("->", "-&gt;")}\nno wave left after it`,
      `cluster-maintenance dev: wave finished: ${WAVE.replace("->", "-&gt;")}\nno wave left after it\nduration: 30s`,
    ]);
    expect(calls().find((c) => c.argv[0] === "up")!.argv.slice(5)).toEqual(["--stack", "dev", "--parallel", "8"]);
    expectUrlNowhere(out.text());
  });

  it("posts only failed, with the program's error, when the update fails before announcing a wave", async () => {
    const error = "Running program '/work/main' failed with an unhandled exception:\nNoGoError: hop 1 v1.34.6 -> v1.35.9 is no-go: pod-without-controller/shop/debug-shell";
    scenario({ events: [{ preludeEvent: { config: {} } }, diag("error", STACK_URN, error), summary("failed", 3, {}), cancel()], exitCode: 255 });
    const out = io();
    expect(await run(["--stack", "dev"], out)).toBe(255);
    expect(texts()).toHaveLength(1);
    expect(texts()[0]!.split("\n").slice(0, 2)).toEqual([
      "cluster-maintenance dev: update failed before any wave started",
      "error: Running program '/work/main' failed with an unhandled exception: | NoGoError: hop 1 v1.34.6 -&gt; v1.35.9 is no-go: pod-without-controller/shop/debug-shell",
    ]);
    expectUrlNowhere(out.text());
  });

  it("runs without notifications when no webhook is set, and says so", async () => {
    scenario({ config: null, events: [...opening("dev", [], `this update: ${WAVE}`), summary("succeeded", 1, {}), cancel()], exitCode: 0 });
    const out = io();
    expect(await run(["--stack", "dev"], out)).toBe(0);
    expect(out.text()).toContain("notifications off: cluster-maintenance:notificationWebhookUrl is not set\n");
    expect(receiver.received).toEqual([]);
    expect(calls().map((c) => c.argv[0])).toEqual(["config", "up"]);
  });

  it.each([
    ["a plain value", () => ({ value: webhookUrl(), secret: false }), "must be a Pulumi secret"],
    ["an http URL", () => ({ value: webhookUrl().replace("https:", "http:"), secret: true }), "uses http, not https"],
  ])("refuses %s before anything runs, never showing it", async (_what, config, problem) => {
    scenario({ config: config(), events: [], exitCode: 0 });
    const out = io();
    expect(await run(["--stack", "dev"], out)).toBe(1);
    expect(out.text()).toContain(problem);
    expect(out.text()).toContain("nothing was run.");
    expect(calls().map((c) => c.argv[0])).toEqual(["config"]);
    expectUrlNowhere(out.text());
  });

  it("keeps pulumi's exit code and says so when the webhook cannot be reached", async () => {
    scenario({ events: [...opening("dev", ["cp-1"], `this update: ${WAVE}`), summary("succeeded", 5, {}), cancel()], exitCode: 0 });
    receiver.answers.push({ status: 500 }, { status: 500 }, { status: 500 }, { status: 404, body: "no_service" });
    const out = io();
    expect(await run(["--stack", "dev"], out)).toBe(0);
    expect(out.text()).toContain('notification "started" NOT sent after 3 attempt(s): HTTP 500: error; the update\'s result is pulumi up\'s own\n');
    expect(out.text()).toContain('notification "finished" NOT sent after 1 attempt(s): HTTP 404: no_service; the update\'s result is pulumi up\'s own\n');
    expectUrlNowhere(out.text());
  });

  it("refuses options it sets itself, and a bad stack name", async () => {
    scenario({ events: [] });
    const out = io();
    expect(await run(["--stack", "dev", "--", "--event-log", "/tmp/x"], out)).toBe(2);
    expect(await run(["--stack", "../dev"], out)).toBe(2);
    expect(await run([], out)).toBe(2);
    expect(fs.existsSync(path.join(dir, "calls.jsonl"))).toBe(false);
  });
});

describe("the pulumi stand-in", () => {
  it("refuses --event-log without PULUMI_DEBUG_COMMANDS=true, as the CLI hides the flag then (operations/up.go NewUpCmd)", () => {
    scenario({ events: [] });
    const r = require("node:child_process").spawnSync(path.join(STANDIN, "pulumi"), ["up", "--event-log", path.join(dir, "e.jsonl")], { env: { ...process.env, STANDIN_DIR: dir, PULUMI_DEBUG_COMMANDS: "" }, encoding: "utf8" });
    expect(r.status).toBe(255);
    expect(r.stderr).toBe("error: unknown flag: --event-log\n");
  });
});
