/**
 * EtcdBackupSchedule: scheduled etcd snapshots kept off the cluster. Creates a secured S3
 * bucket (components/backup-bucket.ts) and a Kubernetes CronJob that runs on a control-plane
 * node (hostNetwork; from the host's etcd PKI only the CA certificate and kubeadm's
 * `healthcheck-client` certificate and key, each file mounted on its own, read-only), saves a
 * snapshot with etcdctl, refuses an empty one (`snapshot status`: revision 0 or no keys), writes
 * its sha256 and uploads both to `s3://<bucket>/<prefix>`, and the snapshot once more to the
 * fixed key `<prefix>newest/etcd-snapshot.db`, whose versions the lifecycle keeps by count
 * ({@link NEWEST_KEY}). The same job then exports the definitions of every listable
 * resource type, one YAML file per type (components/resource-export.ts), Secrets excluded or
 * encrypted per `exportSecrets`, and uploads them to `s3://<bucket>/<prefix>resources-<time>-<node>/`,
 * next to the snapshot of the same time. For that the job runs as its own ServiceAccount, bound to
 * a ClusterRole with get/list on the exported types only (no secrets unless they are encrypted).
 *
 * Credentials: none in the manifest. The aws CLI in the pod finds them the way it does on the
 * node: with hostNetwork the pod reaches the instance metadata service (IMDSv2 works with the
 * default hop limit of 1, since there is no extra network hop), so it acts as the control-plane
 * nodes' instance profile role. Attach {@link EtcdBackupSchedule.uploadPolicyJson} to that role.
 * Any host-network pod on those nodes can get the role's credentials the same way, so the policy
 * grants writing only (s3:PutObject under the prefix), never reading a snapshot back.
 * See: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createBackupBucket, uploadPolicy } from "./backup-bucket";
import { API_GROUP, bucketProblem, cronProblem, exportSecretsProblem, ownedDirProblem, plainPathProblem, prefixProblem, regionProblem } from "../config/values";
import { EXPORT_SCRIPT, exportRules, recipientCert, type ExportSecrets } from "./resource-export";

/**
 * etcd client settings: paths on the control-plane host (kubeadm's defaults). Each of the three
 * files is mounted into the pod on its own (hostPath type File, read-only), never their directory:
 * the job sees neither the CA's key nor the server's or the peers' keys.
 * The client certificate is kubeadm's `etcd/healthcheck-client` (CN kube-etcd-healthcheck-client,
 * signed by etcd-ca, client usage only): a client of etcd, where the server's certificate would
 * also let the job serve as etcd.
 * See: https://kubernetes.io/docs/setup/best-practices/certificates/#all-certificates
 */
export interface EtcdClientPaths {
  /** Client URL of the local member. @default "https://127.0.0.1:2379" */
  readonly endpoint?: string;
  /** CA certificate. @default "/etc/kubernetes/pki/etcd/ca.crt" */
  readonly caCert?: string;
  /** Client certificate. @default "/etc/kubernetes/pki/etcd/healthcheck-client.crt" */
  readonly cert?: string;
  /** Client key. @default "/etc/kubernetes/pki/etcd/healthcheck-client.key" */
  readonly key?: string;
}

