/**
 * Removed APIs per hop: the API versions a hop's minor stops serving (from the Kubernetes
 * deprecation guide, planning/data/removed-apis.json), matched against what the cluster's
 * discovery lists and against `apiserver_requested_deprecated_apis` from every kube-apiserver.
 * Sources: https://kubernetes.io/docs/reference/using-api/deprecation-guide/ ,
 * https://kubernetes.io/docs/reference/using-api/deprecation-policy/ ,
 * https://kubernetes.io/blog/2020/09/03/warnings/ and https://www.kubernetes.dev/resources/keps/1693/
 * (the metric apiserver_requested_deprecated_apis), and
 * ../shared/data/kube-api/v1.31-kubeadm-ha/ (real discovery and /metrics of a v1.31 apiserver).
 * Pure functions: reading the cluster is the caller's.
 */
import embedded from "../planning/data/removed-apis.json";
import { ProblemList } from "../planning/errors";
import type { KubeVersion } from "../planning/versions";
import { Finding, findingId } from "./findings";
import type { MetricSample } from "./prometheus";

/** Where the embedded data comes from, as the data file says (link and date read). */
export const REMOVED_APIS_SOURCE: string = embedded.source;

/** One API version of one resource that a minor stops serving. */
export interface RemovedApi {
  /** API group; `""` for the core group (`/api/v1`). */
  readonly group: string;
  /** `v1beta3` */
  readonly version: string;
  /** Plural, lower case, as discovery and the metric's `resource` label name it: `flowschemas`. */
  readonly resource: string;
  /** The first minor that no longer serves it, `1.32`. */
  readonly removedIn: string;
  /** `<group>/<version>` (`v1` for core) the guide says to migrate to; null when it names no API. */
  readonly replacement: string | null;
  /** What the migration changes, when worth saying. */
  readonly note?: string;
}

/** A group version the cluster serves and its resources, as discovery lists them. */
export interface ServedGroupVersion {
  /** `flowcontrol.apiserver.k8s.io/v1beta3`; `v1` for the core group. */
  readonly groupVersion: string;
  /**
   * The resources (plural, lower case; subresources such as `flowschemas/status` left out).
   * Undefined when the group version's resource list could not be read: then every removal
   * of the group version counts as served.
   */
  readonly resources?: readonly string[];
}

/** The `apiserver_requested_deprecated_apis` samples of one kube-apiserver. */
export interface RequestedDeprecatedApis {
  /** Which apiserver: its mirror pod's name, e.g. `kube-apiserver-cp-1`. */
  readonly apiserver: string;
  /** From {@link metricSamples}(metricsText, "apiserver_requested_deprecated_apis"). */
  readonly samples: readonly MetricSample[];
}

/** One hop, as the plan has it. */
export interface RemovedApiHop {
  /** 1-based hop index (Finding.hop). */
  readonly index: number;
  /** The version the hop brings the control plane to: `1.32.13`, `v1.32.13` or a KubeVersion; only the minor matters. */
  readonly to: string | KubeVersion;
  /**
   * The control plane's version before the hop. Optional: when absent, the previous hop's
   * `to`; for the first hop, every removal up to its minor is taken as the hop's.
   */
  readonly from?: string | KubeVersion;
}

/** Input of {@link removedApiFindings}. */
export interface RemovedApiInput {
  /** The hops in order. */
  readonly hops: readonly RemovedApiHop[];
  /** What the cluster serves now ({@link servedFromDiscovery}). */
  readonly served: readonly ServedGroupVersion[];
  /** Per kube-apiserver, its deprecated-API request samples. */
  readonly requested: readonly RequestedDeprecatedApis[];
  /** The removals to match; defaults to {@link loadRemovedApis}(). */
  readonly removals?: readonly RemovedApi[];
}

const DATA_FILE = "planning/data/removed-apis.json";
const GROUP = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VERSION = /^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$/;
const RESOURCE = /^[a-z][a-z0-9]*$/;
const MINOR = /^1\.(0|[1-9][0-9]*)$/;
const GROUP_VERSION = /^([a-z0-9.-]+\/)?v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$/;

/**
 * The removals of the deprecation guide, as kept in planning/data/removed-apis.json
 * (source: https://kubernetes.io/docs/reference/using-api/deprecation-guide/ ; the file's
 * `source` says when it was read), validated.
 *
 * @param data the parsed file; defaults to the embedded copy (a parameter so tests can feed bad data).
 * @returns every entry, in file order.
 * @throws InputErrors (planning/errors.ts) listing every bad entry by its place, e.g.
 *   `planning/data/removed-apis.json removals[3].removedIn: is not a minor ...`: a field
 *   missing or of the wrong form, an unknown field, or the same group/version/resource twice.
 */
