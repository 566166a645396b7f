/** kubeadm-upgrade.sh and upgrade-kubelet.sh against simulated nodes, and the kubeadm/kubelet stand-ins' rules. */
import * as fs from "node:fs";
import * as path from "node:path";
import { createLab, labEtcdTag, type Lab } from "../lab/node-kit";
import { callsDuring, cp, expectExit, lines, mutations, realMachinePaths, worker } from "./support";

const realBefore = realMachinePaths();
const labs: Lab[] = [];
function lab(): Lab {
  const l = createLab({ nodes: [cp("cp-1"), cp("cp-2"), worker("w-1")] });
  labs.push(l);
  return l;
}
afterAll(() => labs.forEach((l) => l.cleanup()));

/** Repository and kubeadm package of a node at `version`. */
async function kubeadmAt(l: Lab, node: string, version: string): Promise<void> {
  const minor = version.split(".").slice(0, 2).join(".");
  expectExit(await l.runScript(node, "switch-repository.sh", [minor]), 0);
  expectExit(await l.runScript(node, "upgrade-packages.sh", [version, "kubeadm"]), 0);
}

describe("kubeadm-upgrade.sh", () => {
  test("apply on the first control plane, then node on the others and on a worker; second runs change nothing", async () => {
    const l = lab();
    await kubeadmAt(l, "cp-1", "1.35.9");
    const apply = await callsDuring(l, () => l.runScript("cp-1", "kubeadm-upgrade.sh", ["apply", "1.35.9"]));
    expectExit(apply.result, 0);
    expect(lines(apply.calls).filter((c) => c.includes(" kubeadm "))).toEqual([
      "cp-1 kubeadm version -o short",
      "cp-1 kubeadm upgrade plan v1.35.9",
      "cp-1 kubeadm upgrade apply v1.35.9 --yes",
      "cp-1 kubeadm config images list --kubernetes-version v1.35.9",
    ]);
    expect(l.nodeState("cp-1").apiserverTag).toBe("v1.35.9");
    expect(l.nodeState("cp-1").staticPods).toEqual({
      etcd: labEtcdTag("1.35.9"),
      "kube-apiserver": "v1.35.9",
      "kube-controller-manager": "v1.35.9",
      "kube-scheduler": "v1.35.9",
    });
    expect(l.clusterVersion()).toBe("1.35.9");
    expect(l.nodeState("cp-2").apiserverTag).toBe("v1.34.6");

    const again = await callsDuring(l, () => l.runScript("cp-1", "kubeadm-upgrade.sh", ["apply", "1.35.9"]));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain(
      `cp-1: already done: kube-apiserver, kube-controller-manager and kube-scheduler are v1.35.9, etcd is ${labEtcdTag("1.35.9")}`,
    );
    expect(mutations(again.calls)).toEqual([]);

    await kubeadmAt(l, "cp-2", "1.35.9");
    const node = await callsDuring(l, () => l.runScript("cp-2", "kubeadm-upgrade.sh", ["node", "1.35.9"]));
    expectExit(node.result, 0);
    expect(mutations(node.calls)).toEqual(["kubeadm upgrade node"]);
    expect(l.nodeState("cp-2").apiserverTag).toBe("v1.35.9");
    expect(mutations((await callsDuring(l, () => l.runScript("cp-2", "kubeadm-upgrade.sh", ["node", "1.35.9"]))).calls)).toEqual([]);

    await kubeadmAt(l, "w-1", "1.35.9");
    const w = await callsDuring(l, () => l.runScript("w-1", "kubeadm-upgrade.sh", ["node", "1.35.9"]));
    expectExit(w.result, 0);
    expect(mutations(w.calls)).toEqual(["kubeadm upgrade node"]);
    expect(l.nodeState("w-1").markers).toEqual(["kubeadm-upgrade-node-v1.35.9"]);
    expect(l.nodeState("w-1").kubeadmVersion).toBe("1.35.9");
    const w2 = await callsDuring(l, () => l.runScript("w-1", "kubeadm-upgrade.sh", ["node", "1.35.9"]));
    expectExit(w2.result, 0);
    expect(w2.result.stderr).toContain("w-1: already done: kubeadm upgrade node ran for v1.35.9");
    expect(mutations(w2.calls)).toEqual([]);
  });

  test("refuses to run before the kubeadm package is at the version", async () => {
    const l = lab();
    const r = await callsDuring(l, () => l.runScript("cp-1", "kubeadm-upgrade.sh", ["apply", "1.35.9"]));
    expectExit(r.result, 1);
    expect(r.result.stderr).toContain("kubeadm-upgrade.sh: cp-1: kubeadm is v1.34.6, not v1.35.9: upgrade the kubeadm package first");
    expect(mutations(r.calls)).toEqual([]);
  });

  test("a worker's kubeadm upgrade node before the control plane's apply is refused and leaves no marker", async () => {
    const l = lab();
    await kubeadmAt(l, "w-1", "1.35.9");
    const r = await l.runScript("w-1", "kubeadm-upgrade.sh", ["node", "1.35.9"]);
    expectExit(r, 1);
    expect(r.stderr).toContain("the control plane is at v1.34.6, not v1.35.9");
    expect(r.stderr).toContain("cluster-maintenance: kubeadm-upgrade.sh: w-1: kubeadm upgrade node (v1.35.9) failed");
    expect(l.nodeState("w-1").markers).toEqual([]);
  });

  test("apply of a two-minor jump is refused by kubeadm; apply on a worker is refused by the script", async () => {
    const l = lab();
    await kubeadmAt(l, "cp-1", "1.36.4");
    const r = await l.runScript("cp-1", "kubeadm-upgrade.sh", ["apply", "1.36.4"]);
    expectExit(r, 1);
    expect(r.stderr).toContain("kubeadm can upgrade only 1 minor version at a time");
    expect(r.stderr).toContain("kubeadm-upgrade.sh: cp-1: kubeadm upgrade plan v1.36.4 failed");
    expect(l.nodeState("cp-1").apiserverTag).toBe("v1.34.6");
    const w = await l.runScript("w-1", "kubeadm-upgrade.sh", ["apply", "1.34.6"]);
    expectExit(w, 1);
    expect(w.stderr).toContain("w-1: kubeadm upgrade apply v1.34.6: no ");
    expect(w.stderr).toContain("this is not a control-plane node");
  });

  test("rejects bad arguments with exit 2", async () => {
    const l = lab();
    expectExit(await l.runScript("cp-1", "kubeadm-upgrade.sh", ["upgrade", "1.35.9"]), 2);
    expectExit(await l.runScript("cp-1", "kubeadm-upgrade.sh", ["apply", "v1.35.9"]), 2);
    expectExit(await l.runScript("cp-1", "kubeadm-upgrade.sh", ["apply"]), 2);
  });
});

