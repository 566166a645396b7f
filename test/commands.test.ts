/** planning/commands.ts: the remote commands of a plan, their arguments, hosts and order. */
import { spawnSync } from "node:child_process";
import { executionOptions, parseStackConfig, planFromConfig } from "../config/stack-config";
import { commandKey, commandsByStep, CommandSpec, ExecutionOptions, planCommands, PlanCommands, shellQuote, WRAPPER } from "../planning/commands";
import { planUpgrade } from "../planning/plan";
import { ReleaseCatalogue } from "../planning/releases";
import { cp, v, worker } from "./helpers/cluster-fixtures";
import { stackConfig } from "./helpers/pulumi-mocks";

const raw = stackConfig("dev");
function planned(overrides: Record<string, unknown> = {}): PlanCommands {
  const config = parseStackConfig({ ...raw, ...overrides }, "dev");
  return planCommands(planFromConfig(config, new Date("2026-11-21")), executionOptions(config));
}
function commandsFor(overrides: Record<string, unknown> = {}): readonly CommandSpec[] {
  return planned(overrides).commands;
}
const { commands: dev, barriers } = planned();
const byKey = new Map(dev.map((c) => [commandKey(c), c]));

it("quotes every argument for a POSIX shell, quotes inside included", () => {
  const value = `it's "a" $(test) \\ value`;
  const echoed = spawnSync("sh", ["-c", `printf %s ${shellQuote(value)}`], { encoding: "utf8" });
  expect(echoed.stdout).toBe(value);
});

it("opens hop 1 with the etcd snapshot on the first control plane, with kubeadm's certificate paths", () => {
  expect(dev[0]).toEqual({
    name: "v1.35.9-etcd-snapshot", step: "v1.35/cp-1/etcd-snapshot", node: "cp-1", runsOn: "cp-1", script: "etcd-snapshot.sh",
    args: ["/var/lib/cluster-maintenance/etcd-backups", "before-v1.35.9", "https://127.0.0.1:2379", "/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/etcd/server.crt", "/etc/kubernetes/pki/etcd/server.key", "restore", "5"],
    dependsOn: [],
    command: `${WRAPPER} etcd-snapshot.sh '/var/lib/cluster-maintenance/etcd-backups' 'before-v1.35.9' 'https://127.0.0.1:2379' '/etc/kubernetes/pki/etcd/ca.crt' '/etc/kubernetes/pki/etcd/server.crt' '/etc/kubernetes/pki/etcd/server.key' 'restore' '5'`,
  });
});

it("runs the control planes' kubeadm steps one at a time, each after the snapshot and the previous node", () => {
  const hop1 = dev.filter((c) => c.name.startsWith("v1.35.9-")).slice(0, 10);
  expect(hop1.map((c) => [c.node, c.script, c.args.join(" "), c.dependsOn])).toEqual([
    ["cp-1", "etcd-snapshot.sh", expect.any(String), []],
    ["cp-1", "switch-repository.sh", "1.35", ["cp-1/v1.35.9-etcd-snapshot"]],
    ["cp-1", "upgrade-packages.sh", "1.35.9 kubeadm", ["cp-1/v1.35.9-switch-repository"]],
    ["cp-1", "kubeadm-upgrade.sh", "apply 1.35.9", ["cp-1/v1.35.9-upgrade-kubeadm"]],
    ["cp-2", "switch-repository.sh", "1.35", ["cp-1/v1.35.9-kubeadm-upgrade-apply"]],
    ["cp-2", "upgrade-packages.sh", "1.35.9 kubeadm", ["cp-2/v1.35.9-switch-repository"]],
    ["cp-2", "kubeadm-upgrade.sh", "node 1.35.9", ["cp-2/v1.35.9-upgrade-kubeadm"]],
    ["cp-3", "switch-repository.sh", "1.35", ["cp-2/v1.35.9-kubeadm-upgrade-node"]],
    ["cp-3", "upgrade-packages.sh", "1.35.9 kubeadm", ["cp-3/v1.35.9-switch-repository"]],
    ["cp-3", "kubeadm-upgrade.sh", "node 1.35.9", ["cp-3/v1.35.9-upgrade-kubeadm"]],
  ]);
});