export interface EtcdBackupScheduleArgs {
  /**
   * When the CronJob runs: a cron expression of 5 fields, in the kube-controller-manager's
   * time zone (UTC on kubeadm). Plain value: validated at construction.
   * @default "0 *\/6 * * *" (every six hours)
   * See: https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#schedule-syntax
   */
  readonly schedule?: string;
  /**
   * Days a snapshot (and a noncurrent version of it) is kept in S3, 1..3650.
   * @default 14
   * See: https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html
   */
  readonly retentionDays?: number;
  /**
   * Scheduled snapshots kept in S3 whatever their age, 1..101: the versions of
   * `<prefix>newest/etcd-snapshot.db` (the current one and `keepNewest - 1` noncurrent ones, S3's
   * `NewerNoncurrentVersions` allows at most 100). So the newest snapshots survive when backups
   * stop for longer than `retentionDays`, which expires the timestamped objects.
   * @default 3
   * See: https://docs.aws.amazon.com/AmazonS3/latest/API/API_NoncurrentVersionExpiration.html
   */
  readonly keepNewest?: number;
  /**
   * S3 bucket name (3-63 lowercase letters, digits, '.', '-'; globally unique).
   * @default a generated name starting with "<name>-etcd-"
   * See: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
   */
  readonly bucketName?: pulumi.Input<string>;
  /**
   * Key prefix of the objects: "" or segments each ending in "/".
   * @default "etcd-snapshots/"
   */
  readonly prefix?: string;
  /**
   * KMS key for the bucket's default encryption.
   * @default a new aws.kms.Key with automatic rotation
   * See: https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
   */
  readonly kmsKeyArn?: pulumi.Input<string>;
  /** AWS region of the bucket and key (also given to the aws CLI in the pod), e.g. "eu-west-1". */
  readonly region: pulumi.Input<string>;
  /**
   * Container image with a POSIX shell, etcdctl (etcdutl used for `snapshot status` when
   * present), the aws CLI, kubectl (for the resource export; within one minor of the cluster)
   * and `timeout`; also openssl when `exportSecrets` is `encrypt:...`. Required, no default:
   * registry.k8s.io's etcd and kubectl images are distroless (no shell, no S3 client) and cannot
   * run this job. Pin it by digest.
   * See: https://github.com/kubernetes/kubernetes/tree/master/cluster/images/etcd
   */
  readonly image: string;
  /**
   * Namespace of the CronJob.
   * @default "kube-system"
   */
  readonly namespace?: string;
  /**
   * etcd endpoint and client certificate paths on the control-plane host. Each file is mounted
   * read-only at the same path (hostPath type File: the pod does not start if one is missing).
   * See: https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#snapshot-using-etcdctl-options
   */
  readonly etcd?: EtcdClientPaths;
  /**
   * Local copies kept on the control-plane node that ran the job, 0..1000. 0: the snapshot is
   * written to an emptyDir and exists only in S3 afterwards. More: written to the hostPath
   * `localDir`, and the oldest beyond `keep` are deleted, so the disk never fills.
   * @default 3
   */
  readonly keep?: number;
  /**
   * Directory on the node for local copies (used when keep > 0).
   * @default "/var/lib/cluster-maintenance/etcd-backups/scheduled"
   */
  readonly localDir?: string;
  /**
   * Secrets in the scheduled resource export: `exclude` (not exported, and the job's ClusterRole
   * has no access to Secrets at all), or `encrypt:<path>`: exported only as `secrets.cms`,
   * encrypted with `openssl cms -encrypt -aes256` for the PEM recipient certificate at <path> on
   * the control-plane hosts (mounted read-only into the pod); the role then may get/list Secrets.
   * @default "exclude"
   * See: https://docs.openssl.org/3.0/man1/openssl-cms/
   */
  readonly exportSecrets?: ExportSecrets;
  /**
   * API groups of custom resources to export (e.g. "cert-manager.io"): the job's ClusterRole may
   * get/list every resource in them. Built-in types are always exported; a custom resource whose
   * group is not here is reported by the job as not permitted. Never the core group.
   * @default []
   * See: https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources
   */
  readonly exportApiGroups?: readonly string[];
}

/** The args after validation, with every default applied. */
export interface ResolvedBackupArgs {
  readonly schedule: string;
  readonly retentionDays: number;
  readonly keepNewest: number;
  readonly prefix: string;
  readonly image: string;
  readonly namespace: string;
  readonly etcd: Required<EtcdClientPaths>;
  readonly keep: number;
  readonly localDir: string;
  readonly exportSecrets: ExportSecrets;
  readonly exportApiGroups: readonly string[];
  /** Name of the CronJob object (a DNS label of at most 52 characters); also its ServiceAccount's. */
  readonly cronJobName: string;
  /** Name of the export's ClusterRole and ClusterRoleBinding. */
  readonly exportRoleName: string;
  readonly bucketPrefix: string;
}

export const DEFAULTS = {
  schedule: "0 */6 * * *",
  retentionDays: 14,
  keepNewest: 3,
  prefix: "etcd-snapshots/",
  namespace: "kube-system",
  keep: 3,
  localDir: "/var/lib/cluster-maintenance/etcd-backups/scheduled",
  exportSecrets: "exclude",
  etcd: {
    endpoint: "https://127.0.0.1:2379",
    caCert: "/etc/kubernetes/pki/etcd/ca.crt",
    cert: "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
    key: "/etc/kubernetes/pki/etcd/healthcheck-client.key",
  },
} as const;

