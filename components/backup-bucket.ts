/**
 * The S3 bucket etcd snapshots go to, secured: versioning, SSE-KMS with a bucket key, all four
 * public-access blocks, lifecycle rules that expire the timestamped snapshots (and old versions)
 * after the retention but keep the newest N scheduled ones whatever their age
 * ({@link lifecycleRules}), and a policy that denies every request not made over TLS. Plain
 * functions that create the children of an {@link EtcdBackupSchedule}; the policy documents and
 * rules are pure and exported for tests. Resource names are @pulumi/aws 7.x's (not the
 * deprecated `*V2` ones).
 *
 * Kept when removed: the key, the bucket and its settings are created with `retainOnDelete`, so
 * removing `backup` from the config (or `pulumi destroy`) takes them out of the stack and leaves
 * them in AWS as they are: the snapshots stay readable, private, encrypted and expiring as before,
 * and the key that decrypts them is never scheduled for deletion by Pulumi. Not `protect`: that
 * would make the `pulumi up` that drops `backup` fail (the upgrade with it) until someone runs
 * `pulumi state unprotect`. To really remove them, once no snapshot is needed: empty the bucket
 * (every version and delete marker), `aws s3api delete-bucket --bucket B`, then
 * `aws kms schedule-key-deletion --key-id K --pending-window-in-days 30` (a key given as
 * `kmsKeyArn` is never created nor removed by this program). To bring `backup` back with the same
 * bucket name, `pulumi import` the bucket (and key) first, or name a new bucket.
 * See: https://www.pulumi.com/docs/iac/concepts/options/retainondelete/
 * See: https://www.pulumi.com/registry/packages/aws/api-docs/s3/bucket/
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** What {@link createBackupBucket} needs, already validated and with defaults resolved. */
export interface BackupBucketSettings {
  /** Explicit bucket name, or undefined for a generated name starting with `bucketPrefix`. */
  readonly bucketName?: pulumi.Input<string>;
  readonly bucketPrefix: string;
  /** Existing KMS key ARN, or undefined to create a key with yearly rotation. */
  readonly kmsKeyArn?: pulumi.Input<string>;
  readonly region: pulumi.Input<string>;
  readonly retentionDays: number;
  /** Key prefix of the objects ("" or ending in "/"). */
  readonly prefix: string;
  /** Key under `prefix` whose versions are kept by count (the newest scheduled snapshots). */
  readonly newestKey: string;
  /** Versions of `newestKey` kept whatever their age (the current one included), 1..101. */
  readonly keepNewest: number;
}

export interface BackupBucket {
  readonly bucket: aws.s3.Bucket;
  /** ARN of the KMS key objects are encrypted with (created or given). */
  readonly kmsKeyArn: pulumi.Output<string>;
  /** The bucket and all its settings: what a writer should depend on (the first upload is then encrypted, TLS-only). */
  readonly ready: pulumi.Resource[];
}

/** The bucket policy: deny every S3 action on the bucket and its objects unless over TLS. */
export function denyInsecureTransportPolicy(bucketArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });
}

/**
 * Least privilege for the uploads, to attach to the control-plane nodes' instance role. Any
 * host-network pod on those nodes can take that role's credentials from the instance metadata
 * service, so the policy lets them write snapshots and read none:
 * - s3:PutObject on `<bucket>/<prefix>*` only. That covers `aws s3 cp`'s single and multipart
 *   uploads (CreateMultipartUpload, UploadPart, CompleteMultipartUpload are authorized as
 *   s3:PutObject). Not s3:AbortMultipartUpload: a failed multipart upload is aborted by the
 *   bucket's lifecycle after a day instead.
 * - No s3:GetObject, hence no HeadObject either (S3 authorizes HEAD as s3:GetObject). The
 *   scheduled job never reads; `upload-snapshot.sh`'s "already uploaded" check (a head-object of
 *   the key) is then denied and the script uploads again: re-running a hop re-uploads its
 *   snapshot as a new version of the same key (the old one becomes noncurrent and expires after
 *   `retentionDays`). That costs one upload, never a snapshot; the check reading the object's
 *   metadata would let anyone on the nodes read every snapshot.
 * - No s3:ListBucket, no s3:DeleteObject: a stolen credential cannot list, read or delete.
 * - On the key, kms:GenerateDataKey (S3 encrypting a new object) and kms:Decrypt (S3 needs it
 *   for the parts of a multipart upload, which the aws CLI makes for files over 8 MB), both only
 *   through S3 in `region` (kms:ViaService) and only for this bucket (the encryption context of a
 *   bucket with an S3 Bucket Key is the bucket's ARN). Decrypting an object would still need
 *   s3:GetObject, which is not granted.
 * See: https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html (Permissions)
 * See: https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
 * See: https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#aws-managed-customer-managed-keys
 * See: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html#bucket-key-changes
 */
