/**
 * `npm run up -- --stack S [-- PULUMI_UP_ARGS...]`: `pulumi up` for one stack (one wave), with
 * notifications to the stack's webhook (`notificationWebhookUrl`, a Pulumi secret) when the wave
 * starts, when it finishes, and when it fails, naming the failed command's node and why.
 *
 * Why a wrapper around the CLI and not resources inside the program (read in pulumi/pulumi v3.248):
 * the program never learns that a step failed. A failed create returns no completion
 * (pkg/resource/deploy/step.go `CreateStep.Apply` returns a nil StepCompleteFunc on error), so its
 * registration is never answered; the step executor cancels the deployment (step_executor.go
 * `executeChain` -> `cancelDueToError`), the monitor is not shut down (deployment_executor.go
 * `Execute` cancels it only after an error-free run), and the language host interrupts the program
 * (pkg/host/host.go `ReleaseContext` -> the plugin's `Cancel`, SIGINT): no node, no reason reach the
 * program, and a resource depending on every command never starts. The engine does write both
 * to the event log (cli/up-events.ts), so the wrapper reads them from there.
 *
 * What it does:
 * 1. Reads the URL with `pulumi config get notificationWebhookUrl --json --stack S` (prints the
 *    decrypted value: pkg/cmd/pulumi/config/config.go `getConfig`, `configValueJSON`), captured,
 *    never printed; not set: no notifications. Not a secret, or not an https URL: exit 1 before
 *    anything runs (config/notify-config.ts).
 * 2. Runs `pulumi up --yes --skip-preview --event-log FILE --stack S ...` with
 *    PULUMI_DEBUG_COMMANDS=true (the flag exists only then: operations/up.go `NewUpCmd`), its
 *    output to this process's; FILE in a private temporary directory, removed after.
 * 3. Follows FILE while it grows: when the program announces its wave ("this update: ...",
 *    components/cluster-upgrade.ts), posts "started" (not for "nothing left").
 * 4. When `pulumi up` has exited, posts "finished" (exit 0) or "failed" (with each failed step's
 *    node and reason, or the update's first error), then exits with `pulumi up`'s exit code.
 *    A notification that cannot be delivered (cli/webhook.ts: bounded, never throws) is said on
 *    stderr and changes nothing else.
 * Signals: SIGINT is left to `pulumi up` (it is in the same process group; a second SIGINT would
 * make it stop hard), SIGTERM is passed on to it; either way the end is still reported.
 * Exit codes: `pulumi up`'s; 1 when it could not be started or the webhook config is bad; 2 bad usage.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { describeProblem } from "../planning/errors";
import { isProblem, NOTIFY_WEBHOOK_KEY, parseWebhookUrl, WebhookUrl } from "../config/notify-config";
import { STACK_NAME } from "../config/stack-file";
import { CliIo, parseArgs, processIo } from "./io";
import { EngineEvent, EventLogFollower, UpdateRecorder } from "./up-events";
import { endNotice, slackBody, startedNotice, WaveNotice } from "./up-notices";
import { postJson, PostOptions } from "./webhook";

/** What `runUp` runs and how: injected so tests run it against a stand-in `pulumi`. */
export interface UpDeps {
  /** The environment `pulumi` runs with (PATH finds it). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The Pulumi CLI's command. @default "pulumi" */
  readonly pulumi?: string;
  /** How often the event log is read while `pulumi up` runs, ms. @default 250 */
  readonly pollMs?: number;
  /** The webhook posts' bounds (cli/webhook.ts). */
  readonly post?: PostOptions;
  /** "inherit": `pulumi up` writes to this process's terminal (the CLI); "io": through `io` (tests). @default "inherit" */
  readonly output?: "inherit" | "io";
  /** Called with the child once `pulumi up` started (the CLI passes SIGTERM on to it). */
  readonly onChild?: (child: import("node:child_process").ChildProcess) => void;
}

/** Longest `pulumi config get` may take, ms. */
const CONFIG_GET_TIMEOUT_MS = 60_000;
/** Options of `pulumi up` this wrapper sets itself. */
const RESERVED = /^(--event-log|--stack|-s|--preview-only)(=|$)/;

