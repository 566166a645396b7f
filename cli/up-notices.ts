/**
 * The notifications `npm run up` sends, as data (a {@link WaveNotice}) and as a Slack-compatible
 * incoming-webhook body (`{"text": "..."}`: https://api.slack.com/messaging/webhooks), built from
 * what the event log recorded (cli/up-events.ts). Never a secret in a message: every text that
 * comes from the update passes {@link redact} and is bounded.
 */
import { FailedStep, plainText, UpdateRecord } from "./up-events";

/** Most characters of one failure's reason in a message. */
export const REASON_MAX_CHARS = 600;
/** Most output lines of a failed command quoted as its reason (its last ones: the scripts say why last). */
export const REASON_MAX_LINES = 4;
/** Most failures listed in one message (the engine stops after the first, but running steps may fail too). */
export const FAILURES_MAX = 5;
/** Most characters of a whole message: far below Slack's 40,000 for `text` (https://api.slack.com/methods/chat.postMessage#truncating). */
export const MESSAGE_MAX_CHARS = 3500;

export type NoticeKind = "started" | "finished" | "failed";

/** One failure in a "failed" notice. */
export interface NoticeFailure {
  /** The node the failed command ran for, when known. */
  readonly node?: string;
  /** The resource (command) name, e.g. "dev-general-1-v1.35.9-drain". */
  readonly resource: string;
  /** Why, redacted and bounded: e.g. "drain.sh exited with status 4: cluster-maintenance: drain.sh: ...". */
  readonly reason: string;
}

/** A notification, before rendering. */
export interface WaveNotice {
  readonly kind: NoticeKind;
  /** The stack (e.g. "prod"). */
  readonly stack: string;
  /** The wave's label as the program announced it; undefined when the update ended before announcing one. */
  readonly wave?: string;
  /** Waves after this one, when announced. */
  readonly wavesAfter?: number;
  /** "failed": the failed steps (at most {@link FAILURES_MAX}), or empty when the update failed outside any step. */
  readonly failures: readonly NoticeFailure[];
  /** "failed" with no failed step: the first error, redacted and bounded. */
  readonly error?: string;
  /** finished/failed: the update's duration, seconds (the engine's summary). */
  readonly durationSeconds?: number;
  /** finished/failed: `pulumi up`'s exit code. */
  readonly exitCode?: number;
}

/**
 * kubeadm bootstrap tokens, `[a-z0-9]{6}.[a-z0-9]{16}`
 * (https://kubernetes.io/docs/reference/access-authn-authz/bootstrap-tokens/#token-format).
 */
const BOOTSTRAP_TOKEN = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g;
/** PEM blocks (keys, certificates), whole. */
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(?:-----END [A-Z0-9 ]+-----|$)/g;
/** kubeconfig credential fields and HTTP credentials, their value. */
const CREDENTIAL_FIELD = /\b(client-key-data|client-certificate-data|token|password|Bearer)(\s*[:=]\s*|(?<=Bearer)\s+)("[^"]*"|'[^']*'|\S+)/gi;
/** Any https URL: a webhook's own URL is a credential (the path is the key), and no URL is needed in a message. */
const URL_LIKE = /\bhttps?:\/\/[^\s"'<>]+/gi;

/**
 * `text` with secrets replaced by "[secret]": each of `known` (e.g. the webhook URL; values of at
 * least 4 characters), PEM blocks, kubeadm bootstrap tokens (a join command's output is a secret),
 * kubeconfig and HTTP credential fields, and every http(s) URL. Config secrets are already
 * "[secret]" in the event log (pulumi/pulumi pkg/engine/events.go `makeEventEmitter`): this is for
 * what the engine cannot know, such as a token printed by a command.
 */
export function redact(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const k of known) if (k.length >= 4) out = out.split(k).join("[secret]");
  return out
    .replace(PEM_BLOCK, "[secret]")
    .replace(URL_LIKE, "[url]")
    .replace(BOOTSTRAP_TOKEN, "[secret]")
    .replace(CREDENTIAL_FIELD, (_m, field: string, sep: string) => `${field}${sep}[secret]`);
}

/** `text` cut to `max` characters, with "..." when cut. */
function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/**
 * The failed command's error as @pulumi/command words it: `Process exited with status N: running
 * "<command line>":\n<output>` (the lab's double, test/lab/engine.ts, words it the same way).
 */
const COMMAND_FAILED = /^Process exited with status (\d+): running ("(?:[^"\\]|\\.)*"):\n?([\s\S]*)$/;
/** A node script's name in a command line (node-scripts/<name>.sh). */
const SCRIPT_NAME = /\b([a-z0-9-]+\.sh)\b/;

/**
 * Why a step failed, in one short text: for a failed command "SCRIPT exited with status N: " and
 * its last {@link REASON_MAX_LINES} output lines (never the command line); otherwise the error's
 * last lines. Redacted (`known` too) and bounded to {@link REASON_MAX_CHARS}.
 */
