/** Stack config parsing: typed values, defaults, and one clear error naming every bad key. */
import { parseStackConfig, planFromConfig, toClusterSpec } from "../config/stack-config";
import { inputErrorOf } from "./helpers/errors";
import { stackConfig } from "./helpers/pulumi-mocks";

const dev = stackConfig("dev");
const node = (name: string, version = "1.36.4", host = "10.0.0.1") => ({ name, host, version });
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
    expect(c.ssh).toEqual({ user: "ubuntu", port: 22, dialErrorLimit: 40, perDialTimeoutSeconds: 15, bastion: { host: "bastion.dev.example.com", user: "ubuntu", port: 22 } });
  });
});

describe("defaults", () => {
  it("takes the stack name as clusterName, rolling, maxUnavailable 1, ubuntu@22", () => {
    const c = parseStackConfig(base, "staging");
    expect(c.clusterName).toBe("staging");
    expect(c.pools[0]).toMatchObject({ strategy: "rolling", maxUnavailable: 1 });
    expect(c.ssh).toEqual({ user: "ubuntu", port: 22, dialErrorLimit: 40, perDialTimeoutSeconds: 15 });
  });

  it("resolves a minor to its latest known patch and a package version to its version", () => {
    const c = parseStackConfig({ ...base, targetVersion: "v1.37.1", controlPlane: { nodes: [node("cp-1", "1.36")] }, pools: [{ name: "web", nodes: [node("w", "1.36.4-1.1")] }] }, "t");
    expect(c.controlPlane[0]!.version.toString()).toBe("1.36.4");
    expect(c.pools[0]!.nodes[0]!.version.toString()).toBe("1.36.4");
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
    [{ ...base, controlPlane: { nodes: [node("cp-1", "1.36.4", "10.0.0.1; rm -rf /")] } }, 'controlPlane.nodes[0].host: is not a host name or IP address (got "10.0.0.1; rm -rf /")'],
    [{ ...base, controlPlane: undefined }, "controlPlane: is not a mapping (got nothing)"],
    [{ ...base, pools: [{ name: "web", nodes: [{ ...node("w"), components: { "kube-apiserver": "1.36.4" } }] }] }, "pools[0].nodes[0].components.kube-apiserver: is not a known key"],
    [{ ...base, ssh: { user: "root; id" } }, 'ssh.user: is not a user name'],
    [{ ...base, ssh: { bastion: { host: "$(reboot)" } } }, 'ssh.bastion.host: is not a host name or IP address (got "$(reboot)")'],
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
