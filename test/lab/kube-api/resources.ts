/**
 * The API's resource types, read from the real discovery documents kept in
 * ../shared/data/kube-api/v1.31-kubeadm-ha/discovery (one APIResourceList per group version, as
 * kubectl fetches them): the double serves exactly those types and no others.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CRD_TYPES } from "./crd-types";

/** The kept real API answers (see its README.md). */
export const KUBE_API_DATA = path.resolve(__dirname, "..", "..", "..", "..", "shared", "data", "kube-api", "v1.31-kubeadm-ha");
/** Its discovery/ folder. */
export const DISCOVERY_DIR = path.join(KUBE_API_DATA, "discovery");

/** One resource type of one group version (an APIResource without a "/" in its name). */
export interface ResourceType {
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** Plural name: "nodes", "deployments". */
  readonly name: string;
  readonly singularName: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  /** Its subresources by name ("eviction", "status", ...). */
  readonly subresources: ReadonlyMap<string, { readonly kind: string; readonly group?: string; readonly version?: string; readonly verbs: readonly string[] }>;
}

interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  group?: string;
  version?: string;
}

/** "v1" or "apps/v1". */
export function groupVersion(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

/** The discovery file of a group version: api_v1.json, apis_apps_v1.json. */
export function discoveryFile(group: string, version: string): string {
  return path.join(DISCOVERY_DIR, group === "" ? `api_${version}.json` : `apis_${group}_${version}.json`);
}

function load(): ResourceType[] {
  const types: ResourceType[] = [];
  for (const file of fs.readdirSync(DISCOVERY_DIR).sort()) {
    const m = /^(?:api_(v\w+)|apis_(.+)_(v\w+))\.json$/.exec(file);
    if (!m) continue;
    const [group, version] = m[1] !== undefined ? ["", m[1]] : [m[2]!, m[3]!];
    const list = JSON.parse(fs.readFileSync(path.join(DISCOVERY_DIR, file), "utf8")) as { resources: APIResource[] };
    for (const r of list.resources.filter((x) => !x.name.includes("/"))) {
      const subresources = new Map(
        list.resources
          .filter((s) => s.name.startsWith(`${r.name}/`))
          .map((s) => [s.name.slice(r.name.length + 1), { kind: s.kind, group: s.group, version: s.version, verbs: s.verbs }] as const),
      );
      types.push({ group, version, name: r.name, singularName: r.singularName, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs, subresources });
    }
  }
  return types;
}

/** Every resource type of every group version the kept discovery documents list. */
export const RESOURCE_TYPES: readonly ResourceType[] = load();

/**
 * The type of `group/version/name`, or undefined when neither the kept discovery nor a CRD the
 * double knows (crd-types.ts: served only while its CRD is installed, ApiState.serves) lists it.
 */
export function resourceType(group: string, version: string, name: string): ResourceType | undefined {
  const match = (t: ResourceType) => t.group === group && t.version === version && t.name === name;
  return RESOURCE_TYPES.find(match) ?? CRD_TYPES.find(match);
}

/** The type of an object of `apiVersion` ("apps/v1") and `kind` (a kept or a CRD-defined one), or undefined. */
export function typeOfKind(apiVersion: string, kind: string): ResourceType | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const match = (t: ResourceType) => t.group === group && t.version === version && t.kind === kind;
  return RESOURCE_TYPES.find(match) ?? CRD_TYPES.find(match);
}

/**
 * Where objects of a type are kept: one store per group and resource, whatever the version
 * (autoscaling/v1 and v2 HorizontalPodAutoscalers are the same objects, as in etcd).
 */
export function storageKey(t: Pick<ResourceType, "group" | "name">): string {
  return t.group === "" ? t.name : `${t.name}.${t.group}`;
}
