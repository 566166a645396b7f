/** `npm run restore`: the printed etcd restore procedure, its order, quoting, options and exit codes. */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runRestore, type RestoreProcedure } from "../cli/restore";
import { captured, PROJECT_ROOT, scratchProject } from "./helpers/cli";
import { testHostKey } from "./helpers/host-keys";

const root = PROJECT_ROOT;
const SNAP = "/var/lib/cluster-maintenance/etcd-backups/etcd-20260101T000000Z-drill.db";
const CLUSTER = "cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380,cp-3=https://10.0.0.13:2380";

function run(args: string[], cwd = root): { code: number; out: string; err: string } {
  return captured((io) => runRestore(args, io), cwd);
}

const project = scratchProject;
const CP = (hosts: string[]) =>
  `  cluster-maintenance:controlPlane:\n    nodes:\n${hosts.map((h, i) => `      - { name: m${i + 1}, host: "${h}", version: "1.34.6", hostKey: "${testHostKey(h)}" }\n`).join("")}`;

/** The etcd-restore.sh lines of a text output as "node mode phase". */
function scriptLines(out: string): string[] {
  return out.split("\n").flatMap((l) => {
    const m = /^ {3}\[on (\S+)\] +sudo bash etcd-restore\.sh .* '(dry-run|apply)' '(stop|restore|start)'$/.exec(l);
    return m ? [`${m[1]} ${m[2]} ${m[3]}`] : [];
  });
}

/** Runs a printed command's words through bash and returns them one per element (proves the quoting). */
function words(command: string): string[] {
  const r = spawnSync("bash", ["-c", `printf '%s\\n' ${command}`], { encoding: "utf8" });
  expect(r.status).toBe(0);
  return r.stdout.split("\n").slice(0, -1);
}

