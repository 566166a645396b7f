/**
 * The plan's text shows, next to each node script call, what it runs in the words of the
 * Kubernetes upgrade guide (kubeadm, kubectl, apt, etcdctl, aws): planning/command-words.ts.
 */
import { runPlan } from "../cli/plan";
import { inToolWords } from "../planning/command-words";
import { executionOptions, parseStackConfig, planFromConfig } from "../config/stack-config";
import { planCommands } from "../planning/commands";
import { renderText } from "../planning/render";
import { captured } from "./helpers/cli";
import { stackConfig } from "./helpers/pulumi-mocks";

let code = -1;
let calls: string[] = [];
beforeAll(async () => {
  const r = await captured((io) => runPlan([], { ...io, now: new Date("2026-11-21"), env: { HOME: "/nonexistent" } }));
  code = r.code;
  calls = r.out.split("\n").filter((l) => /^ +\[on \S+\] /.test(l));
});
const words = (script: string) => calls.filter((l) => l.includes(`] ${script} `)).map((l) => l.slice(l.indexOf("   # ") + 5));

describe("the dev stack's plan text", () => {
  it("gives every script call its tools' words after '   # '", async () => {
    expect(code).toBe(0);
    expect(calls.length).toBeGreaterThan(100);
    for (const l of calls) expect([l, / {3}# \S/.test(l)]).toEqual([l, true]);
  });

  it("says kubeadm upgrade apply on the first control-plane node, kubeadm upgrade node elsewhere", async () => {
    expect(new Set(words("kubeadm-upgrade.sh"))).toEqual(new Set(["kubeadm upgrade apply v1.35.9", "kubeadm upgrade apply v1.36.4", "kubeadm upgrade apply v1.37.1", "kubeadm upgrade node"]));
    expect(calls.filter((l) => l.endsWith("# kubeadm upgrade apply v1.35.9")).map((l) => l.trim().split(" ")[1])).toEqual(["cp-1]"]);
  });

  it("says apt-get install with the version's package pin, kubectl drain, wait, uncordon", async () => {
    expect(words("switch-repository.sh")).toContain("apt source deb https://pkgs.k8s.io/core:/stable:/v1.35/deb/ / && apt-get update");
    expect(words("upgrade-packages.sh")).toContain("apt-get install -y kubeadm=1.35.9-* (apt-mark hold)");
    expect(words("upgrade-kubelet.sh")).toContain("apt-get install -y kubelet=1.35.9-* kubectl=1.35.9-* (apt-mark hold) && systemctl restart kubelet");
    expect(words("drain.sh")).toContain("kubectl drain general-1 --ignore-daemonsets --timeout=600s");
    expect(words("wait-ready.sh")).toContain("kubectl wait --for=condition=Ready node/general-1 --timeout=600s, kubelet v1.35.9");
    expect(words("uncordon.sh")).toContain("kubectl uncordon general-1");
    expect(words("etcd-snapshot.sh")).toContain("etcdctl --endpoints=https://127.0.0.1:2379 snapshot save /var/lib/cluster-maintenance/etcd-backups/etcd-<time>-before-v1.35.9.db, verified (restore), newest 5 kept");
    expect(words("cordon-node.sh")).toContain("kubectl cordon batch-v1-34-6-1");
    expect(words("delete-nodes.sh")).toEqual(["kubectl delete node batch-v1-34-6-1 batch-v1-34-6-2 batch-v1-34-6-3"]);
  });
});

describe("inToolWords", () => {
  it.each([
    ["drain.sh", ["n-1", "1.35.9", "900", "true", "true", "true"], "kubectl drain n-1 --ignore-daemonsets --timeout=900s --delete-emptydir-data --force --disable-eviction"],
    ["os-patch.sh", ["2026-11"], "apt-get upgrade -y (held packages stay held), then systemctl reboot if /var/run/reboot-required"],
    ["wait-ready.sh", ["n-1", "1.35.9", "600", "<boot id>"], "kubectl wait --for=condition=Ready node/n-1 --timeout=600s, kubelet v1.35.9, after its reboot"],
    ["upload-snapshot.sh", ["/var/lib/cm/etcd", "before-v1.35.9", "cm-backups", "dev/", "eu-west-1"], "aws s3 cp /var/lib/cm/etcd/etcd-<time>-before-v1.35.9.db (and .sha256) s3://cm-backups/dev/ --region eu-west-1"],
    ["export-resources.sh", ["/var/lib/cm/x", "exclude"], "kubectl get <every listable type> -A -o yaml > /var/lib/cm/x/<time>/<type>.yaml (Secrets excluded)"],
    ["join-command.sh", ["75", "batch", "1.37.1", "1-10"], "kubeadm token create --print-join-command --ttl 75m"],
    ["pool-node.sh", ["remove", "n-1", "600", "false", "false", "false"], "kubectl drain n-1 --ignore-daemonsets --timeout=600s && kubectl delete node n-1"],
    ["cordon-node.sh", ["uncordon", "n-1"], "kubectl uncordon n-1"],
  ] as const)("%s %j: %s", async (script, args, expected) => {
    expect(inToolWords(script, args)).toBe(expected);
  });
});

describe("volume-snapshot.sh (backup.volumes)", () => {
  it.each([
    [
      ["v1.35.9", "3", "600", "true", "shop,billing", "app=db", "ebs.csi.aws.com=ebs-snap"],
      "kubectl create VolumeSnapshot per PVC (namespaces shop,billing, selector app=db, class per driver ebs.csi.aws.com=ebs-snap (others: the default)), labelled cluster-maintenance.io/before=v1.35.9, wait until readyToUse (600 s), newest 3 kept per PVC; a PVC that cannot be snapshotted stops the hop",
    ],
    [
      ["v1.36.4", "1", "30", "false", "*", "-", "-"],
      "kubectl create VolumeSnapshot per PVC (every namespace, every bound PVC, each driver's default VolumeSnapshotClass), labelled cluster-maintenance.io/before=v1.36.4, wait until readyToUse (30 s), newest 1 kept per PVC; a PVC that cannot be snapshotted is reported, the hop goes on",
    ],
  ] as const)("%j", (args, expected) => {
    expect(inToolWords("volume-snapshot.sh", args)).toBe(expected);
  });

  it("shows the call under each hop's etcd snapshot step in the plan text, on the kubectl node", () => {
    const config = parseStackConfig({
      ...stackConfig("dev"), kubectlNode: "cp-2",
      backup: { bucket: "dev-etcd-backups", region: "eu-west-1", image: "example.org/etcd-backup:3.5", volumes: { namespaces: ["shop"], selector: "app=db" } },
    }, "dev");
    const plan = planFromConfig(config, new Date("2026-11-21"));
    const lines = renderText(plan, planCommands(plan, executionOptions(config)).commands).split("\n");
    const at = lines.findIndex((l) => l.includes("] volume-snapshot.sh 'v1.35.9'"));
    expect(lines[at]!.trim()).toBe(
      "[on cp-2] volume-snapshot.sh 'v1.35.9' '3' '600' 'true' 'shop' 'app=db' '-'   # kubectl create VolumeSnapshot per PVC (namespaces shop, selector app=db, each driver's default VolumeSnapshotClass), labelled cluster-maintenance.io/before=v1.35.9, wait until readyToUse (600 s), newest 3 kept per PVC; a PVC that cannot be snapshotted stops the hop",
    );
    // Under the etcd snapshot step of hop 1, after the export, before the control plane's first kubeadm step.
    expect(lines[at - 1]).toContain("] export-resources.sh ");
    expect(lines.slice(0, at).reverse().find((l) => /^ +\d+\. /.test(l))).toMatch(/^ +1\. etcd-snapshot +cp-1$/);
    expect(lines.filter((l) => l.includes("] volume-snapshot.sh ")).map((l) => l.split("'")[1])).toEqual(["v1.35.9", "v1.36.4", "v1.37.1"]);
  });
});
