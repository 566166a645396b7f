/**
 * `npm run plan` with `backup.volumes` against the static API (the shared cluster's responses
 * and the built volume fixtures): the go/no-go report lists the PVCs snapshotted before the
 * control-plane hop and those that cannot be; without `backup.volumes` no volume is read; with
 * the snapshot CRDs missing, it is said.
 */
import { runPlan } from "../../cli/plan";
import { captured, scratchProject } from "../helpers/cli";
import { kubeconfigFileFor, startStaticApi } from "../discovery/static-api";

const stack = (volumes?: string) => `config:
  cluster-maintenance:targetVersion: "1.32"
  cluster-maintenance:pools:
    - { name: general, selector: pool=general, maxUnavailable: 1 }
  cluster-maintenance:ssh: { insecureIgnoreHostKey: true }
  cluster-maintenance:maxNodesPerUpdate: 2
${volumes ? `  cluster-maintenance:backup: { bucket: live-etcd-backups, region: eu-west-1, image: example.com/backup:1, volumes: ${volumes} }\n` : ""}`;

async function plan(volumes: string | undefined, options: Parameters<typeof startStaticApi>[0] = {}) {
  const api = await startStaticApi(options);
  try {
    const kubeconfig = kubeconfigFileFor(api.url);
    const run = (json: boolean) => captured((io) => runPlan(["--stack", "live", "--kubeconfig", kubeconfig, ...(json ? ["--json"] : [])], { ...io, now: new Date("2026-11-28"), env: { HOME: "/nonexistent" } }), scratchProject("live", stack(volumes)));
    const text = await run(false);
    const json = await run(true);
    return { text, json: JSON.parse(json.out) as { readiness: { findings: { id: string; hop: number; blocking: boolean; detail: string }[]; verdicts: { hop: number; blockers: string[] }[] } }, requests: api.requests };
  } finally {
    await api.close();
  }
}

it("lists the PVCs snapshotted before the hop and each one that cannot be, blocking with required", async () => {
  const { text, json, requests } = await plan("{}");
  expect(text.code).toBe(0);
  const lines = text.out.split("\n");
  // 9 blockers: the 5 PVCs and the shared cluster's own 4 (a PodDisruptionBudget, pods, removed APIs).
  expect(lines).toContain("  hop 1 to 1.32.13: NO-GO (9 blocking finding(s))");
  for (const id of ["db/ceph-vol", "monitoring/prometheus-db", "shop/cache", "shop/legacy-nfs", "shop/uploads"]) expect(lines).toContain(`    volume-not-covered/${id} (hop 1)`);
  const notes = lines.slice(lines.indexOf("  NOTES"));
  expect(notes).toContain("    volume-snapshot/summary");
  expect(notes.find((l) => l.includes("3 of 9 selected PVC(s)"))).toContain("get a VolumeSnapshot before each control-plane hop (v1.32.13): 3 with ebs-snapshots (ebs.csi.aws.com, the driver's default), e.g. batch/scratch, monitoring/grafana, shop/data-postgres-0");
  expect(notes).toContain("    volume-not-covered/shop/pending-claim");
  expect(json.readiness.verdicts[0]!.blockers.filter((b) => b.startsWith("volume-"))).toHaveLength(5);
  expect(requests.some((r) => r.path === "/api/v1/persistentvolumeclaims")).toBe(true);
});

it("required: false: notes only; without backup.volumes: no volume read, no volume finding", async () => {
  const lax = await plan("{ required: false }");
  expect(lax.json.readiness.findings.filter((f) => f.id.startsWith("volume-")).every((f) => !f.blocking && f.hop === 0)).toBe(true);
  const none = await plan(undefined);
  expect(none.json.readiness.findings.some((f) => f.id.startsWith("volume-"))).toBe(false);
  expect(none.requests.some((r) => /persistentvolume|snapshot\.storage/.test(r.path))).toBe(false);
});

it("the snapshot CRDs missing: said in the summary and for each CSI PVC, and the plan still prints", async () => {
  const { text, json } = await plan("{ namespaces: [shop] }", { snapshotApi: false });
  expect(text.code).toBe(0);
  const summary = json.readiness.findings.find((f) => f.id === "volume-snapshot/summary")!.detail;
  expect(summary).toContain("backup.volumes (namespaces shop): 0 of 5 selected PVC(s)");
  expect(summary).toContain("the server does not serve snapshot.storage.k8s.io/v1");
  expect(json.readiness.findings.find((f) => f.id === "volume-not-covered/shop/data-postgres-0")!.detail).toMatch(/^a CSI volume \(ebs\.csi\.aws\.com\), but the server does not serve snapshot\.storage\.k8s\.io\/v1/);
});
