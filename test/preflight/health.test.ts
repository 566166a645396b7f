/**
 * Health findings on the shared cluster (../shared/data/kube-api/v1.31-kubeadm-ha): healthy as
 * kept; batch-2 as it was 65 s after its kubelet stopped (Ready Unknown); a mirror pod not
 * Ready; /readyz failing; etcd near its quota; the serving certificate's expiry.
 */
import { parseLiveCluster, RawCluster } from "../../discovery/live-cluster";
import { ETCD_DEFAULT_QUOTA_BYTES, etcdQuota, healthFindings, HealthInputs } from "../../preflight/health";
import { readData, sharedRawCluster } from "../discovery/static-api";
import { sharedWorkloads } from "./shared-workloads";

const NOW = new Date("2026-11-28T00:00:00Z");
const live = (raw: RawCluster = sharedRawCluster()) => parseLiveCluster("https://10.0.0.10:6443", raw);
const healthy: HealthInputs = {
  pods: sharedWorkloads().pods,
  readyz: { ok: true, text: "readyz check passed" },
  etcdSizes: [{ cluster: "etcd-0", bytes: 9.105408e6 }],
  certificate: { notAfter: new Date("2027-11-27T23:00:00Z") },
};
const brief = (f: { id: string; blocking: boolean }) => `${f.id} ${f.blocking ? "blocks" : "notes"}`;

it("a healthy cluster: only the etcd size and the certificate's date are said, nothing blocks", () => {
  const found = healthFindings(live(), healthy, NOW);
  expect(found.map(brief)).toEqual(["etcd-size/etcd-0 notes", "certificate-expiry/https://10.0.0.10:6443 notes"]);
  expect(found[0]!.detail).toBe("the etcd database (etcd-0) is 8.7 MiB, 0.4% of its 2048.0 MiB quota; the snapshot before each control-plane hop is about this size");
  expect(found.every((f) => f.hop === 0)).toBe(true);
});

it("a node whose kubelet stopped 65 s ago (Ready Unknown, as measured) blocks, and says the kubelet stopped reporting", () => {
  const raw = sharedRawCluster();
  const stopped = readData("batch-2-kubelet-stopped-65s/node-batch-2.json");
  const found = healthFindings(live({ ...raw, nodes: raw.nodes.map((n) => (n.metadata?.name === "batch-2" ? stopped : n)) }), healthy, NOW);
  const notReady = found.filter((f) => f.kind === "node-not-ready");
  expect(notReady.map(brief)).toEqual(["node-not-ready/batch-2 blocks"]);
  expect(notReady[0]!.detail).toContain("Ready=Unknown: its kubelet has stopped reporting");
});

it("a control-plane mirror pod not Ready, /readyz failing and a cordoned node", () => {
  const raw = sharedRawCluster();
  const nodes = raw.nodes.map((n) => (n.metadata?.name === "general-1" ? { ...n, spec: { ...n.spec, unschedulable: true } } : n));
  const pods = healthy.pods.map((p) => (p.name === "kube-scheduler-cp-2" ? { ...p, ready: false, phase: "Running" } : p));
  const found = healthFindings(live({ ...raw, nodes }), { ...healthy, pods, readyz: { ok: false, text: "[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed" } }, NOW);
  expect(found.map(brief)).toEqual([
    "cordoned-by-others/general-1 notes",
    "control-plane-pod-not-ready/kube-system/kube-scheduler-cp-2 blocks",
    "apiserver-not-ready/https://10.0.0.10:6443 blocks",
    "etcd-size/etcd-0 notes",
    "certificate-expiry/https://10.0.0.10:6443 notes",
  ]);
  expect(found[2]!.detail).toContain("([-]etcd failed: reason withheld)");
  expect(found[0]!.detail).toContain("stays cordoned afterwards");
});

it("etcd at 80% of its quota blocks; the quota is --quota-backend-bytes of the etcd pod, else etcd's 2 GiB default", () => {
  expect(etcdQuota(healthy.pods)).toBe(ETCD_DEFAULT_QUOTA_BYTES);
  const pods = healthy.pods.map((p) => (p.name === "etcd-cp-1" ? { ...p, args: [...(p.args ?? []), "--quota-backend-bytes=8589934592"] } : p));
  expect(etcdQuota(pods)).toBe(8 * 1024 ** 3);
  const near = healthFindings(live(), { ...healthy, etcdSizes: [{ cluster: "etcd-0", bytes: 0.8 * ETCD_DEFAULT_QUOTA_BYTES }] }, NOW).find((f) => f.kind === "etcd-size")!;
  expect(near.blocking).toBe(true);
  expect(near.detail).toContain("80.0% of its 2048.0 MiB quota: at the quota etcd refuses writes");
  const roomy = healthFindings(live(), { ...healthy, pods, etcdSizes: [{ cluster: "etcd-0", bytes: 0.8 * ETCD_DEFAULT_QUOTA_BYTES }] }, NOW).find((f) => f.kind === "etcd-size")!;
  expect(roomy.blocking).toBe(false);
  const unread = healthFindings(live(), { ...healthy, etcdSizes: [] }, NOW).find((f) => f.kind === "not-checked")!;
  expect(unread.id).toBe("not-checked/etcd-size");
});

it("a serving certificate expiring within 7 days blocks; within 30 days it is said; one not read is said", () => {
  const cert = (days: number) => healthFindings(live(), { ...healthy, certificate: { notAfter: new Date(NOW.getTime() + days * 86_400_000) } }, NOW).find((f) => f.kind === "certificate-expiry")!;
  expect(cert(6.9).blocking).toBe(true);
  expect(cert(-1).detail).toContain("expired at");
  expect(cert(20).blocking).toBe(false);
  expect(cert(20).detail).toContain("in 20.0 days; kubeadm upgrade apply and node renew it");
  const none = healthFindings(live(), { ...healthy, certificate: { error: "https://x is not HTTPS" } }, NOW).find((f) => f.kind === "not-checked")!;
  expect(brief(none)).toBe("not-checked/certificate/https://10.0.0.10:6443 notes");
});
