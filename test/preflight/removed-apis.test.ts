/**
 * Removed APIs per hop, against the real discovery responses and /metrics excerpt of a v1.31
 * kube-apiserver (../shared/data/kube-api/v1.31-kubeadm-ha/): a client had listed
 * flowcontrol.apiserver.k8s.io/v1beta3 FlowSchemas and PriorityLevelConfigurations, which 1.32
 * no longer serves (https://kubernetes.io/docs/reference/using-api/deprecation-guide/#v1-32).
 */
import fc from "fast-check";
import { readdirSync, readFileSync } from "fs";
import { join } from "path";
import { metricSamples } from "../../preflight/prometheus";
import {
  apiSubject,
  loadRemovedApis,
  REMOVED_APIS_SOURCE,
  RemovedApi,
  removedApiFindings,
  RequestedDeprecatedApis,
  servedFromDiscovery,
} from "../../preflight/removed-apis";
import embedded from "../../planning/data/removed-apis.json";
import { inputErrorOf } from "../helpers/errors";

const DATA_DIR = join(__dirname, "../../../shared/data/kube-api/v1.31-kubeadm-ha");
const json = (path: string): unknown => JSON.parse(readFileSync(join(DATA_DIR, path), "utf8"));
const METRIC = "apiserver_requested_deprecated_apis";

const discovery = {
  apis: json("apis.json"),
  api: json("api.json"),
  resourceLists: readdirSync(join(DATA_DIR, "discovery"))
    .filter((f) => /^(api|apis)_.*\.json$/.test(f))
    .map((f) => json(join("discovery", f))),
};
const served = servedFromDiscovery(discovery);
const metrics = readFileSync(join(DATA_DIR, "metrics-excerpt.txt"), "utf8");
const requestedOn = (...apiservers: string[]): RequestedDeprecatedApis[] => apiservers.map((apiserver) => ({ apiserver, samples: metricSamples(metrics, METRIC) }));

const FS = "flowschemas.v1beta3.flowcontrol.apiserver.k8s.io";
const PLC = "prioritylevelconfigurations.v1beta3.flowcontrol.apiserver.k8s.io";

describe("the data file", () => {
  const removals = loadRemovedApis();

  it("is valid, cites the guide and says when it was read", () => {
    expect(removals.length).toBe(embedded.removals.length);
    expect(REMOVED_APIS_SOURCE).toContain("https://kubernetes.io/docs/reference/using-api/deprecation-guide/");
    expect(REMOVED_APIS_SOURCE).toMatch(/as read \d{4}-\d{2}-\d{2}/);
  });

  it("is sorted by removedIn (as a number), group, version, resource", () => {
    const key = (r: RemovedApi) => [Number(r.removedIn.split(".")[1]), r.group, r.version, r.resource] as const;
    for (let i = 1; i < removals.length; i++) {
      const [a, b] = [key(removals[i - 1]!), key(removals[i]!)];
      const cmp = a[0] - b[0] || a[1].localeCompare(b[1]) || a[2].localeCompare(b[2]) || a[3].localeCompare(b[3]);
      expect({ at: i, cmp: Math.sign(cmp) }).toEqual({ at: i, cmp: -1 });
    }
  });

  it("covers every minor of the guide from 1.22 to 1.32, and 1.32's flowcontrol v1beta3", () => {
    expect([...new Set(removals.map((r) => r.removedIn))]).toEqual(["1.16", "1.22", "1.25", "1.26", "1.27", "1.29", "1.32"]);
    expect(removals.filter((r) => r.removedIn === "1.32").map((r) => apiSubject(r.group, r.version, r.resource))).toEqual([FS, PLC]);
    expect(removals.find((r) => r.resource === "flowschemas" && r.version === "v1beta3")?.replacement).toBe("flowcontrol.apiserver.k8s.io/v1");
  });

  it("names the bad entry", () => {
    const bad = {
      removals: [
        embedded.removals[0],
        { ...embedded.removals[1], removedIn: 1.22 },
        { ...embedded.removals[2], resource: "FlowSchema" },
        embedded.removals[0],
        { ...embedded.removals[3], replacement: null },
        { ...embedded.removals[3], resource: "x", extra: 1 },
      ],
    };
    const e = inputErrorOf(() => loadRemovedApis(bad));
    expect(e.problems.map((p) => p.key)).toEqual([
      "planning/data/removed-apis.json removals[1].removedIn",
      "planning/data/removed-apis.json removals[2].resource",
      "planning/data/removed-apis.json removals[3]",
      "planning/data/removed-apis.json removals[4].note",
      "planning/data/removed-apis.json removals[5].extra",
    ]);
    expect(e.message).toContain("repeats removals[0]");
    expect(inputErrorOf(() => loadRemovedApis({})).message).toContain("removals: is not a list");
  });
});

