/**
 * The ClusterUpgrade component under Pulumi mocks: NodeUpgrade children with their
 * versions, remote commands under them in plan order, and refusal before registration.
 */
import * as pulumi from "@pulumi/pulumi";
import { installMocks, secretValue, settled, valueOf } from "./helpers/pulumi-mocks";
import { ClusterUpgrade, ClusterUpgradeArgs } from "../components/cluster-upgrade";
import { scriptText } from "../components/node-scripts";
import { ClusterSpec, NodeState } from "../planning/cluster";
import { ExecutionOptions } from "../planning/commands";
import { PlanningError } from "../planning/errors";
import { ReleaseCatalogue } from "../planning/releases";
import { KubeVersion, parseFullVersion } from "../planning/versions";
import { readFileSync } from "node:fs";

const registered = installMocks("test", false);
jest.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());

const v = (s: string): KubeVersion => parseFullVersion(s, "test");
function node(name: string, pool: string, version: string): NodeState {
  const x = v(version);
  const cp = pool === "control-plane" ? { "kube-apiserver": x, "kube-controller-manager": x, "kube-scheduler": x } : {};
  return { name, role: pool === "control-plane" ? "control-plane" : "worker", pool, versions: { ...cp, kubelet: x, kubectl: x, "kube-proxy": x } };
}
const cluster: ClusterSpec = {
  name: "lab",
  pools: [{ name: "web", strategy: "rolling", maxUnavailable: 1 }],
  nodes: [node("cp-1", "control-plane", "1.36.2"), node("web-1", "web", "1.36.2")],
};
const execution: ExecutionOptions = {
  kubectlNode: "cp-1",
  drain: () => ({ timeoutSeconds: 300, deleteEmptyDirData: false, deleteUnmanagedPods: false, disableEviction: false }),
  etcd: { endpoint: "https://127.0.0.1:2379", caCert: "/pki/ca.crt", cert: "/pki/server.crt", key: "/pki/server.key", backupDir: "/backups", verify: "restore", keep: 5 },
  readyTimeoutSeconds: 120,
};
const hosts: Record<string, string> = { "cp-1": "10.0.0.11", "web-1": "10.0.1.11" };
const args: ClusterUpgradeArgs = {
  cluster, target: v("1.37.1"), catalogue: ReleaseCatalogue.embedded(), now: new Date("2026-11-21"), execution,
  connection: (n) => pulumi.secret({ host: hosts[n]!, user: "ubuntu", privateKey: "test-key" }),
};

beforeEach(() => registered.splice(0));

describe("a two-node cluster, 1.36.2 -> 1.37.1", () => {
  let upgrade: ClusterUpgrade;
  beforeAll(async () => {
    upgrade = new ClusterUpgrade("lab", args);
    await settled();
  });

  it("creates one NodeUpgrade per node, parented to the ClusterUpgrade, carrying current and target versions", async () => {
    const [cp, web] = upgrade.nodes;
    expect(await valueOf(cp!.urn)).toContain("cluster-maintenance:upgrade:ClusterUpgrade$cluster-maintenance:upgrade:NodeUpgrade::lab-cp-1");
    expect(await valueOf(cp!.currentVersion)).toBe("1.36.2");
    expect(await valueOf(cp!.targetVersion)).toBe("1.37.1");
    expect(await valueOf(cp!.role)).toBe("control-plane");
    expect(await valueOf(cp!.steps)).toEqual(["v1.37/cp-1/etcd-snapshot", "v1.37/cp-1/control-plane-upgrade", "v1.37/cp-1/kubelet-upgrade"]);
    expect(await valueOf(web!.pool)).toBe("web");
    expect(await valueOf(web!.steps)).toEqual(["v1.37/web-1/worker-upgrade"]);
    expect(await valueOf(upgrade.hops)).toEqual(["1.37.1"]);
  });
});

