/**
 * Posts a JSON body to an incoming webhook (Slack's: https://api.slack.com/messaging/webhooks,
 * "send a POST request with a JSON payload ... Content-type: application/json"; success is HTTP
 * 200 with body `ok`), bounded in time and attempts, and never throwing: a notification that
 * cannot be delivered is reported to the caller, which says so and carries on.
 *
 * What is retried: a connection failure, a timeout, HTTP 429 and 5xx (Slack's rate limit answers
 * 429 with Retry-After: https://api.slack.com/apis/rate-limits); anything else (4xx: a revoked or
 * wrong URL, a bad payload) is final. Nothing reported contains the URL: errors are given by
 * their code (ECONNREFUSED, ETIMEDOUT, CERT_HAS_EXPIRED...) and the HTTP status with at most 100
 * characters of the body.
 */
import * as https from "node:https";
import { rootCertificates } from "node:tls";
import { WebhookUrl } from "../config/notify-config";

export interface PostOptions {
  /** Each attempt's bound (connect, send, answer), ms. @default 10000 */
  readonly timeoutMs?: number;
  /** Attempts in all. @default 3 */
  readonly attempts?: number;
  /** Wait before attempt 2, 3...; a 429's Retry-After (seconds, at most `maxRetryAfterMs`) takes precedence. @default [1000, 3000] */
  readonly retryDelaysMs?: readonly number[];
  /** Longest Retry-After honoured, ms. @default 10000 */
  readonly maxRetryAfterMs?: number;
  /** Extra CA certificates (PEM) to trust besides Node's: for a test receiver. */
  readonly ca?: string;
}

/** The outcome of one post. */
export type PostResult =
  | { readonly ok: true; readonly status: number; readonly attempts: number }
  | { readonly ok: false; readonly error: string; readonly attempts: number };

interface Attempt {
  readonly status?: number;
  readonly body?: string;
  readonly retryAfterMs?: number;
  readonly error?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function attemptOnce(url: WebhookUrl, body: string, timeoutMs: number, ca: string | undefined): Promise<Attempt> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: Attempt) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(a);
      }
    };
    const req = https.request(
      url.href,
      {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) },
        ...(ca ? { ca: [...rootCertificates, ca] } : {}),
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          if (text.length < 1024) text += c;
        });
        res.on("end", () => {
          const retryAfter = Number(res.headers["retry-after"]);
          done({ status: res.statusCode ?? 0, body: text, ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}) });
        });
        res.on("error", (e: NodeJS.ErrnoException) => done({ error: e.code ?? "response error" }));
      },
    );
    // One bound for the whole attempt: connecting, sending and the answer.
    const timer = setTimeout(() => {
      done({ error: `no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on("error", (e: NodeJS.ErrnoException) => done({ error: e.code ?? "request error" }));
    req.end(body);
  });
}

/**
 * Posts `payload` as JSON to `url`.
 * @returns ok with the status on a 2xx; otherwise the last attempt's error (never the URL).
 *   Takes at most attempts x timeoutMs plus the delays between them (defaults: 3 x 10 s + 4 s).
 */
export async function postJson(url: WebhookUrl, payload: unknown, options: PostOptions = {}): Promise<PostResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const attempts = Math.max(1, options.attempts ?? 3);
  const delays = options.retryDelaysMs ?? [1000, 3000];
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 10_000;
  const body = JSON.stringify(payload);
  let last = "";
  for (let i = 1; i <= attempts; i++) {
    const a = await attemptOnce(url, body, timeoutMs, options.ca);
    if (a.status !== undefined && a.status >= 200 && a.status < 300) return { ok: true, status: a.status, attempts: i };
    last = a.status !== undefined ? `HTTP ${a.status}${a.body ? `: ${a.body.trim().slice(0, 100)}` : ""}` : a.error ?? "unknown error";
    const retryable = a.status === undefined || a.status === 429 || a.status >= 500;
    if (!retryable || i === attempts) return { ok: false, error: last, attempts: i };
    const delay = a.retryAfterMs !== undefined ? Math.min(a.retryAfterMs, maxRetryAfterMs) : delays[Math.min(i - 1, delays.length - 1)] ?? 1000;
    await sleep(delay);
  }
  return { ok: false, error: last, attempts };
}