/**
 * Key (under the prefix) every scheduled snapshot is also uploaded to. S3 lifecycle rules count
 * versions of one key, never objects: the timestamped snapshots expire by age, and this key's
 * versions are kept by count (`keepNewest`), which no expiring rule matches.
 */
export const NEWEST_KEY = "newest/etcd-snapshot.db";
/** Where the snapshot is written inside the container. */
export const SNAPSHOT_DIR = "/backup";
/** Scratch directory (an emptyDir) for the resource export inside the container. */
export const EXPORT_DIR = "/export";
const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const ENDPOINT = /^https?:\/\/[A-Za-z0-9.-]+:[0-9]{1,5}$/;

/**
 * Validates `args` and resolves the defaults. Collects every problem and throws one Error
 * that names each bad arg, its value and what is expected.
 */
export function resolveBackupArgs(name: string, args: EtcdBackupScheduleArgs): ResolvedBackupArgs {
  const problems: string[] = [];
  const bad = (arg: string, value: unknown, expected: string) => problems.push(`${arg} ${JSON.stringify(value)} is not ${expected}`);
  const schedule = args.schedule ?? DEFAULTS.schedule;
  const fields = typeof schedule === "string" ? schedule.trim().split(/\s+/) : [];
  if (typeof schedule !== "string" || cronProblem(schedule)) bad("schedule", schedule, 'a cron schedule of 5 fields such as "0 */6 * * *" (or a macro such as @daily)');
  const retentionDays = args.retentionDays ?? DEFAULTS.retentionDays;
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 3650) bad("retentionDays", retentionDays, "a whole number of days from 1 to 3650");
  const image = args.image;
  if (typeof image !== "string" || !IMAGE.test(image)) bad("image", image, "a container image reference without spaces (with a shell, etcdctl and the aws CLI)");
  const namespace = args.namespace ?? DEFAULTS.namespace;
  if (typeof namespace !== "string" || !DNS_LABEL.test(namespace)) bad("namespace", namespace, "a namespace name (DNS label)");
  const prefix = args.prefix ?? DEFAULTS.prefix;
  if (typeof prefix !== "string" || prefixProblem(prefix)) bad("prefix", prefix, 'a key prefix such as "etcd-snapshots/" (segments ending in "/")');
  const keep = args.keep ?? DEFAULTS.keep;
  if (!Number.isInteger(keep) || keep < 0 || keep > 1000) bad("keep", keep, "a whole number of local copies from 0 to 1000");
  const localDir = args.localDir ?? DEFAULTS.localDir;
  if (typeof localDir !== "string" || ownedDirProblem(localDir)) bad("localDir", localDir, "a directory of this program's own, such as /var/lib/cluster-maintenance/etcd-backups/scheduled");
  const keepNewest = args.keepNewest ?? DEFAULTS.keepNewest;
  if (!Number.isInteger(keepNewest) || keepNewest < 1 || keepNewest > 101) bad("keepNewest", keepNewest, "a whole number of snapshots from 1 to 101");
  const etcd = { ...DEFAULTS.etcd, ...args.etcd };
  if (!ENDPOINT.test(etcd.endpoint)) bad("etcd.endpoint", etcd.endpoint, "an etcd client URL such as https://127.0.0.1:2379");
  // Files, each mounted on its own: no directory, no "." or ".." segment, no two the same.
  for (const k of ["caCert", "cert", "key"] as const) {
    if (typeof etcd[k] !== "string" || plainPathProblem(etcd[k])) bad(`etcd.${k}`, etcd[k], "the absolute path of a file");
  }
  if (new Set([etcd.caCert, etcd.cert, etcd.key]).size < 3) bad("etcd", { caCert: etcd.caCert, cert: etcd.cert, key: etcd.key }, "three different files");
  if (typeof args.bucketName === "string" && bucketProblem(args.bucketName)) bad("bucketName", args.bucketName, "an S3 bucket name (3-63 lowercase letters, digits, '.', '-')");
  if (args.region === undefined || args.region === "" || (typeof args.region === "string" && regionProblem(args.region))) bad("region", args.region, "an AWS region such as eu-west-1");
  const exportSecrets = args.exportSecrets ?? DEFAULTS.exportSecrets;
  if (typeof exportSecrets !== "string" || exportSecretsProblem(exportSecrets))
    bad("exportSecrets", exportSecrets, 'exclude or encrypt:<absolute path of a recipient certificate>');
  const exportApiGroups = args.exportApiGroups ?? [];
  for (const g of exportApiGroups) if (typeof g !== "string" || !API_GROUP.test(g)) bad("exportApiGroups", g, 'an API group of custom resources such as "cert-manager.io"');
  const base = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "cluster";
  if (problems.length > 0) throw new Error(`EtcdBackupSchedule ${JSON.stringify(name)}: invalid args: ${problems.join("; ")}`);
  return {
    schedule: fields.join(" "), retentionDays, keepNewest, prefix, image, namespace, etcd, keep, localDir,
    exportSecrets: exportSecrets as ExportSecrets, exportApiGroups: [...new Set(exportApiGroups)].sort(),
    cronJobName: `${base.slice(0, 40).replace(/-+$/, "")}-etcd-backup`,
    exportRoleName: `cluster-maintenance:${base.slice(0, 40).replace(/-+$/, "")}-etcd-backup-export`,
    bucketPrefix: `${base.slice(0, 30).replace(/-+$/, "")}-etcd-`,
  };
}

