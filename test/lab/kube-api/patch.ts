/**
 * PATCH bodies as kubectl sends them (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/):
 * - application/merge-patch+json (RFC 7386; `kubectl annotate` and `kubectl label` send it);
 * - application/strategic-merge-patch+json (`kubectl cordon`/`uncordon`/`drain` send
 *   `{"spec":{"unschedulable":true}}` / `null`): a merge patch whose lists with a patch merge key
 *   are merged element by element, with the `$patch`, `$retainKeys`, `$deleteFromPrimitiveList`
 *   and `$setElementOrder` directives
 *   (https://github.com/kubernetes/community/blob/master/contributors/devel/sig-api-machinery/strategic-merge-patch.md);
 * - application/json-patch+json (RFC 6902).
 */
import { badRequest, unsupportedMediaType } from "./status";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/** RFC 7386: objects merge, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * Patch merge keys of the lists the API merges element by element (patchMergeKey in the API
 * types, k8s.io/api core/v1 and meta/v1), by field name. Other lists of objects are replaced.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  env: "name",
  ports: "containerPort",
  imagePullSecrets: "name",
  hostAliases: "ip",
  conditions: "type",
  addresses: "type",
  ownerReferences: "uid",
  topologySpreadConstraints: "topologyKey",
};
/** Lists of scalars merged as sets (patchStrategy merge): metadata.finalizers. */
const MERGED_SCALAR_LISTS = new Set(["finalizers"]);

function smpList(field: string, target: unknown, patch: unknown[]): unknown[] {
  if (patch.some((e) => isObj(e) && e.$patch === "replace")) return clone(patch.filter((e) => !(isObj(e) && e.$patch === "replace")));
  const original = Array.isArray(target) ? target : [];
  if (MERGED_SCALAR_LISTS.has(field)) return [...original, ...patch.filter((v) => !original.includes(v))];
  const key = MERGE_KEYS[field];
  if (key === undefined) return clone(patch);
  const out = original.map((e) => clone(e));
  for (const e of patch) {
    if (!isObj(e)) throw badRequest(`unable to find api field in struct for the list ${field}: its elements are not objects`);
    const at = out.findIndex((o) => isObj(o) && o[key] === e[key]);
    if (e.$patch === "delete") {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) {
      out[at] = strategicMergePatch(out[at], e);
    } else {
      out.push(strategicMergePatch({}, e));
    }
  }
  return out;
}

/** A strategic merge patch applied to `target` (neither is changed). */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === "replace") {
    const { $patch: _directive, ...rest } = patch;
    return clone(rest);
  }
  let out: Obj = isObj(target) ? { ...target } : {};
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys as string[]);
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$retainKeys" || k === "$patch" || k.startsWith("$setElementOrder/")) continue;
    if (k.startsWith("$deleteFromPrimitiveList/")) {
      const field = k.slice("$deleteFromPrimitiveList/".length);
      if (Array.isArray(out[field])) out[field] = (out[field] as unknown[]).filter((x) => !(v as unknown[]).includes(x));
      continue;
    }
    if (v === null) delete out[k];
    else if (isObj(v) && v.$patch === "delete") delete out[k];
    else if (Array.isArray(v)) out[k] = smpList(k, out[k], v);
    else out[k] = strategicMergePatch(out[k], v);
  }
  return out;
}

interface JsonPatchOp {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  from?: string;
  value?: unknown;
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer ${JSON.stringify(path)}`);
  return path.slice(1).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function parentOf(doc: unknown, parts: string[]): [Obj | unknown[], string] {
  let at: unknown = doc;
  for (const p of parts.slice(0, -1)) {
    at = Array.isArray(at) ? at[Number(p)] : isObj(at) ? at[p] : undefined;
    if (at === undefined) throw badRequest(`the server rejected our request due to an error in our request: path /${parts.join("/")} does not exist`);
  }
  if (!Array.isArray(at) && !isObj(at)) throw badRequest("the server rejected our request due to an error in our request: bad JSON patch path");
  return [at, parts[parts.length - 1]!];
}

/** RFC 6902 operations applied in order to a copy of `target`; a failed `test` or a missing path is a 400. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest("the server rejected our request due to an error in our request: a JSON patch is an array of operations");
  let doc = clone(target);
  const get = (path: string): unknown => {
    const parts = pointer(path);
    if (parts.length === 0) return doc;
    const [parent, last] = parentOf(doc, parts);
    return Array.isArray(parent) ? parent[Number(last)] : parent[last];
  };
  const remove = (path: string): void => {
    const [parent, last] = parentOf(doc, pointer(path));
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  };
  const add = (path: string, value: unknown, replace: boolean): void => {
    const parts = pointer(path);
    if (parts.length === 0) {
      doc = clone(value);
      return;
    }
    const [parent, last] = parentOf(doc, parts);
    if (Array.isArray(parent)) {
      const i = last === "-" ? parent.length : Number(last);
      parent.splice(i, replace ? 1 : 0, clone(value));
    } else {
      parent[last] = clone(value);
    }
  };
  for (const op of ops as JsonPatchOp[]) {
    switch (op.op) {
      case "add":
        add(op.path, op.value, false);
        break;
      case "replace":
        if (get(op.path) === undefined) throw badRequest(`the server rejected our request due to an error in our request: replace operation does not apply: doc is missing key: ${op.path}`);
        add(op.path, op.value, true);
        break;
      case "remove":
        if (get(op.path) === undefined) throw badRequest(`the server rejected our request due to an error in our request: remove operation does not apply: doc is missing path: ${op.path}`);
        remove(op.path);
        break;
      case "move": {
        const v = get(op.from!);
        remove(op.from!);
        add(op.path, v, false);
        break;
      }
      case "copy":
        add(op.path, get(op.from!), false);
        break;
      case "test":
        if (JSON.stringify(get(op.path)) !== JSON.stringify(op.value)) throw badRequest(`the server rejected our request due to an error in our request: testing value ${op.path} failed`);
        break;
      default:
        throw badRequest(`the server rejected our request due to an error in our request: unexpected kind: ${String((op as { op: unknown }).op)}`);
    }
  }
  return doc;
}

/** Applies a PATCH body of `contentType` (the Content-Type header) to `target`. */
export function applyPatch(contentType: string, target: unknown, body: unknown): unknown {
  const type = contentType.split(";")[0]!.trim();
  switch (type) {
    case "application/merge-patch+json":
      return mergePatch(target, body);
    case "application/strategic-merge-patch+json":
      return strategicMergePatch(target, body);
    case "application/json-patch+json":
      return jsonPatch(target, body);
    default:
      throw unsupportedMediaType(contentType);
  }
}
