/**
 * Removing a node for good, in the lab: reset-node.sh on the node (the kubeadm stand-in's `kubeadm
 * reset`, systemctl, iptables and ipvsadm stand-ins; on a control-plane node the stand-in removes the
 * node's member from a real three-member etcd 3.4, test/lab/etcd-cluster.ts), etcd-member.sh after it,
 * and delete-nodes.sh --dead (run on the kubectl host, the real kubectl against the API double).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { labEtcdFor, startEtcdCluster, type LabEtcdCluster } from "../lab/etcd-cluster";
import { createLab, type Lab, type LabPod } from "../lab/node-kit";
import { callsDuring, cp, expectExit, kubeletStoppedFor, mutations, realMachinePaths, worker } from "./support";

const realBefore = realMachinePaths();
const labs: Lab[] = [];
afterAll(() => labs.forEach((l) => l.cleanup()));

const root = (l: Lab, node: string) => path.join(l.dir, "nodes", node, "root");
const put = (l: Lab, node: string, file: string, content = "lab\n") => {
  const f = path.join(root(l, node), file);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, content);
};
const exists = (l: Lab, node: string, file: string) => fs.existsSync(path.join(root(l, node), file));
const entries = (l: Lab, node: string, dir: string) => (exists(l, node, dir) ? fs.readdirSync(path.join(root(l, node), dir)).sort() : []);
const iptables = (l: Lab, node: string, table: string) => fs.readFileSync(path.join(l.dir, "nodes", node, "iptables", table), "utf8");
const msg = (script: string, node: string, text: string) => `cluster-maintenance: ${script}: ${node}: ${text}`;
/** The script's own lines on stderr (kubeadm's output left out). */
const own = (stderr: string, script: string) => stderr.split("\n").filter((l) => l.startsWith(`cluster-maintenance: ${script}: `));
const reset = (l: Lab, node: string, args: readonly string[] = [node]) => l.runScript(node, "reset-node.sh", args, { timeoutMs: 150_000 });

/** What kubeadm init/join and a CNI plugin and kube-proxy leave on a node (besides createLab's kubelet.conf or manifests). */
function kubeadmNode(l: Lab, node: string, options: { ipvs?: boolean; inputPolicy?: "ACCEPT" | "DROP" } = {}): void {
  put(l, node, "etc/kubernetes/pki/ca.crt");
  put(l, node, "var/lib/kubelet/config.yaml", "kind: KubeletConfiguration\n");
  put(l, node, "var/lib/kubelet/pki/kubelet-client-current.pem");
  put(l, node, "etc/cni/net.d/10-calico.conflist", "{}\n");
  put(l, node, "etc/cni/net.d/calico-kubeconfig");
  put(l, node, "root/.kube/config", "# the operator's kubeconfig\n");
  const nd = path.join(l.dir, "nodes", node);
  fs.mkdirSync(path.join(nd, "iptables"), { recursive: true });
  fs.writeFileSync(
    path.join(nd, "iptables", "filter"),
    [`-P INPUT ${options.inputPolicy ?? "ACCEPT"}`, "-P FORWARD DROP", "-P OUTPUT ACCEPT", "-N KUBE-FIREWALL", "-N KUBE-FORWARD",
      "-A INPUT -j KUBE-FIREWALL", "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "-A FORWARD -j KUBE-FORWARD",
      "-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -j DROP", ""].join("\n"),
  );
  fs.writeFileSync(
    path.join(nd, "iptables", "nat"),
    ["-P PREROUTING ACCEPT", "-P INPUT ACCEPT", "-P OUTPUT ACCEPT", "-P POSTROUTING ACCEPT", "-N KUBE-SERVICES",
      "-A PREROUTING -j KUBE-SERVICES", "-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y", ""].join("\n"),
  );
  if (options.ipvs) {
    fs.writeFileSync(path.join(nd, "pkg-ipvsadm"), "1:1.31-1build2\n");
    fs.writeFileSync(path.join(nd, "ipvs"), "-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.1:443 -r 10.0.0.10:6443 -m -w 1\n");
  }
}