it("runs kubectl steps on the first control plane and node steps on the node", () => {
  const worker = dev.filter((c) => c.node === "general-3" && c.name.startsWith("v1.35.9-"));
  expect(worker.map((c) => [c.runsOn, c.script, c.args])).toEqual([
    ["general-3", "switch-repository.sh", ["1.35"]],
    ["general-3", "upgrade-packages.sh", ["1.35.9", "kubeadm"]],
    ["general-3", "kubeadm-upgrade.sh", ["node", "1.35.9"]],
    ["cp-1", "drain.sh", ["general-3", "1.35.9", "600", "false", "false", "false"]],
    ["general-3", "upgrade-kubelet.sh", ["1.35.9"]],
    ["cp-1", "wait-ready.sh", ["general-3", "1.35.9", "600"]],
    ["cp-1", "uncordon.sh", ["general-3"]],
  ]);
});

it("starts a batch after every node of the previous batch (through one barrier between two batches), and the nodes of a batch together", () => {
  const first = (node: string) => byKey.get(`${node}/v1.35.9-switch-repository`)!;
  expect(first("general-1").dependsOn).toEqual(["cp-3/v1.35.9-uncordon"]);
  expect(first("general-2").dependsOn).toEqual(["cp-3/v1.35.9-uncordon"]);
  expect(first("general-3").dependsOn).toEqual(["barrier:v1.35.9-general-batch-2"]);
  expect(first("general-4").dependsOn).toEqual(["barrier:v1.35.9-general-batch-2"]);
  expect(byKey.get("cp-1/v1.36.4-etcd-snapshot")!.dependsOn).toEqual(["general-3/v1.35.9-uncordon", "general-4/v1.35.9-uncordon"]);
  expect(barriers).toEqual(["v1.35.9", "v1.36.4", "v1.37.1"].map((label) => ({
    name: `${label}-general-batch-2`, key: `barrier:${label}-general-batch-2`, dependsOn: [`general-1/${label}-uncordon`, `general-2/${label}-uncordon`],
  })));
});

describe("a pool of 200 nodes in 2 batches of 100", () => {
  const execution: ExecutionOptions = {
    kubectlNode: "cp-1",
    drain: () => ({ timeoutSeconds: 300, deleteEmptyDirData: false, deleteUnmanagedPods: false, disableEviction: false }),
    etcd: { endpoint: "https://127.0.0.1:2379", caCert: "/ca.crt", cert: "/server.crt", key: "/server.key", backupDir: "/backups", verify: "restore", keep: 5 },
    readyTimeoutSeconds: 120,
  };
  const workers = Array.from({ length: 200 }, (_, i) => worker(`web-${i + 1}`, "web", "1.37.0"));
  const plan = planUpgrade(
    { name: "big", pools: [{ name: "web", strategy: "rolling", maxUnavailable: 100 }], nodes: [cp("cp-1", "1.37.0"), ...workers] },
    v("1.37.1"), { catalogue: ReleaseCatalogue.embedded(), now: new Date("2026-11-21") },
  );
  const { commands, barriers: between } = planCommands(plan, execution);

  it("links the batches with 100 + 100 dependencies through one barrier, not 100 x 100", () => {
    expect(plan.steps.slice(-200).map((s) => s.stage)).toEqual([...Array(100).fill(4), ...Array(100).fill(5)]);
    const lasts = workers.slice(0, 100).map((n) => commandKey(commands.filter((c) => c.node === n.name).pop()!));
    expect(between).toEqual([{ name: "v1.37.1-web-batch-2", key: "barrier:v1.37.1-web-batch-2", dependsOn: lasts }]);
    const firsts = [...commandsByStep(commands).values()].map((own) => own[0]!).filter((c) => c.node.startsWith("web-"));
    expect(firsts).toHaveLength(200);
    const cpLast = commandKey(commands.filter((c) => c.node === "cp-1").pop()!);
    expect(firsts.slice(0, 100).every((c) => c.dependsOn.length === 1 && c.dependsOn[0] === cpLast)).toBe(true);
    expect(firsts.slice(100).every((c) => c.dependsOn.length === 1 && c.dependsOn[0] === between[0]!.key)).toBe(true);
    // Every command but the first waits for one other (the one before it, the control plane's last, or the barrier); the barrier waits for 100.
    const edges = commands.reduce((sum, c) => sum + c.dependsOn.length, 0) + between[0]!.dependsOn.length;
    expect(edges).toBe(commands.length - 1 + 100);
  });
});

