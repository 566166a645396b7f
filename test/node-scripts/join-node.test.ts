/**
 * join-node.sh as the user data of a new EC2 instance (components/user-data.ts renders it) against the
 * lab: a brand-new node boots from it (lab.bootNode) with a join command made by the kubeadm stand-in
 * on a control-plane node, as join-command.sh makes it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseJoinCommand, renderUserData, type JoinParameters } from "../../components/user-data";
import { KubeVersion } from "../../planning/versions";
import { createLab, LAB_API_ENDPOINT, repositoryLine, type Lab, type RunResult } from "../lab/node-kit";
import { callsDuring, cp, expectExit, mutations, worker } from "./support";

/** Real-machine paths join-node.sh would write if it forgot the ${CM_NODE_ROOT} prefix. */
const REAL_PATHS = [
  "/etc/containerd/config.toml",
  "/etc/sysctl.d/99-kubernetes.conf",
  "/etc/modules-load.d/kubernetes.conf",
  "/etc/apt/sources.list.d/kubernetes.list",
  "/run/cluster-maintenance",
  "/etc/kubernetes/kubelet.conf",
];
const realBefore = REAL_PATHS.map((p) => [p, fs.existsSync(p) ? fs.statSync(p).mtimeMs : "absent"]);

const labs: Lab[] = [];
function lab(version = "1.37.1"): Lab {
  const l = createLab({ nodes: [cp("cp-1", { version }), worker("w-1", { version })] });
  labs.push(l);
  return l;
}
afterAll(() => labs.forEach((l) => l.cleanup()));
afterAll(() => {
  expect(REAL_PATHS.map((p) => [p, fs.existsSync(p) ? fs.statSync(p).mtimeMs : "absent"])).toEqual(realBefore);
});

const DESCRIPTION = "cluster-maintenance pool batch v1.37.1";

/** `kubeadm token create --print-join-command` on cp-1, as join-command.sh runs it. */
async function joinCommand(l: Lab, ttl = "30m"): Promise<string> {
  const r = await l.run("cp-1", `timeout 60 kubeadm token create --print-join-command --ttl ${ttl} --description '${DESCRIPTION}'`);
  expectExit(r, 0);
  return r.stdout;
}

function userData(join: JoinParameters, version = "1.37.1"): string {
  const [major, minor, patch] = version.split(".").map(Number);
  return renderUserData({ version: KubeVersion.of(major!, minor!, patch!), join });
}

/** What kubectl on cp-1 says about a node (status, reason, kubelet version), or its error. */
async function nodeStatus(l: Lab, name: string): Promise<RunResult> {
  const ready = (f: string) => `{.status.conditions[?(@.type=="Ready")].${f}}`;
  return l.run(
    "cp-1",
    `KUBECONFIG="$CM_NODE_ROOT/etc/kubernetes/admin.conf" kubectl get node ${name} -o 'jsonpath=${ready("status")} ${ready("reason")} {.status.nodeInfo.kubeletVersion}'`,
  );
}

/** Asserts that neither the token (nor its secret half) nor the CA hash is in any output or call. */
function expectSecretsHidden(l: Lab, join: JoinParameters, ...results: RunResult[]): void {
  const secrets = [join.token, join.token.split(".")[1]!, join.caCertHash];
  const log = fs.readFileSync(path.join(l.dir, "calls.log"), "utf8");
  for (const s of secrets) {
    expect(log).not.toContain(s);
    for (const r of results) {
      expect(r.stdout).not.toContain(s);
      expect(r.stderr).not.toContain(s);
    }
  }
}

const NODE = "batch-v1-37-1-1";

