/**
 * labelSelector and fieldSelector of a list, as the API parses and applies them.
 * Labels: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
 * (equality: `k=v`, `k==v`, `k!=v`; set: `k in (a,b)`, `k notin (a,b)`, `k`, `!k`; `!=` and `notin`
 * also match objects without the label). Fields:
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/ (`f=v`,
 * `f==v`, `f!=v`, comma-separated; each resource supports its own fields, any other is a 400).
 */
import type { KubeObject } from "./types";
import { badRequest } from "./status";
import type { ResourceType } from "./resources";

/** A parsed selector: does an object match? */
export type Matcher = (o: KubeObject) => boolean;

interface LabelRequirement {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!";
  values: string[];
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

/** Splits on commas outside parentheses. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") depth++;
    if (text[i] === ")") depth--;
    if (text[i] === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function parseLabelRequirement(raw: string): LabelRequirement {
  const text = raw.trim();
  const fail = (why: string) => badRequest(`unable to parse requirement: ${why}: ${JSON.stringify(text)}`);
  let m = /^!\s*(\S+)$/.exec(text);
  if (m) return { key: m[1]!, op: "!", values: [] };
  m = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(text);
  if (m) return { key: m[1]!, op: m[2] as "in" | "notin", values: m[3]!.split(",").map((v) => v.trim()) };
  m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(text);
  if (m) return { key: m[1]!, op: m[2] === "!=" ? "!=" : "=", values: [m[3]!] };
  if (/^[^=!\s()]+$/.test(text)) return { key: text, op: "exists", values: [] };
  throw fail("found no operator");
}

/** Parses a labelSelector; throws a 400 ApiError when it is not one. Empty: everything. */
export function labelMatcher(selector: string): Matcher {
  if (selector.trim() === "") return () => true;
  const reqs = splitTop(selector).map(parseLabelRequirement);
  for (const r of reqs) {
    if (!KEY.test(r.key)) throw badRequest(`unable to parse requirement: invalid label key "${r.key}": name part must consist of alphanumeric characters, '-', '_' or '.'`);
  }
  return (o) => {
    const labels = o.metadata.labels ?? {};
    return reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      const v = labels[r.key];
      switch (r.op) {
        case "exists":
          return has;
        case "!":
          return !has;
        case "=":
        case "in":
          return has && r.values.includes(v!);
        case "!=":
        case "notin":
          return !has || !r.values.includes(v!);
      }
    });
  };
}

/** The fields a resource can be selected by, beyond metadata.name and metadata.namespace (the API's field label conversions). */
const FIELDS: Record<string, readonly string[]> = {
  pods: ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
  nodes: ["spec.unschedulable"],
  secrets: ["type"],
  namespaces: ["status.phase"],
  events: ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.fieldPath", "reason", "type"],
};

/** The value of a dotted field of an object as a field selector compares it ("" when absent). */
function fieldValue(o: KubeObject, field: string): string {
  let v: unknown = o;
  for (const part of field.split(".")) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
  if (v === undefined || v === null) return field === "spec.hostNetwork" || field === "spec.unschedulable" ? "false" : "";
  return String(v);
}

/** "/v1, Resource=pods" as the API names a resource in its errors. */
function gvr(t: ResourceType): string {
  return `${t.group}/${t.version}, Resource=${t.name}`;
}

/** Parses a fieldSelector for a type; a field the type does not support is a 400, as the API answers. Empty: everything. */
export function fieldMatcher(t: ResourceType, selector: string, labelSelector: string): Matcher {
  if (selector.trim() === "") return () => true;
  const supported = ["metadata.name", "metadata.namespace", ...(FIELDS[t.name] ?? [])];
  const reqs = selector.split(",").map((raw) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(raw);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${raw}'`);
    if (!supported.includes(m[1]!)) {
      throw badRequest(`Unable to find "${gvr(t)}" that match label selector "${labelSelector}", field selector "${selector}": field label not supported: ${m[1]}`);
    }
    return { field: m[1]!, equal: m[2] !== "!=", value: m[3]! };
  });
  return (o) => reqs.every((r) => (fieldValue(o, r.field) === r.value) === r.equal);
}
