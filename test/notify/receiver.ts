/**
 * A webhook receiver for tests: a local HTTPS server (its certificate made with the real openssl,
 * test/lab/kube-api/certs.ts) recording every request, answering each from a queue of planned
 * answers (default 200 "ok", as Slack answers: https://api.slack.com/messaging/webhooks).
 */
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { makeServingCertificates } from "../lab/kube-api/certs";

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly contentType: string;
  readonly body: string;
}

/** A planned answer: a status (and headers), or "hang" (never answer). */
export type Answer = { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string } | "hang";

export interface Receiver {
  /** https://127.0.0.1:PORT */
  readonly origin: string;
  /** The CA to trust (PEM). */
  readonly ca: string;
  readonly received: Received[];
  /** Answers for the next requests, in order; then 200 "ok". */
  readonly answers: Answer[];
  /** Resolves once `count` requests have arrived (checked on each arrival; bounded by Jest's timeout). */
  waitFor(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "webhook-receiver-"));
  const files = makeServingCertificates(dir, "127.0.0.1");
  const received: Received[] = [];
  const answers: Answer[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const hanging: import("node:http").ServerResponse[] = [];
  const server = https.createServer({ cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key) }, (req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      received.push({ method: req.method ?? "", path: req.url ?? "", contentType: String(req.headers["content-type"] ?? ""), body });
      for (const w of waiters.filter((w) => received.length >= w.count)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      const answer = answers.shift() ?? { status: 200, body: "ok" };
      if (answer === "hang") {
        hanging.push(res);
        return;
      }
      res.writeHead(answer.status, { "content-type": "text/plain", ...(answer.headers ?? {}) });
      res.end(answer.body ?? (answer.status === 200 ? "ok" : "error"));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `https://127.0.0.1:${port}`,
    ca: fs.readFileSync(files.caCert, "utf8"),
    received,
    answers,
    waitFor: (count) => (received.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: async () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