describe("kubeadm-upgrade.sh resumes a kubeadm upgrade that stopped part way", () => {
  const kubeadmCalls = (calls: Parameters<typeof lines>[0]) => lines(calls).filter((c) => c.includes(" kubeadm "));
  const interruptAfter = (l: Lab, node: string, component: string) =>
    fs.writeFileSync(path.join(l.dir, "nodes", node, "kubeadm-interrupt-after"), `${component}\n`);

  test.each([
    ["apply", "cp-1", "kube-apiserver"],
    ["apply", "cp-1", "kube-controller-manager"],
    ["node", "cp-2", "kube-apiserver"],
  ] as const)("%s on %s interrupted after the %s manifest: the next run runs kubeadm again and finishes", async (mode, node, component) => {
    const l = lab();
    if (mode === "node") {
      await kubeadmAt(l, "cp-1", "1.35.9");
      expectExit(await l.runScript("cp-1", "kubeadm-upgrade.sh", ["apply", "1.35.9"]), 0);
    }
    await kubeadmAt(l, node, "1.35.9");
    interruptAfter(l, node, component);
    const first = await l.runScript(node, "kubeadm-upgrade.sh", [mode, "1.35.9"]);
    expectExit(first, 1);
    const half = l.nodeState(node).staticPods;
    expect(half["kube-apiserver"]).toBe("v1.35.9");
    expect(half["kube-scheduler"]).toBe("v1.34.6");

    const r = await callsDuring(l, () => l.runScript(node, "kubeadm-upgrade.sh", [mode, "1.35.9"]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain(`kubeadm-upgrade.sh: ${node}: kube-apiserver is v1.35.9 but not all of this node's control plane is:`);
    expect(r.result.stderr).toContain("kube-scheduler v1.34.6");
    expect(mutations(r.calls)).toEqual(mode === "apply" ? ["kubeadm upgrade apply v1.35.9 --yes"] : ["kubeadm upgrade node"]);
    expect(l.nodeState(node).staticPods).toEqual({
      etcd: labEtcdTag("1.35.9"),
      "kube-apiserver": "v1.35.9",
      "kube-controller-manager": "v1.35.9",
      "kube-scheduler": "v1.35.9",
    });
    const again = await callsDuring(l, () => l.runScript(node, "kubeadm-upgrade.sh", [mode, "1.35.9"]));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain("already done:");
    expect(mutations(again.calls)).toEqual([]);
  });

  test("etcd behind what kubeadm of the version installs (everything else at the version): kubeadm runs again", async () => {
    const l = lab();
    await kubeadmAt(l, "cp-1", "1.35.9");
    expectExit(await l.runScript("cp-1", "kubeadm-upgrade.sh", ["apply", "1.35.9"]), 0);
    const etcd = path.join(l.dir, "nodes", "cp-1", "root", "etc/kubernetes/manifests/etcd.yaml");
    fs.writeFileSync(etcd, fs.readFileSync(etcd, "utf8").replace(labEtcdTag("1.35.9"), labEtcdTag("1.34.6")));
    const r = await callsDuring(l, () => l.runScript("cp-1", "kubeadm-upgrade.sh", ["apply", "1.35.9"]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain(`etcd ${labEtcdTag("1.34.6")}, kubeadm v1.35.9 installs ${labEtcdTag("1.35.9")}`);
    expect(kubeadmCalls(r.calls)).toContain("cp-1 kubeadm upgrade apply v1.35.9 --yes");
    expect(l.nodeState("cp-1").staticPods.etcd).toBe(labEtcdTag("1.35.9"));
  });

  test("etcd newer than what kubeadm installs (kubeadm never downgrades it) counts as done", async () => {
    const l = lab();
    await kubeadmAt(l, "cp-1", "1.35.9");
    expectExit(await l.runScript("cp-1", "kubeadm-upgrade.sh", ["apply", "1.35.9"]), 0);
    const etcd = path.join(l.dir, "nodes", "cp-1", "root", "etc/kubernetes/manifests/etcd.yaml");
    fs.writeFileSync(etcd, fs.readFileSync(etcd, "utf8").replace(labEtcdTag("1.35.9"), "3.9.0-0"));
    const r = await callsDuring(l, () => l.runScript("cp-1", "kubeadm-upgrade.sh", ["apply", "1.35.9"]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain("already done: kube-apiserver, kube-controller-manager and kube-scheduler are v1.35.9, etcd is 3.9.0-0");
    expect(mutations(r.calls)).toEqual([]);
  });
});

describe("kubeadm-upgrade.sh on a node already past the version", () => {
  const kubeadmCalls = (calls: Parameters<typeof lines>[0]) => lines(calls).filter((c) => c.includes(" kubeadm "));

  test.each([
    ["1.37.1", "1.35.9"],
    ["1.35.10", "1.35.9"], // patches compared as numbers
  ])("control planes at %s: apply and node for %s run no kubeadm and change nothing", async (at, step) => {
    const l = createLab({ nodes: [cp("cp-1", { version: at }), cp("cp-2", { version: at }), worker("w-1", { version: at })] });
    labs.push(l);
    for (const [node, mode] of [["cp-1", "apply"], ["cp-2", "node"]] as const) {
      const before = l.nodeState(node);
      const r = await callsDuring(l, () => l.runScript(node, "kubeadm-upgrade.sh", [mode, step]));
      expectExit(r.result, 0);
      expect(r.result.stderr).toContain(`cluster-maintenance: kubeadm-upgrade.sh: ${node}: already past v${step}: kube-apiserver is v${at}; nothing changed`);
      expect(kubeadmCalls(r.calls)).toEqual([]);
      expect(mutations(r.calls)).toEqual([]);
      expect(l.nodeState(node)).toEqual(before);
    }
    expect(l.clusterVersion()).toBe(at);
  });

  test("a worker whose kubelet is past the version: kubeadm upgrade node does not run", async () => {
    const l = createLab({ nodes: [cp("cp-1", { version: "1.37.1" }), worker("w-1", { version: "1.37.1" })] });
    labs.push(l);
    const r = await callsDuring(l, () => l.runScript("w-1", "kubeadm-upgrade.sh", ["node", "1.35.9"]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain("kubeadm-upgrade.sh: w-1: already past v1.35.9: kubelet is v1.37.1; nothing changed");
    expect(kubeadmCalls(r.calls)).toEqual([]);
    expect(mutations(r.calls)).toEqual([]);
    expect(l.nodeState("w-1").markers).toEqual([]);
  });

  test("a worker where kubeadm upgrade node ran for a later patch (its kubelet not upgraded yet): nothing runs for an earlier one", async () => {
    const l = createLab({ nodes: [cp("cp-1", { version: "1.35.10" }), worker("w-1", { version: "1.35.9" })] });
    labs.push(l);
    expectExit(await l.runScript("w-1", "upgrade-packages.sh", ["1.35.10", "kubeadm"]), 0);
    expectExit(await l.runScript("w-1", "kubeadm-upgrade.sh", ["node", "1.35.10"]), 0);
    expect(l.nodeState("w-1")).toMatchObject({ markers: ["kubeadm-upgrade-node-v1.35.10"], kubeletRunning: "1.35.9" });
    const r = await callsDuring(l, () => l.runScript("w-1", "kubeadm-upgrade.sh", ["node", "1.35.9"]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain("kubeadm-upgrade.sh: w-1: already past v1.35.9: kubeadm upgrade node ran for v1.35.10; nothing changed");
    expect(kubeadmCalls(r.calls)).toEqual([]);
    expect(mutations(r.calls)).toEqual([]);
  });
});

describe("kubeadm stand-in rules", () => {
  test("apply needs --yes (no TTY) and the exact kubeadm version; upgrade node refuses a kubeadm older than the control plane or two minors ahead", async () => {
    const l = lab();
    await kubeadmAt(l, "cp-1", "1.35.9");
    const noYes = await l.run("cp-1", "kubeadm upgrade apply v1.35.9 </dev/null");
    expectExit(noYes, 1);
    expect(noYes.stderr).toContain("won't proceed");
    const otherPatch = await l.run("cp-1", "kubeadm upgrade apply v1.35.8 --yes");
    expectExit(otherPatch, 1);
    expect(otherPatch.stderr).toContain("kubeadm v1.35.9 is not the requested v1.35.8");
    expectExit(await l.run("cp-1", "kubeadm upgrade apply v1.35.9 --yes"), 0);
    // w-1's kubeadm (1.34.6) is now older than the control plane.
    const older = await l.run("w-1", "kubeadm upgrade node");
    expectExit(older, 1);
    expect(older.stderr).toContain("kubeadm v1.34.6 is older than the control plane (v1.35.9)");
    // w-1 (still 1.34) with a 1.36 kubeadm: more than one minor newer than the node.
    await kubeadmAt(l, "w-1", "1.36.4");
    const skip = await l.run("w-1", "kubeadm upgrade node");
    expectExit(skip, 1);
    expect(skip.stderr).toContain("at most one minor version");
  });
});

describe("upgrade-kubelet.sh", () => {
  test("installs kubelet and kubectl, restarts the kubelet at the new version; a second run changes nothing", async () => {
    const l = lab();
    expectExit(await l.runScript("w-1", "switch-repository.sh", ["1.35"]), 0);
    const r = await callsDuring(l, () => l.runScript("w-1", "upgrade-kubelet.sh", ["1.35.9"]));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual([
      "apt-mark unhold kubelet kubectl",
      "apt-get -o DPkg::Lock::Timeout=300 install -y kubelet=1.35.9-* kubectl=1.35.9-*",
      "apt-mark hold kubelet kubectl",
      "systemctl daemon-reload",
      "systemctl restart kubelet",
    ]);
    const s = l.nodeState("w-1");
    expect(s.kubeletRunning).toBe("1.35.9");
    expect(s.kubeletActive).toBe(true);
    expect(s.packages).toEqual({ kubeadm: "1.34.6-1.1", kubectl: "1.35.9-1.1", kubelet: "1.35.9-1.1" });
    expect(s.held).toEqual(["kubeadm", "kubectl", "kubelet"]);
    expect((await l.run("w-1", "kubelet --version")).stdout).toBe("Kubernetes v1.35.9\n");

    const again = await callsDuring(l, () => l.runScript("w-1", "upgrade-kubelet.sh", ["1.35.9"]));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain("w-1: already done: kubelet and kubectl at 1.35.9 and held, kubelet v1.35.9 running");
    expect(mutations(again.calls)).toEqual([]);
  });

  test("a restart that failed after the install is redone by the next run", async () => {
    const l = lab();
    expectExit(await l.runScript("w-1", "switch-repository.sh", ["1.35"]), 0);
    l.injectFailure("w-1", "systemctl restart kubelet");
    const r = await l.runScript("w-1", "upgrade-kubelet.sh", ["1.35.9"]);
    expectExit(r, 1);
    expect(r.stderr).toContain("cluster-maintenance: upgrade-kubelet.sh: w-1: systemctl restart kubelet failed");
    expect(l.nodeState("w-1").kubeletRunning).toBe("1.34.6");
    expect(l.nodeState("w-1").packages.kubelet).toBe("1.35.9-1.1");
    l.clearFailures();
    const again = await callsDuring(l, () => l.runScript("w-1", "upgrade-kubelet.sh", ["1.35.9"]));
    expectExit(again.result, 0);
    expect(mutations(again.calls)).toEqual(["systemctl daemon-reload", "systemctl restart kubelet"]);
    expect(l.nodeState("w-1").kubeletRunning).toBe("1.35.9");
    expect(l.nodeState("w-1").markers).toEqual([]);
  });

  test("where kubelet --version shows the installed binary (as on a real node) a failed restart is still redone", async () => {
    const l = createLab({ nodes: [cp("cp-1"), worker("w-1", { kubeletVersionFromPackage: true })] });
    labs.push(l);
    expectExit(await l.runScript("w-1", "switch-repository.sh", ["1.35"]), 0);
    l.injectFailure("w-1", "systemctl restart kubelet");
    expectExit(await l.runScript("w-1", "upgrade-kubelet.sh", ["1.35.9"]), 1);
    expect((await l.run("w-1", "kubelet --version")).stdout).toBe("Kubernetes v1.35.9\n");
    expect(l.nodeState("w-1").kubeletRunning).toBe("1.34.6");
    expect(l.nodeState("w-1").markers).toEqual(["kubelet-restart-pending"]);
    l.clearFailures();
    const again = await callsDuring(l, () => l.runScript("w-1", "upgrade-kubelet.sh", ["1.35.9"]));
    expectExit(again.result, 0);
    expect(mutations(again.calls)).toEqual(["systemctl daemon-reload", "systemctl restart kubelet"]);
    expect(l.nodeState("w-1")).toMatchObject({ kubeletRunning: "1.35.9", markers: [] });
  });

  test.each([
    ["1.37.1", "1.35.9"],
    ["1.35.10", "1.35.9"], // patches compared as numbers
  ])("a node at %s is past %s: no install, no hold change, no restart", async (at, step) => {
    const l = createLab({ nodes: [cp("cp-1", { version: at }), worker("w-1", { version: at })] });
    labs.push(l);
    const before = l.nodeState("w-1");
    const r = await callsDuring(l, () => l.runScript("w-1", "upgrade-kubelet.sh", [step]));
    expectExit(r.result, 0);
    expect(r.result.stderr).toContain(`cluster-maintenance: upgrade-kubelet.sh: w-1: already past ${step} (kubelet ${at}, kubectl ${at}, kubelet v${at} running): nothing changed`);
    expect(mutations(r.calls)).toEqual([]);
    expect(l.nodeState("w-1")).toEqual(before);
  });

  test("a kubectl past the version is left as it is; the kubelet is upgraded and restarted", async () => {
    const l = lab();
    expectExit(await l.runScript("w-1", "switch-repository.sh", ["1.35"]), 0);
    expectExit(await l.run("w-1", "apt-mark unhold kubectl && apt-get install -y kubectl=1.35.10-* && apt-mark hold kubectl"), 0);
    const r = await callsDuring(l, () => l.runScript("w-1", "upgrade-kubelet.sh", ["1.35.9"]));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual([
      "apt-mark unhold kubelet",
      "apt-get -o DPkg::Lock::Timeout=300 install -y kubelet=1.35.9-*",
      "apt-mark hold kubelet",
      "systemctl daemon-reload",
      "systemctl restart kubelet",
    ]);
    expect(r.result.stderr).toContain("w-1: kubelet v1.35.9 running and held; past 1.35.9, left as it is: kubectl 1.35.10");
    expect(l.nodeState("w-1")).toMatchObject({ kubeletRunning: "1.35.9", packages: { kubeadm: "1.34.6-1.1", kubectl: "1.35.10-1.1", kubelet: "1.35.9-1.1" } });
    const again = await callsDuring(l, () => l.runScript("w-1", "upgrade-kubelet.sh", ["1.35.9"]));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain("w-1: already done: kubelet at 1.35.9 and held, kubelet v1.35.9 running; past 1.35.9, left as it is: kubectl 1.35.10");
    expect(mutations(again.calls)).toEqual([]);
  });

  test("a stopped kubelet at the right version is started again", async () => {
    const l = lab();
    expectExit(await l.run("w-1", "systemctl stop kubelet"), 0);
    const r = await callsDuring(l, () => l.runScript("w-1", "upgrade-kubelet.sh", ["1.34.6"]));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual(["systemctl daemon-reload", "systemctl restart kubelet"]);
    expect(l.nodeState("w-1").kubeletActive).toBe(true);
  });
});

describe("the real machine", () => {
  test("its apt, kubernetes and marker paths were not touched", () => {
    expect(realMachinePaths()).toEqual(realBefore);
  });
});