export function failureReason(message: string, known: readonly string[] = []): string {
  const text = plainText(message).replace(/^error:\s*/, "");
  const m = COMMAND_FAILED.exec(text);
  const lastLines = (s: string) => s.split("\n").map((l) => l.trim()).filter((l) => l !== "").slice(-REASON_MAX_LINES).join(" | ");
  let reason: string;
  if (m) {
    let command = "";
    try {
      command = JSON.parse(m[2]!) as string;
    } catch {
      command = m[2]!;
    }
    const script = SCRIPT_NAME.exec(command)?.[1] ?? "the command";
    const output = lastLines(m[3]!);
    reason = `${script} exited with status ${m[1]}${output ? `: ${output}` : " (no output)"}`;
  } else {
    reason = lastLines(text) || "(the engine logged no message for it)";
  }
  return bounded(redact(reason, known), REASON_MAX_CHARS);
}

/** The "started" notice for an announced wave. */
export function startedNotice(stack: string, wave: string, wavesAfter: number): WaveNotice {
  return { kind: "started", stack, wave, wavesAfter, failures: [] };
}

/**
 * The end notice of an update: "finished" when `pulumi up` exited 0, else "failed" with each
 * failed step (node, resource, reason) or, when no step failed, the first error the log holds.
 * @param record what the event log recorded (possibly incomplete: the CLI may have died).
 * @param exitCode `pulumi up`'s exit code (null: killed by a signal).
 * @param known secret values to redact besides the patterns of {@link redact}.
 */
export function endNotice(stack: string, record: UpdateRecord, exitCode: number | null, known: readonly string[] = []): WaveNotice {
  const base = {
    stack,
    ...(record.wave ? { wave: record.wave.label, wavesAfter: record.wave.wavesAfter } : {}),
    ...(record.durationSeconds !== undefined ? { durationSeconds: record.durationSeconds } : {}),
    ...(exitCode !== null ? { exitCode } : {}),
  };
  if (exitCode === 0) return { kind: "finished", ...base, failures: [] };
  const failures = record.failed.slice(0, FAILURES_MAX).map((f: FailedStep): NoticeFailure => ({
    ...(f.node ? { node: f.node } : {}),
    resource: f.resource,
    reason: failureReason(f.message, known),
  }));
  const firstError = record.errors.find((e) => e.trim() !== "");
  const error = failures.length > 0 ? undefined
    : firstError !== undefined ? failureReason(firstError, known)
    : exitCode === null ? "pulumi up was stopped by a signal" : record.result === "canceled" ? "the update was canceled" : `pulumi up exited with code ${exitCode} and logged no error`;
  return { kind: "failed", ...base, failures, ...(error !== undefined ? { error } : {}) };
}

/** Slack's three control characters in `text`, escaped (https://api.slack.com/reference/surfaces/formatting#escaping). */
export function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * The notice as an incoming-webhook body: `{"text": "..."}`, the text's first line saying what
 * happened, then one line per detail:
 * - started:  `cluster-maintenance <stack>: wave started: <wave>` / `waves after it: N`
 * - finished: `cluster-maintenance <stack>: wave finished: <wave>` / `waves after it: N` (or
 *   `no wave left`) / `duration: Ns`
 * - failed:   `cluster-maintenance <stack>: wave failed: <wave>` (or `update failed before any wave
 *   started`) / `node <node>: <reason> (<resource>)` per failure (or `error: <error>`) /
 *   `duration: Ns` / `pulumi up exit code: N` / `the update stopped at the failure: fix it and run npm run up again`
 */
export function slackBody(n: WaveNotice): { text: string } {
  const head = `cluster-maintenance ${n.stack}: `;
  const lines: string[] = [];
  if (n.kind === "failed") {
    lines.push(n.wave ? `${head}wave failed: ${n.wave}` : `${head}update failed before any wave started`);
    for (const f of n.failures) lines.push(`${f.node ? `node ${f.node}` : "resource"}: ${f.reason} (${f.resource})`);
    if (n.error) lines.push(`error: ${n.error}`);
  } else {
    // "nothing left: the cluster is at v1.37.1" (ClusterUpgrade's wave when no step is left) says it all.
    lines.push(n.wave?.startsWith("nothing left") ? `${head}${n.wave}` : `${head}wave ${n.kind}: ${n.wave ?? "the whole plan (no waves: declared versions)"}`);
    if (n.wavesAfter !== undefined) lines.push(n.wavesAfter > 0 ? `waves after it: ${n.wavesAfter}` : "no wave left after it");
  }
  if (n.durationSeconds !== undefined) lines.push(`duration: ${n.durationSeconds}s`);
  if (n.kind === "failed") {
    if (n.exitCode !== undefined) lines.push(`pulumi up exit code: ${n.exitCode}`);
    lines.push("the update stopped at the failure: fix it and run npm run up again");
  }
  return { text: bounded(slackEscape(lines.join("\n")), MESSAGE_MAX_CHARS) };
}
