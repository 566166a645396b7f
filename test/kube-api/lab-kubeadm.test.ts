/**
 * The lab's API double with mirrorStaticPods serves kubeadm's kube-system objects as the kubeadm
 * stand-in leaves them (test/lab/kube-api/lab-kubeadm.ts): kubeadm-config's kubernetesVersion
 * moves at `kubeadm upgrade apply`; the kube-proxy DaemonSet, its pod on every node and the
 * coredns Deployment move in kubeadm's add-on phase, which since kubeadm 1.28 runs only on the last
 * control-plane node upgraded (REFERENCE.md "kubeadm upgrade procedure";
 * https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/). Read with the
 * program's discovery (readCluster).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { readCluster } from "../../discovery/read-cluster";
import { createLab, type Lab, type LabNodeSpec } from "../lab/node-kit";
import { cp, expectExit, worker } from "../node-scripts/support";
import { labEndpoint } from "./client";

const labs: Lab[] = [];
afterAll(() => labs.forEach((l) => l.cleanup()));
function lab(nodes: LabNodeSpec[]): Lab {
  const l = createLab({ nodes, mirrorStaticPods: true });
  labs.push(l);
  return l;
}

/** What discovery reads of kubeadm's objects: kubernetesVersion, the kube-proxy DaemonSet's and each node's kube-proxy version, CoreDNS's tag. */
async function kubeadmView(l: Lab) {
  await labEndpoint(l); // the double listens
  const kc = new KubeConfig();
  kc.loadFromFile(l.kubeconfigPath);
  const c = await readCluster(kc);
  return {
    kubernetesVersion: c.kubeadm?.kubernetesVersion.toString(),
    kubeProxy: c.kubeProxy?.version.toString(),
    nodeKubeProxy: Object.fromEntries(c.nodes.map((n) => [n.name, n.kubeProxy?.toString()])),
    coreDns: c.coreDns?.image,
  };
}
const view = (kubernetesVersion: string, kubeProxy: string, nodes: string[]) => ({
  kubernetesVersion,
  kubeProxy,
  nodeKubeProxy: Object.fromEntries(nodes.map((n) => [n, kubeProxy])),
  coreDns: "registry.k8s.io/coredns/coredns:v1.11.3",
});
/** kubeadm 1.35.2 installed on the node (its package file: the apt-get stand-in's repository switch is not the point here). */
const installKubeadm = (l: Lab, node: string) => fs.writeFileSync(path.join(l.dir, "nodes", node, "pkg-kubeadm"), "1.35.2-1.1\n");

test("three control planes: kubeadm-config moves at apply, kube-proxy only at the last control plane's upgrade node", async () => {
  const nodes = ["cp-1", "cp-2", "cp-3", "w-1"];
  const l = lab([cp("cp-1"), cp("cp-2"), cp("cp-3"), worker("w-1")]);
  expect(await kubeadmView(l)).toEqual(view("1.34.6", "1.34.6", nodes));
  for (const n of ["cp-1", "cp-2", "cp-3", "w-1"]) installKubeadm(l, n);

  const apply = await l.run("cp-1", "kubeadm upgrade apply v1.35.2 --yes");
  expectExit(apply, 0);
  expect(apply.stdout).toContain("[upgrade/addons] skip upgrade addons because control plane instances [cp-2 cp-3] have not been upgraded");
  expect(await kubeadmView(l)).toEqual(view("1.35.2", "1.34.6", nodes));
  expectExit(await l.run("cp-2", "kubeadm upgrade node"), 0);
  expect(await kubeadmView(l)).toEqual(view("1.35.2", "1.34.6", nodes));
  expectExit(await l.run("w-1", "kubeadm upgrade node"), 0);
  expect(await kubeadmView(l)).toEqual(view("1.35.2", "1.34.6", nodes));

  const last = await l.run("cp-3", "kubeadm upgrade node");
  expectExit(last, 0);
  expect(last.stdout).toContain("[addons] Applied essential addon: kube-proxy");
  expect(await kubeadmView(l)).toEqual(view("1.35.2", "1.35.2", nodes));
});

test("one control plane: apply moves kube-proxy at once", async () => {
  const l = lab([cp("cp-1"), worker("w-1")]);
  installKubeadm(l, "cp-1");
  expectExit(await l.run("cp-1", "kubeadm upgrade apply v1.35.2 --yes"), 0);
  expect(await kubeadmView(l)).toEqual(view("1.35.2", "1.35.2", ["cp-1", "w-1"]));
});