it("every dependency names an earlier command, or a barrier waiting for earlier commands, and names are unique per node", () => {
  const seen = new Set<string>();
  const barrierOf = new Map(barriers.map((b) => [b.key, b]));
  for (const c of dev) {
    for (const d of c.dependsOn) {
      for (const before of barrierOf.get(d)?.dependsOn ?? [d]) expect(seen.has(before)).toBe(true);
    }
    expect(seen.has(commandKey(c))).toBe(false);
    seen.add(commandKey(c));
  }
});

it("takes drain options per pool, the kubectl node and the etcd settings from config", () => {
  const custom = commandsFor({
    kubectlNode: "cp-2",
    pools: [{ ...(raw.pools as Record<string, unknown>[])[0], drain: { timeoutSeconds: 120, deleteEmptyDirData: true, deleteUnmanagedPods: true, disableEviction: true } }],
    etcd: { endpoint: "https://10.0.0.11:2379", backupDir: "/srv/backups", verify: "status", keep: 2 },
  });
  const drain = custom.find((c) => c.node === "general-1" && c.script === "drain.sh")!;
  expect([drain.runsOn, drain.args]).toEqual(["cp-2", ["general-1", "1.35.9", "120", "true", "true", "true"]]);
  const cpDrain = custom.find((c) => c.node === "cp-1" && c.script === "drain.sh")!;
  expect(cpDrain.args).toEqual(["cp-1", "1.35.9", "600", "false", "false", "false"]);
  expect(custom[0]!.args.slice(0, 3)).toEqual(["/srv/backups", "before-v1.35.9", "https://10.0.0.11:2379"]);
  expect(custom[0]!.args.slice(6)).toEqual(["status", "2"]);
});

it("copies each pre-upgrade snapshot off the cluster and exports the resources when backup is configured", () => {
  const withBackup = commandsFor({ backup: { bucket: "dev-etcd-backups", region: "eu-west-1", image: "example.org/etcd-backup:3.5" } });
  expect(withBackup.slice(0, 4).map((c) => [c.name, c.runsOn, c.script, c.args, c.dependsOn])).toEqual([
    ["v1.35.9-etcd-snapshot", "cp-1", "etcd-snapshot.sh", expect.any(Array), []],
    ["v1.35.9-upload-snapshot", "cp-1", "upload-snapshot.sh", ["/var/lib/cluster-maintenance/etcd-backups", "before-v1.35.9", "dev-etcd-backups", "dev/", "eu-west-1"], ["cp-1/v1.35.9-etcd-snapshot"]],
    ["v1.35.9-export-resources", "cp-1", "export-resources.sh", ["/var/lib/cluster-maintenance/resource-exports", "exclude"], ["cp-1/v1.35.9-upload-snapshot"]],
    ["v1.35.9-switch-repository", "cp-1", "switch-repository.sh", ["1.35"], ["cp-1/v1.35.9-export-resources"]],
  ]);
});

