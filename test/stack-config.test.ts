/** Stack config parsing: typed values, defaults, and one clear error naming every bad key. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { parseStackConfig, planFromConfig, sshTargetsOf, toClusterSpec, uncheckedHostKeys } from "../config/stack-config";
import { SECRET_KEYS } from "../config/stack-file";
import { inputErrorOf } from "./helpers/errors";
import { stackConfig } from "./helpers/pulumi-mocks";
import { testHostKey } from "./helpers/host-keys";

const dev = stackConfig("dev");
const node = (name: string, version = "1.36.4", host = "10.0.0.1") => ({ name, host, hostKey: testHostKey(name), version });
const base = {
  targetVersion: "1.37",
  controlPlane: { nodes: [node("cp-1")] },
  pools: [{ name: "web", nodes: [node("web-1"), node("web-2"), node("web-3"), node("web-4")] }],
};

function problems(raw: Record<string, unknown>, stack = "test"): string {
  return inputErrorOf(() => parseStackConfig(raw, stack)).message;
}

describe("the dev stack", () => {
  it("parses into the cluster it describes", () => {
    const c = parseStackConfig(dev, "dev");
    expect(c.clusterName).toBe("dev");
    expect(c.target.toString()).toBe("1.37.1");
    expect(c.controlPlane.map((n) => n.name)).toEqual(["cp-1", "cp-2", "cp-3"]);
    expect(c.pools.map((p) => [p.name, p.strategy, p.maxUnavailable, p.nodes.length])).toEqual([
      ["general", "rolling", 2, 4],
      ["batch", "blue-green", 1, 3],
    ]);
    expect(c.ssh).toEqual({
      user: "ubuntu", port: 22, dialErrorLimit: 40, perDialTimeoutSeconds: 15, insecureIgnoreHostKey: false,
      bastion: { host: "bastion.dev.example.com", user: "ubuntu", port: 22, hostKey: expect.stringMatching(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43}$/) },
    });
  });
});

describe("defaults", () => {
  it("takes the stack name as clusterName, rolling, maxUnavailable 1, ubuntu@22", () => {
    const c = parseStackConfig(base, "staging");
    expect(c.clusterName).toBe("staging");
    expect(c.pools[0]).toMatchObject({ strategy: "rolling", maxUnavailable: 1 });
    expect(c.ssh).toEqual({ user: "ubuntu", port: 22, dialErrorLimit: 40, perDialTimeoutSeconds: 15, insecureIgnoreHostKey: false });
  });

  it("resolves a target minor to its latest known patch and a package version to its version", () => {
    const c = parseStackConfig({ ...base, targetVersion: "1.36", controlPlane: { nodes: [node("cp-1", "v1.36.4")] }, pools: [{ name: "web", nodes: [node("w", "1.36.4-1.1")] }] }, "t");
    expect(c.target.toString()).toBe("1.36.4");
    expect(c.controlPlane[0]!.version.toString()).toBe("1.36.4");
    expect(c.pools[0]!.nodes[0]!.version.toString()).toBe("1.36.4");
  });

  it("refuses a minor where the version that runs now is meant: a node's version and components, a blue-green pool's version (regression)", () => {
    const bg = { name: "batch", strategy: "blue-green", version: "1.36", targetVersion: "1.37", size: 2, aws: { ami: "ami-0123456789abcdef0", instanceType: "m6i.large", subnetIds: ["subnet-0123456789abcdef0"], securityGroupIds: ["sg-0123456789abcdef0"] } };
    const cp = { ...node("cp-1", "1.36"), components: { kubelet: "1.35" } };
    const message = problems({ ...base, controlPlane: { nodes: [cp] }, pools: [bg] });
    const fix = 'write the exact patch version, e.g. "1.36.4" (kubectl get nodes shows each kubelet\'s)';
    expect(message.split("\n").slice(1)).toEqual([
      `  - controlPlane.nodes[0].version: is a minor, not the exact version that runs now (got "1.36"). ${fix}`,
      `  - controlPlane.nodes[0].components.kubelet: is a minor, not the exact version that runs now (got "1.35"). ${fix}`,
      `  - pools[0].version: is a minor, not the exact version that runs now (got "1.36"). ${fix}`,
    ]);
    expect(message).not.toContain("pools[0].targetVersion");
    // The same pool at an exact version, its target a minor: accepted.
    const ok = parseStackConfig({ ...base, controlPlane: { nodes: [node("cp-1", "1.37.1")] }, pools: [{ ...bg, version: "1.36.4" }] }, "t");
    expect([ok.pools[0]!.blueGreen!.version!.toString(), ok.pools[0]!.blueGreen!.targetVersion!.toString()]).toEqual(["1.36.4", "1.37.1"]);
  });

  it("turns a percentage maxUnavailable into whole nodes, at least one", () => {
    const pct = (p: string) => parseStackConfig({ ...base, pools: [{ ...base.pools[0], maxUnavailable: p }] }, "t").pools[0]!.maxUnavailable;
    expect(pct("50%")).toBe(2);
    expect(pct("10%")).toBe(1);
    expect(pct("100%")).toBe(4);
  });

  it("gives kube-proxy the oldest kube-apiserver's version unless kubeProxyVersion is set", () => {
    const mixed = { ...base, controlPlane: { nodes: [node("cp-1", "1.37.1"), node("cp-2", "1.36.4")] } };
    const proxy = (raw: Record<string, unknown>) => toClusterSpec(parseStackConfig(raw, "t")).nodes.map((n) => n.versions["kube-proxy"].toString());
    expect(new Set(proxy(mixed))).toEqual(new Set(["1.36.4"]));
    expect(new Set(proxy({ ...mixed, kubeProxyVersion: "1.36.2" }))).toEqual(new Set(["1.36.2"]));
  });

  it("takes component overrides on control-plane nodes (a hop stopped half-way)", () => {
    const half = { ...base, controlPlane: { nodes: [{ ...node("cp-1", "1.36.4"), components: { "kube-apiserver": "1.37.1", "kube-controller-manager": "1.37.1", "kube-scheduler": "1.37.1" } }, node("cp-2")] } };
    const spec = toClusterSpec(parseStackConfig(half, "t"));
    expect(spec.nodes[0]!.versions["kube-apiserver"]!.toString()).toBe("1.37.1");
    expect(spec.nodes[0]!.versions.kubelet.toString()).toBe("1.36.4");
    const plan = planFromConfig(parseStackConfig(half, "t"), new Date("2026-11-21"));
    expect(plan.steps.filter((s) => s.kind === "control-plane-upgrade").map((s) => [s.nodes[0], s.actions.map((a) => a.kind)])).toEqual([
      ["cp-2", ["switch-repository", "upgrade-kubeadm", "kubeadm-upgrade-node"]],
    ]);
  });

  it("lets releases declare a newer minor so it can be targeted", () => {
    const c = parseStackConfig({ ...base, targetVersion: "1.38", releases: [{ minor: "1.38", latestPatch: "1.38.0", released: "2026-12-16", endOfLife: "2028-02-28" }] }, "t");
    expect(c.target.toString()).toBe("1.38.0");
    expect(planFromConfig(c).hops.map((h) => h.to.toString())).toEqual(["1.37.1", "1.38.0"]);
  });
});

describe("bad input", () => {
  it.each([
    [{ ...base, targetVersion: undefined }, 'targetVersion: is required (got nothing). set the version to upgrade to, e.g. targetVersion: "1.37"'],
    [{ ...base, targetVersion: 1.3 }, "targetVersion: is a number, not a version (YAML reads 1.30 as 1.3) (got 1.3)"],
    [{ ...base, targetVersion: "1.99" }, 'targetVersion: names a minor the release catalogue does not know (it knows 1.24 to 1.37) (got "1.99")'],
    [{ ...base, targetVersion: "1.37.7" }, "is newer than the latest 1.37 patch the catalogue knows (1.37.1)"],
    [{ ...base, pools: [{ name: "web", nodes: [] }] }, "pools[0].nodes: has no nodes (got [])"],
    [{ ...base, pools: [{ ...base.pools[0], maxUnavailable: 0 }] }, "pools[0].maxUnavailable: is out of range (got 0). give a whole number from 1 to the pool's 4 node(s)"],
    [{ ...base, pools: [{ ...base.pools[0], maxUnavailable: 5 }] }, "pools[0].maxUnavailable: is out of range (got 5)"],
    [{ ...base, pools: [{ ...base.pools[0], maxUnavailable: "0%" }] }, 'pools[0].maxUnavailable: is out of range (got "0%")'],
    [{ ...base, pools: [{ ...base.pools[0], strategy: "canary" }] }, 'pools[0].strategy: is not a known choice (got "canary"). use one of: rolling, blue-green'],
    [{ ...base, pools: [{ ...base.pools[0], maxUnavailble: 2 }] }, "pools[0].maxUnavailble: is not a known key (got 2)"],
    [{ ...base, pools: [{ name: "control-plane", nodes: [node("w")] }] }, 'pools[0].name: is already used by another pool (control-plane is reserved) (got "control-plane")'],
    [{ ...base, pools: [{ name: "web", nodes: [node("cp-1")] }] }, 'pools[0].nodes[0].name: repeats the node name at controlPlane.nodes[0].name (got "cp-1")'],
    [{ ...base, controlPlane: { nodes: [node("CP_1")] } }, 'controlPlane.nodes[0].name: is not a Kubernetes node name (lowercase DNS name) (got "CP_1")'],
    [{ ...base, controlPlane: { nodes: [node("cp-1", "1.36.4", "10.0.0.1; rm -rf /")] } }, `controlPlane.nodes[0].host: is not a host name or IP address (has a label that is not letters, digits, '-' (at most 63, '.' between labels)) (got "10.0.0.1; rm -rf /")`],
    // No controlPlane.nodes: the nodes are read from the cluster, so pools select theirs.
    [{ ...base, controlPlane: undefined }, 'pools[0].nodes: lists nodes in a config without versions (no controlPlane.nodes) (got "(a list)"). select the pool\'s nodes with pools[0].selector'],
    [{ ...base, controlPlane: "cp-1" }, 'controlPlane: is not a mapping (got "cp-1")'],
    [{ ...base, pools: [{ name: "web", nodes: [{ ...node("w"), components: { "kube-apiserver": "1.36.4" } }] }] }, "pools[0].nodes[0].components.kube-apiserver: is not a known key"],
    [{ ...base, ssh: { user: "root; id" } }, 'ssh.user: is not a user name'],
    [{ ...base, ssh: { bastion: { host: "$(reboot)" } } }, `ssh.bastion.host: is not a host name or IP address (has a label that is not letters, digits, '-' (at most 63, '.' between labels)) (got "$(reboot)")`],
    [{ ...base, releases: [{ minor: "1.38", latestPatch: "1.38.0" }] }, "releases[0].released: is not a date"],
    [{ ...base, targetVerison: "1.37" }, 'cluster-maintenance.targetVerison: is not a known key (got "1.37")'],
    [{ ...base, kubectlNode: "web-1" }, 'kubectlNode: is not a control-plane node (got "web-1"). name one of cp-1 (kubectl needs its admin.conf)'],
    [{ ...base, pools: [{ ...base.pools[0], drain: { timeoutSeconds: 5 } }] }, "pools[0].drain.timeoutSeconds: is not a whole number from 30 to 86400 (got 5)"],
    [{ ...base, controlPlane: { ...base.controlPlane, drain: { disableEviction: "yes" } } }, 'controlPlane.drain.disableEviction: is not true or false (got "yes")'],
    [{ ...base, etcd: { backupDir: "/var/lib/my backups" } }, 'etcd.backupDir: is not an absolute path'],
    [{ ...base, etcd: { endpoint: "127.0.0.1:2379" } }, 'etcd.endpoint: is not an etcd client URL'],
    [{ ...base, readyTimeoutSeconds: 0 }, "readyTimeoutSeconds: is not a whole number from 30 to 86400 (got 0)"],
    [{ ...base, etcd: { verify: "hash" } }, 'etcd.verify: is not a known choice (got "hash"). use one of: restore, status'],
    [{ ...base, etcd: { keep: 0 } }, "etcd.keep: is not a whole number from 1 to 1000 (got 0)"],
    [{ ...base, backup: { bucket: "My_Bucket", region: "eu-west-1", image: "i:1" } }, 'backup.bucket: is not an S3 bucket name'],
    [{ ...base, backup: { bucket: "b-1", region: "europe", image: "i:1" } }, 'backup.region: is not an AWS region'],
    [{ ...base, backup: { bucket: "b-1", region: "eu-west-1" } }, "backup.image: is not a container image"],
    [{ ...base, backup: { bucket: "b-1", region: "eu-west-1", image: "i:1", exportSecrets: "plain" } }, 'backup.exportSecrets: is not exclude or encrypt:<path> (got "plain")'],
    [{ ...base, backup: { bucket: "b-1", region: "eu-west-1", image: "i:1", schedule: "hourly" } }, 'backup.schedule: is not a cron schedule'],
  ])("refuses %#: %s", (raw, message) => {
    expect(problems(raw as Record<string, unknown>)).toContain(message);
  });

  it("refuses a stack name that is no DNS label when clusterName is not set", () => {
    expect(problems(base, "Prod_1")).toContain('clusterName: is not a DNS label');
  });

  it("reports every problem in one error, one line each", () => {
    const message = problems({ ...base, targetVersion: "latest", pools: [{ name: "Web", maxUnavailable: -1, nodes: [node("w", "2.0.0")] }] });
    expect(message.split("\n")[0]).toBe("invalid stack config for cluster-maintenance (4 problems):");
    expect(message).toContain('targetVersion: is not a Kubernetes version (got "latest")');
    expect(message).toContain('pools[0].name: is not a DNS label');
    expect(message).toContain('pools[0].nodes[0].version: has a major version other than 1 (got "2.0.0")');
    expect(message).toContain("pools[0].maxUnavailable: is out of range (got -1)");
  });
});

it("takes a top-level whole number as Pulumi hands it to the program, as text (regression: readyTimeoutSeconds \"60\")", () => {
  expect(parseStackConfig({ ...base, readyTimeoutSeconds: "60" }, "t").readyTimeoutSeconds).toBe(60);
  expect(problems({ ...base, readyTimeoutSeconds: "60s" })).toContain('readyTimeoutSeconds: is not a whole number from 30 to 86400 (got "60s")');
});

describe("SSH host keys (hostKey on every node reached over SSH and on the bastion)", () => {
  /** Real public host keys of each type, made by ssh-keygen, as `<type> <base64>`. */
  const dir = mkdtempSync(join(tmpdir(), "cm-host-keys-"));
  const made = (type: string, bits?: number): string => {
    const file = join(dir, `${type}${bits ?? ""}`);
    const r = spawnSync("ssh-keygen", ["-q", "-t", type, ...(bits ? ["-b", String(bits)] : []), "-N", "", "-C", "root@node", "-f", file], { encoding: "utf8" });
    expect(r.status).toBe(0);
    return readFileSync(`${file}.pub`, "utf8").trim();
  };
  const real = { ed25519: made("ed25519"), p256: made("ecdsa", 256), p384: made("ecdsa", 384), p521: made("ecdsa", 521), rsa: made("rsa", 2048) };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const keyPart = (line: string) => line.split(" ").slice(0, 2).join(" ");
  const withCpKey = (hostKey: unknown, extra: Record<string, unknown> = {}) => ({ ...base, ...extra, controlPlane: { nodes: [{ ...node("cp-1"), hostKey }] } });
  const { hostKey: _drop, ...keyless } = node("cp-1");

  it("keeps each node's key, as `<type> <base64>`, and gives it to the connection targets", () => {
    const c = parseStackConfig(base, "t");
    expect(c.controlPlane[0]!.hostKey).toBe(testHostKey("cp-1"));
    expect(sshTargetsOf(c).get("web-2")).toEqual({ host: "10.0.0.1", hostKey: testHostKey("web-2") });
    expect(planFromConfig(c).warnings.map((w) => w.kind)).not.toContain("host-keys");
  });

  it.each(Object.entries(real).filter(([t]) => t !== "rsa"))("takes a real %s key from ssh-keygen, its comment dropped", (_t, line) => {
    expect(line.split(" ")).toHaveLength(3);
    expect(parseStackConfig(withCpKey(line), "t").controlPlane[0]!.hostKey).toBe(keyPart(line));
  });

  it("gives the dev and prod stacks' example keys to every node reached over SSH and to the bastion", () => {
    for (const stack of ["dev", "prod"]) {
      const c = parseStackConfig(stackConfig(stack), stack);
      const ssh = [...c.controlPlane, ...c.pools.flatMap((p) => p.nodes)].filter((n) => n.host !== "");
      expect(ssh.length).toBeGreaterThan(0);
      for (const n of ssh) expect(n.hostKey).toMatch(/^(ssh-ed25519|ecdsa-sha2-nistp256) AAAA/);
      expect(c.ssh.bastion!.hostKey).toMatch(/^(ssh-ed25519|ecdsa-sha2-nistp256) AAAA/);
      expect(uncheckedHostKeys(c)).toEqual([]);
    }
  });

  it("needs no hostKey for a blue-green pool's own instances (no SSH)", () => {
    const c = parseStackConfig(dev, "dev");
    const batch = c.pools.find((p) => p.name === "batch")!;
    expect(batch.nodes.map((n) => [n.host, n.hostKey])).toEqual([["", undefined], ["", undefined], ["", undefined]]);
    expect([...sshTargetsOf(c).keys()]).not.toContain(batch.nodes[0]!.name);
  });

  it("refuses a missing node hostKey, naming the key, with the ssh-keyscan command for its host and port", () => {
    const message = problems({ ...base, controlPlane: { nodes: [{ ...keyless, host: "10.0.0.11" }] } });
    expect(message).toBe(
      "invalid stack config for cluster-maintenance: controlPlane.nodes[0].hostKey: is required: without it any host key is accepted, and a machine answering at this address would get the commands and their secrets (got nothing). " +
        'take the key part of `ssh-keyscan -t ed25519 10.0.0.11` (the line without the host name), e.g. hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI..."; or set ssh.insecureIgnoreHostKey: true to accept any host key (not recommended)',
    );
    const { hostKey: _k, ...web2 } = node("web-2");
    const pool = problems({ ...base, ssh: { port: 2222 }, pools: [{ name: "web", nodes: [node("web-1"), web2] }] });
    expect(pool).toContain("pools[0].nodes[1].hostKey: is required");
    expect(pool).toContain("`ssh-keyscan -t ed25519 -p 2222 10.0.0.1`");
  });

  it("refuses a bastion without hostKey, with the ssh-keyscan command for the bastion", () => {
    const message = problems({ ...base, ssh: { bastion: { host: "bastion.example.com", port: 2200 } } });
    expect(message).toContain("ssh.bastion.hostKey: is required");
    expect(message).toContain("`ssh-keyscan -t ed25519 -p 2200 bastion.example.com`");
    const c = parseStackConfig({ ...base, ssh: { bastion: { host: "bastion.example.com", hostKey: real.p256 } } }, "t");
    expect(c.ssh.bastion).toEqual({ host: "bastion.example.com", user: "ubuntu", port: 22, hostKey: keyPart(real.p256) });
  });

  const ed = testHostKey("x");
  const [, edB64] = ed.split(" ") as [string, string];
  it.each([
    ["a number", 42, "controlPlane.nodes[0].hostKey: is not an OpenSSH public host key (`<type> <base64>`) (got 42)"],
    ["the base64 part alone", edB64, `controlPlane.nodes[0].hostKey: is not an OpenSSH public host key (\`<type> <base64>\`) (got "${edB64.slice(0, 40)}...(${edB64.length} chars)")`],
    ["an ssh-keyscan line", `10.0.0.1 ${ed}`, 'starts with a host name (a known_hosts or ssh-keyscan line) (got "10.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE...(89 chars)"). drop the leading "10.0.0.1": give only "ssh-ed25519 <base64>"'],
    ["an RSA key", keyPart(real.rsa), "is an RSA (or DSA) host key, which @pulumi/command checks only with the SHA-1 ssh-rsa algorithm that OpenSSH 8.8 and later refuse"],
    ["an RSA key labelled rsa-sha2-256", `rsa-sha2-256 ${real.rsa.split(" ")[1]}`, "is an RSA (or DSA) host key"],
    ["an unknown type", `ssh-ed448 ${edB64}`, 'has the unknown key type "ssh-ed448" (got "ssh-ed448 AAAAC3NzaC1lZDI1NTE5AAAAIC1xFk...(78 chars)"). use one of ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521: take the key part of `ssh-keyscan -t ed25519 10.0.0.1`'],
    ["a cut key", ed.slice(0, -4), "is not a whole ssh-ed25519 key (the base64 part is cut, damaged or of another type)"],
    ["a key with a changed character", ed.replace("AAAAC3", "AAAAC4"), "is not a whole ssh-ed25519 key"],
    ["an ed25519 key labelled ecdsa", `ecdsa-sha2-nistp256 ${edB64}`, "is not a whole ecdsa-sha2-nistp256 key"],
    ["a P-256 key labelled P-384", `ecdsa-sha2-nistp384 ${real.p256.split(" ")[1]}`, "is not a whole ecdsa-sha2-nistp384 key"],
    ["shell syntax after the key", `${ed} $(reboot)\u0007`, "has a comment with unprintable characters after the key"],
  ])("refuses %s, naming the key and the fix", (_what, hostKey, message) => {
    expect(problems(withCpKey(hostKey))).toContain(message);
  });

  it("cuts a long bad value in the message", () => {
    const message = problems(withCpKey(`ssh-ed25519 ${"A".repeat(500)}`));
    expect(message).toContain('(got "ssh-ed25519 AAAAAAAAAAAAAAAAAAAAAAAAAAAA...(512 chars)")');
    expect(message).not.toContain("A".repeat(100));
  });

  it("with ssh.insecureIgnoreHostKey: true takes nodes and bastion without a key, and the plan warns which are not checked", () => {
    const raw = { ...base, ssh: { insecureIgnoreHostKey: true, bastion: { host: "bastion.example.com" } }, controlPlane: { nodes: [keyless] } };
    const c = parseStackConfig(raw, "t");
    expect(c.ssh.insecureIgnoreHostKey).toBe(true);
    expect(c.controlPlane[0]!.hostKey).toBeUndefined();
    expect(c.ssh.bastion!.hostKey).toBeUndefined();
    expect(sshTargetsOf(c).get("cp-1")).toEqual({ host: "10.0.0.1" });
    expect(uncheckedHostKeys(c)).toEqual(["cp-1", "bastion bastion.example.com"]);
    const plan = planFromConfig(c, new Date("2026-11-21"));
    expect(plan.warnings[0]).toEqual({
      kind: "host-keys",
      message: "SSH host keys are not checked (ssh.insecureIgnoreHostKey: true) for cp-1, bastion bastion.example.com: any machine answering at their address gets the commands and their secrets; add each one's hostKey (ssh-keyscan -t ed25519 <host>, the key part) and remove ssh.insecureIgnoreHostKey",
    });
    // A key that is given is still checked and used.
    expect(problems({ ...raw, controlPlane: { nodes: [{ ...keyless, hostKey: "ssh-rsa AAAA" }] } })).toContain("controlPlane.nodes[0].hostKey: is an RSA");
    expect(planFromConfig(parseStackConfig({ ...base, ssh: { insecureIgnoreHostKey: true } }, "t")).warnings.map((w) => w.kind)).not.toContain("host-keys");
  });

  it("refuses a bad ssh.insecureIgnoreHostKey once, not again as every missing hostKey", () => {
    const message = problems({ ...base, ssh: { insecureIgnoreHostKey: "yes" }, controlPlane: { nodes: [keyless] } });
    expect(message).toBe('invalid stack config for cluster-maintenance: ssh.insecureIgnoreHostKey: is not true or false (got "yes"). write true (accept any host key where hostKey is missing; not recommended) or leave it out');
  });
});

describe("the project file (Pulumi.yaml)", () => {
  it("declares sshPrivateKey, kubeconfig and notificationWebhookUrl secrets, so the Pulumi CLI refuses a plain value", () => {
    const project = parse(readFileSync(join(__dirname, "..", "Pulumi.yaml"), "utf8")) as { config: Record<string, { type?: string; secret?: boolean }> };
    expect(SECRET_KEYS).toEqual(["sshPrivateKey", "kubeconfig", "notificationWebhookUrl"]);
    for (const key of SECRET_KEYS) expect(project.config[key]).toMatchObject({ type: "string", secret: true });
    // Declarations only: the other keys keep theirs.
    expect(project.config.targetVersion).toMatchObject({ type: "string" });
    expect(project.config.readyTimeoutSeconds).toMatchObject({ type: "integer", default: 600 });
  });
});
