/**
 * The S3 bucket etcd snapshots go to, secured: versioning, SSE-KMS with a bucket key, all four
 * public-access blocks, a lifecycle rule that expires snapshots (and old versions) after the
 * retention, and a policy that denies every request not made over TLS. Plain functions that
 * create the children of an {@link EtcdBackupSchedule}; the policy documents are pure and exported
 * for tests. Resource names are @pulumi/aws 7.x's (not the deprecated `*V2` ones).
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
 * Least privilege for the backup job, to attach to the control-plane nodes' instance role:
 * put/get objects under `prefix` only; on the key GenerateDataKey and Encrypt (to write),
 * and Decrypt, which S3 needs for multipart uploads (the aws CLI uploads files over 8 MB in
 * parts) and for reading an object back.
 * See: https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#aws-managed-customer-managed-keys
 */
export function uploadPolicy(bucketArn: string, prefix: string, kmsKeyArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "EtcdSnapshotObjects", Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"], Resource: `${bucketArn}/${prefix}*` },
      { Sid: "EtcdSnapshotKey", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"], Resource: kmsKeyArn },
    ],
  });
}

/** Creates the key (unless given), the bucket and its five settings, all parented to `parent`. */
export function createBackupBucket(name: string, s: BackupBucketSettings, parent: pulumi.Resource): BackupBucket {
  const opts = { parent };
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
    rules: [{
      id: "expire-etcd-snapshots",
      status: "Enabled",
      filter: { prefix: "" },
      expiration: { days: s.retentionDays },
      noncurrentVersionExpiration: { noncurrentDays: s.retentionDays },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
    }],
    region,
  }, { parent, dependsOn: [versioning] });
  // After the public-access block: S3 rejects concurrent changes to both.
  const policy = new aws.s3.BucketPolicy(`${name}-tls-only`, {
    bucket: bucket.id,
    policy: bucket.arn.apply(denyInsecureTransportPolicy),
    region,
  }, { parent, dependsOn: [publicAccess] });
  return { bucket, kmsKeyArn, ready: [bucket, versioning, encryption, publicAccess, lifecycle, policy] };
}