type WebhookRead = { readonly url: WebhookUrl } | { readonly off: string } | { readonly refuse: string };

/** Runs `pulumi ARGS` with stdout and stderr captured (bounded), never shown. */
function capture(pulumi: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string; error?: string }> {
  return new Promise((resolve) => {
    const child = spawn(pulumi, args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: CONFIG_GET_TIMEOUT_MS });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout = (stdout + c).slice(0, 65536)));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr = (stderr + c).slice(0, 65536)));
    let spawnError: string | undefined;
    child.once("error", (e: NodeJS.ErrnoException) => (spawnError = e.code ?? e.message));
    child.once("close", (code) => resolve({ code, stdout, stderr, ...(spawnError ? { error: spawnError } : {}) }));
  });
}

/**
 * The stack's webhook URL, read through the Pulumi CLI (which decrypts it).
 * @returns the URL; `off` with why when none is set or it cannot be read (the update still runs:
 *   `pulumi up` reports its own config errors); `refuse` when it is set but not a secret or not
 *   a valid https URL (nothing runs).
 */
export async function readWebhookUrl(stack: string, pulumi: string, env: NodeJS.ProcessEnv): Promise<WebhookRead> {
  const key = `cluster-maintenance:${NOTIFY_WEBHOOK_KEY}`;
  const r = await capture(pulumi, ["config", "get", NOTIFY_WEBHOOK_KEY, "--json", "--stack", stack], env);
  if (r.error) return { off: `could not run ${pulumi} config get (${r.error})` };
  if (r.code !== 0) {
    // getConfig: "configuration key '<key>' not found for stack '<stack>'".
    if (/not found for stack/.test(r.stderr)) return { off: `${key} is not set` };
    return { off: `${pulumi} config get ${NOTIFY_WEBHOOK_KEY} failed (exit ${r.code}): ${r.stderr.trim().split("\n")[0]!.slice(0, 200)}` };
  }
  // configValueJSON, indented; ESC environment diagnostics may follow after a blank line.
  let parsed: { value?: unknown; secret?: unknown };
  try {
    parsed = JSON.parse(r.stdout.split(/\n\s*\n/)[0]!) as typeof parsed;
  } catch {
    return { refuse: `${key}: ${pulumi} config get --json did not print JSON` };
  }
  if (parsed.secret !== true) {
    return { refuse: describeProblem({ key, value: "(plain text, not shown)", problem: "must be a Pulumi secret, never plain text (the URL is the webhook's credential)", fix: `remove it and run: pulumi config set --secret ${NOTIFY_WEBHOOK_KEY} URL` }) };
  }
  const url = parseWebhookUrl(parsed.value, key);
  return isProblem(url) ? { refuse: describeProblem(url) } : { url };
}

/** Posts notices in order, one at a time; each outcome is said on `io.err`. */
class Notifier {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly url: WebhookUrl | undefined, private readonly io: CliIo, private readonly post: PostOptions | undefined) {}

  send(notice: WaveNotice): void {
    const url = this.url;
    if (!url) return;
    this.queue = this.queue.then(async () => {
      const r = await postJson(url, slackBody(notice), this.post);
      this.io.err(r.ok
        ? `notification "${notice.kind}" sent (HTTP ${r.status})\n`
        : `notification "${notice.kind}" NOT sent after ${r.attempts} attempt(s): ${r.error}; the update's result is pulumi up's own\n`);
    });
  }

  /** Waits for every post (each bounded by cli/webhook.ts). */
  drain(): Promise<void> {
    return this.queue;
  }
}

/**
 * Runs one `pulumi up` with notifications.
 * @param args command-line arguments: `--stack S`, then after `--` extra `pulumi up` arguments
 *   (not --stack, --event-log or --preview-only).
 * @returns the exit code: `pulumi up`'s; 1 when the webhook config is bad or pulumi could not
 *   start; 2 on bad usage.
 */