describe("reset-node.sh on a worker", () => {
  test("kubeadm reset --force, kubelet stopped and disabled, CNI configuration removed, iptables flushed, IPVS cleared; ~/.kube/config kept; a second run changes nothing", async () => {
    const l = createLab({ nodes: [cp("cp-1"), worker("w-1")] });
    labs.push(l);
    kubeadmNode(l, "w-1", { ipvs: true });
    const r = await callsDuring(l, () => reset(l, "w-1"));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual([
      "kubeadm reset --force",
      "systemctl disable kubelet",
      "iptables -F",
      "iptables -t nat -F",
      "iptables -t mangle -F",
      "iptables -X",
      "ipvsadm --clear",
    ]);
    expect(own(r.result.stderr, "reset-node.sh")).toEqual([
      msg("reset-node.sh", "w-1", "kubeadm reset --force (left: /etc/kubernetes/kubelet.conf /etc/kubernetes/pki/* /var/lib/kubelet/*)"),
      msg("reset-node.sh", "w-1", "kubeadm reset done"),
      msg("reset-node.sh", "w-1", "kubelet disabled (it does not start at boot)"),
      msg("reset-node.sh", "w-1", "removed the CNI configuration in /etc/cni/net.d: 10-calico.conflist calico-kubeconfig"),
      msg("reset-node.sh", "w-1", "iptables flushed (filter, nat, mangle; user chains of filter deleted): rules were left in filter nat"),
      msg("reset-node.sh", "w-1", "IPVS tables cleared (ipvsadm --clear)"),
      msg("reset-node.sh", "w-1", "reset"),
    ]);
    // kubeadm's own output, through to stderr: a worker has no etcd.
    expect(r.result.stderr).toContain("[reset] No etcd config found. Assuming external etcd");
    const s = l.nodeState("w-1");
    expect(s.kubeletActive).toBe(false);
    expect(fs.existsSync(path.join(l.dir, "nodes", "w-1", "enabled-kubelet"))).toBe(false);
    expect(entries(l, "w-1", "etc/kubernetes")).toEqual(["manifests", "pki"].filter((d) => exists(l, "w-1", `etc/kubernetes/${d}`)));
    expect(entries(l, "w-1", "etc/kubernetes/pki")).toEqual([]);
    expect(entries(l, "w-1", "var/lib/kubelet")).toEqual([]);
    expect(entries(l, "w-1", "etc/cni/net.d")).toEqual([]);
    expect(iptables(l, "w-1", "filter")).toBe("-P INPUT ACCEPT\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n");
    // The documented commands delete user chains in filter only (iptables -X has no -t): nat keeps its empty chain.
    expect(iptables(l, "w-1", "nat")).toBe("-P PREROUTING ACCEPT\n-P INPUT ACCEPT\n-P OUTPUT ACCEPT\n-P POSTROUTING ACCEPT\n-N KUBE-SERVICES\n");
    expect(fs.readFileSync(path.join(l.dir, "nodes", "w-1", "ipvs"), "utf8")).toBe("");
    expect(fs.readFileSync(path.join(root(l, "w-1"), "root/.kube/config"), "utf8")).toBe("# the operator's kubeconfig\n");
    // The Node object stays (delete-nodes.sh deletes it), with its kubelet now stopped.
    expect(l.registered("w-1")).toBe(true);

    const again = await callsDuring(l, () => reset(l, "w-1"));
    expectExit(again.result, 0);
    expect(mutations(again.calls)).toEqual([]);
    expect(own(again.result.stderr, "reset-node.sh")).toEqual([
      msg("reset-node.sh", "w-1", "already reset: nothing kubeadm installed is left (kubeconfigs, manifests, pki, /var/lib/kubelet, /var/lib/etcd)"),
      msg("reset-node.sh", "w-1", "already reset: kubelet is stopped and disabled"),
      msg("reset-node.sh", "w-1", "already reset: /etc/cni/net.d is empty"),
      msg("reset-node.sh", "w-1", "already reset: no iptables rules in filter, nat and mangle"),
      msg("reset-node.sh", "w-1", "already reset: IPVS has no virtual services"),
      msg("reset-node.sh", "w-1", "reset"),
    ]);
  });

  test("a running kubelet that kubeadm reset did not stop is stopped by the script; a node without iptables and ipvsadm says so", async () => {
    const l = createLab({ nodes: [cp("cp-1"), worker("w-1")] });
    labs.push(l);
    // Already reset by kubeadm earlier, but the kubelet was started again and the CNI config is back.
    fs.rmSync(path.join(root(l, "w-1"), "etc/kubernetes/kubelet.conf"));
    put(l, "w-1", "etc/cni/net.d/10-flannel.conflist");
    fs.writeFileSync(path.join(l.dir, "nodes", "w-1", "no-iptables"), "");
    const r = await callsDuring(l, () => reset(l, "w-1"));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual(["systemctl stop kubelet", "systemctl disable kubelet"]);
    expect(own(r.result.stderr, "reset-node.sh")).toEqual([
      msg("reset-node.sh", "w-1", "already reset: nothing kubeadm installed is left (kubeconfigs, manifests, pki, /var/lib/kubelet, /var/lib/etcd)"),
      msg("reset-node.sh", "w-1", "kubelet stopped"),
      msg("reset-node.sh", "w-1", "kubelet disabled (it does not start at boot)"),
      msg("reset-node.sh", "w-1", "removed the CNI configuration in /etc/cni/net.d: 10-flannel.conflist"),
      msg("reset-node.sh", "w-1", "iptables is not installed: no iptables rules to flush"),
      msg("reset-node.sh", "w-1", "ipvsadm is not installed: no IPVS tables to clear"),
      msg("reset-node.sh", "w-1", "reset"),
    ]);
    expect(l.nodeState("w-1").kubeletActive).toBe(false);
  });

  test("GUARD: with the filter INPUT policy DROP nothing is flushed (it would cut the SSH session); a warning says what to run by hand; the rest is reset, exit 0", async () => {
    const l = createLab({ nodes: [cp("cp-1"), worker("w-1")] });
    labs.push(l);
    kubeadmNode(l, "w-1", { inputPolicy: "DROP" });
    const filter = iptables(l, "w-1", "filter");
    const nat = iptables(l, "w-1", "nat");
    const r = await callsDuring(l, () => reset(l, "w-1"));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual(["kubeadm reset --force", "systemctl disable kubelet"]);
    expect(r.calls.filter((c) => c.command === "iptables").map((c) => c.args.join(" "))).toEqual(["-S INPUT", "-S OUTPUT"]);
    const lines = own(r.result.stderr, "reset-node.sh");
    expect(lines).toContain(
      msg("reset-node.sh", "w-1", "warning: iptables NOT flushed: the filter table's policy is INPUT DROP, so flushing its rules would cut this SSH session and every connection they let through. To reset iptables by hand from the machine's console: iptables -P INPUT ACCEPT && iptables -P OUTPUT ACCEPT && iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X"),
    );
    expect(lines[lines.length - 1]).toBe(msg("reset-node.sh", "w-1", "reset, except iptables (policy INPUT DROP: see the warning above)"));
    expect(iptables(l, "w-1", "filter")).toBe(filter);
    expect(iptables(l, "w-1", "nat")).toBe(nat);
    expect(entries(l, "w-1", "etc/cni/net.d")).toEqual([]);
    expect(l.nodeState("w-1").kubeletActive).toBe(false);
  });

  test("the kubeadm stand-in, like kubeadm with no TTY: reset without --force asks, reads no answer and stops (exit 1), nothing reset", async () => {
    const l = createLab({ nodes: [cp("cp-1"), worker("w-1")] });
    labs.push(l);
    const r = await l.run("w-1", "kubeadm reset </dev/null");
    expectExit(r, 1);
    expect(r.stdout).toContain("[reset] Are you sure you want to proceed? [y/N]: ");
    expect(r.stderr).toContain("error execution phase preflight: won't proceed; the user didn't answer (Y|y) in order to continue");
    expect(exists(l, "w-1", "etc/kubernetes/kubelet.conf")).toBe(true);
    expect(l.nodeState("w-1").kubeletActive).toBe(true);
  });

  test("bad usage: exit 2, nothing called", async () => {
    const l = createLab({ nodes: [cp("cp-1"), worker("w-1")] });
    labs.push(l);
    for (const args of [[], ["w-1", "w-2"], ["W_1"], ["$(reboot)"], ["-f"]]) {
      const r = await callsDuring(l, () => reset(l, "w-1", args));
      expectExit(r.result, 2);
      expect(r.calls.filter((c) => c.command !== "sudo")).toEqual([]);
    }
    expect(exists(l, "w-1", "etc/kubernetes/kubelet.conf")).toBe(true);
  });
});