export function uploadPolicy(bucketArn: string, prefix: string, kmsKeyArn: string, region: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "PutEtcdSnapshots", Effect: "Allow", Action: "s3:PutObject", Resource: `${bucketArn}/${prefix}*` },
      {
        Sid: "EncryptEtcdSnapshotsThroughS3",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: kmsKeyArn,
        Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com`, "kms:EncryptionContext:aws:s3:arn": bucketArn } },
      },
    ],
  });
}

/**
 * The bucket's lifecycle rules. S3 counts only the versions of one key, never objects, and a
 * current version never expires by count: "keep the newest N" exists in S3 only as
 * `NoncurrentVersionExpiration.NewerNoncurrentVersions` on one key. Hence:
 * - `expire-etcd-snapshots` (`<prefix>etcd-`: the scheduled `etcd-snapshot-*` and the pre-hop
 *   `etcd-*` of upload-snapshot.sh) and `expire-resource-exports` (`<prefix>resources-`): the
 *   current version expires `retentionDays` after upload (a delete marker on top), noncurrent ones
 *   `retentionDays` later. Expiring by age alone: once backups stop for `retentionDays`, these
 *   are all gone.
 * - `keep-newest-snapshots` (`<prefix><newestKey>`, which every scheduled run also uploads to):
 *   no expiration of the current version, and a noncurrent version is deleted only once it is a
 *   day old *and* `keepNewest - 1` newer noncurrent versions exist. When backups stop, nothing
 *   newer arrives, so the newest `keepNewest` snapshots stay for good. No expiring rule's filter
 *   matches that key (the rules use prefixes, not the whole bucket).
 * - `abort-incomplete-uploads` (whole bucket): parts of a failed multipart upload after a day.
 * Objects under other prefixes are never expired.
 * See: https://docs.aws.amazon.com/AmazonS3/latest/API/API_NoncurrentVersionExpiration.html
 * See: https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html
 */
export function lifecycleRules(s: Pick<BackupBucketSettings, "prefix" | "newestKey" | "keepNewest" | "retentionDays">): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
  const byAge = (id: string, prefix: string): aws.types.input.s3.BucketLifecycleConfigurationRule => ({
    id,
    status: "Enabled",
    filter: { prefix },
    expiration: { days: s.retentionDays },
    noncurrentVersionExpiration: { noncurrentDays: s.retentionDays },
  });
  return [
    byAge("expire-etcd-snapshots", `${s.prefix}etcd-`),
    byAge("expire-resource-exports", `${s.prefix}resources-`),
    {
      id: "keep-newest-snapshots",
      status: "Enabled",
      filter: { prefix: `${s.prefix}${s.newestKey}` },
      noncurrentVersionExpiration: {
        noncurrentDays: 1,
        ...(s.keepNewest > 1 ? { newerNoncurrentVersions: s.keepNewest - 1 } : {}),
      },
    },
    { id: "abort-incomplete-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
  ];
}

/** Creates the key (unless given), the bucket and its five settings, all parented to `parent`. */
export function createBackupBucket(name: string, s: BackupBucketSettings, parent: pulumi.Resource): BackupBucket {
  // Every one kept in AWS when it leaves the stack (see the module's comment): a bucket whose
  // settings were deleted would be left unencrypted by default, public-access unblocked, its
  // versioning suspended.
  const opts = { parent, retainOnDelete: true };
  const region = s.region;
  const kmsKeyArn = s.kmsKeyArn !== undefined
    ? pulumi.output(s.kmsKeyArn)
    : new aws.kms.Key(`${name}-key`, {
        description: `etcd snapshots of ${name}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        region,
      }, opts).arn;
  const bucket = new aws.s3.Bucket(`${name}-bucket`, {
    ...(s.bucketName !== undefined ? { bucket: s.bucketName } : { bucketPrefix: s.bucketPrefix }),
    forceDestroy: false,
    region,
  }, opts);
  const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, {
    bucket: bucket.id,
    versioningConfiguration: { status: "Enabled" },
    region,
  }, opts);
  const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-encryption`, {
    bucket: bucket.id,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: kmsKeyArn }, bucketKeyEnabled: true }],
    region,
  }, opts);
  const publicAccess = new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, {
    bucket: bucket.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
    region,
  }, opts);
  // After versioning: a lifecycle rule on noncurrent versions needs versioning first.
  const lifecycle = new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
    bucket: bucket.id,
    rules: lifecycleRules(s),
    region,
  }, { ...opts, dependsOn: [versioning] });
  // After the public-access block: S3 rejects concurrent changes to both.
  const policy = new aws.s3.BucketPolicy(`${name}-tls-only`, {
    bucket: bucket.id,
    policy: bucket.arn.apply(denyInsecureTransportPolicy),
    region,
  }, { ...opts, dependsOn: [publicAccess] });
  return { bucket, kmsKeyArn, ready: [bucket, versioning, encryption, publicAccess, lifecycle, policy] };
}
