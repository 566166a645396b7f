/**
 * The double's HTTPS server: bearer-token authentication, discovery, and the resource paths
 * (/api/v1/..., /apis/GROUP/VERSION/..., namespaced under namespaces/NS/) with the verbs kubectl
 * uses: GET (one object, a list), PATCH, DELETE, POST pods/NAME/eviction, and POST (create) of the
 * CRD-defined kinds (the snapshot.storage.k8s.io ones, while their CRDs are installed:
 * snapshots.ts). No watch, other creates or replace: kubectl needs none for what the node scripts
 * do (they are answered as not simulated).
 * Answers are JSON in the API's shapes (https://kubernetes.io/docs/reference/using-api/api-concepts/);
 * errors are Status objects (status.ts).
 */
import * as https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import type { KubeObject } from "./types";
import * as fs from "node:fs";
import * as path from "node:path";
import { groupVersion, KUBE_API_DATA, resourceType, type ResourceType } from "./resources";
import { discoveryDocument, versionDocument } from "./discovery";
import { ApiError, badRequest, methodNotAllowed, noSuchPath, notFound, notSimulated, unauthorized } from "./status";
import { fieldMatcher, labelMatcher } from "./selectors";
import { asTable, wantsTable } from "./tables";
import type { ApiState } from "./state";

export interface ServerOptions {
  readonly cert: string;
  readonly key: string;
  /** The bearer token a client must send (Authorization: Bearer TOKEN). */
  readonly token: string;
  readonly state: ApiState;
  /** Called with one line per request: "METHOD URL -> CODE". */
  readonly log?: (line: string) => void;
  /**
   * A file whose text /metrics serves while it exists (a test writes the samples it needs, e.g.
   * deprecated APIs requested); otherwise /metrics serves the kept excerpt's etcd size and
   * object counts, and no deprecated-API samples (none requested since the apiserver started).
   */
  readonly metricsFile?: string;
}

/** A request for objects: its type and, as the path says, namespace, name and subresource. */
interface Target {
  readonly type: ResourceType;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

/** Parses /api/v1/... and /apis/G/V/... into a Target; undefined when no discovered type is there. */
export function parseTarget(pathname: string): Target | undefined {
  const m = /^\/(?:api\/(v\w+)|apis\/([^/]+)\/(v\w+))\/(.+)$/.exec(pathname);
  if (!m) return undefined;
  const [group, version] = m[1] !== undefined ? ["", m[1]] : [m[2]!, m[3]!];
  const parts = m[4]!.split("/").map(decodeURIComponent);
  let namespace: string | undefined;
  if (parts[0] === "namespaces" && parts.length >= 3 && resourceType(group, version, parts[2]!)?.namespaced) {
    namespace = parts[1];
    parts.splice(0, 2);
  }
  const type = resourceType(group, version, parts[0]!);
  if (type === undefined || parts.length > 3 || (namespace !== undefined && !type.namespaced)) return undefined;
  return { type, ...(namespace !== undefined ? { namespace } : {}), ...(parts[1] !== undefined ? { name: parts[1] } : {}), ...(parts[2] !== undefined ? { subresource: parts[2] } : {}) };
}

/** The object as served: kind and apiVersion of the requested version first. */
function served(t: ResourceType, o: KubeObject): KubeObject {
  return { kind: t.kind, apiVersion: groupVersion(t.group, t.version), ...o };
}

/** A `continue` token as the API makes it: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"KEY\u0000"}. */
function continueToken(rv: string, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: Number(rv), start: `${lastKey}\u0000` })).toString("base64");
}
function continueStart(token: string): string {
  try {
    const c = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { v?: string; start?: string };
    if (c.v === "meta.k8s.io/v1" && typeof c.start === "string") return c.start.replace(/\u0000$/, "");
  } catch {
    // answered below
  }
  throw badRequest(`continue key is not valid: ${token}`);
}
const keyOf = (o: KubeObject) => (o.metadata.namespace === undefined ? o.metadata.name : `${o.metadata.namespace}/${o.metadata.name}`);

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest(`the body of the request could not be decoded as JSON`);
  }
}