describe("reset-node.sh on control-plane nodes with a real three-member etcd", () => {
  let l: Lab;
  let etcd: LabEtcdCluster;
  beforeAll(async () => {
    l = createLab({ nodes: [cp("cp-1"), cp("cp-2"), cp("cp-3")] });
    labs.push(l);
    etcd = await startEtcdCluster(["cp-1", "cp-2", "cp-3"]);
    for (const n of ["cp-1", "cp-2", "cp-3"]) {
      kubeadmNode(l, n);
      labEtcdFor(l, n, etcd);
      for (const f of ["admin", "super-admin", "controller-manager", "scheduler", "kubelet"]) put(l, n, `etc/kubernetes/${f}.conf`);
      put(l, n, "etc/kubernetes/pki/etcd/ca.crt");
      put(l, n, "var/lib/etcd/member/snap/db");
    }
    for (let i = 0; i < 10; i++) await etcd.put(`/registry/lab/k-${i}`, `v-${i}`);
  }, 60_000);
  afterAll(async () => {
    await etcd?.stop();
  });
  const memberArgs = (node: string) => ["remove", node, "true", etcd.endpoint("cp-1"), etcd.caCert, etcd.cert, etcd.key];

  test("cp-3: kubeadm reset removes its member from the real etcd and cleans the node; etcd-member.sh remove then has nothing to remove", async () => {
    const r = await callsDuring(l, () => reset(l, "cp-3"));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual(["kubeadm reset --force", "systemctl disable kubelet", "iptables -F", "iptables -t nat -F", "iptables -t mangle -F", "iptables -X"]);
    expect(r.result.stderr).toContain("[reset] Deleted contents of the etcd data directory: /var/lib/etcd");
    expect(r.result.stderr).not.toContain("Failed to remove etcd member");
    expect(own(r.result.stderr, "reset-node.sh")[0]).toBe(
      msg("reset-node.sh", "cp-3", "kubeadm reset --force (left: /etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf /etc/kubernetes/kubelet.conf /etc/kubernetes/controller-manager.conf /etc/kubernetes/scheduler.conf /etc/kubernetes/manifests/* /etc/kubernetes/pki/* /var/lib/kubelet/* /var/lib/etcd/*)"),
    );
    expect(own(r.result.stderr, "reset-node.sh").pop()).toBe(msg("reset-node.sh", "cp-3", "reset"));
    expect((await etcd.members("cp-1")).map((m) => m.name).sort()).toEqual(["cp-1", "cp-2"]);
    await etcd.exited("cp-3");
    for (const d of ["etc/kubernetes/manifests", "etc/kubernetes/pki", "var/lib/kubelet", "var/lib/etcd"]) expect(entries(l, "cp-3", d)).toEqual([]);
    expect(entries(l, "cp-3", "etc/kubernetes").filter((f) => f.endsWith(".conf"))).toEqual([]);
    expect(Object.keys(await etcd.getAll("cp-2"))).toHaveLength(10);

    const after = await callsDuring(l, () => l.runScript("cp-1", "etcd-member.sh", memberArgs("cp-3"), { timeoutMs: 120_000 }));
    expectExit(after.result, 0);
    expect(after.result.stderr).toBe(`${msg("etcd-member.sh", "cp-3", "no etcd member named cp-3: nothing to remove")}\n`);
    expect(mutations(after.calls)).toEqual([]);
  }, 120_000);

  test("cp-2: kubeadm reset stopped after removing the member (exit 1, what is left kept); the re-run finishes the reset", async () => {
    fs.writeFileSync(path.join(l.dir, "nodes", "cp-2", "kubeadm-reset-interrupt-after"), "remove-etcd-member\n");
    const r = await callsDuring(l, () => reset(l, "cp-2"));
    expectExit(r.result, 1);
    expect(own(r.result.stderr, "reset-node.sh").pop()).toBe(msg("reset-node.sh", "cp-2", "kubeadm reset failed (exit 1); run this again to retry"));
    expect(mutations(r.calls)).toEqual(["kubeadm reset --force"]);
    // The member is gone from etcd (the last one, cp-1, stays); the node is not cleaned yet.
    expect((await etcd.members("cp-1")).map((m) => m.name)).toEqual(["cp-1"]);
    expect(entries(l, "cp-2", "etc/kubernetes/manifests")).toEqual(["etcd.yaml", "kube-apiserver.yaml", "kube-controller-manager.yaml", "kube-scheduler.yaml"]);
    expect(l.nodeState("cp-2").kubeletActive).toBe(true);
    expect(entries(l, "cp-2", "etc/cni/net.d")).toHaveLength(2);

    const again = await callsDuring(l, () => reset(l, "cp-2"));
    expectExit(again.result, 0);
    expect(mutations(again.calls)).toEqual(["kubeadm reset --force", "systemctl disable kubelet", "iptables -F", "iptables -t nat -F", "iptables -t mangle -F", "iptables -X"]);
    // The member was already gone: kubeadm has nothing to remove and no warning.
    expect(again.result.stderr).not.toContain("Failed to remove etcd member");
    expect(own(again.result.stderr, "reset-node.sh").pop()).toBe(msg("reset-node.sh", "cp-2", "reset"));
    for (const d of ["etc/kubernetes/manifests", "etc/kubernetes/pki", "var/lib/kubelet", "var/lib/etcd", "etc/cni/net.d"]) expect(entries(l, "cp-2", d)).toEqual([]);
    expect(l.nodeState("cp-2").kubeletActive).toBe(false);
    expect((await etcd.members("cp-1")).map((m) => m.name)).toEqual(["cp-1"]);
  }, 120_000);

  test("a kubeadm reset that fails before anything: exit 1, nothing changed; the re-run resets", async () => {
    l.injectFailure("cp-1", "kubeadm reset");
    // cp-1 is etcd's last member: kubeadm skips removing it (as kubeadm does for the only member).
    const r = await callsDuring(l, () => reset(l, "cp-1"));
    expectExit(r.result, 1);
    expect(mutations(r.calls)).toEqual(["kubeadm reset --force"]);
    expect(entries(l, "cp-1", "etc/kubernetes/manifests")).toHaveLength(4);
    l.clearFailures();
    const again = await reset(l, "cp-1");
    expectExit(again, 0);
    expect(again.stderr).not.toContain("Failed to remove etcd member");
    expect((await etcd.members("cp-1")).map((m) => m.name)).toEqual(["cp-1"]);
    expect(entries(l, "cp-1", "etc/kubernetes/manifests")).toEqual([]);
  }, 120_000);
});

