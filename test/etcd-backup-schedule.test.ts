/**
 * EtcdBackupSchedule under Pulumi mocks: the bucket's security settings and the CronJob's spec,
 * field by field; every child parented to the component; no credentials anywhere; bad args
 * refused with one error before anything is registered. Least privilege (issue 10 item 8): only
 * the CA and healthcheck-client files mounted, a write-only upload policy, key and bucket kept
 * when removed, the newest snapshots kept when backups stop.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { startEtcd, type LabEtcd } from "./lab/etcd";
import { createLab, LAB_API_TYPES, LAB_EXPORTED_FILES, LAB_SECRET_MARKERS, RECORDED_DIR, type Lab } from "./lab/node-kit";
import { installMocks, Registered, RegisteredView, settled, valueOf, viewOf, watchRequests } from "./helpers/pulumi-mocks";
import { denyInsecureTransportPolicy, lifecycleRules, uploadPolicy } from "../components/backup-bucket";
import { BACKUP_SCRIPT, EtcdBackupSchedule, EtcdBackupScheduleArgs, NEWEST_KEY, resolveBackupArgs, SNAPSHOT_SCRIPT } from "../components/etcd-backup-schedule";
import { BUILT_IN_TYPES, EXPORT_SCRIPT } from "../components/resource-export";

const registered = installMocks("test", false);
/** Each registration's retainOnDelete and protect options, by resource name (the mocks' args do not carry them). */
const options = new Map<string, { retainOnDelete: boolean; protect: boolean }>();
watchRequests(MockMonitor, (req) => {
  const r = req as unknown as { getName(): string; getRetainondelete(): boolean; getProtect(): boolean };
  options.set(r.getName(), { retainOnDelete: r.getRetainondelete(), protect: r.getProtect() });
});
const KEY = "arn:aws:kms:eu-west-1:123456789012:key/1111-2222";
const base: EtcdBackupScheduleArgs = { region: "eu-west-1", image: "example.org/etcd-backup:3.5.21@sha256:abc", bucketName: "dev-etcd-backups", kmsKeyArn: KEY };

beforeEach(() => registered.splice(0));

/** Builds the component and returns what it registered (a copy: beforeEach empties the live list). */
async function build(name: string, args: EtcdBackupScheduleArgs): Promise<RegisteredView & { c: EtcdBackupSchedule }> {
  const c = new EtcdBackupSchedule(name, args);
  await valueOf(pulumi.all([c.bucketArn, c.cronJobName, c.uploadPolicyJson]));
  await settled();
  return { c, ...viewOf(registered) };
}

