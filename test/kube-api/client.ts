/** A small HTTPS client for the API double's tests (not a test file): requests with its CA and token. */
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import type { Lab } from "../lab/node-kit";

/** Where a double listens and how to reach it. */
export interface Endpoint {
  readonly url: string;
  readonly caCert: string;
  readonly token: string;
}

export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: any;
}

/** The endpoint of a double from its kubeconfig text (certificate-authority-data, server, token). */
export function endpointOf(kubeconfig: string): Endpoint {
  const field = (name: string) => new RegExp(`${name}: (\\S+)`).exec(kubeconfig)?.[1] ?? "";
  return { url: field("server"), caCert: Buffer.from(field("certificate-authority-data"), "base64").toString("utf8"), token: field("token") };
}

/** The lab's API double, once it listens (a 30 s deadline). */
export async function labEndpoint(lab: Lab): Promise<Endpoint> {
  const dir = path.join(lab.dir, "kube-api");
  for (const deadline = Date.now() + 30_000; !fs.existsSync(path.join(dir, "url")); ) {
    if (Date.now() > deadline) throw new Error("the lab's API double did not listen within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return endpointOf(fs.readFileSync(lab.kubeconfigPath, "utf8"));
}

/** One request; `body` is sent as JSON (Content-Type application/json unless `headers` say otherwise). */
export function request(
  api: Endpoint,
  method: string,
  urlPath: string,
  options: { body?: unknown; headers?: Record<string, string>; token?: string | null } = {},
): Promise<Answer> {
  const url = new URL(urlPath, api.url);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const token = options.token === undefined ? api.token : options.token;
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca: api.caCert,
        headers: {
          Accept: "application/json",
          ...(token !== null ? { Authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } : {}),
          ...options.headers,
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), text, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${urlPath}: no answer within 30 s`)));
    req.on("error", reject);
    req.end(body);
  });
}
