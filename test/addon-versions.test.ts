/**
 * etcd and CoreDNS in kubeadm's words (issue 12 item 5): planning/data/kubeadm-addons.json is
 * valid and speaks for every minor the release catalogue knows; discovery's etcd and CoreDNS
 * from the shared real responses (../shared/data/kube-api/v1.31-kubeadm-ha); the version tables
 * (planning/version-tables.ts) with and without them.
 */
import { clusterAddons, parseLiveCluster } from "../discovery/live-cluster";
import { addonMinors, kubeadmAddons, parseAddonData } from "../planning/addon-versions";
import data from "../planning/data/kubeadm-addons.json";
import { planUpgrade } from "../planning/plan";
import { ReleaseCatalogue } from "../planning/releases";
import { renderText } from "../planning/render";
import { KUBELET_ROWS_PER_NODE_MAX, versionTables } from "../planning/version-tables";
import { sharedRawCluster } from "./discovery/static-api";
import { cp, v, worker } from "./helpers/cluster-fixtures";

const catalogue = ReleaseCatalogue.embedded();
const now = new Date("2026-11-21");

describe("planning/data/kubeadm-addons.json", () => {
  it("lists every minor the release catalogue knows, each value with its source or the reason it was not read", () => {
    expect(addonMinors()).toEqual(catalogue.all().map((r) => r.minor));
    for (const minor of addonMinors()) {
      const a = kubeadmAddons(minor)!;
      expect(a.etcd ? a.etcdSource : a.etcdNotRead).toMatch(/\S/);
      expect(a.coreDns ? a.coreDnsSource : a.coreDnsNotRead).toMatch(/\S/);
    }
  });

  it("has, from 1.33 on, what the changelogs' kubeadm notes establish, and says why for the rest", () => {
    const values = [33, 34, 35, 36, 37].map((m) => [m, kubeadmAddons(m)?.etcd, kubeadmAddons(m)?.coreDns]);
    expect(values).toEqual([
      [33, "3.5.24-0", "v1.12.0"],
      [34, undefined, "v1.12.1"],
      [35, "3.6.6-0", undefined],
      [36, undefined, "v1.14.2"],
      [37, undefined, undefined],
    ]);
    expect(kubeadmAddons(33)!.etcdSource).toContain("pull request 135018");
    expect(kubeadmAddons(34)!.coreDnsSource).toContain("CHANGELOG/CHANGELOG-1.34.md at commit 008b3652959ca58af8be3fb5b6ecfe9ae7638282");
    expect(kubeadmAddons(35)!.etcdSource).toContain("pull request 135271");
    expect(kubeadmAddons(36)!.coreDnsSource).toContain("pull request 137605");
    // What the notes could not settle: the image tag behind an etcd release, which CoreDNS 1.35 ended at, anything of 1.37.
    expect(kubeadmAddons(34)!.etcdNotRead).toMatch(/^not read: .*3\.6\.1-1/);
    expect(kubeadmAddons(35)!.coreDnsNotRead).toMatch(/^not read: /);
    expect(kubeadmAddons(36)!.etcdNotRead).toMatch(/^not read: .*v3\.6\.8/);
    expect(kubeadmAddons(37)!.etcdNotRead).toContain("v1.37.0-alpha.1");
    expect(kubeadmAddons(37)!.coreDnsNotRead).toContain("v1.37.0-alpha.1");
    for (const minor of [24, 25, 26, 27, 28, 29, 30, 31]) expect(kubeadmAddons(minor)?.etcdNotRead).toMatch(/^not read: /);
    expect(data.caveat).toContain("a patch that moved etcd without a note would not show");
  });

  it("has kubeadm 1.32's etcd and CoreDNS from its constants.go, naming the commit", () => {
    const a = kubeadmAddons(32)!;
    expect([a.etcd, a.coreDns]).toEqual(["3.5.24-0", "v1.11.3"]);
    expect(a.etcdSource).toContain("cmd/kubeadm/app/constants/constants.go at commit 00886ac01fec1c8432967e8bb597828f46a9ba8b");
    expect(data.source).toContain("SupportedEtcdVersion");
  });

  it("refuses an entry without a source, a value not in its form, a value neither given nor explained, a minor twice", () => {
    const bad = (minors: object[]) => () => parseAddonData({ minors } as Parameters<typeof parseAddonData>[0]);
    expect(bad([{ minor: "1.40", etcd: "3.6.9-0", coreDnsNotRead: "x" }])).toThrow("minors[0]: etcd 3.6.9-0 has no etcdSource");
    expect(bad([{ minor: "1.40", etcd: "v3.6.9", etcdSource: "s", coreDnsNotRead: "x" }])).toThrow('etcd "v3.6.9" is not of the form');
    expect(bad([{ minor: "1.40", etcdNotRead: "x" }])).toThrow("no coreDns and no coreDnsNotRead saying why");
    expect(bad([{ minor: "1.40", etcdNotRead: "x", coreDnsNotRead: "x" }, { minor: "1.40", etcdNotRead: "x", coreDnsNotRead: "x" }])).toThrow("minor 1.40 is listed twice");
    expect(bad([{ minor: "40", etcdNotRead: "x", coreDnsNotRead: "x" }])).toThrow('minor "40" is not 1.N');
  });
});