describe("text output for the dev stack (3 members behind a bastion)", () => {
  const { code, out, err } = run(["--stack", "dev", "--snapshot", SNAP]);
  const lines = out.split("\n");

  it("exits 0 and says it only prints", () => {
    expect(code).toBe(0);
    expect(err).toBe("");
    expect(lines[0]).toBe(`etcd restore for cluster dev: 3 member(s) cp-1, cp-2, cp-3 from ${SNAP} into /var/lib/etcd-restored`);
    expect(lines[1]).toBe("Printed only: nothing here connects anywhere or changes anything. Run each command yourself, in order,");
    expect(lines).toContain(`INITIAL_CLUSTER ${CLUSTER}`);
  });

  it("runs the phases in the Kubernetes order: dry-runs, then stop on every member, restore on every member, start on every member", () => {
    const dry = ["cp-1", "cp-2", "cp-3"].flatMap((n) => ["stop", "restore", "start"].map((p) => `${n} dry-run ${p}`));
    const phase = (p: string) => ["cp-1", "cp-2", "cp-3"].map((n) => `${n} apply ${p}`);
    expect(scriptLines(out)).toEqual([...dry, ...phase("stop"), ...phase("restore"), ...phase("start")]);
    const titles = lines.filter((l) => /^\d\. /.test(l)).map((l) => l.slice(0, 24));
    expect(titles).toEqual([
      "1. Copy the snapshot, it", "2. Dry run of every phas", "3. Stop kube-apiserver, ",
      "4. Restore every member ", "5. Start etcd, then kube", "6. Check, then restart e",
    ]);
  });

  it("prints each member's command exactly: its name, every member as INITIAL_CLUSTER, its own peer URL, every value quoted", () => {
    expect(lines).toContain(`   [on cp-2]      sudo bash etcd-restore.sh '${SNAP}' 'cp-2' '${CLUSTER}' 'https://10.0.0.12:2380' '/var/lib/etcd-restored' 'apply' 'restore'`);
    expect(lines).toContain(`   [on cp-3]      sudo bash etcd-restore.sh '${SNAP}' 'cp-3' '${CLUSTER}' 'https://10.0.0.13:2380' '/var/lib/etcd-restored' 'dry-run' 'start'`);
  });

  it("copies the snapshot, its .sha256 and the script to every member through the bastion (-J), then into the snapshot's directory", () => {
    const file = "etcd-20260101T000000Z-drill.db";
    const copy = lines.slice(lines.findIndex((l) => l.startsWith("1. ")) + 1, lines.findIndex((l) => l.startsWith("2. ")) - 1);
    expect(copy).toEqual([
      `   [here]         sha256sum -c '${file}.sha256'`,
      ...["1", "2", "3"].flatMap((i) => [
        `   [here]         scp -J 'ubuntu@bastion.dev.example.com' '${file}' '${file}.sha256' 'node-scripts/etcd-restore.sh' 'ubuntu@10.0.0.1${i}:'`,
        `   [on cp-${i}]      sudo mkdir -p -m 0700 '/var/lib/cluster-maintenance/etcd-backups' && sudo install -m 0600 '${file}' '${file}.sha256' '/var/lib/cluster-maintenance/etcd-backups/' && rm -f '${file}' '${file}.sha256'`,
      ]),
      `   note: put ${file} and ${file}.sha256 in this directory first (e.g. from the node that took it, or from your off-cluster copy)`,
    ]);
    expect(lines).toContain("   cp-1: ssh -J 'ubuntu@bastion.dev.example.com' 'ubuntu@10.0.0.11'");
    expect(lines).toContain("   general-4: ssh -J 'ubuntu@bastion.dev.example.com' 'ubuntu@10.0.1.14'");
  });

  it("ends with the checks and the restarts of controller-manager, scheduler and every kubelet", () => {
    const check = lines.slice(lines.findIndex((l) => l.startsWith("6. ")) + 1);
    expect(check[0]).toBe("   [on cp-1]      sudo kubectl --kubeconfig '/etc/kubernetes/admin.conf' -n kube-system get pods -o wide");
    expect(check[1]).toBe("   [on cp-1]      sudo kubectl --kubeconfig '/etc/kubernetes/admin.conf' get --raw /readyz");
    expect(check[2]).toContain("exec 'etcd-cp-1' -- etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt");
    expect(check[2]).toMatch(/ endpoint health --cluster$/);
    expect(check.filter((l) => l.includes("crictl rm -f")).map((l) => l.slice(3, 12).trim())).toEqual(["[on cp-1]", "[on cp-2]", "[on cp-3]"]);
    expect(check.filter((l) => l.endsWith("sudo systemctl restart kubelet")).map((l) => /\[on (\S+)\]/.exec(l)![1])).toEqual(["cp-1", "cp-2", "cp-3", "general-1", "general-2", "general-3", "general-4"]);
    expect(check).toContain("   note: no SSH host in this stack for batch-v1-34-6-1, batch-v1-34-6-2, batch-v1-34-6-3: restart their kubelet (or reboot them) by other means");
  });
});

describe("quoting: the printed commands give etcd-restore.sh exactly its arguments", () => {
  const dataDir = "/srv/etcd_restored-2.d";
  const { out } = run(["--stack", "dev", "--snapshot", SNAP, "--data-dir", dataDir, "--peer-port", "12380"]);
  const cmd = out.split("\n").find((l) => l.includes("etcd-restore.sh") && l.includes("'cp-2'") && l.endsWith("'apply' 'stop'"))!;
  const args = words(cmd.slice(cmd.indexOf("sudo bash ")).replace("sudo bash etcd-restore.sh", ""));

  it("splits into the seven arguments", () => {
    expect(args).toEqual([SNAP, "cp-2", "cp-1=https://10.0.0.11:12380,cp-2=https://10.0.0.12:12380,cp-3=https://10.0.0.13:12380", "https://10.0.0.12:12380", dataDir, "apply", "stop"]);
  });

  it("which etcd-restore.sh accepts (it gets past its argument checks to the missing manifests: exit 3, not 2)", () => {
    const nodeRoot = mkdtempSync(join(tmpdir(), "cm-restore-node-"));
    const r = spawnSync("bash", [join(root, "node-scripts", "etcd-restore.sh"), ...args.slice(0, 5), "dry-run", "stop"], { encoding: "utf8", env: { ...process.env, CM_NODE_ROOT: nodeRoot } });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`no kube-apiserver.yaml in ${nodeRoot}/etc/kubernetes/manifests`);
  });
});