describe("backup.volumes: a volume snapshot on the kubectl node before each control-plane hop goes on", () => {
  const backup = { bucket: "dev-etcd-backups", region: "eu-west-1", image: "example.org/etcd-backup:3.5" };
  const volumes = { namespaces: ["shop", "billing"], selector: "app == db, !scratch,tier!=cache,backup", classes: { "ebs.csi.aws.com": "ebs-snap", "efs.csi.aws.com": "efs-snap" }, keep: 4, readyTimeoutSeconds: 900, required: false };
  const planVolumes = planned({ kubectlNode: "cp-2", backup: { ...backup, volumes } });
  const withVolumes = planVolumes.commands;
  const snapshots = withVolumes.filter((c) => c.script === "volume-snapshot.sh");

  it("follows the etcd snapshot, its upload and the export; the hop's next step waits for it", () => {
    expect(withVolumes.slice(0, 5).map((c) => [c.name, c.node, c.runsOn, c.script, c.dependsOn])).toEqual([
      ["v1.35.9-etcd-snapshot", "cp-1", "cp-1", "etcd-snapshot.sh", []],
      ["v1.35.9-upload-snapshot", "cp-1", "cp-1", "upload-snapshot.sh", ["cp-1/v1.35.9-etcd-snapshot"]],
      ["v1.35.9-export-resources", "cp-1", "cp-2", "export-resources.sh", ["cp-1/v1.35.9-upload-snapshot"]],
      ["v1.35.9-volume-snapshot", "cp-1", "cp-2", "volume-snapshot.sh", ["cp-1/v1.35.9-export-resources"]],
      ["v1.35.9-switch-repository", "cp-1", "cp-1", "switch-repository.sh", ["cp-1/v1.35.9-volume-snapshot"]],
    ]);
    expect(snapshots[0]!.step).toBe("v1.35/cp-1/etcd-snapshot");
  });

  it("passes LABEL KEEP READY_TIMEOUT_SECONDS REQUIRED NAMESPACES SELECTOR CLASSES, the selector in the script's form, each argument quoted", () => {
    expect(snapshots[0]!.args).toEqual(["v1.35.9", "4", "900", "false", "shop,billing", "app=db,!scratch,tier!=cache,backup", "ebs.csi.aws.com=ebs-snap,efs.csi.aws.com=efs-snap"]);
    expect(snapshots[0]!.command).toBe(`${WRAPPER} volume-snapshot.sh 'v1.35.9' '4' '900' 'false' 'shop,billing' 'app=db,!scratch,tier!=cache,backup' 'ebs.csi.aws.com=ebs-snap,efs.csi.aws.com=efs-snap'`);
  });

  it("gives * and - for every namespace, every bound PVC and each driver's default class, with the defaults", () => {
    const defaults = commandsFor({ backup: { ...backup, volumes: {} } }).find((c) => c.script === "volume-snapshot.sh")!;
    expect([defaults.runsOn, defaults.args]).toEqual(["cp-1", ["v1.35.9", "3", "600", "true", "*", "-", "-"]]);
    expect(defaults.command).toBe(`${WRAPPER} volume-snapshot.sh 'v1.35.9' '3' '600' 'true' '*' '-' '-'`);
  });

  it("takes one per control-plane hop, labelled with the hop's version, and the hop's kubeadm upgrade apply waits for it", () => {
    expect(snapshots.map((c) => [c.name, c.args[0]])).toEqual([["v1.35.9-volume-snapshot", "v1.35.9"], ["v1.36.4-volume-snapshot", "v1.36.4"], ["v1.37.1-volume-snapshot", "v1.37.1"]]);
    const keyed = new Map<string, { dependsOn: readonly string[] }>([...withVolumes.map((c) => [commandKey(c), c] as const), ...planVolumes.barriers.map((b) => [b.key, b] as const)]);
    const waitsFor = (c: CommandSpec): Set<string> => {
      const all = new Set<string>();
      const visit = (k: string) => {
        if (all.has(k)) return;
        all.add(k);
        for (const d of keyed.get(k)?.dependsOn ?? []) visit(d);
      };
      c.dependsOn.forEach(visit);
      return all;
    };
    snapshots.forEach((s, i) => {
      const version = s.args[0]!.slice(1);
      const apply = withVolumes.find((c) => c.script === "kubeadm-upgrade.sh" && c.args.join(" ") === `apply ${version}`)!;
      expect([apply.name, waitsFor(apply).has(commandKey(s))]).toEqual([`v${version}-kubeadm-upgrade-apply`, true]);
      // Inside its hop: after the hop before it (its own snapshot included), not at the start of the plan.
      if (i > 0) expect(waitsFor(s).has(commandKey(snapshots[i - 1]!))).toBe(true);
    });
  });

  it("changes nothing else: the same commands as backup without volumes, plus one per hop", () => {
    const without = commandsFor({ kubectlNode: "cp-2", backup });
    const drop = (cs: readonly CommandSpec[]) => cs.filter((c) => c.script !== "volume-snapshot.sh").map((c) => [commandKey(c), c.command]);
    expect(drop(withVolumes)).toEqual(drop(without));
    expect(withVolumes.length).toBe(without.length + 3);
  });
});
