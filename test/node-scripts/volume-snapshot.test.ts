/**
 * volume-snapshot.sh (run on the kubectl host) against the lab's API double with its
 * snapshot.storage.k8s.io/v1 kinds and simulated snapshot controller (test/lab/kube-api/snapshots.ts:
 * what the controller does is said by the lab-only annotation lab.cluster-maintenance.io/snapshot
 * on the PVC or its class), with the real kubectl.
 */
import { createLab, type Lab, type LabCall } from "../lab/node-kit";
import type { StorageSpec } from "../lab/kube-api/snapshots";
import { callsDuring, cp, expectExit, realMachinePaths } from "./support";

const realBefore = realMachinePaths();
const labs: Lab[] = [];
function lab(storage: StorageSpec): Lab {
  const l = createLab({ nodes: [cp("cp-1")], storage });
  labs.push(l);
  return l;
}
afterAll(() => labs.forEach((l) => l.cleanup()));
afterAll(() => expect(realMachinePaths()).toEqual(realBefore));

const ADMIN = 'KUBECONFIG="$CM_NODE_ROOT/etc/kubernetes/admin.conf" ';
const EBS = "ebs.csi.aws.com";
const DEFAULT_CLASS = { name: "ebs-snapshots", driver: EBS, default: true };

/** volume-snapshot.sh LABEL KEEP READY_TIMEOUT REQUIRED NAMESPACES SELECTOR CLASSES. */
const snap = (l: Lab, label: string, o: { keep?: string; timeout?: string; required?: string; namespaces?: string; selector?: string; classes?: string } = {}) =>
  l.runScript("cp-1", "volume-snapshot.sh", [label, o.keep ?? "3", o.timeout ?? "60", o.required ?? "true", o.namespaces ?? "*", o.selector ?? "-", o.classes ?? "-"], { timeoutMs: 180_000 });

interface Snapshot {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; creationTimestamp: string };
  spec: { source: { persistentVolumeClaimName?: string }; volumeSnapshotClassName?: string };
  status?: { readyToUse?: boolean; boundVolumeSnapshotContentName?: string; error?: { message: string; time: string }; restoreSize?: string; creationTime?: string };
}