describe("the remote commands", () => {
  it("are created under their node's component, in plan order, each depending on the one before", async () => {
    const upgrade = new ClusterUpgrade("lab", args);
    await valueOf(pulumi.all(upgrade.nodes.map((n) => n.urn)));
    await settled();
    const commands = registered.filter((r) => r.type === "command:remote:Command");
    expect(commands.map((c) => c.name)).toEqual([
      "lab-cp-1-v1.37.1-etcd-snapshot",
      "lab-cp-1-v1.37.1-switch-repository", "lab-cp-1-v1.37.1-upgrade-kubeadm", "lab-cp-1-v1.37.1-kubeadm-upgrade-apply",
      "lab-cp-1-v1.37.1-drain", "lab-cp-1-v1.37.1-upgrade-kubelet", "lab-cp-1-v1.37.1-wait-ready", "lab-cp-1-v1.37.1-uncordon",
      "lab-web-1-v1.37.1-switch-repository", "lab-web-1-v1.37.1-upgrade-kubeadm", "lab-web-1-v1.37.1-kubeadm-upgrade-node",
      "lab-web-1-v1.37.1-drain", "lab-web-1-v1.37.1-upgrade-kubelet", "lab-web-1-v1.37.1-wait-ready", "lab-web-1-v1.37.1-uncordon",
    ]);
    for (const c of commands) {
      const owner = c.name.startsWith("lab-cp-1") ? "lab-cp-1" : "lab-web-1";
      expect(c.parent).toMatch(new RegExp(`cluster-maintenance:upgrade:NodeUpgrade::${owner}$`));
    }
    commands.forEach((c, i) => {
      const expected = i === 0 ? [] : [commands[i - 1]!.name];
      expect(c.dependsOn.map((urn) => urn.split("::").pop())).toEqual(expected);
    });
  });

  it("send the node script as stdin and only its name and quoted arguments in the command line", async () => {
    new ClusterUpgrade("lab", args);
    await settled();
    const drain = registered.find((r) => r.name === "lab-web-1-v1.37.1-drain")!;
    expect(drain.inputs.create).toBe(`sudo bash -c 's=$(cat) && exec bash -c "$s" "$0" "$@"' drain.sh 'web-1' '1.37.1' '300' 'false' 'false' 'false'`);
    const file = readFileSync(`${__dirname}/../node-scripts/drain.sh`, "utf8");
    expect(drain.inputs.stdin).toBe(scriptText("drain.sh")); // the file, its shared functions put in place
    expect(drain.inputs.stdin).toContain("version_at_least() {");
    expect(drain.inputs.stdin).not.toContain("# cluster-maintenance: include");
    expect(String(drain.inputs.stdin).startsWith(file.slice(0, file.indexOf("# cluster-maintenance: include")))).toBe(true);
    expect(drain.inputs.logging).toBe("stdoutAndStderr");
    expect(drain.inputs.addPreviousOutputInEnv).toBe(false);
    expect(secretValue(drain.inputs.connection).host).toBe("10.0.0.11");
    const kubelet = registered.find((r) => r.name === "lab-web-1-v1.37.1-upgrade-kubelet")!;
    expect(secretValue(kubelet.inputs.connection).host).toBe("10.0.1.11");
    for (const r of registered.filter((x) => x.type === "command:remote:Command")) expect(String(r.inputs.create)).not.toContain("test-key");
  });
});

describe("two batches of 10 nodes (planning's tests count 100 + 100)", () => {
  const web = Array.from({ length: 20 }, (_, i) => node(`web-${i + 1}`, "web", "1.37.0"));
  const big: ClusterUpgradeArgs = {
    ...args, cluster: { name: "lab", pools: [{ name: "web", strategy: "rolling", maxUnavailable: 10 }], nodes: [node("cp-1", "control-plane", "1.37.0"), ...web] },
    connection: () => pulumi.secret({ host: "10.0.0.11", user: "ubuntu", privateKey: "test-key" }),
  };

  it("waits between them through one barrier that runs nothing: 10 + 10 dependencies, not 10 x 10", async () => {
    new ClusterUpgrade("lab", big);
    await settled();
    const barriers = registered.filter((r) => r.type === "command:local:Command");
    expect(barriers.map((b) => [b.name, b.inputs, b.parent.split("::").pop(), [...b.ignoreChanges].sort()])).toEqual([[
      "lab-v1.37.1-web-batch-2", {}, "lab",
      ["addPreviousOutputInEnv", "archivePaths", "assetPaths", "create", "delete", "dir", "environment", "interpreter", "logging", "stdin", "triggers", "update"],
    ]]);
    const name = (urn: string) => urn.split("::").pop();
    const commands = registered.filter((r) => r.type === "command:remote:Command");
    const ownOf = (n: string) => commands.filter((c) => c.name.startsWith(`lab-${n}-v1.37.1-`));
    expect(barriers[0]!.dependsOn.map(name)).toEqual(web.slice(0, 10).map((n) => ownOf(n.name).pop()!.name));
    for (const n of web.slice(10)) expect(ownOf(n.name)[0]!.dependsOn.map(name)).toEqual(["lab-v1.37.1-web-batch-2"]);
    // Between the batches: 10 into the barrier and 10 out of it.
    const batch1 = new Set(web.slice(0, 10).flatMap((n) => ownOf(n.name).map((c) => c.name)));
    const batch2 = web.slice(10).map((n) => ownOf(n.name)[0]!);
    const across = barriers[0]!.dependsOn.filter((u) => batch1.has(name(u)!)).length + batch2.reduce((sum, c) => sum + c.dependsOn.length, 0);
    expect(across).toBe(20);
    // Every command but the first waits for one other (the one before it, the control plane's last, or the barrier); the barrier waits for 10.
    expect([...registered].reduce((sum, r) => sum + r.dependsOn.length, 0)).toBe(commands.length - 1 + 10);
  });
});

it("registers every command so that only its name (node, exact version, action) decides whether it runs", async () => {
  new ClusterUpgrade("lab", args);
  await settled();
  const commands = registered.filter((r) => r.type === "command:remote:Command");
  expect(commands.length).toBeGreaterThan(0);
  for (const c of commands) {
    expect([...c.ignoreChanges].sort()).toEqual(["addPreviousOutputInEnv", "connection", "create", "delete", "environment", "logging", "stdin", "triggers", "update"]);
  }
  registered.splice(0);
  new ClusterUpgrade("lab", { ...args, target: v("1.37.0") });
  await settled();
  const names = registered.filter((r) => r.type === "command:remote:Command").map((r) => r.name);
  expect(names).toContain("lab-web-1-v1.37.0-drain"); // another patch is another command, never the finished one
  expect(names.filter((n) => n.includes("v1.37.1"))).toEqual([]);
});

it("refuses an impossible upgrade before registering anything", async () => {
  expect(() => new ClusterUpgrade("lab", { ...args, target: v("1.35.9") })).toThrow(PlanningError);
  expect(() => new ClusterUpgrade("lab", { ...args, target: v("1.35.9") })).toThrow(/downgrades are not supported/);
  await settled();
  expect(registered).toEqual([]);
});