describe("delete-nodes.sh --dead", () => {
  const web: LabPod = { name: "web-1", namespace: "shop", owner: "ReplicaSet" };
  const cache: LabPod = { name: "cache-0", namespace: "shop", owner: "StatefulSet", emptyDir: true };
  const proxy: LabPod = { name: "kube-proxy-x", namespace: "kube-system", owner: "DaemonSet" };
  const bare: LabPod = { name: "debug", namespace: "default" };
  const scratch: LabPod = { name: "scratch", namespace: "default", emptyDir: true };
  const mirror: LabPod = { name: "etcd-w-2", namespace: "kube-system", mirror: true };
  const dead = (l: Lab, args: readonly string[]) => l.runScript("cp-1", "delete-nodes.sh", ["--dead", ...args]);
  const inCluster = (l: Lab, node: string) => fs.existsSync(path.join(l.dir, "cluster", "nodes", node));

  test("a Ready node is refused (exit 3) with the fix, and nothing is deleted, not even the dead one named with it", async () => {
    const l = createLab({ nodes: [cp("cp-1"), worker("w-1", { pods: [web] }), worker("w-2", { pods: [bare] })] });
    labs.push(l);
    await kubeletStoppedFor(l, "w-2", 65);
    const r = await callsDuring(l, () => dead(l, ["w-2", "w-1"]));
    expectExit(r.result, 3);
    expect(r.result.stderr).toContain(
      msg("delete-nodes.sh", "w-1", "node w-1 is Ready: it is not dead; remove `dead: true` from its removeNodes entry so it is drained and reset"),
    );
    expect(r.result.stderr).toContain(msg("delete-nodes.sh", "w-1", "refusing to delete nodes that are Ready: w-1; nothing deleted"));
    expect(mutations(r.calls)).toEqual([]);
    expect(inCluster(l, "w-1")).toBe(true);
    expect(inCluster(l, "w-2")).toBe(true);
  });

  test("NotReady nodes (kubelet gone: Unknown; or False): every pod listed, those without a controller as lost for good; the Nodes deleted; a re-run says already gone", async () => {
    const l = createLab({
      nodes: [cp("cp-1"), worker("w-1", { pods: [web] }), worker("w-2", { pods: [web, cache, proxy, bare, scratch, mirror].map((p) => ({ ...p, name: p.name.replace("web-1", "web-2") })) }), worker("w-3")],
    });
    labs.push(l);
    await kubeletStoppedFor(l, "w-2", 65);
    fs.writeFileSync(path.join(l.dir, "nodes", "w-3", "not-ready"), "KubeletNotReady container runtime is down\n");
    const r = await callsDuring(l, () => dead(l, ["w-2", "w-3", "w-9"]));
    expectExit(r.result, 0);
    expect(mutations(r.calls)).toEqual([
      "kubectl --request-timeout=30s delete node w-2 --ignore-not-found --timeout=60s",
      "kubectl --request-timeout=30s delete node w-3 --ignore-not-found --timeout=60s",
    ]);
    expect(own(r.result.stderr, "delete-nodes.sh")).toEqual([
      msg("delete-nodes.sh", "w-9", "already gone: not in the cluster"),
      msg("delete-nodes.sh", "w-2", "not Ready (Ready: Unknown): deleting its Node object without a drain; the pods bound to it:"),
      // In the API's order: by namespace, then name.
      msg("delete-nodes.sh", "w-2", "default/debug: no controller, lost for good"),
      msg("delete-nodes.sh", "w-2", "default/scratch: no controller, lost for good"),
      msg("delete-nodes.sh", "w-2", "kube-system/etcd-w-2 (mirror pod of a static pod: goes with the node)"),
      msg("delete-nodes.sh", "w-2", "kube-system/kube-proxy-x (DaemonSet)"),
      msg("delete-nodes.sh", "w-2", "shop/cache-0 (StatefulSet)"),
      msg("delete-nodes.sh", "w-2", "shop/web-2 (ReplicaSet)"),
      msg("delete-nodes.sh", "w-2", "deleted from the cluster; lost for good (no controller): default/debug default/scratch; kube-controller-manager's pod garbage collector deletes the pods bound to it"),
      msg("delete-nodes.sh", "w-3", "not Ready (Ready: False): deleting its Node object without a drain; the pods bound to it:"),
      msg("delete-nodes.sh", "w-3", "no pods bound to it"),
      msg("delete-nodes.sh", "w-3", "deleted from the cluster; kube-controller-manager's pod garbage collector deletes the pods bound to it"),
    ]);
    expect(inCluster(l, "w-2")).toBe(false);
    expect(inCluster(l, "w-3")).toBe(false);
    expect(inCluster(l, "w-1")).toBe(true);

    const again = await callsDuring(l, () => dead(l, ["w-2", "w-3"]));
    expectExit(again.result, 0);
    expect(mutations(again.calls)).toEqual([]);
    expect(own(again.result.stderr, "delete-nodes.sh")).toEqual([
      msg("delete-nodes.sh", "w-2", "already gone: not in the cluster"),
      msg("delete-nodes.sh", "w-3", "already gone: not in the cluster"),
    ]);
  });

  test("bad usage: exit 2 (no node after --dead, --dead not first, a bad name), nothing deleted", async () => {
    const l = createLab({ nodes: [cp("cp-1"), worker("w-1")] });
    labs.push(l);
    for (const args of [["--dead"], ["w-1", "--dead"], ["--dead", "W_1"], ["--dead", "--dead", "w-1"]]) {
      const r = await callsDuring(l, () => l.runScript("cp-1", "delete-nodes.sh", args));
      expectExit(r.result, 2);
      expect(mutations(r.calls)).toEqual([]);
    }
    expect(inCluster(l, "w-1")).toBe(true);
  });
});

describe("the real machine", () => {
  test("its apt, kubernetes and marker paths were not touched", () => {
    expect(realMachinePaths()).toEqual(realBefore);
  });
});
