/** The ClusterUpgrade component under Pulumi mocks: children, their outputs, and refusal before registration. */
import * as pulumi from "@pulumi/pulumi";
import { installMocks, settled, valueOf } from "./helpers/pulumi-mocks";
import { ClusterUpgrade } from "../components/cluster-upgrade";
import { ClusterSpec, NodeState } from "../planning/cluster";
import { PlanningError } from "../planning/errors";
import { ReleaseCatalogue } from "../planning/releases";
import { KubeVersion, parseFullVersion } from "../planning/versions";

const registered = installMocks("test", false);
jest.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());

const v = (s: string): KubeVersion => parseFullVersion(s, "test");
function node(name: string, pool: string, version: string): NodeState {
  const x = v(version);
  const cp = pool === "control-plane" ? { "kube-apiserver": x, "kube-controller-manager": x, "kube-scheduler": x } : {};
  return { name, role: pool === "control-plane" ? "control-plane" : "worker", pool, versions: { ...cp, kubelet: x, kubectl: x, "kube-proxy": x } };
}
const cluster: ClusterSpec = {
  name: "lab",
  pools: [{ name: "web", strategy: "rolling", maxUnavailable: 1 }],
  nodes: [node("cp-1", "control-plane", "1.36.2"), node("web-1", "web", "1.36.2")],
};
const catalogue = ReleaseCatalogue.embedded();

beforeEach(() => registered.splice(0));

it("creates one NodeUpgrade per node, parented to the ClusterUpgrade, carrying current and target versions", async () => {
  const upgrade = new ClusterUpgrade("lab", { cluster, target: v("1.37.1"), catalogue, now: new Date("2026-11-21") });
  await valueOf(pulumi.all(upgrade.nodes.map((n) => n.urn)));
  expect(registered.map((r) => [r.type, r.name])).toEqual([
    ["cluster-maintenance:upgrade:ClusterUpgrade", "lab"],
    ["cluster-maintenance:upgrade:NodeUpgrade", "lab-cp-1"],
    ["cluster-maintenance:upgrade:NodeUpgrade", "lab-web-1"],
  ]);
  const [cp, web] = upgrade.nodes;
  expect(await valueOf(cp!.urn)).toContain("cluster-maintenance:upgrade:ClusterUpgrade$cluster-maintenance:upgrade:NodeUpgrade::lab-cp-1");
  expect(await valueOf(cp!.currentVersion)).toBe("1.36.2");
  expect(await valueOf(cp!.targetVersion)).toBe("1.37.1");
  expect(await valueOf(cp!.role)).toBe("control-plane");
  expect(await valueOf(cp!.steps)).toEqual(["v1.37/cp-1/etcd-snapshot", "v1.37/cp-1/control-plane-upgrade", "v1.37/cp-1/kubelet-upgrade"]);
  expect(await valueOf(web!.pool)).toBe("web");
  expect(await valueOf(web!.steps)).toEqual(["v1.37/web-1/worker-upgrade"]);
  expect(await valueOf(upgrade.hops)).toEqual(["1.37.1"]);
});

it("refuses an impossible upgrade before registering anything", async () => {
  expect(() => new ClusterUpgrade("lab", { cluster, target: v("1.35.9"), catalogue })).toThrow(PlanningError);
  expect(() => new ClusterUpgrade("lab", { cluster, target: v("1.35.9"), catalogue })).toThrow(/downgrades are not supported/);
  await settled();
  expect(registered).toEqual([]);
});