export function loadRemovedApis(data: unknown = embedded): readonly RemovedApi[] {
  const problems = new ProblemList();
  const removals = (data as { removals?: unknown } | null)?.removals;
  if (!Array.isArray(removals)) {
    problems.add(`${DATA_FILE} removals`, removals, "is not a list", "give removals as a JSON array of entries");
    problems.throwIfAny("invalid removed-API data");
  }
  const seen = new Map<string, number>();
  const out: RemovedApi[] = [];
  (removals as unknown[]).forEach((raw, i) => {
    const at = `${DATA_FILE} removals[${i}]`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      problems.add(at, raw, "is not an entry", 'write {"group": "flowcontrol.apiserver.k8s.io", "version": "v1beta3", "resource": "flowschemas", "removedIn": "1.32", "replacement": "flowcontrol.apiserver.k8s.io/v1"}');
      return;
    }
    const e = raw as Record<string, unknown>;
    const before = problems.size;
    const check = (field: string, ok: boolean, problem: string, fix: string) => {
      if (!ok) problems.add(`${at}.${field}`, e[field], problem, fix);
    };
    check("group", typeof e.group === "string" && GROUP.test(e.group), "is not an API group", 'write the group in lower case, "" for the core group');
    check("version", typeof e.version === "string" && VERSION.test(e.version), "is not an API version", 'write it like "v1beta3"');
    check("resource", typeof e.resource === "string" && RESOURCE.test(e.resource), "is not a resource name", 'write the plural, lower case, as discovery lists it ("flowschemas")');
    check("removedIn", typeof e.removedIn === "string" && MINOR.test(e.removedIn), "is not a minor", 'write it as a quoted string such as "1.32"');
    check(
      "replacement",
      e.replacement === null || (typeof e.replacement === "string" && GROUP_VERSION.test(e.replacement)),
      "is not a group/version or null",
      'write it like "flowcontrol.apiserver.k8s.io/v1", or null (with a note) when the guide names no API',
    );
    check("note", e.note === undefined || (typeof e.note === "string" && e.note.trim() !== ""), "is not a sentence", "write a short sentence or leave it out");
    if (e.replacement === null) check("note", typeof e.note === "string" && e.note.trim() !== "", "is missing for an entry without replacement", "say what the guide says to do instead");
    for (const field of Object.keys(e)) {
      if (!["group", "version", "resource", "removedIn", "replacement", "note"].includes(field)) {
        problems.add(`${at}.${field}`, e[field], "is not a field of a removal", "use group, version, resource, removedIn, replacement, note");
      }
    }
    if (problems.size > before) return;
    const entry = e as unknown as RemovedApi;
    const key = apiSubject(entry.group, entry.version, entry.resource);
    const first = seen.get(key);
    if (first !== undefined) {
      problems.add(at, key, `repeats removals[${first}]`, "keep one entry per group/version/resource");
      return;
    }
    seen.set(key, i);
    out.push(entry.note === undefined ? { group: entry.group, version: entry.version, resource: entry.resource, removedIn: entry.removedIn, replacement: entry.replacement } : { ...entry });
  });
  problems.throwIfAny("invalid removed-API data");
  return out;
}

/**
 * The subject of a removed-API finding id: `<resource>.<version>.<group>`, or
 * `<resource>.<version>` for the core group (`flowschemas.v1beta3.flowcontrol.apiserver.k8s.io`).
 */
export function apiSubject(group: string, version: string, resource: string): string {
  return group === "" ? `${resource}.${version}` : `${resource}.${version}.${group}`;
}

