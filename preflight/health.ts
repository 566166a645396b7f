/**
 * The cluster's health before anything runs (hop 0: it applies to every hop): every node
 * Ready, every kubeadm control-plane mirror pod Ready, /readyz passing, nodes cordoned by
 * someone else (said, they stay cordoned), the etcd database size against its quota, and the
 * kube-apiserver serving certificate's expiry.
 */
import type { LiveCluster } from "../discovery/live-cluster";
import { Finding, findingId } from "./findings";
import type { WorkloadPod } from "./workloads";

/**
 * etcd's default backend quota when `--quota-backend-bytes` is not set: 2 GiB.
 * https://etcd.io/docs/v3.5/dev-guide/limit/#storage-size-limit
 */
export const ETCD_DEFAULT_QUOTA_BYTES = 2 * 1024 ** 3;
/** The database at this share of its quota or more blocks: etcd raises NOSPACE at the quota and then refuses writes (https://etcd.io/docs/v3.5/op-guide/maintenance/#space-quota). */
export const ETCD_BLOCKING_SHARE = 0.8;
/** A serving certificate expiring within this many days blocks: the API server stops being trusted while the upgrade runs. */
export const CERT_BLOCKING_DAYS = 7;
/**
 * Within this many days it is said. kubeadm renews the control-plane certificates during
 * `kubeadm upgrade apply` and `node` (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/#automatic-certificate-renewal).
 */
export const CERT_WARNING_DAYS = 30;

/** What the health check reads besides the nodes. */
export interface HealthInputs {
  /** Every pod read (mirror pods with their Ready condition and, for etcd, their args). */
  readonly pods: readonly WorkloadPod[];
  /** /readyz?verbose: passed or not, and its text. */
  readonly readyz: { readonly ok: boolean; readonly text: string } | { readonly error: string };
  /** `apiserver_storage_size_bytes` per storage cluster, as the kube-apiservers report it; absent when /metrics could not be read. */
  readonly etcdSizes?: readonly { readonly cluster: string; readonly bytes: number }[];
  /** The kube-apiserver serving certificate's notAfter, or why it was not read. */
  readonly certificate: { readonly notAfter: Date } | { readonly error: string };
  /** Nodes the plan removes for good (`removeNodes`): their not being Ready, or their control-plane pods', is said, never blocking. @default none */
  readonly removing?: ReadonlySet<string>;
}

const MIB = 1024 ** 2;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;

/**
 * The health findings.
 * @param now the time the certificate's expiry is measured from.
 * @returns ids `node-not-ready/<node>`, `control-plane-pod-not-ready/<ns>/<pod>`,
 *   `apiserver-not-ready/<server>`, `cordoned-by-others/<node>`, `etcd-size/<storage cluster>`,
 *   `certificate-expiry/<server>`, `not-checked/<what>`.
 */
export function healthFindings(live: LiveCluster, inputs: HealthInputs, now: Date): Finding[] {
  const out: Finding[] = [];
  const add = (f: Omit<Finding, "hop">) => out.push({ ...f, hop: 0 });
  const removing = inputs.removing ?? new Set<string>();
  for (const n of live.nodes) {
    if (n.ready !== "True") {
      add({
        id: findingId("node-not-ready", n.name),
        kind: "node-not-ready",
        node: n.name,
        blocking: !removing.has(n.name),
        detail: removing.has(n.name)
          ? `node ${n.name} is Ready=${n.ready}; it is removed for good (removeNodes) before any hop`
          : n.ready === "Unknown"
            ? `node ${n.name} is Ready=Unknown: its kubelet has stopped reporting. Bring it back (systemctl status kubelet on the node), or remove the Node if the machine is gone`
            : `node ${n.name} is Ready=False: see kubectl describe node ${n.name} and fix it first`,
      });
    }
    if (n.unschedulable && !n.cordonedByUs) {
      add({
        id: findingId("cordoned-by-others", n.name),
        kind: "cordoned-by-others",
        node: n.name,
        blocking: false,
        detail: `node ${n.name} was cordoned by someone else: it is drained and upgraded as planned and stays cordoned afterwards (kubectl uncordon ${n.name} when you are done with it)`,
      });
    }
  }
  for (const p of inputs.pods) {
    if (!p.mirror || p.namespace !== "kube-system" || p.labels.tier !== "control-plane" || p.ready) continue;
    add({
      id: findingId("control-plane-pod-not-ready", `${p.namespace}/${p.name}`),
      kind: "control-plane-pod-not-ready",
      node: p.node,
      object: `Pod ${p.namespace}/${p.name}`,
      blocking: !removing.has(p.node),
      detail: removing.has(p.node) ? `the control-plane pod ${p.namespace}/${p.name} on ${p.node} is not Ready; ${p.node} is removed for good (removeNodes) before any hop` : `the control-plane pod ${p.namespace}/${p.name} on ${p.node} is not Ready (phase ${p.phase || "unknown"}): kubeadm upgrade waits for it and fails; see kubectl -n kube-system describe pod ${p.name}`,
    });
  }
  out.push(...readyzFindings(live.server, inputs.readyz));
  out.push(...etcdFindings(inputs));
  out.push(...certificateFindings(live.server, inputs.certificate, now));
  return out;
}

