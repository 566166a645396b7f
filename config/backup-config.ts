/**
 * Stack config `backup`: where each pre-upgrade etcd snapshot is copied off the cluster (S3).
 * Absent: snapshots stay on the first control-plane node only.
 */
import { FieldReader } from "./fields";

export interface BackupConfig {
  /** S3 bucket for snapshots. */
  readonly bucket: string;
  readonly region: string;
  /** Key prefix in the bucket. @default "<clusterName>/" */
  readonly prefix: string;
}

/** S3 bucket names. Source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html */
const BUCKET = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/;
const PREFIX = /^([A-Za-z0-9._-]+\/)*$/;

/** Reads `backup`; undefined when absent. */
export function parseBackup(r: FieldReader, value: unknown, clusterName: string | undefined): BackupConfig | undefined {
  if (value === undefined) return undefined;
  const b = r.object(value, "backup", '{ bucket: "dev-etcd-backups", region: "eu-west-1" }');
  if (!b) return undefined;
  r.noUnknownKeys(b, "backup", ["bucket", "region", "prefix"]);
  const bucket = r.string(b.bucket, "backup.bucket", BUCKET, "an S3 bucket name (3-63 lowercase letters, digits, '.', '-')");
  const region = r.string(b.region, "backup.region", REGION, "an AWS region such as eu-west-1");
  const prefix = r.string(b.prefix ?? `${clusterName ?? "cluster"}/`, "backup.prefix", PREFIX, 'a key prefix ending in "/" such as "dev/"');
  if (!bucket || !region || !prefix) return undefined;
  return { bucket, region, prefix };
}