describe("the snapshot's directory (issue 10 item 1) and the restart of every kube-apiserver (item 10)", () => {
  it("refuses a snapshot in a system or top-level directory (/, /tmp, /etc): the procedure would create or take that directory", () => {
    for (const snap of ["/x.db", "/tmp/x.db", "/etc/x.db", "/var/x.db"]) {
      const r = run(["--stack", "prod", "--snapshot", snap]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`--snapshot`);
      expect(r.err).toContain("(the procedure copies the snapshot into its directory, root only)");
      expect(r.out).toBe("");
    }
  });

  it("creates the snapshot's directory 0700 only when absent (mkdir -p -m 0700), never install -d -m 0700 (which changes an existing one)", () => {
    const r = run(["--stack", "prod", "--snapshot", "/var/lib/cluster-maintenance/etcd-backups/x.db"]);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain("install -d");
    expect(r.out).toContain("sudo mkdir -p -m 0700 '/var/lib/cluster-maintenance/etcd-backups' && sudo install -m 0600 'x.db'");
    // What that does to an existing directory: nothing.
    const existing = mkdtempSync(join(tmpdir(), "cm-restore-dir-"));
    chmodSync(existing, 0o755);
    expect(spawnSync("mkdir", ["-p", "-m", "0700", existing]).status).toBe(0);
    expect(statSync(existing).mode & 0o777).toBe(0o755);
  });

  it("the check restarts every kube-apiserver with kube-controller-manager and kube-scheduler", () => {
    const p = JSON.parse(run(["--stack", "prod", "--snapshot", "/var/lib/cluster-maintenance/etcd-backups/x.db", "--json"]).out) as RestoreProcedure;
    const check = p.sections.find((x) => x.id === "check")!;
    const restarts = check.commands.filter((c) => c.command.includes("crictl rm -f"));
    expect(restarts.length).toBe(p.members.length);
    for (const c of restarts) expect(c.command).toBe("sudo crictl rm -f $(sudo crictl ps -q --name 'kube-apiserver|kube-controller-manager|kube-scheduler')");
  });
});