describe("servedFromDiscovery on the real responses", () => {
  it("lists every group version, the non-preferred flowcontrol v1beta3 included, with its resources", () => {
    expect(served.map((s) => s.groupVersion)).toContain("v1");
    expect(served.find((s) => s.groupVersion === "flowcontrol.apiserver.k8s.io/v1beta3")).toEqual({
      groupVersion: "flowcontrol.apiserver.k8s.io/v1beta3",
      resources: ["flowschemas", "prioritylevelconfigurations"],
    });
    expect(served.find((s) => s.groupVersion === "v1")?.resources).toContain("pods");
    expect(served.every((s) => s.resources !== undefined && s.resources.every((r) => !r.includes("/")))).toBe(true);
  });

  it("keeps a group version whose resource list is missing, with unknown resources", () => {
    const without = servedFromDiscovery({ ...discovery, resourceLists: [] });
    expect(without.find((s) => s.groupVersion === "flowcontrol.apiserver.k8s.io/v1beta3")).toEqual({ groupVersion: "flowcontrol.apiserver.k8s.io/v1beta3" });
  });

  it("names the response that is not of its kind", () => {
    expect(() => servedFromDiscovery({ ...discovery, apis: json("api.json") })).toThrow(/^\/apis: not an APIGroupList/);
    expect(() => servedFromDiscovery({ ...discovery, api: json("apis.json") })).toThrow(/^\/api: not an APIVersions/);
    expect(() => servedFromDiscovery({ ...discovery, resourceLists: [json("apis.json")] })).toThrow(/^resourceLists\[0\]: not an APIResourceList/);
  });
});

