/**
 * The Pulumi program: stack config -> ClusterUpgrade (one NodeUpgrade per node, with the
 * remote commands that carry the plan out) -> stack outputs.
 * `pulumi preview` logs the plan; `npm run plan` prints the same plan offline.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterUpgrade } from "./components/cluster-upgrade";
import { EtcdBackupSchedule } from "./components/etcd-backup-schedule";
import { sshConnection } from "./components/ssh-connection";
import { readPulumiConfig } from "./config/pulumi-source";
import { executionOptions, parseStackConfig, PROJECT, sshTargetsOf, toClusterSpec } from "./config/stack-config";

const config = parseStackConfig(readPulumiConfig(), pulumi.getStack());
const privateKey = new pulumi.Config(PROJECT).requireSecret("sshPrivateKey");
const targets = sshTargetsOf(config);
const upgrade = new ClusterUpgrade(config.clusterName, {
  cluster: toClusterSpec(config),
  target: config.target,
  catalogue: config.catalogue,
  execution: executionOptions(config),
  connection: (node) => sshConnection(config.ssh, targets.get(node)!, privateKey),
  blueGreenAws: new Map(config.pools.flatMap((p) => (p.blueGreen ? [[p.name, p.blueGreen.aws] as const] : []))),
});

/** The upgrade plan as text. */
export const plan = upgrade.planText;
/** The version of each hop, in order. */
export const hops = upgrade.hops;
export const targetVersion = config.target.toString();
export const warnings = upgrade.plan.warnings.map((w) => w.message);

/**
 * With `backup`: the S3 bucket (versioned, KMS-encrypted, private, TLS only, kept when `backup`
 * is removed; snapshots and exports expire after retentionDays, the newest few are always kept)
 * and the CronJob that snapshots etcd on the control plane on a schedule.
 * The CronJob goes through the default Kubernetes provider (your kubeconfig, like kubectl).
 */
const backup = config.backup
  ? new EtcdBackupSchedule(`${config.clusterName}-backup`, {
      bucketName: config.backup.bucket,
      region: config.backup.region,
      prefix: config.backup.prefix,
      schedule: config.backup.schedule,
      retentionDays: config.backup.retentionDays,
      image: config.backup.image,
      ...(config.backup.kmsKeyArn ? { kmsKeyArn: config.backup.kmsKeyArn } : {}),
      exportSecrets: config.backup.exportSecrets,
      exportApiGroups: config.backup.exportApiGroups,
      etcd: { endpoint: config.etcd.endpoint, caCert: config.etcd.caCert, cert: config.etcd.cert, key: config.etcd.key },
      keep: config.etcd.keep,
    })
  : undefined;
/** With `backup`: the bucket, and the IAM policy to attach to the control-plane nodes' role. */
export const backupBucket = backup?.bucketName;
export const backupUploadPolicy = backup?.uploadPolicyJson;
