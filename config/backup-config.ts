/**
 * Stack config `backup`: where etcd snapshots go off the cluster (S3), the backup schedule
 * (a CronJob on the control plane), the export of resource definitions, and (`volumes`) CSI
 * VolumeSnapshots of the PersistentVolumeClaims before every control-plane hop. Absent: snapshots
 * stay on the first control-plane node only, and no schedule is created.
 */
import { FieldReader } from "./fields";
import { parseVolumeBackup, VolumeBackupConfig } from "./volume-config";
import { API_GROUP, bucketProblem, cronProblem, exportSecretsProblem, ownedDirProblem, prefixProblem, regionProblem } from "./values";

export interface BackupConfig {
  /** S3 bucket for snapshots, created and secured by EtcdBackupSchedule. */
  readonly bucket: string;
  readonly region: string;
  /** Key prefix in the bucket. @default "<clusterName>/" */
  readonly prefix: string;
  /** Cron schedule of the backup CronJob (5 fields). @default "0 *\/6 * * *" */
  readonly schedule: string;
  /** Days a snapshot is kept in S3. @default 14 */
  readonly retentionDays: number;
  /**
   * CronJob image: needs a shell, etcdctl, the aws CLI, kubectl (the scheduled resource export)
   * and `timeout`, and openssl when exportSecrets is encrypt:... (registry.k8s.io's etcd and
   * kubectl images are distroless).
   */
  readonly image: string;
  /** KMS key for the bucket; a new key with rotation when absent. */
  readonly kmsKeyArn?: string;
  /**
   * Resource export: where on the kubectl node (before each control-plane hop), and Secrets
   * `exclude`d or `encrypt:<recipient cert>` (a path on the control-plane nodes; used by the
   * hop's export and by the scheduled job). @default exportSecrets "exclude"
   */
  readonly exportDir: string;
  readonly exportSecrets: "exclude" | `encrypt:/${string}`;
  /**
   * API groups of custom resources the scheduled export may read (its ClusterRole lists built-in
   * types by name and never the core group's Secrets unless encrypted). @default []
   */
  readonly exportApiGroups: readonly string[];
  /**
   * CSI VolumeSnapshots of the PersistentVolumeClaims before every control-plane hop, next to
   * the etcd snapshot (config/volume-config.ts, node-scripts/volume-snapshot.sh); absent: no
   * volume is snapshotted.
   */
  readonly volumes?: VolumeBackupConfig;
}

const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/;
/** A custom resource API group: a DNS subdomain with a dot (never the core group ""). */
const KMS_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[A-Za-z0-9-]+$/;

/** Reads `backup`; undefined when absent. */
export function parseBackup(r: FieldReader, value: unknown, clusterName: string | undefined): BackupConfig | undefined {
  if (value === undefined) return undefined;
  const b = r.object(value, "backup", '{ bucket: "dev-etcd-backups", region: "eu-west-1", image: "..." }');
  if (!b) return undefined;
  r.noUnknownKeys(b, "backup", ["bucket", "region", "prefix", "schedule", "retentionDays", "image", "kmsKeyArn", "exportDir", "exportSecrets", "exportApiGroups", "volumes"]);
  const bucket = r.checked(b.bucket, "backup.bucket", bucketProblem, "an S3 bucket name", "a bucket name by the S3 naming rules: 3-63 lowercase letters, digits, '.', '-' (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)");
  const region = r.checked(b.region, "backup.region", regionProblem, "an AWS region", "an AWS region such as eu-west-1");
  const prefix = r.checked(b.prefix ?? `${clusterName ?? "cluster"}/`, "backup.prefix", prefixProblem, "a key prefix", 'a key prefix of parts ending in "/", such as "dev/", with no "." or ".." part');
  const schedule = r.checked(b.schedule ?? "0 */6 * * *", "backup.schedule", cronProblem, "a cron schedule", 'a CronJob schedule of 5 fields (minute 0-59, hour 0-23, day of month 1-31, month 1-12, day of week 0-6) such as "0 */6 * * *"');
  const retentionDays = r.integer(b.retentionDays, "backup.retentionDays", 1, 3650, 14);
  const image = r.string(b.image, "backup.image", IMAGE, "a container image with a shell, etcdctl and the aws CLI");
  const kmsKeyArn = b.kmsKeyArn === undefined ? undefined : r.string(b.kmsKeyArn, "backup.kmsKeyArn", KMS_ARN, "a KMS key ARN");
  const exportDir = r.checked(b.exportDir ?? "/var/lib/cluster-maintenance/resource-exports", "backup.exportDir", ownedDirProblem, "an absolute path of a directory of this program's own", "a directory of this program's own, such as /var/lib/cluster-maintenance/resource-exports (README.md, Configuration reference: etcd.backupDir)");
  const secrets = b.exportSecrets ?? "exclude";
  const exportSecrets = typeof secrets === "string" && exportSecretsProblem(secrets) === undefined
    ? secrets
    : (r.problems.add("backup.exportSecrets", secrets, "is not exclude or encrypt:<path>", 'write "exclude" or "encrypt:/path/to/recipient-cert.pem"'), undefined);
  const groups = b.exportApiGroups === undefined ? [] : r.array(b.exportApiGroups, "backup.exportApiGroups", '["cert-manager.io"]');
  const exportApiGroups = (groups ?? []).map((g, i) => r.string(g, `backup.exportApiGroups[${i}]`, API_GROUP, 'an API group of custom resources such as "cert-manager.io"'));
  const volumes = parseVolumeBackup(r, b.volumes);
  if ((b.volumes !== undefined && !volumes) || !bucket || !region || !prefix || !schedule || !retentionDays || !image || !exportDir || !exportSecrets || !groups || exportApiGroups.some((g) => g === undefined)) return undefined;
  return {
    bucket, region, prefix, schedule, retentionDays, image, exportDir,
    exportSecrets: exportSecrets as BackupConfig["exportSecrets"], exportApiGroups: exportApiGroups as string[],
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
    ...(volumes ? { volumes } : {}),
  };
}