describe("the bucket, with a given name and KMS key", () => {
  let t: Awaited<ReturnType<typeof build>>;
  beforeAll(async () => {
    registered.splice(0);
    t = await build("prod", base);
  });

  it("registers exactly these children, named from the component's name, all parented to it", () => {
    const children = t.all.filter((r) => r.type !== "cluster-maintenance:backup:EtcdBackupSchedule");
    // Registration order is the engine's (asynchronous); the set is what matters.
    expect(children.map((r) => [r.type, r.name]).sort()).toEqual([
      ["aws:s3/bucket:Bucket", "prod-bucket"],
      ["aws:s3/bucketVersioning:BucketVersioning", "prod-versioning"],
      ["aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "prod-encryption"],
      ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "prod-public-access"],
      ["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "prod-lifecycle"],
      ["aws:s3/bucketPolicy:BucketPolicy", "prod-tls-only"],
      ["kubernetes:batch/v1:CronJob", "prod-cronjob"],
      ["kubernetes:core/v1:ServiceAccount", "prod-service-account"],
      ["kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "prod-export-role"],
      ["kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "prod-export-binding"],
    ].sort());
    for (const r of children) expect(r.parent).toMatch(/cluster-maintenance:backup:EtcdBackupSchedule::prod$/);
    expect(t.all.filter((r) => r.type === "cluster-maintenance:backup:EtcdBackupSchedule")).toHaveLength(1);
    expect(t.all.find((r) => r.type === "cluster-maintenance:backup:EtcdBackupSchedule")!.parent).not.toMatch(/EtcdBackupSchedule/);
    expect(t.all.some((r) => r.type.includes("V2"))).toBe(false);
  });

  it("bucket: the given name, in the region, never force-destroyed", () => {
    const b = t.one("aws:s3/bucket:Bucket").inputs;
    expect(b.bucket).toBe("dev-etcd-backups");
    expect(b.forceDestroy).toBe(false);
    expect(b.region).toBe("eu-west-1");
    expect(b.bucketPrefix).toBeUndefined();
  });

  it("versioning Enabled", () => {
    const v = t.one("aws:s3/bucketVersioning:BucketVersioning").inputs;
    expect(v.bucket).toBe("prod-bucket-id");
    expect(v.versioningConfiguration).toEqual({ status: "Enabled" });
  });

  it("SSE aws:kms with the given key and a bucket key", () => {
    const e = t.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs;
    expect(e.bucket).toBe("prod-bucket-id");
    expect(e.rules).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY }, bucketKeyEnabled: true }]);
    expect(t.byType("aws:kms/key:Key")).toEqual([]);
  });

  it("public access block: all four on", () => {
    const p = t.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs;
    expect(p).toMatchObject({ bucket: "prod-bucket-id", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
  });

  it("lifecycle: timestamped snapshots and exports expire after retentionDays (default 14), the newest 3 by count; explicit filters; after versioning", () => {
    const l = t.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
    expect(l.inputs.rules).toEqual([
      { id: "expire-etcd-snapshots", status: "Enabled", filter: { prefix: "etcd-snapshots/etcd-" }, expiration: { days: 14 }, noncurrentVersionExpiration: { noncurrentDays: 14 } },
      { id: "expire-resource-exports", status: "Enabled", filter: { prefix: "etcd-snapshots/resources-" }, expiration: { days: 14 }, noncurrentVersionExpiration: { noncurrentDays: 14 } },
      { id: "keep-newest-snapshots", status: "Enabled", filter: { prefix: "etcd-snapshots/newest/etcd-snapshot.db" }, noncurrentVersionExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 2 } },
      { id: "abort-incomplete-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
    ]);
    expect(l.dependsOn.map((u) => u.split("::").pop())).toContain("prod-versioning");
  });

  it("lifecycle: when backups stop for longer than retentionDays, the newest keepNewest snapshots survive (S3's rules, simulated)", () => {
    const rules = t.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules as LifecycleRule[];
    // 30 days of scheduled runs every 6 hours, each uploading as the job does, then nothing.
    const uploads: Upload[] = [];
    for (let i = 0; i < 120; i++) {
      const day = i / 4;
      uploads.push({ key: `etcd-snapshots/etcd-snapshot-${i}-cp-1.db`, day }, { key: `etcd-snapshots/resources-${i}-cp-1/configmaps.yaml`, day });
      uploads.push({ key: `etcd-snapshots/${NEWEST_KEY}`, day });
    }
    const snapshots = (now: number) => survivors(rules, uploads, now).filter((v) => v.endsWith(".db") || v.includes(".db@"));
    // While backups run: every timestamped snapshot of the last retentionDays (and more as noncurrent versions).
    expect(snapshots(29.75).filter((v) => v.includes("etcd-snapshot-")).length).toBeGreaterThanOrEqual(14 * 4);
    // 100 days after the last run: the timestamped ones are gone, the newest 3 remain, as versions of the newest key.
    expect(snapshots(29.75 + 100)).toEqual([29.25, 29.5, 29.75].map((day) => `etcd-snapshots/${NEWEST_KEY}@${day}`));
    // The rules before the fix (one rule on the whole bucket, by age) kept none.
    const byAgeOnly: LifecycleRule[] = [{ id: "expire-etcd-snapshots", status: "Enabled", filter: { prefix: "" }, expiration: { days: 14 }, noncurrentVersionExpiration: { noncurrentDays: 14 } }];
    expect(survivors(byAgeOnly, uploads, 29.75 + 100)).toEqual([]);
  });

  it("retainOnDelete on the key, the bucket and every setting of it (removing backup leaves them in AWS as they are), not protect", async () => {
    registered.splice(0);
    const { all } = await build("kept", { region: "eu-west-1", image: "example.org/backup:1" });
    const aws = all.filter((r) => r.type.startsWith("aws:"));
    expect(aws.map((r) => r.name).sort()).toEqual(["kept-bucket", "kept-encryption", "kept-key", "kept-lifecycle", "kept-public-access", "kept-tls-only", "kept-versioning"]);
    for (const r of aws) expect([r.name, options.get(r.name)]).toEqual([r.name, { retainOnDelete: true, protect: false }]);
    // The Kubernetes objects go with `backup`: nothing to keep there.
    for (const r of all.filter((x) => x.type.startsWith("kubernetes:"))) expect(options.get(r.name)!.retainOnDelete).toBe(false);
  });

  it("bucket policy denies s3:* to everyone on the bucket and its objects unless over TLS", () => {
    const p = t.one("aws:s3/bucketPolicy:BucketPolicy");
    expect(p.inputs.bucket).toBe("prod-bucket-id");
    const doc = JSON.parse(p.inputs.policy as string);
    expect(doc.Version).toBe("2012-10-17");
    expect(doc.Statement).toHaveLength(1);
    const s = doc.Statement[0];
    expect(s.Effect).toBe("Deny");
    expect(s.Principal).toBe("*");
    expect(s.Action).toBe("s3:*");
    expect(s.Resource).toHaveLength(2); // the mocks leave the bucket's ARN unset: the exact ARNs are checked below
    expect(s.Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
    expect(p.dependsOn.map((u) => u.split("::").pop())).toContain("prod-public-access");
    expect(JSON.parse(denyInsecureTransportPolicy("arn:aws:s3:::dev-etcd-backups")).Statement[0].Resource).toEqual([
      "arn:aws:s3:::dev-etcd-backups", "arn:aws:s3:::dev-etcd-backups/*",
    ]);
  });

  it("outputs: bucket name, CronJob name, and the write-only upload policy", async () => {
    expect(await valueOf(t.c.bucketName)).toBe("dev-etcd-backups");
    expect(await valueOf(t.c.cronJobName)).toBe("prod-etcd-backup");
    expect(await valueOf(t.c.kmsKeyArn)).toBe(KEY);
    const doc = JSON.parse(await valueOf(t.c.uploadPolicyJson));
    expect(doc.Statement).toEqual([
      { Sid: "PutEtcdSnapshots", Effect: "Allow", Action: "s3:PutObject", Resource: expect.stringMatching(/\/etcd-snapshots\/\*$/) },
      {
        Sid: "EncryptEtcdSnapshotsThroughS3", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: KEY,
        // The mocks leave the bucket's ARN unset: the encryption-context condition is checked below.
        Condition: { StringEquals: expect.objectContaining({ "kms:ViaService": "s3.eu-west-1.amazonaws.com" }) },
      },
    ]);
  });

  it("upload policy: PutObject under the prefix and nothing that reads, lists or deletes (HeadObject needs s3:GetObject); the key only through S3 for this bucket", () => {
    const doc = JSON.parse(uploadPolicy("arn:aws:s3:::b", "dev/", KEY, "eu-west-1"));
    expect(doc.Statement[0].Resource).toBe("arn:aws:s3:::b/dev/*");
    const actions: string[] = doc.Statement.flatMap((st: { Action: string | string[] }) => [st.Action].flat());
    expect(actions.filter((a) => a.startsWith("s3:"))).toEqual(["s3:PutObject"]);
    for (const a of actions) expect(a).not.toMatch(/\*|Get|List|Delete|Head|kms:Encrypt$/);
    expect(doc.Statement.every((st: { Effect: string }) => st.Effect === "Allow")).toBe(true);
    expect(doc.Statement[1].Condition.StringEquals).toEqual({ "kms:ViaService": "s3.eu-west-1.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::b" });
    // Every S3 call the job's script makes is an upload (`aws s3 cp LOCAL s3://...`): no read to allow.
    const s3Calls = BACKUP_SCRIPT.split("\n").filter((line) => /\baws\b/.test(line) && !line.trim().startsWith("#"));
    expect(s3Calls.length).toBeGreaterThanOrEqual(3);
    for (const c of s3Calls) expect(c).toMatch(/^\s*aws s3 cp "\$(f|file)" "s3:\/\//);
  });

  it("no input anywhere carries credentials", () => {
    expect(t.all.length).toBeGreaterThan(10);
    const text = JSON.stringify(t.all.map((r) => r.inputs));
    for (const bad of ["AKIA", "aws_secret", "AWS_SECRET", "AWS_ACCESS_KEY", "password", "secretKeyRef", "AWS_SESSION_TOKEN"]) expect(text).not.toContain(bad);
  });
});

describe("the CronJob", () => {
  let cj: Registered;
  let pod: Record<string, any>;
  let container: Record<string, any>;
  beforeAll(async () => {
    registered.splice(0);
    const t = await build("prod", { ...base, schedule: "15 2 * * *", namespace: "backup", keep: 0 });
    cj = t.one("kubernetes:batch/v1:CronJob");
    pod = (cj.inputs.spec as any).jobTemplate.spec.template.spec;
    container = pod.containers[0];
  });

  it("is created after the bucket and every one of its settings, and after the export's role binding", () => {
    expect(cj.dependsOn.map((u) => u.split("::").pop()).sort()).toEqual(
      ["prod-bucket", "prod-encryption", "prod-export-binding", "prod-lifecycle", "prod-public-access", "prod-service-account", "prod-tls-only", "prod-versioning"],
    );
  });

  it("metadata and schedule fields", () => {
    const spec = cj.inputs.spec as any;
    expect((cj.inputs.metadata as any).name).toBe("prod-etcd-backup");
    expect((cj.inputs.metadata as any).namespace).toBe("backup");
    expect(spec.schedule).toBe("15 2 * * *");
    expect(spec.concurrencyPolicy).toBe("Forbid");
    expect(spec.successfulJobsHistoryLimit).toBe(3);
    expect(spec.failedJobsHistoryLimit).toBe(3);
    expect(spec.startingDeadlineSeconds).toBe(600);
    expect(spec.jobTemplate.spec.backoffLimit).toBe(2);
    expect(spec.jobTemplate.spec.activeDeadlineSeconds).toBe(1800);
  });

  it("runs on a control-plane node, on the host network, restarting on failure", () => {
    expect(pod.hostNetwork).toBe(true);
    expect(pod.nodeSelector).toEqual({ "node-role.kubernetes.io/control-plane": "" });
    expect(pod.tolerations).toEqual([{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }]);
    expect(pod.restartPolicy).toBe("OnFailure");
  });

  it("runs as the export's ServiceAccount, with its token mounted for kubectl's in-cluster config", () => {
    expect(pod.serviceAccountName).toBe("prod-etcd-backup");
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.serviceAccount).toBeUndefined();
  });

  it("mounts only the etcd CA certificate and the healthcheck-client certificate and key, each a read-only File; keep: 0 writes the snapshot to an emptyDir; the export to its own emptyDir", () => {
    expect(pod.volumes).toEqual([
      { name: "etcd-ca-cert", hostPath: { path: "/etc/kubernetes/pki/etcd/ca.crt", type: "File" } },
      { name: "etcd-client-cert", hostPath: { path: "/etc/kubernetes/pki/etcd/healthcheck-client.crt", type: "File" } },
      { name: "etcd-client-key", hostPath: { path: "/etc/kubernetes/pki/etcd/healthcheck-client.key", type: "File" } },
      { name: "snapshots", emptyDir: { sizeLimit: "10Gi" } },
      { name: "export", emptyDir: { sizeLimit: "2Gi" } },
      { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
    ]);
    expect(container.volumeMounts).toEqual([
      { name: "etcd-ca-cert", mountPath: "/etc/kubernetes/pki/etcd/ca.crt", readOnly: true },
      { name: "etcd-client-cert", mountPath: "/etc/kubernetes/pki/etcd/healthcheck-client.crt", readOnly: true },
      { name: "etcd-client-key", mountPath: "/etc/kubernetes/pki/etcd/healthcheck-client.key", readOnly: true },
      { name: "snapshots", mountPath: "/backup" },
      { name: "export", mountPath: "/export" },
      { name: "tmp", mountPath: "/tmp" },
    ]);
  });

  it("container: the image, resource requests and limits, a locked-down security context", () => {
    expect(container.image).toBe(base.image);
    expect(container.resources).toEqual({ requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } });
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(container.securityContext.privileged).toBe(false);
    expect(container.securityContext.capabilities).toEqual({ drop: ["ALL"] });
  });

  it("env: etcd client settings (kubeadm's CA and healthcheck-client, never the server's certificate), the bucket, prefix, key, region; no credentials", () => {
    const env = Object.fromEntries((container.env as any[]).filter((e) => "value" in e).map((e) => [e.name, e.value]));
    expect(env).toEqual({
      ETCDCTL_API: "3",
      ETCDCTL_ENDPOINTS: "https://127.0.0.1:2379",
      ETCDCTL_CACERT: "/etc/kubernetes/pki/etcd/ca.crt",
      ETCDCTL_CERT: "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
      ETCDCTL_KEY: "/etc/kubernetes/pki/etcd/healthcheck-client.key",
      BUCKET: "dev-etcd-backups",
      PREFIX: "etcd-snapshots/",
      NEWEST_KEY: "newest/etcd-snapshot.db",
      AWS_REGION: "eu-west-1",
      KEEP: "0",
      SNAPSHOT_DIR: "/backup",
      EXPORT_DIR: "/export",
      EXPORT_SECRETS: "exclude",
      HOME: "/tmp",
    });
    expect((container.env as any[]).find((e) => e.name === "NODE_NAME").valueFrom).toEqual({ fieldRef: { fieldPath: "spec.nodeName" } });
    expect(container.envFrom).toBeUndefined();
  });

  it("command: sh -c with set -eu: snapshot save, status refusing revision 0 / no keys, sha256, upload of both, then the export", () => {
    expect(container.command).toEqual(["sh", "-c", BACKUP_SCRIPT]);
    expect(BACKUP_SCRIPT).toBe(SNAPSHOT_SCRIPT + EXPORT_SCRIPT);
    expect(EXPORT_SCRIPT).toContain("k api-resources --verbs=list -o name");
    expect(EXPORT_SCRIPT).not.toMatch(/get all\b/);
    // The image's shell may be dash or busybox: the script is POSIX sh, and shellcheck says so.
    const check = spawnSync("shellcheck", ["-s", "sh", "-"], { input: BACKUP_SCRIPT, encoding: "utf8", timeout: 30_000 });
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
    const s = BACKUP_SCRIPT;
    expect(s.startsWith("set -eu\n")).toBe(true);
    const order = ["etcdctl snapshot save", "snapshot status", '"$revision" -eq 0', '"$keys" -eq 0', "sha256sum", "aws s3 cp"].map((x) => s.indexOf(x));
    for (const i of order) expect(i).toBeGreaterThan(0);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(s).toContain('for f in "$file" "${file}.sha256"; do');
    expect(s).toContain('"s3://${BUCKET}/${PREFIX}${f##*/}"');
  });

  it("every etcd file the pod mounts is one of the three etcdctl uses; none is a key of the CA, the server or the peers", () => {
    const env = Object.fromEntries((container.env as any[]).filter((e) => "value" in e).map((e) => [e.name, e.value]));
    const hostPaths = (pod.volumes as any[]).filter((v) => v.hostPath?.path.startsWith("/etc/kubernetes/")).map((v) => v.hostPath.path).sort();
    expect(hostPaths).toEqual([env.ETCDCTL_CACERT, env.ETCDCTL_CERT, env.ETCDCTL_KEY].sort());
    for (const p of hostPaths) expect(p).not.toMatch(/\/(ca|server|peer)\.key$|\/(server|peer)\.crt$/);
    for (const v of pod.volumes as any[]) if (v.hostPath?.path.startsWith("/etc/kubernetes/")) expect(v.hostPath.type).toBe("File");
    const mounts = (container.volumeMounts as any[]).filter((m) => m.mountPath.startsWith("/etc/kubernetes/"));
    expect(mounts.map((m) => m.mountPath).sort()).toEqual(hostPaths);
    for (const m of mounts) expect(m.readOnly).toBe(true);
  });

  it("etcd files given elsewhere: each mounted where it is (no common directory needed)", async () => {
    registered.splice(0);
    const t = await build("prod", { ...base, etcd: { caCert: "/srv/etcd/ca.pem", cert: "/srv/backup/client.pem", key: "/root/etcd/client-key.pem" } });
    const p = (t.one("kubernetes:batch/v1:CronJob").inputs.spec as any).jobTemplate.spec.template.spec;
    expect(p.volumes.slice(0, 3).map((v: any) => v.hostPath)).toEqual([
      { path: "/srv/etcd/ca.pem", type: "File" }, { path: "/srv/backup/client.pem", type: "File" }, { path: "/root/etcd/client-key.pem", type: "File" },
    ]);
  });
});

describe("the export's identity: ServiceAccount, ClusterRole, binding", () => {
  const SA = "kubernetes:core/v1:ServiceAccount";
  const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
  const BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";
  type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
  const rulesOf = (t: Awaited<ReturnType<typeof build>>) => t.one(ROLE).inputs.rules as Rule[];
  const LABELS = { "app.kubernetes.io/name": "etcd-backup", "app.kubernetes.io/managed-by": "cluster-maintenance" };

  it("ServiceAccount: the CronJob's name, in its namespace, no token mounted by default", async () => {
    const t = await build("prod", { ...base, namespace: "backup" });
    const sa = t.one(SA);
    expect(sa.inputs).toEqual({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "prod-etcd-backup", namespace: "backup", labels: LABELS }, automountServiceAccountToken: false });
    expect(sa.parent).toMatch(/EtcdBackupSchedule::prod$/);
  });

  it("binding: the role to exactly that ServiceAccount", async () => {
    const t = await build("prod", { ...base, namespace: "backup" });
    const b = t.one(BINDING);
    expect(b.inputs).toEqual({
      apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding",
      metadata: { name: "cluster-maintenance:prod-etcd-backup-export", labels: LABELS },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-maintenance:prod-etcd-backup-export" },
      subjects: [{ kind: "ServiceAccount", name: "prod-etcd-backup", namespace: "backup" }],
    });
    expect(b.parent).toMatch(/EtcdBackupSchedule::prod$/);
    expect((t.one(ROLE).inputs.metadata as any).name).toBe("cluster-maintenance:prod-etcd-backup-export");
  });

  it("exclude (default): get/list on named built-in types only; no secrets, no wildcard, no subresource, no write", async () => {
    const t = await build("prod", base);
    const rules = rulesOf(t);
    expect(rules).toEqual(Object.entries(BUILT_IN_TYPES).map(([g, r]) => ({ apiGroups: [g], resources: [...r], verbs: ["get", "list"] })));
    const all = rules.flatMap((r) => [...r.apiGroups, ...r.resources, ...r.verbs]);
    expect(all).not.toContain("*");
    expect(rules.flatMap((r) => r.resources)).not.toContain("secrets");
    expect(rules.flatMap((r) => r.resources).filter((x) => x.includes("/"))).toEqual([]);
    expect(rules.find((r) => r.apiGroups[0] === "")!.resources).toEqual(expect.arrayContaining(["configmaps", "namespaces", "serviceaccounts"]));
    expect(rules.find((r) => r.apiGroups[0] === "apiextensions.k8s.io")!.resources).toEqual(["customresourcedefinitions"]);
    expect(rules.find((r) => r.apiGroups[0] === "rbac.authorization.k8s.io")!.resources).toEqual(["clusterrolebindings", "clusterroles", "rolebindings", "roles"]);
    expect(new Set(rules.flatMap((r) => r.verbs))).toEqual(new Set(["get", "list"]));
    const pod = (t.one("kubernetes:batch/v1:CronJob").inputs.spec as any).jobTemplate.spec.template.spec;
    expect(pod.volumes.map((v: any) => v.name)).not.toContain("export-recipient");
  });

  it("encrypt: secrets added to the core rule; the recipient certificate mounted read-only from the host; EXPORT_SECRETS set", async () => {
    const t = await build("prod", { ...base, exportSecrets: "encrypt:/etc/cluster-maintenance/export-recipient.pem" });
    const core = rulesOf(t).find((r) => r.apiGroups[0] === "")!;
    expect(core.resources).toEqual([...BUILT_IN_TYPES[""]!, "secrets"]);
    expect(core.verbs).toEqual(["get", "list"]);
    const pod = (t.one("kubernetes:batch/v1:CronJob").inputs.spec as any).jobTemplate.spec.template.spec;
    expect(pod.volumes.at(-1)).toEqual({ name: "export-recipient", hostPath: { path: "/etc/cluster-maintenance/export-recipient.pem", type: "File" } });
    expect(pod.containers[0].volumeMounts.at(-1)).toEqual({ name: "export-recipient", mountPath: "/etc/cluster-maintenance/export-recipient.pem", readOnly: true });
    expect(pod.containers[0].env.find((e: any) => e.name === "EXPORT_SECRETS").value).toBe("encrypt:/etc/cluster-maintenance/export-recipient.pem");
  });

  it("exportApiGroups: one more rule, get/list on every resource of those custom resource groups (sorted, deduplicated)", async () => {
    const rules = rulesOf(await build("prod", { ...base, exportApiGroups: ["example.com", "cert-manager.io", "example.com"] }));
    expect(rules.at(-1)).toEqual({ apiGroups: ["cert-manager.io", "example.com"], resources: ["*"], verbs: ["get", "list"] });
    expect(rules.slice(0, -1).flatMap((r) => r.apiGroups)).not.toContain("example.com");
  });

  test.each<[string, Partial<EtcdBackupScheduleArgs>, RegExp]>([
    ["exportSecrets plain", { exportSecrets: "plain" as any }, /exportSecrets "plain" is not exclude or encrypt:<absolute path/],
    ["exportSecrets with ..", { exportSecrets: "encrypt:/etc/../root/x.pem" }, /exportSecrets "encrypt:\/etc\/..\/root\/x.pem"/],
    ["the core group", { exportApiGroups: [""] }, /exportApiGroups "" is not an API group of custom resources/],
    ["a wildcard group", { exportApiGroups: ["*"] }, /exportApiGroups "\*"/],
  ])("%s: refused before anything is registered", async (_, bad, message) => {
    expect(() => new EtcdBackupSchedule("prod", { ...base, ...bad })).toThrow(message);
    await settled();
    expect(registered).toEqual([]);
  });
});

describe("defaults and variants", () => {
  it("without a key: a new KMS key with rotation, used by the encryption rule; without a name: a bucket prefix from the name", async () => {
    const { one } = await build("Lab_1", { region: "eu-west-1", image: "example.org/backup:1" });
    const key = one("aws:kms/key:Key");
    expect(key.name).toBe("Lab_1-key");
    expect(key.inputs.enableKeyRotation).toBe(true);
    expect(key.parent).toMatch(/EtcdBackupSchedule::Lab_1$/);
    const b = one("aws:s3/bucket:Bucket").inputs;
    expect(b.bucket).toBeUndefined();
    expect(b.bucketPrefix).toBe("lab-1-etcd-");
    const cj = one("kubernetes:batch/v1:CronJob").inputs as any;
    expect(cj.metadata.namespace).toBe("kube-system");
    expect(cj.spec.schedule).toBe("0 */6 * * *");
    const pod = cj.spec.jobTemplate.spec.template.spec;
    expect(pod.volumes[3]).toEqual({ name: "snapshots", hostPath: { path: "/var/lib/cluster-maintenance/etcd-backups/scheduled", type: "DirectoryOrCreate" } });
    expect(pod.containers[0].env.find((e: any) => e.name === "KEEP").value).toBe("3");
    const rules = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules as any[];
    expect(rules[0].expiration).toEqual({ days: 14 });
    expect(rules[2].noncurrentVersionExpiration).toEqual({ noncurrentDays: 1, newerNoncurrentVersions: 2 });
  });

  it("retentionDays reaches the rules by age, keepNewest the rule by count, the prefix every filter", async () => {
    const { one } = await build("r", { ...base, retentionDays: 90, keepNewest: 10, prefix: "dev/" });
    const rules = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules as any[];
    expect(rules[0].expiration).toEqual({ days: 90 });
    expect(rules[0].noncurrentVersionExpiration).toEqual({ noncurrentDays: 90 });
    expect(rules.map((r) => r.filter.prefix)).toEqual(["dev/etcd-", "dev/resources-", "dev/newest/etcd-snapshot.db", ""]);
    expect(rules[2].noncurrentVersionExpiration).toEqual({ noncurrentDays: 1, newerNoncurrentVersions: 9 });
    // keepNewest 1: only the current version is kept by count (S3 refuses NewerNoncurrentVersions 0).
    expect(lifecycleRules({ prefix: "", newestKey: NEWEST_KEY, keepNewest: 1, retentionDays: 14 })[2]!.noncurrentVersionExpiration).toEqual({ noncurrentDays: 1 });
  });
});

describe("bad args", () => {
  test.each<[string, Partial<EtcdBackupScheduleArgs>, RegExp]>([
    ["a 6-field cron", { schedule: "0 0 */6 * * *" }, /schedule "0 0 \*\/6 \* \* \*" is not a cron schedule of 5 fields/],
    ["a 4-field cron", { schedule: "0 * * *" }, /schedule "0 \* \* \*"/],
    ["retention 0", { retentionDays: 0 }, /retentionDays 0 is not a whole number of days from 1 to 3650/],
    ["retention 3651", { retentionDays: 3651 }, /retentionDays 3651/],
    ["retention 1.5", { retentionDays: 1.5 }, /retentionDays 1.5/],
    ["an empty image", { image: "" }, /image "" is not a container image reference without spaces/],
    ["an image with a space", { image: "etcd backup" }, /image "etcd backup"/],
    ["a bad bucket name", { bucketName: "Bad_Bucket" }, /bucketName "Bad_Bucket"/],
    ["negative keep", { keep: -1 }, /keep -1/],
    ["keepNewest 0", { keepNewest: 0 }, /keepNewest 0 is not a whole number of snapshots from 1 to 101/],
    ["keepNewest 102", { keepNewest: 102 }, /keepNewest 102/],
    ["an etcd directory, not a file", { etcd: { key: "/etc/kubernetes/pki/etcd/" } }, /etcd.key "\/etc\/kubernetes\/pki\/etcd\/" is not the absolute path of a file/],
    ["an etcd path with ..", { etcd: { cert: "/etc/kubernetes/pki/etcd/../ca.crt" } }, /etcd.cert "[^"]+" is not the absolute path of a file/],
    ["the same file twice", { etcd: { cert: "/etc/kubernetes/pki/etcd/ca.crt" } }, /etcd \{.*\} is not three different files/],
  ])("%s: one clear error, nothing registered", async (_, bad, message) => {
    expect(() => new EtcdBackupSchedule("prod", { ...base, ...bad })).toThrow(message);
    expect(() => new EtcdBackupSchedule("prod", { ...base, ...bad })).toThrow(/^EtcdBackupSchedule "prod": invalid args: /);
    await settled();
    expect(registered).toEqual([]);
  });

  it("accepts and refuses exactly what the stack config does (one check per value, config/values.ts)", async () => {
    const component = (extra: Partial<EtcdBackupScheduleArgs>) => {
      try {
        resolveBackupArgs("prod", { ...base, ...extra });
        return "accepted";
      } catch (e) {
        return (e as Error).message.replace(/^EtcdBackupSchedule "prod": invalid args: /, "");
      }
    };
    expect(component({ schedule: "@daily" })).toBe("accepted"); // a CronJob macro: the config accepts it
    expect(component({ schedule: "99 99 99 99 99" })).toMatch(/^schedule "99 99 99 99 99" is not a cron schedule/);
    expect(component({ prefix: "../" })).toMatch(/^prefix "..\/" is not a key prefix/);
    expect(component({ bucketName: "my..bucket" })).toMatch(/^bucketName "my..bucket" is not an S3 bucket name/);
    expect(component({ bucketName: "192.168.1.1" })).toMatch(/^bucketName "192.168.1.1"/);
    expect(component({ region: "Europe" })).toMatch(/^region "Europe" is not an AWS region/);
    expect(component({ localDir: "/etc" })).toMatch(/^localDir "\/etc" is not a directory of this program's own/);
    expect(component({ etcd: { cert: "/etc//pki/cert.crt" } })).toMatch(/^etcd.cert "[^"]+" is not the absolute path of a file/);
    expect(component({ exportSecrets: "abcdefgh/etc/cert.pem" as never })).toMatch(/^exportSecrets "abcdefgh\/etc\/cert.pem" is not exclude or encrypt:/);
    await settled();
    expect(registered).toEqual([]);
  });

  it("collects every problem into the one error", () => {
    let error: unknown;
    try {
      new EtcdBackupSchedule("prod", { ...base, schedule: "daily", retentionDays: 0, image: "" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    const m = (error as Error).message;
    expect(m).toMatch(/schedule "daily".*; retentionDays 0.*; image ""/);
  });
});

describe("the job's script, run for real (sh, real etcd 3.4, the lab's aws stand-in)", () => {
  let etcd: LabEtcd;
  let l: Lab;
  beforeAll(async () => {
    etcd = await startEtcd();
    l = createLab({ nodes: [{ name: "cp-1", role: "control-plane", version: "1.34.6" }] });
  });
  afterAll(async () => {
    await etcd?.stop();
    l?.cleanup();
  });
  const run = (snapshotDir: string, keep: number) => {
    const script = path.join(l.dir, "backup.sh");
    fs.writeFileSync(script, BACKUP_SCRIPT);
    fs.mkdirSync(snapshotDir, { recursive: true });
    const env: Record<string, string> = {
      ETCDCTL_API: "3", ETCDCTL_ENDPOINTS: etcd.endpoint, ETCDCTL_CACERT: etcd.caCert, ETCDCTL_CERT: etcd.cert, ETCDCTL_KEY: etcd.key,
      BUCKET: "dev-etcd-backups", PREFIX: "etcd-snapshots/", NEWEST_KEY, AWS_REGION: "eu-west-1", KEEP: String(keep), SNAPSHOT_DIR: snapshotDir, NODE_NAME: "cp-1",
      EXPORT_DIR: path.join(l.dir, "export"), EXPORT_SECRETS: "exclude", KUBECONFIG: kubeconfig(l),
    };
    const assigns = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(" ");
    return l.run("cp-1", `env ${assigns} sh '${script}'`, { timeoutMs: 60_000 });
  };

  it("refuses a never-written etcd (snapshot status: revision 0), uploading nothing", async () => {
    fs.mkdirSync(path.join(l.dir, "s3", "dev-etcd-backups"), { recursive: true });
    const r = await run(path.join(l.dir, "empty"), 0);
    if (r.code !== 1) throw new Error(r.stderr);
    expect(r.stderr).toMatch(/cluster-maintenance: etcd-backup: cp-1: refusing snapshot with revision '0' and '\d+' keys: \{/);
    expect(fs.readdirSync(path.join(l.dir, "s3", "dev-etcd-backups"))).toEqual([]);
    expect(fs.readdirSync(path.join(l.dir, "empty"))).toEqual([]);
  });

  it("saves, checks, uploads the snapshot and its sha256 without encryption or credential flags, the snapshot again to the newest key; keeps `keep` local copies; then exports", async () => {
    for (let i = 0; i < 5; i++) await etcd.put(`/registry/k${i}`, `v${i}`);
    const local = path.join(l.dir, "local");
    // Older local copies the prune must remove (names sort by timestamp).
    fs.mkdirSync(local, { recursive: true });
    for (const t of ["20200101T000000Z", "20200102T000000Z"]) {
      fs.writeFileSync(path.join(local, `etcd-snapshot-${t}-cp-1.db`), "old");
      fs.writeFileSync(path.join(local, `etcd-snapshot-${t}-cp-1.db.sha256`), "old");
    }
    const r = await run(local, 2);
    if (r.code !== 0) throw new Error(r.stderr);
    const m = /uploaded s3:\/\/dev-etcd-backups\/etcd-snapshots\/(etcd-snapshot-\d{8}T\d{6}Z-cp-1\.db) \(revision (\d+), (\d+) keys\)/.exec(r.stdout);
    expect(m).not.toBeNull();
    const name = m![1]!;
    expect(Number(m![3])).toBeGreaterThanOrEqual(5);
    const objects = path.join(l.dir, "s3", "dev-etcd-backups", "etcd-snapshots");
    const stamp = /^etcd-snapshot-(\d{8}T\d{6}Z)-cp-1\.db$/.exec(name)![1];
    expect(fs.readdirSync(objects).sort()).toEqual([name, `${name}.sha256`, "newest", `resources-${stamp}-cp-1`]);
    expect(fs.readdirSync(path.join(objects, "newest"))).toEqual(["etcd-snapshot.db"]);
    expect(fs.readFileSync(path.join(objects, NEWEST_KEY)).equals(fs.readFileSync(path.join(objects, name)))).toBe(true);
    expect(fs.readdirSync(path.join(objects, `resources-${stamp}-cp-1`)).sort()).toEqual(LAB_EXPORTED_FILES);
    expect(r.stdout).toContain(`cluster-maintenance: etcd-backup: cp-1: exported ${LAB_EXPORTED_FILES.length} resource types to s3://dev-etcd-backups/etcd-snapshots/resources-${stamp}-cp-1/ (secrets excluded;`);
    expect(fs.readdirSync(path.join(l.dir, "export"))).toEqual([]); // the scratch copy is gone
    const sum = createHash("sha256").update(fs.readFileSync(path.join(objects, name))).digest("hex");
    expect(fs.readFileSync(path.join(objects, `${name}.sha256`), "utf8")).toBe(`${sum}  ${name}\n`);
    // The newest key's version says which snapshot it is and its sha256 (S3 object metadata).
    expect(fs.readFileSync(path.join(l.dir, "s3-metadata", "dev-etcd-backups", "etcd-snapshots", NEWEST_KEY), "utf8")).toContain(`meta.snapshot=${name}\nmeta.sha256=${sum}\n`);
    expect(fs.readdirSync(local).sort()).toEqual([`etcd-snapshot-20200102T000000Z-cp-1.db`, `etcd-snapshot-20200102T000000Z-cp-1.db.sha256`, name, `${name}.sha256`].sort());
    const aws = l.calls().filter((c) => c.command === "aws").map((c) => c.args.join(" "));
    expect(aws).toEqual([
      `s3 cp ${local}/${name} s3://dev-etcd-backups/etcd-snapshots/${name} --region eu-west-1 --only-show-errors`,
      `s3 cp ${local}/${name}.sha256 s3://dev-etcd-backups/etcd-snapshots/${name}.sha256 --region eu-west-1 --only-show-errors`,
      `s3 cp ${local}/${name} s3://dev-etcd-backups/etcd-snapshots/newest/etcd-snapshot.db --region eu-west-1 --metadata snapshot=${name},sha256=${sum} --only-show-errors`,
      ...LAB_EXPORTED_FILES.map((f) => `s3 cp ${l.dir}/export/resources-${stamp}-cp-1/${f} s3://dev-etcd-backups/etcd-snapshots/resources-${stamp}-cp-1/${f} --region eu-west-1 --only-show-errors`),
    ]);
  });
});

/** kubectl's kubeconfig: the lab's API double's (in the pod, kubectl uses the ServiceAccount's token instead). */
function kubeconfig(l: Lab): string {
  return l.kubeconfigPath;
}

describe("the export part of the job's script, run for real (sh, the lab's kubectl and aws stand-ins)", () => {
  let l: Lab;
  const objects = () => path.join(l.dir, "s3", "cm-backups", "dev");
  beforeEach(() => {
    l = createLab({ nodes: [{ name: "cp-1", role: "control-plane", version: "1.34.6" }] });
    fs.mkdirSync(path.join(l.dir, "s3", "cm-backups"), { recursive: true });
  });
  afterEach(() => l.cleanup());
  const run = (secrets: string, extraPath: string[] = []) => {
    const script = path.join(l.dir, "export.sh");
    fs.writeFileSync(script, EXPORT_SCRIPT);
    const env: Record<string, string> = {
      BUCKET: "cm-backups", PREFIX: "dev/", AWS_REGION: "eu-west-1", NODE_NAME: "cp-1", stamp: "20260101T000000Z",
      EXPORT_DIR: path.join(l.dir, "export"), EXPORT_SECRETS: secrets, KUBECONFIG: kubeconfig(l), TMPDIR: l.dir,
    };
    const assigns = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(" ");
    const pathPrefix = extraPath.length > 0 ? `PATH='${extraPath.join(":")}':"$PATH" ` : "";
    return l.run("cp-1", `${pathPrefix}env ${assigns} sh '${script}'`, { timeoutMs: 60_000 });
  };
  const uploaded = () => fs.readdirSync(path.join(objects(), "resources-20260101T000000Z-cp-1")).sort();
  const kubectlCalls = () => l.calls().filter((c) => c.command === "kubectl").map((c) => c.args.join(" "));

  it("exclude: one YAML per listable type uploaded next to the snapshot; secrets never read; events skipped; nothing left locally", async () => {
    const r = await run("exclude");
    if (r.code !== 0) throw new Error(r.stderr);
    expect(uploaded()).toEqual(LAB_EXPORTED_FILES);
    const dir = path.join(objects(), "resources-20260101T000000Z-cp-1");
    expect(fs.readFileSync(path.join(dir, "widgets.example.com.yaml"), "utf8")).toContain("kind: Widget");
    for (const f of uploaded()) for (const m of LAB_SECRET_MARKERS) expect(fs.readFileSync(path.join(dir, f), "utf8")).not.toContain(m);
    // In the order kubectl api-resources lists them.
    expect(kubectlCalls()).toEqual([
      "--request-timeout=120s api-resources --verbs=list -o name",
      ...LAB_API_TYPES.filter((t) => !["events", "events.events.k8s.io", "secrets"].includes(t)).map((t) => `--request-timeout=120s get ${t} -A -o yaml`),
    ]);
    expect(r.stdout).toBe(`cluster-maintenance: etcd-backup: cp-1: exported ${LAB_EXPORTED_FILES.length} resource types to s3://cm-backups/dev/resources-20260101T000000Z-cp-1/ (secrets excluded; skipped: events secrets events.events.k8s.io; not permitted: none)\n`);
    expect(fs.readdirSync(path.join(l.dir, "export"))).toEqual([]);
    expect(fs.readdirSync(l.dir).filter((f) => f.startsWith("cm-export-"))).toEqual([]);
  });

  it("encrypt: Secrets uploaded only as secrets.cms, which the recipient's key decrypts", async () => {
    const key = path.join(l.dir, "recipient.key");
    const cert = path.join(l.dir, "recipient.pem");
    const ssl = (args: string[]) => {
      const p = spawnSync("openssl", args, { encoding: "utf8", timeout: 30_000 });
      if (p.status !== 0) throw new Error(p.stderr);
      return p.stdout;
    };
    ssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=cm-export-test"]);
    const r = await run(`encrypt:${cert}`);
    if (r.code !== 0) throw new Error(r.stderr);
    expect(uploaded()).toEqual([...LAB_EXPORTED_FILES, "secrets.cms"].sort());
    const cms = path.join(objects(), "resources-20260101T000000Z-cp-1", "secrets.cms");
    for (const m of LAB_SECRET_MARKERS) expect(fs.readFileSync(cms).includes(m)).toBe(false);
    expect(ssl(["cms", "-decrypt", "-inform", "DER", "-in", cms, "-recip", cert, "-inkey", key])).toContain("token: bGFiLXNlY3JldC12YWx1ZQ==");
    expect(r.stdout).toContain(`(secrets encrypted for ${cert}; skipped: events events.events.k8s.io; not permitted: none)`);
  });

  it("a type the ClusterRole does not allow (Forbidden) is reported, not fatal", async () => {
    const bin = path.join(l.dir, "forbidding");
    fs.mkdirSync(bin);
    const kubectl = path.join(RECORDED_DIR, "kubectl");
    fs.writeFileSync(path.join(bin, "kubectl"), `#!/bin/sh\ncase " $* " in *" get widgets.example.com "*) echo 'Error from server (Forbidden): widgets.example.com is forbidden: User "system:serviceaccount:kube-system:prod-etcd-backup" cannot list resource "widgets"' >&2; exit 1 ;; esac\nexec ${kubectl} "$@"\n`, { mode: 0o755 });
    const r = await run("exclude", [bin]);
    if (r.code !== 0) throw new Error(r.stderr);
    expect(uploaded()).toEqual(LAB_EXPORTED_FILES.filter((f) => !f.startsWith("widgets")));
    expect(r.stdout).toContain(`exported ${LAB_EXPORTED_FILES.length - 1} resource types`);
    expect(r.stdout).toContain("not permitted: widgets.example.com)");
  });

  it("any other failure of a type fails the job (exit 1) naming it, after uploading the others", async () => {
    l.injectFailure("cp-1", "get configmaps");
    const r = await run("exclude");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cluster-maintenance: etcd-backup: cp-1: resource export: exporting these types failed: configmaps (the other ${LAB_EXPORTED_FILES.length - 1} are in s3://cm-backups/dev/resources-20260101T000000Z-cp-1/)`);
    expect(uploaded()).toEqual(LAB_EXPORTED_FILES.filter((f) => f !== "configmaps.yaml"));
    expect(fs.readdirSync(path.join(l.dir, "export"))).toEqual([]);
  });

  it("listing the API resource types fails, or a bad EXPORT_SECRETS: exit 1 with a clear line, nothing uploaded", async () => {
    const bad = await run("plain");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("resource export: EXPORT_SECRETS must be exclude or encrypt:<path>, not 'plain'");
    l.injectFailure("cp-1", "api-resources");
    const r = await run("exclude");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cluster-maintenance: etcd-backup: cp-1: resource export: listing the API resource types failed");
    expect(fs.existsSync(objects())).toBe(false);
  });
});

/** A lifecycle rule as the component registers it (the fields the simulation reads). */
interface LifecycleRule {
  id: string;
  status: string;
  filter: { prefix: string };
  expiration?: { days: number };
  noncurrentVersionExpiration?: { noncurrentDays: number; newerNoncurrentVersions?: number };
  abortIncompleteMultipartUpload?: { daysAfterInitiation: number };
}
/** One PUT of `key` on `day` (a new version of the key, in a versioned bucket). */
interface Upload { key: string; day: number }

/**
 * The versions still stored at `now` ("key@day"), by S3's documented lifecycle semantics for a
 * versioned bucket: a rule applies to the keys its prefix filter matches; `Expiration.Days`
 * puts a delete marker on the current version `days` after it was written, making it noncurrent;
 * a version is noncurrent from then or from when a newer version was written; it is permanently
 * deleted once it has been noncurrent `NoncurrentDays` and at least `NewerNoncurrentVersions`
 * newer noncurrent versions exist. Counting is per key: S3 never counts across keys.
 * See: https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html
 */
function survivors(rules: readonly LifecycleRule[], uploads: readonly Upload[], now: number): string[] {
  const out: string[] = [];
  for (const key of [...new Set(uploads.map((u) => u.key))]) {
    const days = uploads.filter((u) => u.key === key && u.day <= now).map((u) => u.day).sort((a, b) => a - b);
    const applying = rules.filter((r) => r.status === "Enabled" && key.startsWith(r.filter.prefix));
    const expiry = Math.min(...applying.map((r) => r.expiration?.days ?? Infinity));
    const noncurrentSince = days.map((d, i) => (i + 1 < days.length ? days[i + 1]! : d + expiry));
    days.forEach((d, i) => {
      const since = noncurrentSince[i]!;
      const newerNoncurrent = noncurrentSince.filter((t, j) => j > i && t <= now).length;
      const deleted = since <= now && applying.some((r) => r.noncurrentVersionExpiration !== undefined &&
        now >= since + r.noncurrentVersionExpiration.noncurrentDays && newerNoncurrent >= (r.noncurrentVersionExpiration.newerNoncurrentVersions ?? 0));
      if (!deleted) out.push(`${key}@${d}`);
    });
  }
  return out;
}