/** The VolumeSnapshots in the cluster, as kubectl gets them, by "namespace/name". */
async function snapshots(l: Lab): Promise<Record<string, Snapshot>> {
  const r = await l.run("cp-1", `${ADMIN}kubectl get volumesnapshots -A -o json`);
  expectExit(r, 0);
  const items = (JSON.parse(r.stdout) as { items: Snapshot[] }).items;
  return Object.fromEntries(items.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
}
async function contents(l: Lab): Promise<string[]> {
  const r = await l.run("cp-1", `${ADMIN}kubectl get volumesnapshotcontents -o jsonpath='{range .items[*]}{.spec.volumeSnapshotRef.namespace}/{.spec.volumeSnapshotRef.name}{"\\n"}{end}'`);
  expectExit(r, 0);
  return r.stdout.split("\n").filter(Boolean).sort();
}
/** kubectl calls that change the cluster (create, delete, annotate...), as "verb args...". */
function changes(calls: readonly LabCall[]): string[] {
  return calls
    .filter((c) => c.command === "kubectl")
    .map((c) => c.args.filter((a) => !a.startsWith("--request-timeout")))
    .filter((a) => !["get", "api-resources"].includes(a[0]!))
    .map((a) => a.join(" "));
}

describe("volume-snapshot.sh", () => {
  test("snapshots every bound CSI PVC, labelled for the hop, waits until ready; later hops keep KEEP per PVC, deleting older ones only after the new are ready; a re-run creates nothing", async () => {
    const l = lab({
      volumes: [{ namespace: "shop", name: "data" }, { namespace: "shop", name: "logs", snapshot: "ready-after:3" }, { namespace: "billing", name: "ledger" }],
      snapshotClasses: [DEFAULT_CLASS],
    });
    const first = await callsDuring(l, () => snap(l, "v1.34.6", { keep: "2" }));
    expectExit(first.result, 0);
    expect(changes(first.calls).filter((c) => c.startsWith("create"))).toHaveLength(3);
    expect(first.result.stderr).toContain("volume-snapshot.sh: cp-1: snapshots of 3 PersistentVolumeClaim(s) for v1.34.6: 3 created, 0 there already");
    expect(first.result.stderr).toContain("all 3 snapshots ready for v1.34.6");
    let s = await snapshots(l);
    expect(Object.keys(s).sort()).toEqual(["billing/ledger-before-v1-34-6", "shop/data-before-v1-34-6", "shop/logs-before-v1-34-6"]);
    const data = s["shop/data-before-v1-34-6"]!;
    expect(data.metadata.labels).toEqual({ "cluster-maintenance.io/before": "v1.34.6", "cluster-maintenance.io/pvc": "data" });
    expect(data.spec).toEqual({ source: { persistentVolumeClaimName: "data" }, volumeSnapshotClassName: "ebs-snapshots" });
    expect(data.status).toMatchObject({ readyToUse: true, restoreSize: "1Gi", boundVolumeSnapshotContentName: expect.stringMatching(/^snapcontent-/) });
    expect(await contents(l)).toEqual(["billing/ledger-before-v1-34-6", "shop/data-before-v1-34-6", "shop/logs-before-v1-34-6"]);

    // The next hop: KEEP 2 keeps both.
    expectExit(await snap(l, "v1.35.9", { keep: "2" }), 0);
    expect(Object.keys(await snapshots(l))).toHaveLength(6);

    // The next: the v1.34.6 ones go, only after the new ones are ready.
    const third = await callsDuring(l, () => snap(l, "v1.36.4", { keep: "2" }));
    expectExit(third.result, 0);
    const verbs = changes(third.calls).map((c) => c.split(" ")[0]);
    expect(verbs.lastIndexOf("create")).toBeLessThan(verbs.indexOf("delete"));
    expect(changes(third.calls).filter((c) => c.startsWith("delete")).sort()).toEqual([
      "delete volumesnapshots -n billing ledger-before-v1-34-6 --ignore-not-found --wait=false",
      "delete volumesnapshots -n shop data-before-v1-34-6 --ignore-not-found --wait=false",
      "delete volumesnapshots -n shop logs-before-v1-34-6 --ignore-not-found --wait=false",
    ]);
    expect(third.result.stderr).toContain("shop/data: deleted 1 older snapshot(s) beyond 2: data-before-v1-34-6");
    s = await snapshots(l);
    expect(Object.keys(s).filter((k) => k.startsWith("shop/data-")).sort()).toEqual(["shop/data-before-v1-35-9", "shop/data-before-v1-36-4"]);
    expect(await contents(l)).not.toContain("shop/data-before-v1-34-6"); // deletionPolicy Delete: its content went too

    // A re-run of the same hop: nothing created, nothing deleted.
    const again = await callsDuring(l, () => snap(l, "v1.36.4", { keep: "2" }));
    expectExit(again.result, 0);
    expect(changes(again.calls)).toEqual([]);
    expect(again.result.stderr).toContain("0 created, 3 there already");
  }, 180_000);

  test("a snapshot the controller fails: exit 4 naming status.error.message; older snapshots are kept; a re-run reports it again", async () => {
    const l = lab({ volumes: [{ namespace: "shop", name: "data" }, { namespace: "shop", name: "web" }], snapshotClasses: [DEFAULT_CLASS] });
    expectExit(await snap(l, "v1.34.6", { keep: "1" }), 0);
    const message = 'failed to take snapshot of the volume vol-0abc: "rpc error: code = Internal desc = SnapshotLimitExceeded"';
    expectExit(await l.run("cp-1", `${ADMIN}kubectl annotate pvc -n shop data 'lab.cluster-maintenance.io/snapshot=fail:${message}'`), 0);
    const r = await callsDuring(l, () => snap(l, "v1.35.9", { keep: "1" }));
    expectExit(r.result, 4);
    expect(r.result.stderr).toContain(`cluster-maintenance: volume-snapshot.sh: cp-1: 1 of 2 snapshots ready: failed: shop/data-before-v1-35-9 (PVC shop/data): ${message}; the hop does not go on`);
    expect(changes(r.calls).filter((c) => c.startsWith("delete"))).toEqual([]);
    const s = await snapshots(l);
    expect(s["shop/data-before-v1-35-9"]!.status).toMatchObject({ readyToUse: false, error: { message } });
    expect(Object.keys(s)).toEqual(expect.arrayContaining(["shop/data-before-v1-34-6", "shop/web-before-v1-34-6"]));

    const again = await callsDuring(l, () => snap(l, "v1.35.9", { keep: "1" }));
    expectExit(again.result, 4);
    expect(again.result.stderr).toContain(message);
    expect(changes(again.calls)).toEqual([]);
  });

  test("a snapshot never ready within READY_TIMEOUT_SECONDS: exit 4 after the bound with progress said; once the controller finishes, a re-run waits for the same snapshot and goes on", async () => {
    const l = lab({ volumes: [{ namespace: "shop", name: "data", snapshot: "never" }], snapshotClasses: [DEFAULT_CLASS] });
    const started = Date.now();
    const r = await snap(l, "v1.35.9", { timeout: "30" });
    const took = Date.now() - started;
    expectExit(r, 4);
    expect(took).toBeGreaterThanOrEqual(30_000);
    expect(took).toBeLessThan(90_000);
    expect(r.stderr).toMatch(/0 of 1 snapshots ready, 0 failed \(waited \d+ s of 30 s\)/);
    expect(r.stderr).toContain("0 of 1 snapshots ready: not readyToUse within 30 s: shop/data-before-v1-35-9 (PVC shop/data)");

    expectExit(await l.run("cp-1", `${ADMIN}kubectl annotate pvc -n shop data lab.cluster-maintenance.io/snapshot=ready --overwrite`), 0);
    const again = await callsDuring(l, () => snap(l, "v1.35.9", { timeout: "30" }));
    expectExit(again.result, 0);
    expect(changes(again.calls)).toEqual([]);
    expect(again.result.stderr).toContain("0 created, 1 there already");
  }, 180_000);

  const uncoveredStorage: StorageSpec = {
    volumes: [
      { namespace: "shop", name: "data" },
      { namespace: "shop", name: "scratch", hostPath: true },
      { namespace: "shop", name: "cache", local: true },
      { namespace: "shop", name: "media", driver: "disk.csi.example.com" },
      { namespace: "shop", name: "later", unbound: true },
    ],
    snapshotClasses: [DEFAULT_CLASS],
  };

  test("PVCs that cannot be snapshotted, REQUIRED true: exit 3 listing each with its reason, nothing created", async () => {
    const l = lab(uncoveredStorage);
    const r = await callsDuring(l, () => snap(l, "v1.35.9"));
    expectExit(r.result, 3);
    expect(r.result.stderr).toContain("3 selected PersistentVolumeClaim(s) cannot be snapshotted and snapshots are required:");
    expect(r.result.stderr).toMatch(/shop\/scratch: a hostPath volume \(pvc-[-0-9a-f]+\): no CSI driver, it cannot be snapshotted/);
    expect(r.result.stderr).toMatch(/shop\/cache: a local volume \(pvc-[-0-9a-f]+\): no CSI driver/);
    expect(r.result.stderr).toContain('shop/media: no VolumeSnapshotClass for driver disk.csi.example.com (none configured, none annotated snapshot.storage.kubernetes.io/is-default-class: "true")');
    expect(r.result.stderr).toContain("not bound, so not snapshotted: shop/later (Pending)");
    expect(r.result.stderr).toContain("nothing was created");
    expect(changes(r.calls)).toEqual([]);
    expect(await snapshots(l)).toEqual({});
  });

  test("the same with REQUIRED false: each said and skipped, the covered one snapshotted", async () => {
    const l = lab(uncoveredStorage);
    const r = await snap(l, "v1.35.9", { required: "false" });
    expectExit(r, 0);
    expect(r.stderr).toContain("skipped, cannot be snapshotted (not required): shop/cache: a local volume");
    expect(r.stderr).toContain("shop/media: no VolumeSnapshotClass for driver disk.csi.example.com");
    expect(Object.keys(await snapshots(l))).toEqual(["shop/data-before-v1-35-9"]);
  });

  test("a configured class (CLASSES) is used; one that is missing or of another driver is a reason; the snapshot API not served is one for every PVC", async () => {
    const l = lab({
      volumes: [{ namespace: "shop", name: "data" }, { namespace: "shop", name: "media", driver: "disk.csi.example.com" }],
      snapshotClasses: [DEFAULT_CLASS, { name: "ebs-daily", driver: EBS }, { name: "disk-snap", driver: "disk.csi.example.com" }],
    });
    const wrong = await snap(l, "v1.35.9", { classes: `${EBS}=disk-snap,disk.csi.example.com=gone` });
    expectExit(wrong, 3);
    expect(wrong.stderr).toContain(`shop/data: VolumeSnapshotClass disk-snap (configured for driver ${EBS}) is for driver disk.csi.example.com`);
    expect(wrong.stderr).toContain("shop/media: VolumeSnapshotClass gone (configured for driver disk.csi.example.com) does not exist");
    expectExit(await snap(l, "v1.35.9", { classes: `${EBS}=ebs-daily,disk.csi.example.com=disk-snap` }), 0);
    const s = await snapshots(l);
    expect(s["shop/data-before-v1-35-9"]!.spec.volumeSnapshotClassName).toBe("ebs-daily");
    expect(s["shop/media-before-v1-35-9"]!.spec.volumeSnapshotClassName).toBe("disk-snap");

    const bare = lab({ volumes: [{ namespace: "shop", name: "data" }] });
    const r = await snap(bare, "v1.35.9");
    expectExit(r, 3);
    expect(r.stderr).toContain("shop/data: the snapshot.storage.k8s.io/v1 API is not served (the external-snapshotter CRDs are not installed)");
  });

  test("NAMESPACES and SELECTOR choose the PVCs; a name too long is cut with a hash", async () => {
    const long = `data-${"x".repeat(70)}`;
    const l = lab({
      volumes: [
        { namespace: "shop", name: "data", labels: { backup: "yes" } },
        { namespace: "shop", name: "tmp", labels: { backup: "no" } },
        { namespace: "billing", name: "ledger", labels: { backup: "yes" } },
        { namespace: "shop", name: long, labels: { backup: "yes" } },
      ],
      snapshotClasses: [DEFAULT_CLASS],
    });
    expectExit(await snap(l, "v1.35.9", { namespaces: "shop", selector: "backup=yes,!skip" }), 0);
    const s = await snapshots(l);
    expect(Object.keys(s).sort()).toEqual(["shop/data-before-v1-35-9", `shop/${long}-before-v1-35-9`]);
    const label = s[`shop/${long}-before-v1-35-9`]!.metadata.labels!["cluster-maintenance.io/pvc"]!;
    expect(label).toMatch(/^data-x{47}-[0-9a-f]{10}$/);
    expect(label.length).toBeLessThanOrEqual(63);
  });

  test("bad arguments: exit 2 before any kubectl call", async () => {
    const l = lab({ volumes: [{ namespace: "shop", name: "data" }], snapshotClasses: [DEFAULT_CLASS] });
    const good = ["v1.35.9", "3", "600", "true", "*", "-", "-"];
    const bad: [number, string][] = [
      [0, "1.35.9"], [0, "v1.35"], [0, "v1.35.9-rc.1"], [0, "$(reboot)"],
      [1, "0"], [1, "101"], [1, "two"],
      [2, "29"], [2, "86401"], [2, "1e3"],
      [3, "yes"], [3, ""],
      [4, "Shop"], [4, "shop,"], [4, "shop;rm -rf /"], [4, ""], [4, "*,shop"],
      [5, "app in (a,b)"], [5, "a=b,"], [5, "=b"], [5, "!a=b"], [5, ""],
      [6, "ebs.csi.aws.com"], [6, "ebs.csi.aws.com=Bad_Class"], [6, "a=x,a=y"], [6, ""],
    ];
    for (const [i, value] of bad) {
      const args = [...good];
      args[i] = value;
      const r = await callsDuring(l, () => l.runScript("cp-1", "volume-snapshot.sh", args));
      expectExit(r.result, 2);
      expect(r.calls.filter((c) => c.command === "kubectl")).toEqual([]);
    }
    expectExit(await l.runScript("cp-1", "volume-snapshot.sh", good.slice(0, 6)), 2);
    expect(await snapshots(l)).toEqual({});
  });
  test("LABEL scheduled: a snapshot labelled scheduled-<UTC time>, named <pvc>-scheduled-<time>; pruning counts only scheduled ones, hop snapshots are never deleted", async () => {
    const l = lab({ volumes: [{ namespace: "shop", name: "data" }], snapshotClasses: [DEFAULT_CLASS] });
    expectExit(await snap(l, "v1.34.6", { keep: "1" }), 0);
    expectExit(await snap(l, "v1.35.9", { keep: "1" }), 0); // the hop's own pruning: v1.34.6 goes
    const first = await callsDuring(l, () => snap(l, "scheduled", { keep: "1" }));
    expectExit(first.result, 0);
    let s = await snapshots(l);
    const scheduled = Object.keys(s).filter((k) => k.includes("-scheduled-"));
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]).toMatch(/^shop\/data-scheduled-[0-9]{8}t[0-9]{6}z$/);
    const made = s[scheduled[0]!]!;
    expect(made.metadata.labels).toEqual({ "cluster-maintenance.io/before": expect.stringMatching(/^scheduled-[0-9]{8}T[0-9]{6}Z$/), "cluster-maintenance.io/pvc": "data" });
    expect(made.metadata.name).toBe(`data-${made.metadata.labels!["cluster-maintenance.io/before"]!.toLowerCase()}`);
    expect(made.status).toMatchObject({ readyToUse: true });
    expect(changes(first.calls).filter((c) => c.startsWith("delete"))).toEqual([]);
    expect(s["shop/data-before-v1-35-9"]).toBeDefined();

    // A second scheduled run (a later second), KEEP 1: it deletes the first scheduled one, never the hop's.
    await new Promise((r) => setTimeout(r, 1100));
    const second = await callsDuring(l, () => snap(l, "scheduled", { keep: "1" }));
    expectExit(second.result, 0);
    expect(changes(second.calls).filter((c) => c.startsWith("delete"))).toEqual([
      `delete volumesnapshots -n shop ${scheduled[0]!.slice("shop/".length)} --ignore-not-found --wait=false`,
    ]);
    s = await snapshots(l);
    expect(Object.keys(s).filter((k) => k.includes("-scheduled-"))).toHaveLength(1);
    expect(Object.keys(s)).toContain("shop/data-before-v1-35-9");
  }, 180_000);
});