describe("the shared v1.31 cluster", () => {
  const addons = clusterAddons(parseLiveCluster("https://10.0.0.10:6443", sharedRawCluster()));

  it("runs etcd 3.5.15-0 on cp-1, cp-2, cp-3 (their mirror pods' image tags) and CoreDNS v1.11.3 (the Deployment's)", () => {
    expect(addons).toEqual({
      etcd: [{ node: "cp-1", version: "3.5.15-0" }, { node: "cp-2", version: "3.5.15-0" }, { node: "cp-3", version: "3.5.15-0" }],
      coreDns: "v1.11.3",
    });
  });

  it("has no etcd rows without kubeadm's etcd pods (an external etcd), nor a CoreDNS row without its Deployment", () => {
    const raw = sharedRawCluster();
    const bare = clusterAddons(parseLiveCluster("https://x", { ...raw, coreDns: undefined, pods: raw.pods.filter((p) => p.metadata?.labels?.component !== "etcd") }));
    expect(bare).toEqual({ etcd: [] });
    const plan = planUpgrade({ name: "c", pools: [], nodes: [cp("cp-1", "1.31.4")] }, v("1.32.13"), { catalogue, now });
    const lines = versionTables(plan, bare);
    expect(lines.some((l) => /^(etcd|CoreDNS) /.test(l))).toBe(false);
    expect(lines.at(-1)).toContain("no etcd pod of kubeadm's found (an external etcd, which kubeadm does not upgrade)");
  });
});

describe("the version tables", () => {
  const addons = { etcd: [{ node: "cp-1", version: "3.5.15-0" }], coreDns: "v1.11.3" };
  const plan = planUpgrade(
    { name: "c", pools: [{ name: "general", strategy: "rolling", maxUnavailable: 1 }], nodes: [cp("cp-1", "1.31.4"), worker("w-1", "general", "1.31.4"), worker("w-2", "general", "1.30.14")] },
    v("1.32.13"), { catalogue, now },
  );

  it("print kubeadm's rows: control plane and etcd per node, kube-proxy, CoreDNS; then the kubelets per node", () => {
    expect(versionTables(plan, addons)).toEqual([
      "COMPONENT                 NODE      CURRENT    TARGET",
      "kube-apiserver            cp-1      v1.31.4    v1.32.13",
      "kube-controller-manager   cp-1      v1.31.4    v1.32.13",
      "kube-scheduler            cp-1      v1.31.4    v1.32.13",
      "kube-proxy                1 node    v1.30.14   v1.32.13",
      "kube-proxy                2 nodes   v1.31.4    v1.32.13",
      "CoreDNS                             v1.11.3    v1.11.3",
      "etcd                      cp-1      3.5.15-0   3.5.24-0",
      "",
      "COMPONENT   NODE      CURRENT    TARGET",
      "kubelet     cp-1      v1.31.4    v1.32.13",
      "kubelet     w-1       v1.31.4    v1.32.13",
      "kubelet     w-2       v1.30.14   v1.32.13",
      "kubectl     1 node    v1.30.14   v1.32.13",
      "kubectl     2 nodes   v1.31.4    v1.32.13",
      "",
      "etcd, CoreDNS TARGET: kubeadm 1.32 installs etcd 3.5.24-0 and CoreDNS v1.11.3 (planning/data/kubeadm-addons.json, which names where each was read)",
    ]);
  });

  it("say etcd and CoreDNS were not read when the plan is not from the cluster, and what kubeadm installs", () => {
    const text = renderText(plan);
    expect(text).not.toMatch(/^(etcd|CoreDNS) /m);
    expect(text).toContain("\netcd, CoreDNS: not read (the plan is not from the cluster); kubeadm 1.32 installs etcd 3.5.24-0 and CoreDNS v1.11.3 (planning/data/kubeadm-addons.json, which names where each was read)\n");
  });

  it("show TARGET unknown for a minor the data file has no value for", () => {
    const later = planUpgrade({ name: "c", pools: [], nodes: [cp("cp-1", "1.36.4")] }, v("1.37.1"), { catalogue, now });
    const lines = versionTables(later, addons);
    expect(lines).toContain("etcd                      cp-1     3.5.15-0   unknown");
    expect(lines.at(-1)).toBe("etcd, CoreDNS TARGET: etcd and CoreDNS of kubeadm 1.37: not in planning/data/kubeadm-addons.json (it says why), so TARGET unknown");
  });

  it("show the TARGET the data file has and unknown for the one it lacks (kubeadm 1.35: etcd, no CoreDNS)", () => {
    const to35 = planUpgrade({ name: "c", pools: [], nodes: [cp("cp-1", "1.34.6")] }, v("1.35.4"), { catalogue, now });
    const lines = versionTables(to35, addons);
    expect(lines).toContain("etcd                      cp-1     3.5.15-0   3.6.6-0");
    expect(lines).toContain("CoreDNS                            v1.11.3    unknown");
    expect(lines.at(-1)).toBe("etcd, CoreDNS TARGET: kubeadm 1.35 installs etcd 3.6.6-0 (planning/data/kubeadm-addons.json, which names where each was read); CoreDNS of kubeadm 1.35: not in planning/data/kubeadm-addons.json (it says why), so TARGET unknown");
  });

  it(`group the kubelets by version past ${KUBELET_ROWS_PER_NODE_MAX} nodes`, () => {
    const workers = Array.from({ length: KUBELET_ROWS_PER_NODE_MAX }, (_, i) => worker(`w-${i + 1}`, "general", "1.31.4"));
    const big = planUpgrade({ name: "c", pools: [{ name: "general", strategy: "rolling", maxUnavailable: 10 }], nodes: [cp("cp-1", "1.31.4"), ...workers] }, v("1.32.13"), { catalogue, now });
    const lines = versionTables(big, addons);
    expect(lines).toContain(`kubelet     ${KUBELET_ROWS_PER_NODE_MAX + 1} nodes   v1.31.4   v1.32.13`);
    expect(lines.filter((l) => l.startsWith("kubelet "))).toHaveLength(1);
  });
});
