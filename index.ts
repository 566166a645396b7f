/**
 * The Pulumi program: stack config -> the cluster read live (or the declared versions) ->
 * ClusterUpgrade (the plan's first wave: one NodeUpgrade per node it changes, with the
 * remote commands that carry it out) -> stack outputs.
 * `pulumi preview` logs the plan; `npm run plan` prints the same plan without Pulumi.
 * Each `pulumi up` reads the cluster again, plans what is left and carries out one wave.
 *
 * The module exports one async function, which the Pulumi CLI calls and awaits; its result's
 * fields are the stack outputs, and a rejection is the program's failure ("If the exported
 * value was itself a Function, then just execute it", @pulumi/pulumi cmd/run/run.js).
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterUpgrade } from "./components/cluster-upgrade";
import { EtcdBackupSchedule } from "./components/etcd-backup-schedule";
import { sshConnection } from "./components/ssh-connection";
import { VolumeSnapshotSchedule } from "./components/volume-snapshot-schedule";
import { clusterSource, ClusterSource, KubeconfigSources } from "./config/cluster-source";
import { readPulumiConfig } from "./config/pulumi-source";
import { readReadiness, ReadinessRead } from "./discovery/read-readiness";
import { clusterAddons } from "./discovery/live-cluster";
import { executionOptions, parseStackConfig, PROJECT, sshTargetsOf, StackConfig, toClusterSpec } from "./config/stack-config";

/** The kubeconfig sources: our secret first, then the Kubernetes provider's key, KUBECONFIG, ~/.kube/config. */
async function kubeconfigSources(): Promise<KubeconfigSources> {
  const secret = new pulumi.Config(PROJECT).getSecret("kubeconfig");
  // Config secrets are known in preview too; the text only builds the API client.
  const override = secret ? await new Promise<string>((resolve) => secret.apply(resolve)) : undefined;
  const providerConfig = new pulumi.Config("kubernetes").get("kubeconfig");
  return { ...(override ? { override } : {}), ...(providerConfig ? { providerConfig } : {}) };
}

/**
 * With `backup`: the S3 bucket (versioned, KMS-encrypted, private, TLS only, kept when `backup`
 * is removed; snapshots and exports expire after retentionDays, the newest few are always kept)
 * and the CronJob that snapshots etcd on the control plane on a schedule.
 * The CronJob goes through the default Kubernetes provider (your kubeconfig, like kubectl).
 */
function backupSchedule(config: StackConfig): EtcdBackupSchedule | undefined {
  // With backup.volumes.schedule: scheduled CSI VolumeSnapshots of the selected PVCs, between hops.
  const volumes = config.backup?.volumes;
  if (config.backup && volumes?.schedule) {
    new VolumeSnapshotSchedule(`${config.clusterName}-volume-snapshots`, { volumes: { ...volumes, schedule: volumes.schedule }, image: config.backup.image });
  }
  return config.backup
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
}

type Registered = { readonly upgrade: ClusterUpgrade; readonly backup?: EtcdBackupSchedule };

/**
 * Registers the backup and the upgrade (its next wave, when planned from the cluster) for the
 * config `source` resolved; `read`, the go/no-go reads, when the cluster was read.
 */
function register(source: ClusterSource, read: ReadinessRead | undefined, privateKey: pulumi.Output<string>): Registered {
  const resolved = source.config;
  const targets = sshTargetsOf(resolved);
  pulumi.log.info(`planning from ${source.origin}`);
  const upgrade = new ClusterUpgrade(resolved.clusterName, {
    cluster: toClusterSpec(resolved),
    target: resolved.target,
    catalogue: resolved.catalogue,
    execution: executionOptions(resolved),
    // Waves need the cluster read: declared versions alone cannot tell what an earlier update did.
    ...(source.live ? { maxNodesPerUpdate: resolved.maxNodesPerUpdate } : {}),
    origin: source.origin,
    ...(resolved.maintenanceWindow ? { maintenanceWindow: resolved.maintenanceWindow } : {}),
    ...(source.live ? { addons: clusterAddons(source.live) } : {}),
    ...(source.live && read ? { preflight: { live: source.live, read, acknowledge: resolved.acknowledge, now: new Date(), ...(resolved.backup?.volumes ? { volumes: resolved.backup.volumes } : {}) } } : {}),
    connection: (node) => sshConnection(resolved.ssh, targets.get(node)!, privateKey),
    blueGreenAws: new Map(resolved.pools.flatMap((p) => (p.blueGreen ? [[p.name, p.blueGreen.aws] as const] : []))),
  });
  const backup = backupSchedule(resolved);
  return { upgrade, ...(backup ? { backup } : {}) };
}

/** The stack outputs. */
interface ProgramOutputs {
  /** The upgrade plan as text, as `npm run plan` prints it, every wave listed. */
  readonly plan: pulumi.Output<string>;
  /** The version of each hop left, in order, e.g. `["1.36.4", "1.37.1"]`. */
  readonly hops: pulumi.Output<string[]>;
  /** The version every component ends at. */
  readonly targetVersion: string;
  readonly warnings: string[];
  /** What this `pulumi up` carries out (one line), or that nothing is left. */
  readonly wave: string;
  /** The waves after this one, one line each: run `pulumi up` again for each. */
  readonly wavesLeft: readonly string[];
  /** With `backup`: the bucket, and the IAM policy to attach to the control-plane nodes' role. */
  readonly backupBucket?: pulumi.Output<string>;
  readonly backupUploadPolicy?: pulumi.Output<string>;
}

/**
 * Runs the program: parses the stack config (bad config: InputErrors, nothing read), reads the
 * cluster unless the config declares its versions and no kubeconfig is found (drift:
 * DriftError, nothing registered), judges the plan go or no-go (a blocker not acknowledged:
 * NoGoError, nothing registered), checks the maintenance window in `pulumi up` (WindowError,
 * nothing registered), then registers the backup and the upgrade's next wave.
 * @throws InputErrors, DiscoveryError, DriftError, PlanningError, NoGoError, WindowError.
 */
async function main(): Promise<ProgramOutputs> {
  const config = parseStackConfig(readPulumiConfig(), pulumi.getStack());
  const privateKey = new pulumi.Config(PROJECT).requireSecret("sshPrivateKey");
  const source = await clusterSource(config, await kubeconfigSources());
  const read = source.kubeconfig ? await readReadiness(source.kubeconfig, { volumes: source.config.backup?.volumes !== undefined }) : undefined;
  const { upgrade, backup } = register(source, read, privateKey);
  return {
    plan: upgrade.planText,
    hops: upgrade.hops,
    targetVersion: config.target.toString(),
    warnings: upgrade.plan.warnings.map((w) => w.message),
    wave: upgrade.wave,
    wavesLeft: upgrade.wavesLeft,
    ...(backup ? { backupBucket: backup.bucketName, backupUploadPolicy: backup.uploadPolicyJson } : {}),
  };
}

export = main;