/**
 * The snapshot part of the job's script (`sh -c`, POSIX sh, `set -eu`). Every value comes from
 * the environment, never from the script text: ETCDCTL_* for etcdctl, BUCKET, PREFIX,
 * NEWEST_KEY, AWS_REGION, KEEP, SNAPSHOT_DIR, NODE_NAME. Its only S3 calls are `aws s3 cp` uploads
 * (PutObject, or multipart uploads, which IAM also authorizes as s3:PutObject): it never reads. Uploads carry no encryption headers: the bucket's
 * default encryption (SSE-KMS with the component's key) applies, which an explicit
 * `--sse aws:kms` without a key id would replace with the aws/s3 managed key.
 */
export const SNAPSHOT_SCRIPT = `set -eu
fail() { echo "cluster-maintenance: etcd-backup: \${NODE_NAME:-?}: $*" >&2; exit 1; }
stamp=$(date -u +%Y%m%dT%H%M%SZ)
name="etcd-snapshot-\${stamp}-\${NODE_NAME}.db"
file="\${SNAPSHOT_DIR}/\${name}"
rm -f "\${SNAPSHOT_DIR}"/*.part
etcdctl snapshot save "\${file}.part" || fail "etcdctl snapshot save failed"
if command -v etcdutl >/dev/null 2>&1; then
  status=$(etcdutl snapshot status "\${file}.part" -w json) || fail "snapshot status failed"
else
  status=$(etcdctl snapshot status "\${file}.part" -w json) || fail "snapshot status failed"
fi
revision=$(printf '%s' "$status" | sed -n 's/.*"revision": *\\([0-9]*\\).*/\\1/p')
keys=$(printf '%s' "$status" | sed -n 's/.*"totalKey": *\\([0-9]*\\).*/\\1/p')
if [ -z "$revision" ] || [ "$revision" -eq 0 ] || [ -z "$keys" ] || [ "$keys" -eq 0 ]; then
  rm -f "\${file}.part"
  fail "refusing snapshot with revision '\${revision}' and '\${keys}' keys: $status"
fi
mv "\${file}.part" "$file"
(cd "$SNAPSHOT_DIR" && sha256sum "$name" >"\${name}.sha256") || fail "sha256sum failed"
for f in "$file" "\${file}.sha256"; do
  aws s3 cp "$f" "s3://\${BUCKET}/\${PREFIX}\${f##*/}" --region "$AWS_REGION" --only-show-errors ||
    fail "upload of \${f##*/} to s3://\${BUCKET}/\${PREFIX} failed"
done
# Once more to the key whose versions the lifecycle keeps by count, naming the snapshot and its sha256.
sum=$(cut -d' ' -f1 "\${file}.sha256")
aws s3 cp "$file" "s3://\${BUCKET}/\${PREFIX}\${NEWEST_KEY}" --region "$AWS_REGION" --metadata "snapshot=\${name},sha256=\${sum}" --only-show-errors ||
  fail "upload of \${name} to s3://\${BUCKET}/\${PREFIX}\${NEWEST_KEY} failed"
if [ "$KEEP" -gt 0 ]; then
  # Names sort by their UTC timestamp: the first (count - KEEP) are the oldest.
  count=0
  for f in "$SNAPSHOT_DIR"/etcd-snapshot-*.db; do if [ -e "$f" ]; then count=$((count + 1)); fi; done
  for f in "$SNAPSHOT_DIR"/etcd-snapshot-*.db; do
    [ "$count" -gt "$KEEP" ] || break
    rm -f "$f" "\${f}.sha256"
    count=$((count - 1))
  done
fi
echo "cluster-maintenance: etcd-backup: \${NODE_NAME}: uploaded s3://\${BUCKET}/\${PREFIX}\${name} (revision $revision, $keys keys)"
`;

