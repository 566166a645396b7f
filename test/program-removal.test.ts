/**
 * The program removing nodes for good, planned from the cluster (the real responses of
 * ../shared/data/kube-api/v1.31-kubeadm-ha, served by test/discovery/static-api.ts): the removal
 * is the first wave, alone, with every command of the removed nodes and nothing of the upgrade;
 * a node already gone gets its leftover cleaned by a command of the ClusterUpgrade itself.
 */
import { programRun } from "./helpers/program-runs";
import { SHARED_HOP_BLOCKERS, staticApiPerFile } from "./discovery/static-api";

const served = staticApiPerFile();

const live = (removeNodes: unknown[]) => ({
  targetVersion: "1.32",
  controlPlane: {},
  pools: [{ name: "general", strategy: "rolling", selector: "pool=general", maxUnavailable: 1 }],
  ssh: { insecureIgnoreHostKey: true },
  acknowledge: [...SHARED_HOP_BLOCKERS, "pod-with-local-data/shop/cache-5f4dfd484-nbr6n", "pod-without-controller/shop/debug-shell"].filter((id, i, all) => all.indexOf(id) === i),
  removeNodes,
});

it("registers the removal wave alone: a worker and a control-plane node, every command, nothing of the hop", async () => {
  const run = await programRun(live(["general-3", { name: "cp-3", allowEvenEtcdMembers: true }]), "dev", { "kubernetes:kubeconfig": served.kubeconfig });
  expect(run.registered.filter((r) => r.type === "cluster-maintenance:upgrade:NodeUpgrade").map((r) => r.name)).toEqual(["dev-general-3", "dev-cp-3"]);
  expect(run.registered.filter((r) => r.type === "command:remote:Command").map((r) => r.name)).toEqual([
    "dev-general-3-remove-drain", "dev-general-3-remove-reset-node", "dev-general-3-remove-delete-node",
    "dev-cp-3-remove-etcd-snapshot", "dev-cp-3-remove-etcd-member-check", "dev-cp-3-remove-drain", "dev-cp-3-remove-reset-node", "dev-cp-3-remove-etcd-member-remove", "dev-cp-3-remove-delete-node",
  ]);
  expect(run.outputs.wave).toBe("wave 1 (next pulumi up): removal, nodes removed for good: 2 node(s), 2 step(s)");
  // The hop after it upgrades the two control-plane nodes and the two general workers left.
  expect(run.outputs.wavesLeft).toEqual(["wave 2: hop 1 v1.32.13, control plane: 2 node(s), 5 step(s)", "wave 3: hop 1 v1.32.13, workers of general: 2 node(s), 2 step(s)"]);
  const reset = run.registered.find((r) => r.name === "dev-cp-3-remove-reset-node")!;
  expect(reset.inputs.create).toBe(`sudo bash -c 's=$(cat) && exec bash -c "$s" "$0" "$@"' reset-node.sh 'cp-3'`);
  expect(String(reset.inputs.stdin)).toContain("kubeadm reset");
});

it("cleans a node already gone of its etcd member, as a command of the ClusterUpgrade (the node has no NodeUpgrade)", async () => {
  const run = await programRun(live(["cp-9"]), "dev", { "kubernetes:kubeconfig": served.kubeconfig });
  const cleanup = run.registered.filter((r) => r.type === "command:remote:Command");
  expect(cleanup.map((r) => [r.name, r.parent])).toEqual([["dev-cp-9-remove-etcd-member-remove", expect.stringContaining("ClusterUpgrade::dev")]]);
  expect(String(cleanup[0]!.inputs.create)).toMatch(/etcd-member\.sh 'remove' 'cp-9' 'false' 'https:\/\/127\.0\.0\.1:2379'/);
});

it("refuses the removal of the kubectl node before anything is registered, naming the key to change first", async () => {
  await expect(programRun({ ...live(["cp-2"]), kubectlNode: "cp-2" }, "dev", { "kubernetes:kubeconfig": served.kubeconfig })).rejects.toThrow(
    "removeNodes[0]: is the kubectl node, which drains the nodes and runs the etcd commands of every removal",
  );
});