describe("join-node.sh (user data) booting a new node", () => {
  test("the node installs containerd and the packages at exactly the version, holds them and joins Ready; the token stays secret", async () => {
    const l = lab();
    const stdout = await joinCommand(l);
    expect(stdout).toMatch(new RegExp(`^kubeadm join ${LAB_API_ENDPOINT.replace(/\./g, "\\.")} --token [a-z0-9]{6}\\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[a-f0-9]{64} \\n$`));
    const join = parseJoinCommand(stdout);
    expect(join.caCertHash).toBe(l.caCertHash());
    expect(l.registered(NODE)).toBe(false);

    const { result, calls } = await callsDuring(l, () => l.bootNode(NODE, userData(join)));
    expectExit(result, 0);
    expect(result.stderr).toContain(`cluster-maintenance: join-node.sh: ${NODE}: joined the cluster as ${NODE} at v1.37.1`);

    expect(l.registered(NODE)).toBe(true);
    const status = await nodeStatus(l, NODE);
    expectExit(status, 0);
    expect(status.stdout).toBe("True KubeletReady v1.37.1");
    const s = l.nodeState(NODE);
    expect(s.role).toBe("worker");
    expect({ kubeadm: s.packages.kubeadm, kubelet: s.packages.kubelet, kubectl: s.packages.kubectl }).toEqual({
      kubeadm: "1.37.1-1.1",
      kubelet: "1.37.1-1.1",
      kubectl: "1.37.1-1.1",
    });
    expect(s.packages.containerd).toBeDefined();
    expect(s.held).toEqual(["kubeadm", "kubectl", "kubelet"]);
    expect(s.repoLine).toBe(repositoryLine("1.37"));
    expect(s.keyringPresent).toBe(true);
    expect(s.kubeletActive).toBe(true);
    expect(s.kubeletRunning).toBe("1.37.1");
    expect(s.kubeadmVersion).toBe("1.37.1");
    expect(fs.existsSync(path.join(l.dir, "nodes", NODE, "enabled-kubelet"))).toBe(true); // starts again after a reboot

    // Every call came from the new node, in this order, with the version pinned exactly.
    expect(calls.every((c) => c.node === NODE)).toBe(true);
    const root = l.env(NODE).CM_NODE_ROOT!;
    const changed = mutations(calls).map((c) => c.replace(/X-aws-ec2-metadata-token: \S+/, "X-aws-ec2-metadata-token: SESSION"));
    expect(changed).toEqual([
      "curl -fsS --max-time 5 -X PUT -H X-aws-ec2-metadata-token-ttl-seconds: 300 http://169.254.169.254/latest/api/token",
      "curl -fsS --max-time 5 -H X-aws-ec2-metadata-token: SESSION http://169.254.169.254/latest/meta-data/tags/instance/Name",
      `hostnamectl set-hostname ${NODE}`,
      "swapoff -a",
      "modprobe overlay",
      "modprobe br_netfilter",
      "sysctl --system",
      "apt-get -o DPkg::Lock::Timeout=300 update",
      "apt-get -o DPkg::Lock::Timeout=300 install -y containerd ca-certificates curl gpg",
      "containerd config default",
      "systemctl restart containerd",
      expect.stringMatching(/^(curl -fsSL --max-time 60 https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.37\/deb\/Release\.key|gpg --dearmor --yes -o .*)$/),
      expect.stringMatching(/^(curl -fsSL --max-time 60 https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.37\/deb\/Release\.key|gpg --dearmor --yes -o .*)$/),
      "apt-get -o DPkg::Lock::Timeout=300 update",
      "apt-get -o DPkg::Lock::Timeout=300 install -y kubelet=1.37.1-* kubeadm=1.37.1-* kubectl=1.37.1-*",
      "apt-mark hold kubelet kubeadm kubectl",
      "systemctl enable kubelet",
      `kubeadm join --config ${root}/run/cluster-maintenance/join-configuration.yaml`,
    ]);
    // The session token sent with the GET is the one the PUT returned (IMDSv2).
    expect(calls.find((c) => c.args.join(" ").includes("meta-data"))!.args.join(" ")).toMatch(
      /X-aws-ec2-metadata-token: [A-Za-z0-9]{56} /,
    );

    // The machine is set up as the kubeadm installation guide asks; the join file is gone.
    const read = (p: string) => fs.readFileSync(path.join(root, p), "utf8");
    expect(read("etc/hostname")).toBe(`${NODE}\n`);
    expect(read("etc/modules-load.d/kubernetes.conf")).toBe("overlay\nbr_netfilter\n");
    expect(read("proc/sys/net/ipv4/ip_forward")).toBe("1\n");
    expect(read("proc/sys/net/bridge/bridge-nf-call-iptables")).toBe("1\n");
    expect(read("etc/fstab")).toContain("#/swap.img none swap sw 0 0");
    expect(read("etc/containerd/config.toml")).toMatch(/runtimes\.runc\.options\]\n\s+BinaryName = ""\n\s+SystemdCgroup = true\n/);
    expect(read("etc/containerd/config.toml")).not.toContain("SystemdCgroup = false");
    expect(fs.readdirSync(path.join(root, "run/cluster-maintenance"))).toEqual([]);
    expect(fs.statSync(path.join(root, "run/cluster-maintenance")).mode & 0o777).toBe(0o700);
    expect(read("var/log/cloud-init-output.log")).toContain("This node has joined the cluster");

    expectSecretsHidden(l, join, result);
    expect(read("var/log/cloud-init-output.log")).not.toContain(join.token);
  });

  test("run again (cloud-init re-run, already joined): skips the join, changes no package", async () => {
    const l = lab();
    const join = parseJoinCommand(await joinCommand(l));
    expectExit(await l.bootNode(NODE, userData(join)), 0);
    const again = await callsDuring(l, () => l.run(NODE, 'bash "$CM_NODE_ROOT/var/lib/cloud/instance/scripts/part-001"'));
    expectExit(again.result, 0);
    expect(again.result.stderr).toContain(`cluster-maintenance: join-node.sh: ${NODE}: already done: joined (/etc/kubernetes/kubelet.conf exists)`);
    expect(again.calls.some((c) => c.command === "kubeadm")).toBe(false);
    expect(l.nodeState(NODE).packages.kubelet).toBe("1.37.1-1.1");
    expect((await nodeStatus(l, NODE)).stdout).toBe("True KubeletReady v1.37.1");
  });

  test("the join configuration the stand-in read was a 0600 kubeadm.k8s.io/v1beta4 JoinConfiguration with the token, hash, endpoint and name", async () => {
    const l = lab();
    const join = parseJoinCommand(await joinCommand(l));
    // join-node.sh removes the file on exit: a wrapper first on PATH copies what kubeadm is given.
    const spy = path.join(l.dir, "spy");
    fs.mkdirSync(spy);
    fs.writeFileSync(
      path.join(spy, "kubeadm"),
      `#!/bin/bash\nif [[ $1 == join ]]; then stat -c %a "$3" >"${l.dir}/join-mode"; cp "$3" "${l.dir}/join-copy"; fi\nexec "${path.join(__dirname, "..", "lab", "standins", "kubeadm")}" "$@"\n`,
      { mode: 0o755 },
    );
    // A first boot whose join fails, then cloud-init's script run again with the wrapper on PATH.
    expectExit(await l.bootNode(NODE, userData(join), { failures: ["kubeadm join"] }), 1);
    l.clearFailures();
    expect(l.registered(NODE)).toBe(false);
    const boot = await l.run(NODE, `PATH=${spy}:$PATH bash "$CM_NODE_ROOT/var/lib/cloud/instance/scripts/part-001"`);
    expectExit(boot, 0);
    expect(fs.readFileSync(path.join(l.dir, "join-mode"), "utf8").trim()).toBe("600");
    expect(fs.readFileSync(path.join(l.dir, "join-copy"), "utf8")).toBe(
      [
        "apiVersion: kubeadm.k8s.io/v1beta4",
        "kind: JoinConfiguration",
        "discovery:",
        "  bootstrapToken:",
        `    apiServerEndpoint: "${LAB_API_ENDPOINT}"`,
        `    token: "${join.token}"`,
        "    caCertHashes:",
        `      - "${join.caCertHash}"`,
        "nodeRegistration:",
        `  name: "${NODE}"`,
        "  criSocket: unix:///run/containerd/containerd.sock",
        "timeouts:",
        "  discovery: 5m0s",
        "  tlsBootstrap: 5m0s",
        "  kubeletHealthCheck: 4m0s",
        "",
      ].join("\n"),
    );
    expect(l.registered(NODE)).toBe(true);
  });

  test.each([
    ["an expired token", "the token is unknown or has expired", (l: Lab, j: JoinParameters) => (l.expireJoinTokens(), j)],
    ["an unknown token", "the token is unknown or has expired", (_l: Lab, j: JoinParameters) => ({ ...j, token: "abcdef.0123456789abcdef" })],
    ["another cluster's CA hash", "none of the public keys", (_l: Lab, j: JoinParameters) => ({ ...j, caCertHash: "sha256:" + "ab".repeat(32) })],
    ["another endpoint", "connection refused", (_l: Lab, j: JoinParameters) => ({ ...j, endpoint: "10.0.0.11:6443" })],
  ])("%s: the node never registers; the error says why and shows no secret", async (_what, why, alter) => {
    const l = lab();
    const join = alter(l, parseJoinCommand(await joinCommand(l)));
    const r = await l.bootNode(NODE, userData(join));
    expectExit(r, 1);
    expect(r.stderr).toContain(why);
    expect(r.stderr).toContain(`cluster-maintenance: join-node.sh: ${NODE}: kubeadm join failed (see its messages above)`);
    expect(l.registered(NODE)).toBe(false);
    expect(l.nodeState(NODE).kubeletActive).toBe(false);
    const status = await nodeStatus(l, NODE);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(`nodes "${NODE}" not found`);
    expect(fs.readdirSync(path.join(l.env(NODE).CM_NODE_ROOT!, "run/cluster-maintenance"))).toEqual([]);
    expectSecretsHidden(l, join, r);
  });

  test("a kubeadm at another version than the cluster: installed and held, but the node never registers", async () => {
    const l = lab("1.37.1");
    const join = parseJoinCommand(await joinCommand(l));
    const r = await l.bootNode("batch-v1-37-0-1", userData(join, "1.37.0"));
    expectExit(r, 1);
    expect(r.stderr).toContain("kubeadm v1.37.0 cannot join a cluster at v1.37.1");
    expect(l.registered("batch-v1-37-0-1")).toBe(false);
    expect(l.nodeState("batch-v1-37-0-1").packages.kubeadm).toBe("1.37.0-1.1");
    expectSecretsHidden(l, join, r);
  });

  test("a version with no packages in its minor's repository stops before the join", async () => {
    const l = lab();
    const join = parseJoinCommand(await joinCommand(l));
    const r = await callsDuring(l, () => l.bootNode(NODE, userData(join), { failures: ["install -y kubelet="] }));
    expectExit(r.result, 1);
    expect(r.result.stderr).toContain("installing kubelet, kubeadm and kubectl 1.37.1 failed");
    expect(r.calls.some((c) => c.command === "kubeadm")).toBe(false);
    expect(l.registered(NODE)).toBe(false);
  });

  test("a node whose network plugin is not ready joins but stays NotReady, with the reason", async () => {
    const l = lab();
    const join = parseJoinCommand(await joinCommand(l));
    const r = await l.bootNode(NODE, userData(join), { notReady: "KubeletNotReady container runtime network not ready: NetworkReady=false" });
    expectExit(r, 0);
    expect(l.registered(NODE)).toBe(true);
    expect((await nodeStatus(l, NODE)).stdout).toBe("False KubeletNotReady v1.37.1");
  });

  test.each([
    ["no Name tag", null, 1, "the instance metadata has no tag Name"],
    ["a Name tag that is not a node name", "Batch_1", 2, 'the instance tag Name "Batch_1" is not a valid node name'],
  ])("%s: stops before changing the machine", async (_what, nameTag, code, message) => {
    const l = lab();
    const join = parseJoinCommand(await joinCommand(l));
    const r = await callsDuring(l, () => l.bootNode(NODE, userData(join), { nameTag }));
    expectExit(r.result, code);
    expect(r.result.stderr).toContain(message);
    expect(mutations(r.calls).filter((c) => !c.startsWith("curl "))).toEqual([]);
    expect(l.registered(NODE)).toBe(false);
  });

  test("the metadata service is IMDSv2: a GET without a session token is refused (401)", async () => {
    const l = lab();
    const join = parseJoinCommand(await joinCommand(l));
    expectExit(await l.bootNode(NODE, userData(join)), 0);
    const v1 = await l.run(NODE, "curl -fsS --max-time 5 http://169.254.169.254/latest/meta-data/tags/instance/Name");
    expect(v1.code).toBe(22);
    expect(v1.stderr).toContain("401");
    expect(v1.stdout).toBe("");
    const v2 = await l.run(
      NODE,
      't=$(curl -fsS --max-time 5 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" http://169.254.169.254/latest/api/token) && curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $t" http://169.254.169.254/latest/meta-data/tags/instance/Name',
    );
    expectExit(v2, 0);
    expect(v2.stdout).toBe(NODE);
    const bad = await l.run(NODE, 'curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: forged" http://169.254.169.254/latest/meta-data/tags/instance/Name');
    expect(bad.code).toBe(22);
    // A node made by createLab is no EC2 instance: no metadata service at all.
    expect((await l.run("w-1", "curl -fsS --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token")).code).toBe(28);
  });

  test("kubeadm join refuses a token in argv and a JoinConfiguration readable by others", async () => {
    const l = lab();
    const join = parseJoinCommand(await joinCommand(l));
    expectExit(await l.bootNode(NODE, userData(join), { failures: ["kubeadm join"] }), 1);
    l.clearFailures();
    const argv = await l.run(NODE, `kubeadm join ${join.endpoint} --token ${join.token} --discovery-token-ca-cert-hash ${join.caCertHash}`);
    expect(argv.code).toBe(1);
    expect(argv.stderr).toContain("kubeadm join takes --config FILE only");
    const conf = path.join(l.dir, "join.yaml");
    fs.writeFileSync(conf, "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n", { mode: 0o644 });
    const open = await l.run(NODE, `kubeadm join --config ${conf}`);
    expect(open.code).toBe(1);
    expect(open.stderr).toContain("is mode 644, not 0600");
    expect(l.registered(NODE)).toBe(false);
  });

  test("bootNode refuses a node that exists", async () => {
    const l = lab();
    await expect(l.bootNode("w-1", "#!/bin/bash\ntrue\n")).rejects.toThrow("lab: node w-1 exists already");
  });
});
