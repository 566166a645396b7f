/**
 * The go/no-go report: every finding (health, drain blockers per batch, pods lost with a dead node removed, removed APIs per hop,
 * kubelets the plan leaves at the edge of the version skew, with `backup.volumes` the PVCs
 * snapshotted before each control-plane hop and those that cannot be)
 * judged against the stack config's `acknowledge`, a verdict per hop, and the refusal that
 * stops the program before anything is registered while the next wave's hop is no-go.
 * Like `kubeadm upgrade plan`'s preflight, and more (../shared/DESIGN.md, "How data flows").
 */
import type { DrainOptions } from "../planning/commands";
import type { UpgradePlan } from "../planning/plan-types";
import type { Wave } from "../planning/waves";
import type { LiveCluster } from "../discovery/live-cluster";
import type { Fetched, ReadinessRead } from "../discovery/read-readiness";
import { drainFindings, osPatchHop } from "./drain-blockers";
import { Finding, findingId, judge, Readiness } from "./findings";
import { healthFindings, HealthInputs } from "./health";
import { kubeletSkewFindings } from "./kubelet-skew";
import { MetricSample, metricSamples } from "./prometheus";
import { removedApiFindings, servedFromDiscovery } from "./removed-apis";
import { snapshotHops, volumeFindings } from "./volumes";
import { removalFindings, removedNodes } from "./removals";
import type { VolumeBackupConfig } from "../config/volume-config";

/** What the report is made from. */
export interface ReadinessContext {
  readonly plan: UpgradePlan;
  readonly live: LiveCluster;
  readonly read: ReadinessRead;
  /** The drain settings of a pool (`control-plane` for control-plane nodes). */
  readonly drain: (pool: string) => DrainOptions;
  /** The stack config's `acknowledge`: finding ids. */
  readonly acknowledge: readonly string[];
  /** For the certificate's expiry. */
  readonly now: Date;
  /**
   * The stack config's `backup.volumes`: with it, the PVCs snapshotted before each control-plane
   * hop and those that cannot be (preflight/volumes.ts), from `read.volumes` (read it with
   * readReadiness's `volumes: true`). Absent: no volume finding.
   */
  readonly volumes?: VolumeBackupConfig;
}

/** The hops the verdicts are given for: the plan's, then OS patching when the plan patches. */
export function judgedHops(plan: UpgradePlan): { index: number; to: string }[] {
  return [...plan.hops.map((h) => ({ index: h.index, to: h.to.toString() })), ...(plan.maintenance.length > 0 ? [{ index: osPatchHop(plan), to: "OS patching" }] : [])];
}

/** Every finding and the verdicts. */
export function assessReadiness(ctx: ReadinessContext): Readiness {
  const { read } = ctx;
  const metrics = parsedMetrics(read.metrics);
  const health: HealthInputs = {
    pods: read.workloads.pods,
    readyz: "error" in read.readyz ? { error: read.readyz.error } : { ok: read.readyz.status === 200, text: read.readyz.text },
    ...(metrics.sizes.length > 0 ? { etcdSizes: metrics.sizes } : {}),
    certificate: read.certificate,
    removing: removedNodes(ctx.plan),
  };
  const findings: Finding[] = [
    ...healthFindings(ctx.live, health, ctx.now),
    ...metrics.unread,
    ...drainFindings(ctx.plan, read.workloads, ctx.drain),
    ...removalFindings(ctx.plan, read.workloads),
    ...kubeletSkewFindings(ctx.plan),
    ...removedApiFindings({
      hops: ctx.plan.hops.map((h) => ({ index: h.index, to: h.to.toString(), from: h.from.toString() })),
      served: read.discovery.apis !== undefined && read.discovery.api !== undefined ? servedFromDiscovery({ apis: read.discovery.apis, api: read.discovery.api, resourceLists: [] }) : [],
      requested: metrics.requested,
    }),
    ...(ctx.volumes ? volumeFindings(snapshotHops(ctx.plan), ctx.volumes, read.volumes) : []),
  ];
  return judge(findings, judgedHops(ctx.plan), ctx.acknowledge);
}

/** The etcd sizes and deprecated-API requests the kube-apiservers' /metrics report, and a not-checked finding for each one not read. */
function parsedMetrics(metrics: ReadinessRead["metrics"]): { sizes: { cluster: string; bytes: number }[]; requested: { apiserver: string; samples: MetricSample[] }[]; unread: Finding[] } {
  const sizes: { cluster: string; bytes: number }[] = [];
  const requested: { apiserver: string; samples: MetricSample[] }[] = [];
  const unread: Finding[] = [];
  const answered = metrics.some((m) => ok(m.result));
  for (const m of metrics) {
    if (!ok(m.result)) {
      // A kube-apiserver whose address cannot be reached from here is said once; the others' metrics still count.
      unread.push({ id: findingId("not-checked", `metrics/${m.source}`), kind: "not-checked", hop: 0, blocking: false, detail: `/metrics of ${m.source} (${m.url}) was not read: ${failure(m.result)}${answered ? "" : "; deprecated APIs in use and the etcd size are not known"}` });
      continue;
    }
    try {
      for (const s of metricSamples(m.result.text, "apiserver_storage_size_bytes")) sizes.push({ cluster: s.labels.storage_cluster_id ?? "etcd", bytes: s.value });
      requested.push({ apiserver: m.source, samples: metricSamples(m.result.text, "apiserver_requested_deprecated_apis") });
    } catch (e) {
      unread.push({ id: findingId("not-checked", `metrics/${m.source}`), kind: "not-checked", hop: 0, blocking: false, detail: `/metrics of ${m.source} could not be parsed: ${(e as Error).message}` });
    }
  }
  return { sizes, requested, unread };
}

const ok = (f: Fetched): f is { status: number; text: string } => "status" in f && f.status === 200;
const failure = (f: Fetched) => ("error" in f ? f.error : `HTTP ${f.status}`);

/** The hops a wave needs a go for: its own (OS patching: the OS-patch verdict); a resume wave needs only the cluster's health. */
function waveHop(plan: UpgradePlan, wave: Wave): number {
  return wave.kind === "os-patch" ? osPatchHop(plan) : wave.hop;
}

/** Thrown when the next wave's hop is no-go: nothing is registered. */
export class NoGoError extends Error {
  constructor(
    readonly blockers: readonly Finding[],
    readonly hop: number,
  ) {
    const ids = [...new Set(blockers.map((b) => b.id))];
    super(
      `no-go: ${ids.length} blocking finding(s) ${hop > 0 ? `for hop ${hop}` : "in the cluster's health"}; nothing was changed:\n` +
        ids.map((id) => `  - ${id}: ${blockers.find((b) => b.id === id)!.detail}`).join("\n") +
        `\nFix each, or, once you accept the risk, name it in the stack config: cluster-maintenance:acknowledge: [${ids.map((id) => JSON.stringify(id)).join(", ")}]`,
    );
    this.name = "NoGoError";
  }
}

/**
 * Refuses to start `wave` while its hop (or the cluster's health, hop 0) has a blocking finding
 * not acknowledged. Later hops' blockers do not stop this wave: each `pulumi up` checks again.
 * @throws NoGoError listing the blockers and the `acknowledge` entry that lets them through.
 */
export function refuseNoGo(readiness: Readiness, plan: UpgradePlan, wave: Wave | undefined): void {
  if (!wave) return;
  const hop = waveHop(plan, wave);
  const blockers = readiness.findings.filter((f) => f.blocking && !f.acknowledged && (f.hop === 0 || f.hop === hop));
  if (blockers.length > 0) throw new NoGoError(blockers, hop);
}