export async function runUp(args: readonly string[], io: CliIo, deps: UpDeps = {}): Promise<number> {
  let stack = "";
  let extra: string[] = [];
  const program = new Command("up")
    .description("pulumi up for one stack (one wave), notifying the stack's webhook when the wave starts, finishes or fails")
    .requiredOption("--stack <name>", "the stack (Pulumi.<name>.yaml)")
    .argument("[pulumiArgs...]", "after --: more pulumi up arguments, e.g. -- --parallel 8")
    .action((pulumiArgs: string[], opts: { stack: string }) => {
      stack = opts.stack;
      extra = pulumiArgs;
    });
  const usage = parseArgs(program, args, io);
  if (usage !== undefined) return usage;
  if (!STACK_NAME.test(stack)) {
    io.err(`--stack: ${JSON.stringify(stack)} is not a Pulumi stack name (letters, digits, '-', '_', '.')\n`);
    return 2;
  }
  const reserved = extra.find((a) => RESERVED.test(a));
  if (reserved) {
    io.err(`${reserved.split("=")[0]}: set by npm run up itself; leave it out\n`);
    return 2;
  }
  const env = deps.env ?? process.env;
  const pulumi = deps.pulumi ?? "pulumi";

  const webhook = await readWebhookUrl(stack, pulumi, env);
  if ("refuse" in webhook) {
    io.err(`error: ${webhook.refuse}\nnothing was run.\n`);
    return 1;
  }
  if ("off" in webhook) io.err(`notifications off: ${webhook.off}\n`);
  const url = "url" in webhook ? webhook.url : undefined;
  const known = url ? [url.href, new URL(url.href).pathname] : [];
  const notifier = new Notifier(url, io, deps.post);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cluster-maintenance-up-"));
  const logFile = path.join(dir, "events.jsonl");
  const follower = new EventLogFollower(logFile);
  const recorder = new UpdateRecorder();
  const feed = (events: readonly EngineEvent[]) => {
    for (const e of events) {
      const wave = recorder.add(e);
      if (wave && !wave.nothingLeft) notifier.send(startedNotice(stack, wave.label, wave.wavesAfter));
    }
  };
  try {
    const upArgs = ["up", "--yes", "--skip-preview", "--event-log", logFile, "--stack", stack, ...extra];
    const inherit = (deps.output ?? "inherit") === "inherit";
    const { code, error } = await new Promise<{ code: number | null; error?: string }>((resolve) => {
      const child = spawn(pulumi, upArgs, { env: { ...env, PULUMI_DEBUG_COMMANDS: "true" }, stdio: inherit ? "inherit" : ["ignore", "pipe", "pipe"] });
      if (!inherit) {
        child.stdout!.setEncoding("utf8").on("data", (c: string) => io.out(c));
        child.stderr!.setEncoding("utf8").on("data", (c: string) => io.err(c));
      }
      deps.onChild?.(child);
      const timer = setInterval(() => feed(follower.poll()), deps.pollMs ?? 250);
      let spawnError: string | undefined;
      child.once("error", (e: NodeJS.ErrnoException) => (spawnError = e.code ?? e.message));
      child.once("close", (c) => {
        clearInterval(timer);
        resolve({ code: c, ...(spawnError ? { error: spawnError } : {}) });
      });
    });
    if (error) {
      io.err(`error: could not run ${pulumi} up (${error})\n`);
      notifier.send({ kind: "failed", stack, failures: [], error: `could not run pulumi up (${error})` });
      await notifier.drain();
      return 1;
    }
    feed(follower.finish());
    notifier.send(endNotice(stack, recorder.record(), code, known));
    await notifier.drain();
    return code ?? 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  // SIGINT reaches pulumi up through the terminal's process group; SIGTERM is passed on.
  let child: import("node:child_process").ChildProcess | undefined;
  process.on("SIGINT", () => undefined);
  process.on("SIGTERM", () => child?.kill("SIGTERM"));
  void runUp(process.argv.slice(2), processIo(), { onChild: (c) => (child = c) }).then((code) => (process.exitCode = code));
}