/** `group/version`, `version` alone for the core group. */
function groupVersionOf(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

/**
 * The removed-API findings of every hop. Rules:
 * - **requested** (`removed-api-requested`, blocking): an API some kube-apiserver counted in
 *   `apiserver_requested_deprecated_apis` (a sample with value > 0) whose removal minor (the
 *   sample's `removed_release` label, else the data file's `removedIn`; neither: no removal is
 *   scheduled, no finding) is at most the hop's minor blocks the first hop whose minor reaches
 *   it. The rule (issue 12 item 3); the metric (KEP-1693):
 *   https://kubernetes.io/blog/2020/09/03/warnings/ . It counts requests only since
 *   each apiserver started (REFERENCE.md, "Measured on a real kube-apiserver"), so the detail
 *   says so.
 * - **served** (`removed-api-served`, not blocking): an API the cluster's discovery lists and
 *   the data file says the hop removes (the hop's `from` minor < `removedIn` <= its `to`
 *   minor), with no request counted: clients still using it break after the hop; the objects
 *   stored through it are converted by the apiserver and stay readable through the replacement
 *   ("All existing persisted objects are accessible via the new API",
 *   https://kubernetes.io/docs/reference/using-api/deprecation-guide/).
 * One finding per API, on the hop where it first matters, never repeated on later hops; a
 * requested API gets only the requested finding. APIs are matched on group, version and
 * resource (subresources count as their resource).
 *
 * @returns findings with id `removed-api-requested/<resource>.<version>.<group>` (core:
 *   `<resource>.<version>`, see {@link apiSubject}) or `removed-api-served/...`, sorted by hop then id.
 * @throws Error naming the hop when a hop's `to`/`from` is not a Kubernetes version.
 */
export function removedApiFindings(input: RemovedApiInput): Finding[] {
  const removals = input.removals ?? loadRemovedApis();
  const byApi = new Map(removals.map((r) => [apiSubject(r.group, r.version, r.resource), r]));
  const hops = input.hops.map((h, i) => {
    const to = minorOf(h.to, `hop ${h.index} to`);
    const fromValue = h.from ?? (i > 0 ? input.hops[i - 1]!.to : undefined);
    const from = fromValue === undefined ? -Infinity : minorOf(fromValue, `hop ${h.index} from`);
    return { index: h.index, from, to };
  });
  const findings: Finding[] = [];

  // Requested: group the samples per API, across apiservers.
  const requested = new Map<string, { group: string; version: string; resource: string; apiservers: Set<string>; labelMinor?: number }>();
  for (const server of input.requested) {
    for (const s of server.samples) {
      if (!(s.value > 0)) continue;
      const group = s.labels.group ?? "";
      const version = s.labels.version ?? "";
      const resource = s.labels.resource ?? "";
      if (version === "" || resource === "") continue;
      const key = apiSubject(group, version, resource);
      const entry = requested.get(key) ?? { group, version, resource, apiservers: new Set<string>() };
      entry.apiservers.add(server.apiserver);
      const label = s.labels.removed_release ?? "";
      if (MINOR.test(label)) {
        const m = Number(label.split(".")[1]);
        // Apiservers of different versions may disagree; the earliest removal decides.
        entry.labelMinor = entry.labelMinor === undefined ? m : Math.min(entry.labelMinor, m);
      }
      requested.set(key, entry);
    }
  }
  for (const [key, r] of requested) {
    const data = byApi.get(key);
    const removedMinor = r.labelMinor ?? (data ? Number(data.removedIn.split(".")[1]) : undefined);
    if (removedMinor === undefined) continue;
    const hop = hops.find((h) => h.to >= removedMinor);
    if (hop === undefined) continue;
    const servers = [...r.apiservers].sort();
    const gv = groupVersionOf(r.group, r.version);
    const whence = r.labelMinor !== undefined ? "by its removed_release label" : "by the deprecation guide";
    findings.push({
      id: findingId("removed-api-requested", key),
      kind: "removed-api-requested",
      hop: hop.index,
      detail:
        `Clients requested ${r.resource} in ${gv}, which 1.${removedMinor} no longer serves (${whence}): counted by ${servers.join(", ")} ` +
        `(apiserver_requested_deprecated_apis, which counts only since that apiserver started). ${migration(data)}`,
      blocking: true,
    });
  }

  // Served: what discovery lists that a hop removes, with no request counted.
  const servedKeys = new Set<string>();
  for (const gv of input.served) {
    const slash = gv.groupVersion.lastIndexOf("/");
    const group = slash < 0 ? "" : gv.groupVersion.slice(0, slash);
    const version = gv.groupVersion.slice(slash + 1);
    const listed = gv.resources === undefined ? undefined : new Set(gv.resources.map((r) => r.split("/")[0]!));
    for (const r of removals) {
      if (r.group !== group || r.version !== version) continue;
      if (listed !== undefined && !listed.has(r.resource)) continue;
      servedKeys.add(apiSubject(r.group, r.version, r.resource));
    }
  }
  for (const key of [...servedKeys].sort()) {
    if (requested.has(key) && findings.some((f) => f.id === findingId("removed-api-requested", key))) continue;
    const r = byApi.get(key)!;
    const removedMinor = Number(r.removedIn.split(".")[1]);
    const hop = hops.find((h) => h.from < removedMinor && removedMinor <= h.to);
    if (hop === undefined) continue;
    const gv = groupVersionOf(r.group, r.version);
    const stored = r.replacement === null ? "" : ` (objects stored through it stay, converted by the apiserver and served as ${r.replacement})`;
    findings.push({
      id: findingId("removed-api-served", key),
      kind: "removed-api-served",
      hop: hop.index,
      detail:
        `The cluster serves ${r.resource} in ${gv}, which 1.${removedMinor} no longer serves, and no kube-apiserver counted a request for it since it started: ` +
        `a client that still uses it breaks after this hop${stored}. ${migration(r)}`,
      blocking: false,
    });
  }
  return findings.sort((a, b) => a.hop - b.hop || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * The migration sentence of a finding, from the data file's entry: its replacement, or its
 * note when the guide names no replacement (the note's other advice stays in the data file).
 */
function migration(r: RemovedApi | undefined): string {
  if (r === undefined) return "The deprecation guide does not list it: see the apiserver's deprecation warning for its replacement.";
  if (r.replacement === null) return `No API replaces it: ${r.note ?? "see the deprecation guide"}`;
  return `Move its clients and manifests to ${r.replacement}.`;
}

/** The minor of `1.32.13`, `v1.32` or a KubeVersion. @throws Error naming `what` otherwise. */
function minorOf(v: string | KubeVersion, what: string): number {
  if (typeof v !== "string") return v.minor;
  const m = /^v?1\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?$/.exec(v);
  if (!m) throw new Error(`${what}: ${JSON.stringify(v)} is not a Kubernetes version (write it like "1.32.13")`);
  return Number(m[1]);
}

/** The responses {@link servedFromDiscovery} reads. */
export interface DiscoveryResponses {
  /** GET /apis: an APIGroupList (`{kind: "APIGroupList", groups: [{name, versions: [{groupVersion, version}], ...}]}`). */
  readonly apis: unknown;
  /** GET /api: an APIVersions (`{kind: "APIVersions", versions: ["v1"]}`). */
  readonly api: unknown;
  /**
   * GET /api/<v> and /apis/<group>/<version>: APIResourceLists
   * (`{kind: "APIResourceList", groupVersion, resources: [{name, ...}]}`), one per group
   * version that could be read; a group version without one is served with unknown resources.
   */
  readonly resourceLists: readonly unknown[];
}

/**
 * What the cluster serves, from its legacy (unaggregated) discovery responses: every group
 * version of /apis (all versions, not only the preferred one) and of /api (core), each with
 * the resources of its APIResourceList (subresources such as `flowschemas/status` left out).
 * Shapes: https://kubernetes.io/docs/concepts/overview/kubernetes-api/#unaggregated-discovery ; real
 * responses in ../shared/data/kube-api/v1.31-kubeadm-ha/ (apis.json, api.json, discovery/).
 *
 * @returns one entry per group version, sorted by groupVersion; `resources` undefined when no
 *   resource list was given for it.
 * @throws Error naming the response (`/apis`, `/api`, `resourceLists[2]`) that is not of its kind.
 */
export function servedFromDiscovery(responses: DiscoveryResponses): ServedGroupVersion[] {
  const groupList = responses.apis as { kind?: unknown; groups?: unknown } | null;
  if (groupList?.kind !== "APIGroupList" || !Array.isArray(groupList.groups)) throw new Error("/apis: not an APIGroupList (expected kind APIGroupList with groups[])");
  const core = responses.api as { kind?: unknown; versions?: unknown } | null;
  if (core?.kind !== "APIVersions" || !Array.isArray(core.versions)) throw new Error("/api: not an APIVersions (expected kind APIVersions with versions[])");
  const groupVersions = new Set<string>();
  for (const v of core.versions) {
    if (typeof v !== "string") throw new Error(`/api: version ${JSON.stringify(v)} is not a string`);
    groupVersions.add(v);
  }
  groupList.groups.forEach((g: unknown, i: number) => {
    const versions = (g as { versions?: unknown } | null)?.versions;
    if (!Array.isArray(versions)) throw new Error(`/apis: groups[${i}] has no versions[]`);
    for (const v of versions) {
      const gv = (v as { groupVersion?: unknown } | null)?.groupVersion;
      if (typeof gv !== "string") throw new Error(`/apis: groups[${i}] has a version without groupVersion`);
      groupVersions.add(gv);
    }
  });
  const resources = new Map<string, string[]>();
  responses.resourceLists.forEach((raw, i) => {
    const list = raw as { kind?: unknown; groupVersion?: unknown; resources?: unknown } | null;
    if (list?.kind !== "APIResourceList" || typeof list.groupVersion !== "string" || !Array.isArray(list.resources)) {
      throw new Error(`resourceLists[${i}]: not an APIResourceList (expected kind APIResourceList with groupVersion and resources[])`);
    }
    const names = list.resources.map((r: unknown) => (r as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === "string" && !n.includes("/"));
    resources.set(list.groupVersion, [...new Set([...(resources.get(list.groupVersion) ?? []), ...names])].sort());
  });
  return [...groupVersions].sort().map((gv) => {
    const r = resources.get(gv);
    return r === undefined ? { groupVersion: gv } : { groupVersion: gv, resources: r };
  });
}