/** Creates the server (not yet listening). */
export function createApiServer(o: ServerOptions): https.Server {
  const { state } = o;
  const expected = Buffer.from(`Bearer ${o.token}`);
  const authorized = (req: IncomingMessage) => {
    const got = Buffer.from(req.headers.authorization ?? "");
    return got.length === expected.length && timingSafeEqual(got, expected);
  };

  const send = (res: ServerResponse, code: number, value: unknown, contentType = "application/json") => {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    res.writeHead(code, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(text), "Cache-Control": "no-cache, private" });
    res.end(text);
  };

  const list = (t: ResourceType, ns: string | undefined, q: URLSearchParams): Record<string, unknown> => {
    const ls = q.get("labelSelector") ?? "";
    const fs = q.get("fieldSelector") ?? "";
    const labels = labelMatcher(ls);
    const fields = fieldMatcher(t, fs, ls);
    // state.list is in key order: a page starts after the continue token's key (found by bisection)
    // and stops at the first match past `limit`, so each page costs its own length, not the list's.
    const all = state.list(t, ns);
    const rv = state.store.resourceVersion;
    const token = q.get("continue");
    let from = 0;
    if (token) {
      const start = continueStart(token);
      let hi = all.length;
      while (from < hi) {
        const mid = (from + hi) >> 1;
        if (keyOf(all[mid]!) > start) hi = mid;
        else from = mid + 1;
      }
    }
    const limit = Number(q.get("limit") ?? "0");
    const paged = Number.isInteger(limit) && limit > 0;
    let items: KubeObject[] = [];
    for (let i = from; i < all.length && (!paged || items.length <= limit); i++) if (labels(all[i]!) && fields(all[i]!)) items.push(all[i]!);
    const metadata: Record<string, unknown> = { resourceVersion: rv };
    if (paged && items.length > limit) {
      items = items.slice(0, limit);
      metadata.continue = continueToken(rv, keyOf(items[items.length - 1]!));
      if (ls === "" && fs === "") metadata.remainingItemCount = all.length - from - limit;
    }
    return { kind: `${t.kind}List`, apiVersion: groupVersion(t.group, t.version), metadata, items };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const url = new URL(req.url ?? "/", "https://kube-api");
    const p = url.pathname.replace(/\/+$/, "") || "/";
    const method = req.method ?? "GET";
    if (method === "GET" && p === "/version") {
      const v = versionDocument();
      send(res, 200, v.body);
      return 200;
    }
    if (method === "GET" && (p === "/healthz" || p === "/livez" || p === "/readyz")) {
      if (p === "/readyz" && url.searchParams.has("verbose")) send(res, 200, keptText("readyz-verbose.txt"), "text/plain; charset=utf-8");
      else send(res, 200, "ok", "text/plain; charset=utf-8");
      return 200;
    }
    if (!authorized(req)) throw unauthorized();
    if (method === "GET" && p === "/metrics") {
      send(res, 200, metricsText(o.metricsFile), "text/plain; version=0.0.4; charset=utf-8");
      return 200;
    }
    const doc = method === "GET" ? discoveryDocument(p, req.headers.accept, `${req.socket.localAddress}:${req.socket.localPort}`, state.installedCrds()) : undefined;
    if (doc) {
      send(res, 200, doc.body, doc.contentType);
      return 200;
    }
    const target = parseTarget(p);
    if (target === undefined || !state.serves(target.type)) throw noSuchPath();
    const { type: t, namespace: ns, name, subresource } = target;
    const q = url.searchParams;
    const dryRun = q.getAll("dryRun").includes("All");
    const answer = (code: number, x: KubeObject) => {
      if (method === "GET" && wantsTable(req.headers.accept)) send(res, code, asTable(t, [x], state.store.resourceVersion));
      else send(res, code, served(t, x));
      return code;
    };

    if (name === undefined) {
      if (method === "GET") {
        // kubectl needs no watch for what the node scripts do (drain polls, delete --wait GETs first).
        if (q.get("watch") === "true" || q.get("watch") === "1") throw notSimulated("watch");
        const l = list(t, ns, q);
        send(res, 200, wantsTable(req.headers.accept) ? { ...asTable(t, l.items as KubeObject[], state.store.resourceVersion), metadata: l.metadata } : l);
        return 200;
      }
      // Only the CRD-defined kinds are created through the API (state.create); other objects come from the seed and the lab.
      if (method === "POST") {
        const created = state.create(t, ns, await body(req), dryRun);
        send(res, 201, served(t, created));
        return 201;
      }
      throw methodNotAllowed();
    }

    if (subresource === "eviction" && t.group === "" && t.name === "pods") {
      if (method !== "POST") throw methodNotAllowed();
      const eviction = ((await body(req)) ?? {}) as { deleteOptions?: { dryRun?: string[]; gracePeriodSeconds?: number } };
      const evictionDryRun = dryRun || (eviction.deleteOptions?.dryRun ?? []).includes("All");
      await state.evict(ns!, name, eviction.deleteOptions?.gracePeriodSeconds, evictionDryRun);
      send(res, 201, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 });
      return 201;
    }
    if (subresource !== undefined && subresource !== "status") throw noSuchPath();

    if (method === "GET") {
      const x = state.get(t, ns, name);
      if (x === undefined) throw notFound(t, name);
      return answer(200, x);
    }
    if (method === "PATCH") {
      return answer(200, await state.patch(t, ns, name, String(req.headers["content-type"] ?? ""), await body(req), dryRun));
    }
    if (method === "DELETE") {
      const options = ((await body(req)) ?? {}) as { gracePeriodSeconds?: number; dryRun?: string[] };
      const grace = options.gracePeriodSeconds ?? (q.has("gracePeriodSeconds") ? Number(q.get("gracePeriodSeconds")) : undefined);
      const deleted = await state.delete(t, ns, name, { ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}), dryRun: dryRun || (options.dryRun ?? []).includes("All") });
      if (t.group === "" && t.name === "pods") return answer(200, deleted);
      send(res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, ...(t.group ? { group: t.group } : {}), kind: t.name, uid: deleted.metadata.uid } });
      return 200;
    }
    throw methodNotAllowed();
  };

  return https.createServer({ cert: o.cert, key: o.key }, (req, res) => {
    handle(req, res).then(
      (code) => o.log?.(`${req.method} ${req.url} -> ${code}`),
      (err: unknown) => {
        const e = err instanceof ApiError ? err : new ApiError(500, "InternalError", `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) send(res, e.code, e.status());
        else res.end();
        o.log?.(`${req.method} ${req.url} -> ${e.code} ${e.message}`);
      },
    );
  });
}

/**
 * /metrics: the test's file while it exists, else the kept excerpt (metrics-excerpt.txt, a real
 * v1.31 apiserver's) without its apiserver_requested_deprecated_apis samples. A real apiserver
 * serves many more families; clients read only those they name.
 */
function metricsText(file: string | undefined): string {
  if (file && fs.existsSync(file)) return fs.readFileSync(file, "utf8");
  return keptText("metrics-excerpt.txt")
    .split("\n")
    .filter((l) => !l.startsWith("apiserver_requested_deprecated_apis{"))
    .join("\n");
}

function keptText(name: string): string {
  return fs.readFileSync(path.join(KUBE_API_DATA, name), "utf8");
}
