/**
 * The Pulumi program: stack config -> the cluster read live (or the declared versions) ->
 * ClusterUpgrade (the plan's first wave: one NodeUpgrade per node it changes, with the
 * remote commands that carry it out) -> stack outputs.
 * `pulumi preview` logs the plan; `npm run plan` prints the same plan without Pulumi.
 * Each `pulumi up` reads the cluster again, plans what is left and carries out one wave.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterUpgrade } from "./components/cluster-upgrade";
import { EtcdBackupSchedule } from "./components/etcd-backup-schedule";
import { sshConnection } from "./components/ssh-connection";
import { clusterSource, ClusterSource, declaredSource, kubeconfigFound, KubeconfigSources } from "./config/cluster-source";
import { readPulumiConfig } from "./config/pulumi-source";
import { executionOptions, parseStackConfig, PROJECT, sshTargetsOf, StackConfig, toClusterSpec } from "./config/stack-config";

// Parsed before anything else: bad config stops the program with nothing read or registered.
const config = parseStackConfig(readPulumiConfig(), pulumi.getStack());
const privateKey = new pulumi.Config(PROJECT).requireSecret("sshPrivateKey");

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

/** Registers the backup and the upgrade (its next wave, when planned from the cluster) for the config `source` resolved. */
function register(source: ClusterSource): Registered {
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
    connection: (node) => sshConnection(resolved.ssh, targets.get(node)!, privateKey),
    blueGreenAws: new Map(resolved.pools.flatMap((p) => (p.blueGreen ? [[p.name, p.blueGreen.aws] as const] : []))),
  });
  const backup = backupSchedule(resolved);
  return { upgrade, ...(backup ? { backup } : {}) };
}

/** Whether a kubeconfig is set in the stack (our secret or the Kubernetes provider's key) or found in the environment. */
function kubeconfigSet(): boolean {
  const ours = Object.hasOwn(pulumi.runtime.allConfig(), `${PROJECT}:kubeconfig`);
  const provider = new pulumi.Config("kubernetes").get("kubeconfig");
  return kubeconfigFound({ ...(ours ? { override: "(set)" } : {}), ...(provider ? { providerConfig: provider } : {}) });
}

/**
 * Declared versions and no kubeconfig: registered at once, so a refusal fails the program as
 * it loads. Otherwise the cluster is read first (drift stops here, with nothing registered); a
 * refusal then rejects, which the Pulumi CLI reports as the program's failure
 * (process.on("unhandledRejection") in @pulumi/pulumi cmd/run/run.js).
 */
const done: Registered | Promise<Registered> =
  !config.live && !kubeconfigSet()
    ? register(declaredSource(config, false))
    : kubeconfigSources().then((sources) => clusterSource(config, sources)).then(register);

/** An output of what was registered. */
function fromDone<T>(pick: (r: Registered) => T): pulumi.Output<pulumi.Unwrap<T>> {
  return pulumi.output(done instanceof Promise ? done.then(pick) : pick(done));
}

/** The upgrade plan as text, every wave listed. */
export const plan = fromDone(({ upgrade: u }) => u.planText);
/** The version of each hop left, in order. */
export const hops = fromDone(({ upgrade: u }) => u.hops);
export const targetVersion = config.target.toString();
export const warnings = fromDone(({ upgrade: u }) => u.plan.warnings.map((w) => w.message));
/** What this `pulumi up` carries out (one line), or that nothing is left. */
export const wave = fromDone(({ upgrade: u }) => u.wave);
/** The waves after this one, one line each: run `pulumi up` again for each. */
export const wavesLeft = fromDone(({ upgrade: u }) => u.wavesLeft);

/** With `backup`: the bucket, and the IAM policy to attach to the control-plane nodes' role. */
export const backupBucket = fromDone(({ backup }) => backup?.bucketName);
export const backupUploadPolicy = fromDone(({ backup }) => backup?.uploadPolicyJson);