describe("other stacks", () => {
  it("no bastion: plain scp and ssh; non-default ports as -P / -p; IPv6 hosts in brackets", () => {
    const dir = project("v6", `config:\n  cluster-maintenance:targetVersion: "1.35"\n${CP(["fd00::11", "10.0.0.12"])}  cluster-maintenance:ssh: { user: ops, port: 2200 }\n`);
    const r = run(["--stack", "v6", "--snapshot", "/srv/etcd/s.db", "--json"], dir);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.out) as RestoreProcedure;
    expect(p.initialCluster).toBe("m1=https://[fd00::11]:2380,m2=https://10.0.0.12:2380");
    expect(p.members).toEqual([{ name: "m1", host: "fd00::11", peerUrl: "https://[fd00::11]:2380" }, { name: "m2", host: "10.0.0.12", peerUrl: "https://10.0.0.12:2380" }]);
    expect(p.ssh).toEqual([{ node: "m1", command: "ssh -p '2200' 'ops@[fd00::11]'" }, { node: "m2", command: "ssh -p '2200' 'ops@10.0.0.12'" }]);
    const copy = p.sections[0]!.commands;
    expect(copy[1]).toEqual({ where: "here", command: "scp -P '2200' 's.db' 's.db.sha256' 'node-scripts/etcd-restore.sh' 'ops@[fd00::11]:'" });
    expect(copy[2]).toEqual({ where: "m1", command: "sudo mkdir -p -m 0700 '/srv/etcd' && sudo install -m 0600 's.db' 's.db.sha256' '/srv/etcd/' && rm -f 's.db' 's.db.sha256'" });
    expect(p.sections.map((s) => s.id)).toEqual(["copy", "dry-run", "stop", "restore", "start", "check"]);
    expect(p.sections[3]!.commands).toEqual([
      { where: "m1", command: "sudo bash etcd-restore.sh '/srv/etcd/s.db' 'm1' 'm1=https://[fd00::11]:2380,m2=https://10.0.0.12:2380' 'https://[fd00::11]:2380' '/var/lib/etcd-restored' 'apply' 'restore'" },
      { where: "m2", command: "sudo bash etcd-restore.sh '/srv/etcd/s.db' 'm2' 'm1=https://[fd00::11]:2380,m2=https://10.0.0.12:2380' 'https://10.0.0.12:2380' '/var/lib/etcd-restored' 'apply' 'restore'" },
    ]);
  });

  it("a bastion on another port: -J user@host:port", () => {
    const dir = project("jump", `config:\n  cluster-maintenance:targetVersion: "1.35"\n${CP(["10.1.0.1"])}  cluster-maintenance:ssh: { user: ops, bastion: { host: jump.example.com, user: hop, port: 2222, hostKey: "${testHostKey("jump")}" } }\n`);
    const p = JSON.parse(run(["--stack", "jump", "--snapshot", "/srv/b/s.db", "--json"], dir).out) as RestoreProcedure;
    expect(p.sections[0]!.commands[1]!.command).toBe("scp -J 'hop@jump.example.com:2222' 's.db' 's.db.sha256' 'node-scripts/etcd-restore.sh' 'ops@10.1.0.1:'");
    expect(p.ssh[0]!.command).toBe("ssh -J 'hop@jump.example.com:2222' 'ops@10.1.0.1'");
  });

  it("with backup configured: fetches the snapshot and its .sha256 from the bucket first", () => {
    const r = run(["--stack", "prod", "--snapshot", "/var/lib/cluster-maintenance/etcd-backups/x.db", "--json"]);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.out) as RestoreProcedure;
    const fetch = p.sections[0]!.commands.filter((c) => c.command.startsWith("aws s3 cp"));
    expect(fetch).toHaveLength(2);
    expect(fetch[0]!.command).toMatch(/^aws s3 cp 's3:\/\/prod-cluster-etcd-backups\/[A-Za-z0-9._/-]*x\.db' 'x\.db' --region '[a-z0-9-]+'$/);
    expect(fetch[1]!.command).toMatch(/x\.db\.sha256' 'x\.db\.sha256' --region /);
    expect(p.sections[0]!.notes).toEqual([]);
  });
});