/** The job's whole script: the snapshot, then the resource export (same `stamp`). */
export const BACKUP_SCRIPT = SNAPSHOT_SCRIPT + EXPORT_SCRIPT;

/** Type token `cluster-maintenance:backup:EtcdBackupSchedule`; children `${name}-bucket`, `${name}-cronjob`, ... */
export class EtcdBackupSchedule extends pulumi.ComponentResource {
  /** Name of the S3 bucket. */
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  /** ARN of the KMS key the snapshots are encrypted with. */
  readonly kmsKeyArn: pulumi.Output<string>;
  /** Name of the CronJob (in `namespace`). */
  readonly cronJobName: pulumi.Output<string>;
  /**
   * IAM policy (JSON) the backup job needs: attach it to the control-plane nodes' instance
   * role. s3:PutObject under the prefix only (no read), and GenerateDataKey/Decrypt on the key
   * through S3 for this bucket only. See {@link uploadPolicy}.
   */
  readonly uploadPolicyJson: pulumi.Output<string>;

  /** @throws Error (before anything is registered) naming every invalid arg. */
  constructor(name: string, args: EtcdBackupScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
    const r = resolveBackupArgs(name, args);
    super("cluster-maintenance:backup:EtcdBackupSchedule", name, {}, opts);
    const { bucket, kmsKeyArn, ready } = createBackupBucket(name, {
      bucketPrefix: r.bucketPrefix, region: args.region, retentionDays: r.retentionDays,
      keepNewest: r.keepNewest, prefix: r.prefix, newestKey: NEWEST_KEY,
      ...(args.bucketName !== undefined ? { bucketName: args.bucketName } : {}),
      ...(args.kmsKeyArn !== undefined ? { kmsKeyArn: args.kmsKeyArn } : {}),
    }, this);
    const labels = { "app.kubernetes.io/name": "etcd-backup", "app.kubernetes.io/managed-by": "cluster-maintenance" };
    // The job's identity for the resource export: its own ServiceAccount (no token mounted
    // anywhere by default; the job's pod asks for it), bound to the export's read-only ClusterRole.
    const account = new k8s.core.v1.ServiceAccount(`${name}-service-account`, {
      metadata: { name: r.cronJobName, namespace: r.namespace, labels },
      automountServiceAccountToken: false,
    }, { parent: this });
    const role = new k8s.rbac.v1.ClusterRole(`${name}-export-role`, {
      metadata: { name: r.exportRoleName, labels },
      rules: exportRules(r.exportSecrets, r.exportApiGroups),
    }, { parent: this });
    const binding = new k8s.rbac.v1.ClusterRoleBinding(`${name}-export-binding`, {
      metadata: { name: r.exportRoleName, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
      subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: r.namespace }],
    }, { parent: this });
    const cronJob = new k8s.batch.v1.CronJob(`${name}-cronjob`, {
      metadata: { name: r.cronJobName, namespace: r.namespace, labels },
      spec: cronJobSpec(r, { bucket: bucket.bucket, region: args.region, serviceAccountName: account.metadata.name }),
    }, { parent: this, dependsOn: [...ready, binding] });
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.kmsKeyArn = kmsKeyArn;
    this.cronJobName = cronJob.metadata.name;
    this.uploadPolicyJson = pulumi.all([bucket.arn, kmsKeyArn, args.region]).apply(([b, k, region]) => uploadPolicy(b, r.prefix, k, region));
    this.registerOutputs({
      bucketName: this.bucketName, bucketArn: this.bucketArn, kmsKeyArn: this.kmsKeyArn,
      cronJobName: this.cronJobName, uploadPolicyJson: this.uploadPolicyJson,
    });
  }
}

