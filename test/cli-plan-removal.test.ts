/**
 * `npm run plan` with `removeNodes`, reading the cluster (the real responses of
 * ../shared/data/kube-api/v1.31-kubeadm-ha served over HTTP): the removal is the first wave,
 * with its duration and every command; the go/no-go report and the JSON carry it.
 */
import { runPlan } from "../cli/plan";
import { captured, scratchProject } from "./helpers/cli";
import { staticApiPerFile } from "./discovery/static-api";

const served = staticApiPerFile();

const STACK = `config:
  cluster-maintenance:targetVersion: "1.31.4"
  cluster-maintenance:pools:
    - { name: general, selector: pool=general, maxUnavailable: 1 }
  cluster-maintenance:ssh: { insecureIgnoreHostKey: true }
  cluster-maintenance:removeNodes:
    - general-1
    - { name: cp-3, allowEvenEtcdMembers: true }
`;
const run = (args: string[]) => captured((io) => runPlan(args, { ...io, now: new Date("2026-11-28"), env: { HOME: "/nonexistent" } }), scratchProject("live", STACK));

it("prints the removal as the first wave, every command under its step, the go/no-go verdict for it", async () => {
  const r = await run(["--stack", "live", "--kubeconfig", served.kubeconfig]);
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  const lines = r.out.split("\n");
  expect(lines.slice(1, 4)).toEqual(["Cluster live is already at v1.31.4: nothing to upgrade.", "", "REMOVE for good, before any hop: 2 node(s) (general-1, cp-3); no hop or OS patch touches them"]);
  expect(lines.find((l) => l.startsWith("  wave 1 (next pulumi up): removal, nodes removed for good: 2 node(s), 2 step(s); expected "))).toBeDefined();
  const removal = lines.slice(lines.indexOf("Removal"));
  expect(removal.filter((l) => l.includes("[on ")).map((l) => l.trim().replace(/ {3}#.*$/, ""))).toEqual([
    "[on cp-1] drain.sh 'general-1' 'any' '600' 'false' 'false' 'false'",
    "[on general-1] reset-node.sh 'general-1'",
    "[on cp-1] delete-nodes.sh 'general-1'",
    "[on cp-1] etcd-snapshot.sh '/var/lib/cluster-maintenance/etcd-backups' 'before-remove-cp-3' 'https://127.0.0.1:2379' '/etc/kubernetes/pki/etcd/ca.crt' '/etc/kubernetes/pki/etcd/server.crt' '/etc/kubernetes/pki/etcd/server.key' 'restore' '5'",
    "[on cp-1] etcd-member.sh 'check' 'cp-3' 'true' 'https://127.0.0.1:2379' '/etc/kubernetes/pki/etcd/ca.crt' '/etc/kubernetes/pki/etcd/server.crt' '/etc/kubernetes/pki/etcd/server.key'",
    "[on cp-1] drain.sh 'cp-3' 'any' '600' 'false' 'false' 'false'",
    "[on cp-3] reset-node.sh 'cp-3'",
    "[on cp-1] etcd-member.sh 'remove' 'cp-3' 'true' 'https://127.0.0.1:2379' '/etc/kubernetes/pki/etcd/ca.crt' '/etc/kubernetes/pki/etcd/server.crt' '/etc/kubernetes/pki/etcd/server.key'",
    "[on cp-1] delete-nodes.sh 'cp-3'",
  ]);
  const json = JSON.parse((await run(["--stack", "live", "--kubeconfig", served.kubeconfig, "--json"])).out);
  expect(json.removals).toEqual(["remove/general-1/node-removal", "remove/cp-3/node-removal"]);
  expect(json.waves.map((w: { kind: string; nodes: number }) => [w.kind, w.nodes])).toEqual([["removal", 2]]);
  expect(json.waves[0].estimate.expectedSeconds).toBeGreaterThan(0);
  // What the removal's drains would meet is in the report (hop 0: it stops the removal wave when blocking).
  const blocking = json.readiness.findings.filter((f: { hop: number; blocking: boolean }) => f.hop === 0 && f.blocking).map((f: { id: string }) => f.id);
  expect(blocking).toEqual([]);
  const pdb = json.readiness.findings.find((f: { id: string }) => f.id === "pdb-blocks-drain/shop/web-pdb");
  expect([pdb.hop, pdb.blocking, pdb.node]).toEqual([0, false, "general-1"]);
  expect(pdb.detail).toContain("(removal for good)");
  expect(r.out).toContain("pdb-blocks-drain/shop/web-pdb");
});