describe("errors", () => {
  it.each([
    ["--snapshot", "relative/s.db", "--snapshot: must be the snapshot's absolute path on the nodes, ending in .db"],
    ["--snapshot", "/backups/s.tar", "--snapshot: must be the snapshot's absolute path"],
    ["--snapshot", "/backups/../etc/s.db", "(got \"/backups/../etc/s.db\")"],
    ["--snapshot", "/backups/./s.db", "--snapshot: must be"],
    ["--snapshot", "/backups/my snap.db", "--snapshot: must be"],
    ["--snapshot", "/backups/s'.db", "--snapshot: must be"],
    ["--data-dir", "etcd-new", "--data-dir: must be an absolute path"],
    ["--data-dir", "/var/lib/etcd-new/", "--data-dir: must be an absolute path"],
    ["--data-dir", "/var/lib/$(id)", "--data-dir: must be an absolute path"],
    ["--data-dir", "/var/lib/etcd", "--data-dir: is kubeadm's live etcd data dir"],
    ["--peer-port", "0", "--peer-port: is not a port number (got \"0\"). give etcd's peer port, 1 to 65535 (kubeadm's is 2380)"],
    ["--peer-port", "65536", "--peer-port: is not a port number"],
    ["--peer-port", "23x", "--peer-port: is not a port number"],
  ])("%s %j: exit 2 with one message naming the option, the value and the fix", (option, value, message) => {
    const args = ["--stack", "dev", "--snapshot", SNAP, option, value];
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^error: invalid option: /);
    expect(r.err).toContain(message);
    expect(r.err).toContain(`(got ${JSON.stringify(value)})`);
  });

  it("gives the exact message for a bad snapshot path", () => {
    expect(run(["--stack", "dev", "--snapshot", "s.db"]).err).toBe(
      `error: invalid option: --snapshot: must be the snapshot's absolute path on the nodes, ending in .db (letters, digits, '.', '_', '-'; no '.' or '..' segments) (got "s.db"). give it as etcd-snapshot.sh printed it, e.g. --snapshot ${SNAP}\n`,
    );
  });

  it("lists several bad options together", () => {
    const r = run(["--stack", "dev", "--snapshot", "x", "--data-dir", "y", "--peer-port", "z"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: invalid option \(3 problems\):\n {2}- --snapshot: .*\n {2}- --data-dir: .*\n {2}- --peer-port: .*\n$/);
  });

  it("exits 2 without --snapshot or --stack, or with an unknown option; 0 on --help", () => {
    const noSnap = run(["--stack", "dev"]);
    expect(noSnap.code).toBe(2);
    expect(noSnap.err).toContain("required option '--snapshot <path>' not specified");
    expect(run(["--snapshot", SNAP]).code).toBe(2);
    expect(run(["--stack", "dev", "--snapshot", SNAP, "--yes"]).code).toBe(2);
    const help = run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("--snapshot <path>");
    expect(help.out.replace(/\s+/g, " ")).toContain("(connects nowhere, changes nothing)");
  });

  it("exits 1 on a missing stack or bad config", () => {
    const missing = run(["--stack", "nope", "--snapshot", SNAP]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error: invalid input: --stack: has no stack file .*Pulumi\.nope\.yaml/);
    const bad = run(["--stack", "bad", "--snapshot", SNAP], project("bad", `config:\n  cluster-maintenance:targetVersion: 1.30\n${CP(["10.0.0.1"])}`));
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("targetVersion: is a number, not a version");
  });

  it("exits 1 when a control-plane node name is too long for an etcd member name", () => {
    const long = `cp-${"a".repeat(61)}`;
    const dir = project("long", `config:\n  cluster-maintenance:targetVersion: "1.35"\n  cluster-maintenance:controlPlane: { nodes: [{ name: ${long}, host: 10.0.0.1, version: "1.34.6", hostKey: "${testHostKey("long")}" }] }\n`);
    const r = run(["--stack", "long", "--snapshot", SNAP], dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: invalid stack config for a restore: controlPlane.nodes[0].name: is too long for an etcd member name (etcd-restore.sh takes at most 63 characters) (got "${long}"). use the node's short name\n`);
  });
});

it("runs as `npm run restore` does (tsx cli/restore.ts)", () => {
  const tsx = join(root, "node_modules", ".bin", "tsx");
  const ok = spawnSync(tsx, ["cli/restore.ts", "--stack", "dev", "--snapshot", SNAP, "--json"], { cwd: root, encoding: "utf8" });
  expect(ok.status).toBe(0);
  expect((JSON.parse(ok.stdout) as RestoreProcedure).initialCluster).toBe(CLUSTER);
  const bad = spawnSync(tsx, ["cli/restore.ts", "--stack", "dev", "--snapshot", "x.db"], { cwd: root, encoding: "utf8" });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain("--snapshot: must be");
});