describe("removedApiFindings", () => {
  it("blocks the hop 1.31 -> 1.32 on the two flowcontrol v1beta3 APIs a client requested", () => {
    const findings = removedApiFindings({ hops: [{ index: 1, from: "1.31.4", to: "1.32.13" }], served, requested: requestedOn("kube-apiserver-cp-1") });
    expect(findings.map((f) => [f.id, f.kind, f.hop, f.blocking])).toEqual([
      [`removed-api-requested/${FS}`, "removed-api-requested", 1, true],
      [`removed-api-requested/${PLC}`, "removed-api-requested", 1, true],
    ]);
    const detail = findings[0]!.detail;
    expect(detail).toContain("flowschemas");
    expect(detail).toContain("flowcontrol.apiserver.k8s.io/v1beta3");
    expect(detail).toContain("kube-apiserver-cp-1");
    expect(detail).toContain("flowcontrol.apiserver.k8s.io/v1.");
    expect(detail).toContain("only since that apiserver started");
  });

  it("names every apiserver that counted requests, and a hop's `to` may be written v1.32 or taken from the previous hop", () => {
    const findings = removedApiFindings({
      hops: [
        { index: 1, to: "v1.31.14" },
        { index: 2, to: "v1.32" },
      ],
      served,
      requested: [...requestedOn("kube-apiserver-cp-2", "kube-apiserver-cp-1"), { apiserver: "kube-apiserver-cp-3", samples: [] }],
    });
    expect(findings.map((f) => [f.id, f.hop])).toEqual([
      [`removed-api-requested/${FS}`, 2],
      [`removed-api-requested/${PLC}`, 2],
    ]);
    expect(findings[0]!.detail).toContain("counted by kube-apiserver-cp-1, kube-apiserver-cp-2 (");
    expect(findings[0]!.detail).not.toContain("cp-3");
  });

  it("has no blocking finding for a hop to 1.31", () => {
    const findings = removedApiFindings({ hops: [{ index: 1, from: "1.30.14", to: "1.31.14" }], served, requested: requestedOn("kube-apiserver-cp-1") });
    expect(findings.filter((f) => f.blocking)).toEqual([]);
  });

  it("gives served-only APIs a non-blocking finding", () => {
    const findings = removedApiFindings({ hops: [{ index: 1, from: "1.31.4", to: "1.32.13" }], served, requested: [{ apiserver: "kube-apiserver-cp-1", samples: [] }] });
    expect(findings.map((f) => [f.id, f.kind, f.blocking])).toEqual([
      [`removed-api-served/${FS}`, "removed-api-served", false],
      [`removed-api-served/${PLC}`, "removed-api-served", false],
    ]);
    expect(findings[0]!.detail).toContain("breaks after this hop");
    expect(findings[0]!.detail).toContain("served as flowcontrol.apiserver.k8s.io/v1)");
  });

  it("gives one finding per API, on the first hop that reaches its minor, never repeated", () => {
    const hops = ["1.31.14", "1.32.13", "1.33.10", "1.34.9"].map((to, i) => ({ index: i + 1, to }));
    const requested = removedApiFindings({ hops, served, requested: requestedOn("kube-apiserver-cp-1") });
    expect(requested.map((f) => [f.id, f.hop])).toEqual([
      [`removed-api-requested/${FS}`, 2],
      [`removed-api-requested/${PLC}`, 2],
    ]);
    const servedOnly = removedApiFindings({ hops, served, requested: [] });
    expect(servedOnly.map((f) => [f.id, f.hop])).toEqual([
      [`removed-api-served/${FS}`, 2],
      [`removed-api-served/${PLC}`, 2],
    ]);
  });

  it("takes the removal from the data file when the label is empty, and ignores deprecated APIs with no removal", () => {
    const samples = [
      { labels: { group: "flowcontrol.apiserver.k8s.io", version: "v1beta3", resource: "flowschemas", subresource: "status", removed_release: "" }, value: 1 },
      { labels: { group: "", version: "v1", resource: "componentstatuses", subresource: "", removed_release: "" }, value: 1 },
      { labels: { group: "flowcontrol.apiserver.k8s.io", version: "v1beta3", resource: "prioritylevelconfigurations", subresource: "", removed_release: "1.32" }, value: 0 },
    ];
    const findings = removedApiFindings({ hops: [{ index: 1, from: "1.31.4", to: "1.32.13" }], served: [], requested: [{ apiserver: "kube-apiserver-cp-1", samples }] });
    expect(findings.map((f) => f.id)).toEqual([`removed-api-requested/${FS}`]);
    expect(findings[0]!.detail).toContain("(by the deprecation guide)");
  });

  it("writes core API ids without a group, and says when the guide names no replacement", () => {
    const removals: RemovedApi[] = [{ group: "", version: "v1beta9", resource: "widgets", removedIn: "1.40", replacement: null, note: "Nothing replaces it." }];
    const findings = removedApiFindings({
      hops: [{ index: 3, from: "1.39.0", to: "1.40.1" }],
      served: [{ groupVersion: "v1beta9" }],
      requested: [{ apiserver: "a", samples: [{ labels: { group: "", version: "v1beta9", resource: "widgets", removed_release: "1.40" }, value: 1 }] }],
      removals,
    });
    expect(findings.map((f) => [f.id, f.hop])).toEqual([["removed-api-requested/widgets.v1beta9", 3]]);
    expect(findings[0]!.detail).toContain("No API replaces it: Nothing replaces it.");
  });

  it("does not put a removal older than the first hop on a served API (something other than the built-in serves it)", () => {
    const findings = removedApiFindings({
      hops: [{ index: 1, from: "1.31.4", to: "1.32.13" }],
      served: [{ groupVersion: "storage.k8s.io/v1beta1" }, { groupVersion: "flowcontrol.apiserver.k8s.io/v1beta3", resources: ["flowschemas"] }],
      requested: [],
    });
    expect(findings.map((f) => f.id)).toEqual([`removed-api-served/${FS}`]);
  });

  it("names a hop whose version is not a version", () => {
    expect(() => removedApiFindings({ hops: [{ index: 2, to: "latest" }], served, requested: [] })).toThrow(/hop 2 to: "latest" is not a Kubernetes version/);
  });

  it("never blocks a hop whose minor is below the API's removal release (property)", () => {
    const removals = loadRemovedApis();
    const api = fc.oneof(
      fc.tuple(fc.constantFrom(...removals), fc.boolean()).map(([r, labelled]) => ({ group: r.group, version: r.version, resource: r.resource, label: labelled ? r.removedIn : "" })),
      fc.record({
        group: fc.constantFrom("", "example.com", "flowcontrol.apiserver.k8s.io"),
        version: fc.constantFrom("v1alpha1", "v1beta1", "v2beta3"),
        resource: fc.constantFrom("widgets", "gadgets", "flowschemas"),
        label: fc.integer({ min: 16, max: 45 }).map((m) => `1.${m}`),
      }),
    );
    const apiserver = fc.record({ apiserver: fc.constantFrom("kube-apiserver-cp-1", "kube-apiserver-cp-2"), apis: fc.array(api, { maxLength: 6 }) });
    const plan = fc.record({ start: fc.integer({ min: 15, max: 40 }), steps: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 8 }) });
    fc.assert(
      fc.property(plan, fc.array(apiserver, { maxLength: 3 }), ({ start, steps }, servers) => {
        let minor = start;
        const hops = steps.map((step, i) => {
          minor += step;
          return { index: i + 1, to: `1.${minor}.${i}` };
        });
        const requested = servers.map((s) => ({
          apiserver: s.apiserver,
          samples: s.apis.map((a) => ({ labels: { group: a.group, version: a.version, resource: a.resource, subresource: "", removed_release: a.label }, value: 1 })),
        }));
        const findings = removedApiFindings({ hops, served, requested, removals });
        const ids = findings.map((f) => f.id.replace(/^removed-api-(requested|served)\//, ""));
        expect(new Set(ids).size).toBe(ids.length);
        for (const f of findings.filter((x) => x.blocking)) {
          const hopMinor = Number(hops.find((h) => h.index === f.hop)!.to.split(".")[1]);
          const subject = f.id.slice("removed-api-requested/".length);
          const releases = servers
            .flatMap((s) => s.apis)
            .filter((a) => apiSubject(a.group, a.version, a.resource) === subject)
            .map((a) => a.label || removals.find((r) => apiSubject(r.group, r.version, r.resource) === subject)!.removedIn)
            .map((r) => Number(r.split(".")[1]));
          expect(hopMinor).toBeGreaterThanOrEqual(Math.min(...releases));
          // ... and it is the first hop that reaches it.
          const earlier = hops.filter((h) => h.index < f.hop).map((h) => Number(h.to.split(".")[1]));
          expect(earlier.every((m) => m < Math.min(...releases))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
