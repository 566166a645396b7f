/**
 * The double's objects in memory: one map per stored resource (storageKey), kept in etcd's key
 * order (namespace, then name) so that lists and their `continue` pages come out as the API's do.
 * One resourceVersion counter for everything, as etcd's revision.
 */
import { randomUUID } from "node:crypto";
import type { KubeObject, KubeObjects } from "./types";
import { storageKey, typeOfKind, type ResourceType } from "./resources";

/** "2026-11-27T23:06:05Z": the API's Time (seconds). */
export function apiTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** "2026-11-27T23:22:46.024000Z": the API's MicroTime (Lease renewTime), from epoch ms. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000Z");
}

/** The key of an object in its store: "namespace/name", or "name" for a cluster-scoped type. */
export function objectKey(t: ResourceType, namespace: string | undefined, name: string): string {
  return t.namespaced ? `${namespace ?? ""}/${name}` : name;
}

/** `o` without apiVersion and kind (as items of a List are kept): a shallow copy with its own metadata. */
function bare(o: KubeObject): KubeObject {
  const { apiVersion: _v, kind: _k, ...rest } = o;
  return { ...rest, metadata: { ...rest.metadata } };
}

/** The objects of every stored resource, and the resourceVersion counter. */
export class Store {
  private revision = 1;
  private readonly maps = new Map<string, Map<string, KubeObject>>();
  private readonly sorted = new Map<string, string[]>();

  /**
   * @param seed objects of any discovered type (each with apiVersion and kind; uid,
   *   resourceVersion and creationTimestamp are kept when given, else set).
   * @throws Error for an object of a type discovery does not list, or one without a name.
   */
  constructor(seed: KubeObjects = [], private readonly now: () => number = Date.now) {
    for (const o of seed) {
      const rv = Number(o.metadata?.resourceVersion);
      if (Number.isInteger(rv) && rv >= this.revision) this.revision = rv + 1;
    }
    for (const o of seed) {
      const t = typeOfKind(o.apiVersion ?? "", o.kind ?? "");
      if (t === undefined) throw new Error(`kube-api seed: no resource type for apiVersion ${o.apiVersion} kind ${o.kind}`);
      if (!o.metadata?.name) throw new Error(`kube-api seed: a ${o.kind} without metadata.name`);
      this.put(t, o, o.metadata.resourceVersion !== undefined);
    }
  }

  /** The current resourceVersion (of a List, or of a lab-derived object) as a string. */
  get resourceVersion(): string {
    return String(this.revision);
  }

  private map(t: ResourceType): Map<string, KubeObject> {
    const key = storageKey(t);
    let m = this.maps.get(key);
    if (m === undefined) this.maps.set(key, (m = new Map()));
    return m;
  }

  /** The stored object (apiVersion and kind omitted), or undefined. Not a copy: do not change it. */
  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.map(t).get(objectKey(t, namespace, name));
  }

  /** Objects of a type in key order, only those of `namespace` when given. Not copies. */
  list(t: ResourceType, namespace?: string): KubeObject[] {
    const key = storageKey(t);
    const m = this.map(t);
    let keys = this.sorted.get(key);
    if (keys === undefined) this.sorted.set(key, (keys = [...m.keys()].sort()));
    if (namespace === undefined || !t.namespaced) return keys.map((k) => m.get(k)!);
    // Sorted keys: a namespace's are one run, found by bisection.
    const prefix = `${namespace}/`;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: KubeObject[] = [];
    for (let i = lo; i < keys.length && keys[i]!.startsWith(prefix); i++) out.push(m.get(keys[i]!)!);
    return out;
  }

  /**
   * Stores `o` (apiVersion and kind dropped; its nested objects are taken over, not copied: do
   * not change them afterwards) under a new resourceVersion; a new object gets a uid and
   * creationTimestamp when it has none. `keepVersion`: keep the object's own resourceVersion (a
   * seed). Returns the stored object.
   */
  put(t: ResourceType, o: KubeObject, keepVersion = false): KubeObject {
    const stored = bare(o);
    const m = this.map(t);
    const key = objectKey(t, stored.metadata.namespace, stored.metadata.name);
    if (!m.has(key)) this.sorted.delete(storageKey(t));
    stored.metadata.uid ??= randomUUID();
    stored.metadata.creationTimestamp ??= apiTime(this.now());
    if (!keepVersion) stored.metadata.resourceVersion = String(this.revision++);
    m.set(key, stored);
    return stored;
  }

  /** Removes an object; false when there was none. */
  remove(t: ResourceType, namespace: string | undefined, name: string): boolean {
    const removed = this.map(t).delete(objectKey(t, namespace, name));
    if (removed) {
      this.sorted.delete(storageKey(t));
      this.revision++;
    }
    return removed;
  }

  /** Takes a resourceVersion for a change made elsewhere (the lab's files). */
  bump(): string {
    return String(this.revision++);
  }
}