function readyzFindings(server: string, readyz: HealthInputs["readyz"]): Finding[] {
  if ("error" in readyz) return [notChecked(`readyz/${server}`, `/readyz of ${server} could not be read: ${readyz.error}`)];
  if (readyz.ok) return [];
  const failed = readyz.text.split("\n").filter((l) => l.startsWith("[-]"));
  return [
    {
      id: findingId("apiserver-not-ready", server),
      kind: "apiserver-not-ready",
      hop: 0,
      blocking: true,
      detail: `/readyz of ${server} does not pass${failed.length > 0 ? ` (${failed.join("; ")})` : ""}: fix the API server first (kubectl get --raw '/readyz?verbose')`,
    },
  ];
}

/** The quota etcd runs with: `--quota-backend-bytes` of an etcd mirror pod, else etcd's default. */
export function etcdQuota(pods: readonly WorkloadPod[]): number {
  for (const p of pods) {
    if (!p.mirror || p.labels.component !== "etcd") continue;
    for (const arg of p.args ?? []) {
      const m = /^--quota-backend-bytes=(\d+)$/.exec(arg);
      if (m && Number(m[1]) > 0) return Number(m[1]);
    }
  }
  return ETCD_DEFAULT_QUOTA_BYTES;
}

function etcdFindings(inputs: HealthInputs): Finding[] {
  if (!inputs.etcdSizes || inputs.etcdSizes.length === 0) return [notChecked("etcd-size", "the etcd database size was not read (no apiserver_storage_size_bytes from any kube-apiserver's /metrics)")];
  const quota = etcdQuota(inputs.pods);
  const largest = new Map<string, number>();
  for (const s of inputs.etcdSizes) largest.set(s.cluster, Math.max(largest.get(s.cluster) ?? 0, s.bytes));
  return [...largest].map(([cluster, bytes]) => {
    const share = bytes / quota;
    const blocking = share >= ETCD_BLOCKING_SHARE;
    const said = `the etcd database (${cluster}) is ${mib(bytes)}, ${(share * 100).toFixed(1)}% of its ${mib(quota)} quota`;
    return {
      id: findingId("etcd-size", cluster),
      kind: "etcd-size" as const,
      hop: 0,
      blocking,
      detail: blocking
        ? `${said}: at the quota etcd refuses writes; compact and defragment it first (https://etcd.io/docs/v3.5/op-guide/maintenance/)`
        : `${said}; the snapshot before each control-plane hop is about this size`,
    };
  });
}

function certificateFindings(server: string, cert: HealthInputs["certificate"], now: Date): Finding[] {
  if ("error" in cert) return [notChecked(`certificate/${server}`, `the serving certificate of ${server} was not read: ${cert.error}`)];
  const days = (cert.notAfter.getTime() - now.getTime()) / 86_400_000;
  const when = cert.notAfter.toISOString();
  const blocking = days < CERT_BLOCKING_DAYS;
  return [
    {
      id: findingId("certificate-expiry", server),
      kind: "certificate-expiry",
      hop: 0,
      blocking,
      detail:
        days < 0
          ? `the serving certificate of ${server} expired at ${when}: renew the control-plane certificates first (kubeadm certs renew all on each control-plane node, then restart the static pods)`
          : blocking || days < CERT_WARNING_DAYS
            ? `the serving certificate of ${server} expires at ${when}, in ${days.toFixed(1)} days${blocking ? ": renew it before upgrading (kubeadm certs renew all)" : "; kubeadm upgrade apply and node renew it (certificateRenewal, on by default)"}`
            : `the serving certificate of ${server} is valid until ${when}`,
    },
  ];
}

function notChecked(subject: string, detail: string): Finding {
  return { id: findingId("not-checked", subject), kind: "not-checked", hop: 0, blocking: false, detail };
}