/**
 * How each of this program's CronJobs runs (the etcd backup, the scheduled volume snapshots): never
 * two runs at once, the last 3 finished and 3 failed Jobs kept for `kubectl logs`, and a run
 * missed by more than 10 minutes skipped, not started late.
 * https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#cronjob-limitations
 */
export const SCHEDULED_JOB_POLICY = {
  concurrencyPolicy: "Forbid",
  successfulJobsHistoryLimit: 3,
  failedJobsHistoryLimit: 3,
  startingDeadlineSeconds: 600,
} as const;

/** The CronJob's spec. Exported for tests. */
export function cronJobSpec(
  r: ResolvedBackupArgs,
  target: { bucket: pulumi.Input<string>; region: pulumi.Input<string>; serviceAccountName: pulumi.Input<string> },
): k8s.types.input.batch.v1.CronJobSpec {
  const controlPlane = "node-role.kubernetes.io/control-plane";
  const cert = recipientCert(r.exportSecrets);
  const etcdFiles = [
    { volume: "etcd-ca-cert", path: r.etcd.caCert },
    { volume: "etcd-client-cert", path: r.etcd.cert },
    { volume: "etcd-client-key", path: r.etcd.key },
  ];
  return {
    schedule: r.schedule,
    ...SCHEDULED_JOB_POLICY,
    jobTemplate: {
      spec: {
        backoffLimit: 2,
        activeDeadlineSeconds: 1800,
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "etcd-backup" } },
          spec: {
            hostNetwork: true,
            nodeSelector: { [controlPlane]: "" },
            tolerations: [{ key: controlPlane, operator: "Exists", effect: "NoSchedule" }],
            restartPolicy: "OnFailure",
            // The token is for kubectl's in-cluster config: the export's read-only ClusterRole.
            serviceAccountName: target.serviceAccountName,
            automountServiceAccountToken: true,
            securityContext: { seccompProfile: { type: "RuntimeDefault" } },
            // The three etcd files one by one (never their directory, which holds ca.key and the
            // server's and peers' keys), as files: a missing one keeps the pod from starting.
            volumes: [
              ...etcdFiles.map((f) => ({ name: f.volume, hostPath: { path: f.path, type: "File" } })),
              r.keep > 0
                ? { name: "snapshots", hostPath: { path: r.localDir, type: "DirectoryOrCreate" } }
                : { name: "snapshots", emptyDir: { sizeLimit: "10Gi" } },
              { name: "export", emptyDir: { sizeLimit: "2Gi" } },
              // kubectl's discovery cache ($HOME/.kube) lives here too.
              { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
              ...(cert ? [{ name: "export-recipient", hostPath: { path: cert, type: "File" } }] : []),
            ],
            containers: [{
              name: "etcd-backup",
              image: r.image,
              command: ["sh", "-c", BACKUP_SCRIPT],
              env: [
                { name: "ETCDCTL_API", value: "3" },
                { name: "ETCDCTL_ENDPOINTS", value: r.etcd.endpoint },
                { name: "ETCDCTL_CACERT", value: r.etcd.caCert },
                { name: "ETCDCTL_CERT", value: r.etcd.cert },
                { name: "ETCDCTL_KEY", value: r.etcd.key },
                { name: "BUCKET", value: target.bucket },
                { name: "PREFIX", value: r.prefix },
                { name: "NEWEST_KEY", value: NEWEST_KEY },
                { name: "AWS_REGION", value: target.region },
                { name: "KEEP", value: String(r.keep) },
                { name: "SNAPSHOT_DIR", value: SNAPSHOT_DIR },
                { name: "EXPORT_DIR", value: EXPORT_DIR },
                { name: "EXPORT_SECRETS", value: r.exportSecrets },
                { name: "HOME", value: "/tmp" },
                { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
              ],
              volumeMounts: [
                ...etcdFiles.map((f) => ({ name: f.volume, mountPath: f.path, readOnly: true })),
                { name: "snapshots", mountPath: SNAPSHOT_DIR },
                { name: "export", mountPath: EXPORT_DIR },
                { name: "tmp", mountPath: "/tmp" },
                ...(cert ? [{ name: "export-recipient", mountPath: cert, readOnly: true }] : []),
              ],
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
              // root: the etcd client key is root-owned 0600 on the host; no capabilities beyond that.
              securityContext: {
                runAsUser: 0,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                privileged: false,
                capabilities: { drop: ["ALL"] },
              },
            }],
          },
        },
      },
    },
  };
}
