/** `npm run plan`: options, text and JSON output, exit codes and messages. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { runPlan } from "../cli/plan";
import { captured, Captured, PROJECT_ROOT, scratchProject } from "./helpers/cli";
import { testHostKey } from "./helpers/host-keys";

const root = PROJECT_ROOT;
const now = new Date("2026-11-21");

function run(args: string[], cwd = root): Promise<Captured> {
  // No KUBECONFIG and a home without ~/.kube/config: the dev stack's declared versions, not compared.
  return captured((io) => runPlan(args, { ...io, now, env: { HOME: "/nonexistent" } }), cwd);
}

const project = scratchProject;

describe("text output (the dev stack by default)", () => {
  let code = -1;
  let out = "";
  let err = "";
  beforeAll(async () => ({ code, out, err } = await run([])));

  it("exits 0 and prints the component table, the hops and the steps", async () => {
    expect(code).toBe(0);
    expect(err).toBe("");
    const lines = out.split("\n");
    expect(lines[0]).toBe("Planned from the versions declared in the stack config (no kubeconfig found: not compared with the cluster).");
    expect(lines[1]).toBe("Upgrade plan for cluster dev: v1.34.6 -> v1.37.1, 3 hop(s), 34 step(s), 10 node(s)");
    expect(lines).toContain("COMPONENT                 NODE       CURRENT   TARGET");
    expect(lines).toContain("kube-apiserver            cp-3       v1.34.6   v1.37.1");
    expect(lines).toContain("kube-proxy                10 nodes   v1.34.6   v1.37.1");
    expect(lines).toContain("kubelet     general-4         v1.34.6   v1.37.1");
    expect(lines).toContain("kubectl     10 nodes          v1.34.6   v1.37.1");
    // Declared versions: etcd and CoreDNS are not read, and the data file has nothing for kubeadm 1.37.
    expect(lines).toContain("etcd, CoreDNS: not read (the plan is not from the cluster); etcd and CoreDNS of kubeadm 1.37: not in planning/data/kubeadm-addons.json (it says why), so TARGET unknown");
    expect(lines).toContain("  1. v1.34.6 -> v1.35.9: control plane (3 nodes, one at a time), pool general (rolling: 4 nodes in 2 batches)");
    expect(lines).toContain("  3. v1.36.4 -> v1.37.1: control plane (3 nodes, one at a time), pool general (rolling: 4 nodes in 2 batches), pool batch (blue-green: replace 3 nodes, 6 instances at the peak)");
    expect(lines).toContain("         capacity: 6 instances at the peak (3 old + 3 new) for about 0h 21m (at most 0h 50m): 1.05 extra instance-hours (at most 2.5), about $0.10 (at most $0.24), then until the old instances are terminated");
    expect(lines).toContain("         [on cp-1] delete-nodes.sh 'batch-v1-34-6-1' 'batch-v1-34-6-2' 'batch-v1-34-6-3'   # kubectl delete node batch-v1-34-6-1 batch-v1-34-6-2 batch-v1-34-6-3");
    expect(lines).toContain("   1. etcd-snapshot          cp-1");
    expect(lines).toContain("         [on cp-1] kubeadm-upgrade.sh 'apply' '1.35.9'   # kubeadm upgrade apply v1.35.9");
    expect(lines).toContain("         [on cp-1] drain.sh 'general-1' '1.35.9' '600' 'false' 'false' 'false'   # kubectl drain general-1 --ignore-daemonsets --timeout=600s");
    expect(lines).toContain("  34. pool-replace           pool batch: batch-v1-34-6-1, batch-v1-34-6-2, batch-v1-34-6-3");
    expect(lines).toContain("         b) wait until every new node is Ready at v1.37.1 (at most 600s); on failure the old nodes keep serving, untouched");
    expect(lines).toContain("         [on cp-1] cordon-node.sh 'cordon' 'batch-v1-34-6-1'   (undone on rollback: cordon-node.sh 'uncordon' 'batch-v1-34-6-1')   # kubectl cordon batch-v1-34-6-1");
    expect(lines).toContain("   8. worker-upgrade         general-1  (pool general, batch 1/2)");
  });

  it("ends with warnings: end of life, repository switch, add-ons", async () => {
    const warnings = out.slice(out.indexOf("WARNINGS"));
    expect(warnings).toContain("the control plane's 1.34 reached end of life on 2026-10-27");
    expect(warnings).toContain("hop 1: every upgraded node's apt source switches to the 1.35 repository (https://pkgs.k8s.io/core:/stable:/v1.35/deb/)");
    expect(warnings).toContain("check that your CNI plugin");
  });
});

describe("--json", () => {
  let code = -1;
  let plan: any;
  beforeAll(async () => {
    const r = await run(["--stack", "dev", "--json"]);
    code = r.code;
    plan = JSON.parse(r.out);
  });

  it("prints the whole plan as JSON", async () => {
    expect(code).toBe(0);
    expect(plan.cluster).toBe("dev");
    expect(plan.target).toBe("1.37.1");
    expect(plan.hops.map((h: { to: string }) => h.to)).toEqual(["1.35.9", "1.36.4", "1.37.1"]);
    expect(plan.steps).toHaveLength(34);
    expect(plan.steps[1]).toMatchObject({ id: "v1.35/cp-1/control-plane-upgrade", kind: "control-plane-upgrade", nodes: ["cp-1"], version: "1.35.9", stage: 2 });
    expect(plan.steps.map((s: { stage: number }) => s.stage).slice(6, 11)).toEqual([7, 8, 8, 9, 9]); // the batches of pool general
    expect(plan.steps.some((s: object) => "dependsOn" in s)).toBe(false);
    expect(plan.warnings.length).toBeGreaterThan(0);
  });

  it("gives the blue-green replacement its new nodes, estimate, and each cordon's undo command", async () => {
    const step = plan.steps[33];
    expect(step.kind).toBe("pool-replace");
    expect(step.replacement.newNodes).toEqual(["batch-v1-37-1-1", "batch-v1-37-1-2", "batch-v1-37-1-3"]);
    expect(step.replacement.estimate.extraInstanceHours).toEqual({ typical: 1.05, bound: 2.5 });
    expect(step.commands[0].undoCommand).toMatch(/ cordon-node\.sh 'uncordon' 'batch-v1-34-6-1'$/);
    expect(step.commands[3].undoCommand).toBeUndefined();
  });

  it("gives each step's changes, which replayed on the initial state give the final state", async () => {
    const state = new Map(plan.initialState.map((n: { name: string }) => [n.name, n]));
    for (const step of plan.steps) for (const n of step.changes) state.set(n.name, n);
    expect([...state.values()]).toEqual(plan.finalState);
    expect(plan.finalState.every((n: { versions: Record<string, string> }) => Object.values(n.versions).every((v) => v === "1.37.1"))).toBe(true);
  });
});

describe("errors", () => {
  it("names the known stacks when the stack file is missing (exit 1)", async () => {
    const r = await run(["--stack", "nope"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^error: invalid input: --stack: has no stack file .*Pulumi\.nope\.yaml \(got "nope"\)\. use one of: dev/);
  });

  it("prints one clear message for bad config (exit 1)", async () => {
    const dir = project("bad", `config:\n  cluster-maintenance:targetVersion: 1.30\n  cluster-maintenance:controlPlane: { nodes: [{ name: cp-1, host: 10.0.0.1, version: "1.29.3", hostKey: "${testHostKey("cp-1")}" }] }\n`);
    const r = await run(["--stack", "bad"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: invalid stack config for cluster-maintenance: targetVersion: is a number, not a version (YAML reads 1.30 as 1.3) (got 1.3). write it as a quoted string such as "1.36.4", "v1.36.4", "1.36" or the package form "1.36.4-1.1"\n');
  });

  it("prints the planner's refusal for an impossible upgrade (exit 1)", async () => {
    const dir = project("down", `config:\n  cluster-maintenance:targetVersion: "1.35"\n  cluster-maintenance:controlPlane: { nodes: [{ name: cp-1, host: 10.0.0.1, version: "1.36.4", hostKey: "${testHostKey("cp-1")}" }] }\n`);
    const r = await run(["--stack", "down"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error: downgrades are not supported");
  });

  it("refuses a node without hostKey (exit 1), naming the key and the ssh-keyscan fix", async () => {
    const dir = project("nokey", 'config:\n  cluster-maintenance:targetVersion: "1.35"\n  cluster-maintenance:controlPlane: { nodes: [{ name: cp-1, host: 10.0.0.1, version: "1.34.6" }] }\n');
    const r = await run(["--stack", "nokey"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error: invalid stack config for cluster-maintenance: controlPlane.nodes[0].hostKey: is required");
    expect(r.err).toContain("`ssh-keyscan -t ed25519 10.0.0.1`");
  });

  it("prints the host key warning first with ssh.insecureIgnoreHostKey: true (text and JSON)", async () => {
    const config = 'config:\n  cluster-maintenance:targetVersion: "1.35"\n  cluster-maintenance:controlPlane: { nodes: [{ name: cp-1, host: 10.0.0.1, version: "1.34.6" }] }\n  cluster-maintenance:ssh: { insecureIgnoreHostKey: true }\n';
    const dir = project("insecure", config);
    const text = await run(["--stack", "insecure"], dir);
    expect(text.code).toBe(0);
    const lines = text.out.split("\n");
    const warning = "  - SSH host keys are not checked (ssh.insecureIgnoreHostKey: true) for cp-1: any machine answering at their address gets the commands and their secrets; add each one's hostKey (ssh-keyscan -t ed25519 <host>, the key part) and remove ssh.insecureIgnoreHostKey";
    expect(lines[lines.indexOf("WARNINGS") + 1]).toBe(warning);
    const json = JSON.parse((await run(["--stack", "insecure", "--json"], dir)).out) as { warnings: { kind: string }[] };
    expect(json.warnings[0]!.kind).toBe("host-keys");
  });

  it("refuses a private key in plain text without echoing it", async () => {
    const dir = project("leak", 'config:\n  cluster-maintenance:targetVersion: "1.37"\n  cluster-maintenance:sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY----- AAAA"\n');
    const r = await run(["--stack", "leak"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain("cluster-maintenance:sshPrivateKey: must be a Pulumi secret, never plain text");
    expect(r.err).not.toContain("BEGIN OPENSSH");
  });

  it("refuses an invalid YAML file", async () => {
    const r = await run(["--stack", "broken"], project("broken", "config: [unclosed\n"));
    expect(r.code).toBe(1);
    expect(r.err).toContain("Pulumi.broken.yaml: is not valid YAML");
  });

  it("exits 2 on an unknown option and 0 on --help", async () => {
    expect((await run(["--frobnicate"])).code).toBe(2);
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("--stack <name>");
  });
});

it("runs as `npm run plan` does (tsx cli/plan.ts) and exits 1 on a missing stack", async () => {
  const tsx = join(root, "node_modules", ".bin", "tsx");
  const ok = spawnSync(tsx, ["cli/plan.ts", "--json"], { cwd: root, encoding: "utf8" });
  expect(ok.status).toBe(0);
  expect(JSON.parse(ok.stdout).cluster).toBe("dev");
  const missing = spawnSync(tsx, ["cli/plan.ts", "--stack", "missing"], { cwd: root, encoding: "utf8" });
  expect(missing.status).toBe(1);
  expect(missing.stderr).toContain("has no stack file");
});
