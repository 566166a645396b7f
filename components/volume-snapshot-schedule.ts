/**
 * VolumeSnapshotSchedule: scheduled CSI VolumeSnapshots of the PVCs `backup.volumes` selects
 * (issue 13 item 4), between hops. A CronJob runs node-scripts/volume-snapshot.sh (its text from
 * scriptText, in a ConfigMap, run with bash) with LABEL `scheduled`: each snapshot is labelled
 * `cluster-maintenance.io/before=scheduled-<UTC time>` and named `<pvc>-scheduled-<time>`, and
 * pruning to `keep` counts scheduled snapshots only (a hop's snapshots are never deleted by it).
 *
 * The job runs as its own ServiceAccount with least privilege:
 * - namespaced: create/get/list/delete volumesnapshots.snapshot.storage.k8s.io and get/list
 *   persistentvolumeclaims, in one ClusterRole bound by a RoleBinding in each of `namespaces`
 *   (each namespace must exist); with no namespaces (every namespace), bound by a
 *   ClusterRoleBinding, so these rules then hold in every namespace;
 * - cluster-scoped: get/list volumesnapshotclasses.snapshot.storage.k8s.io, and get/list
 *   persistentvolumes, which the list omits: the script reads each PVC's PersistentVolume
 *   for its CSI driver (spec.csi.driver) to choose the class.
 * kubectl in the pod uses the ServiceAccount's token through a kubeconfig from the ConfigMap
 * (the script otherwise defaults to the control-plane node's admin.conf).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { cronProblem } from "../config/values";
import type { VolumeBackupConfig } from "../config/volume-config";
import { volumeSnapshotArgs } from "../planning/commands";
import { SCHEDULED_JOB_POLICY } from "./etcd-backup-schedule";
import { scriptText } from "./node-scripts";

export interface VolumeSnapshotScheduleArgs {
  /** `backup.volumes`, with its `schedule` (required here). */
  readonly volumes: VolumeBackupConfig & { readonly schedule: string };
  /**
   * Container image with bash and kubectl (within one minor of the cluster), and the coreutils
   * the script calls (timeout, date, mktemp, sha256sum, sort, cut, tail), grep and hostname:
   * `backup.image`. Pin it by digest.
   */
  readonly image: string;
  /** Namespace of the CronJob, its ServiceAccount and ConfigMap. @default "kube-system" */
  readonly namespace?: string;
}

/** Where the ConfigMap (the script and the kubeconfig) is mounted in the container. */
export const SCRIPT_DIR = "/opt/cluster-maintenance";
const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** The kubeconfig kubectl uses in the pod: the API server by its in-cluster name, the ServiceAccount's token. */
export const IN_CLUSTER_KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: in-cluster
  cluster:
    server: https://kubernetes.default.svc
    certificate-authority: ${SA_DIR}/ca.crt
users:
- name: service-account
  user:
    tokenFile: ${SA_DIR}/token
contexts:
- name: in-cluster
  context: { cluster: in-cluster, user: service-account }
current-context: in-cluster
`;

/** Rules the job needs in each selected namespace (or every namespace). */
export const NAMESPACED_RULES = [
  { apiGroups: ["snapshot.storage.k8s.io"], resources: ["volumesnapshots"], verbs: ["create", "get", "list", "delete"] },
  { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list"] },
];
/** Cluster-scoped rules: the classes, and the PersistentVolumes (their CSI driver). */
export const CLUSTER_RULES = [
  { apiGroups: ["snapshot.storage.k8s.io"], resources: ["volumesnapshotclasses"], verbs: ["get", "list"] },
  { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["get", "list"] },
];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/;

/** The CronJob's and its ServiceAccount's name (a DNS label of at most 52 characters). */
export function scheduleName(name: string): string {
  const base = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "cluster";
  return `${base.slice(0, 35).replace(/-+$/, "")}-volume-snapshots`;
}

export class VolumeSnapshotSchedule extends pulumi.ComponentResource {
  /** Name of the CronJob (in `namespace`). */
  readonly cronJobName: pulumi.Output<string>;

  /** @throws Error (before anything is registered) naming every invalid arg. */
  constructor(name: string, args: VolumeSnapshotScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems: string[] = [];
    const schedule = args.volumes.schedule;
    if (typeof schedule !== "string" || cronProblem(schedule)) problems.push(`volumes.schedule ${JSON.stringify(schedule)} is not a cron schedule of 5 fields such as "30 2 * * *" (or a macro such as @daily)`);
    if (typeof args.image !== "string" || !IMAGE.test(args.image)) problems.push(`image ${JSON.stringify(args.image)} is not a container image reference without spaces (with bash and kubectl)`);
    const namespace = args.namespace ?? "kube-system";
    if (!DNS_LABEL.test(namespace)) problems.push(`namespace ${JSON.stringify(namespace)} is not a namespace name (DNS label)`);
    if (problems.length > 0) throw new Error(`VolumeSnapshotSchedule ${JSON.stringify(name)}: invalid args: ${problems.join("; ")}`);
    super("cluster-maintenance:backup:VolumeSnapshotSchedule", name, {}, opts);
    const jobName = scheduleName(name);
    const roleName = `cluster-maintenance:${jobName}`;
    const labels = { "app.kubernetes.io/name": "volume-snapshots", "app.kubernetes.io/managed-by": "cluster-maintenance" };
    const account = new k8s.core.v1.ServiceAccount(`${name}-service-account`, {
      metadata: { name: jobName, namespace, labels },
      automountServiceAccountToken: false,
    }, { parent: this });
    const subjects = [{ kind: "ServiceAccount", name: account.metadata.name, namespace }];
    const roleRef = (role: k8s.rbac.v1.ClusterRole) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name });
    const snapshotRole = new k8s.rbac.v1.ClusterRole(`${name}-snapshots-role`, {
      metadata: { name: `${roleName}-snapshots`, labels }, rules: NAMESPACED_RULES,
    }, { parent: this });
    const clusterRole = new k8s.rbac.v1.ClusterRole(`${name}-cluster-role`, {
      metadata: { name: `${roleName}-cluster`, labels }, rules: CLUSTER_RULES,
    }, { parent: this });
    const bindings: pulumi.Resource[] = [
      new k8s.rbac.v1.ClusterRoleBinding(`${name}-cluster-binding`, {
        metadata: { name: `${roleName}-cluster`, labels }, roleRef: roleRef(clusterRole), subjects,
      }, { parent: this }),
      ...(args.volumes.namespaces.length === 0
        ? [new k8s.rbac.v1.ClusterRoleBinding(`${name}-snapshots-binding`, {
            metadata: { name: `${roleName}-snapshots`, labels }, roleRef: roleRef(snapshotRole), subjects,
          }, { parent: this })]
        : args.volumes.namespaces.map((ns) => new k8s.rbac.v1.RoleBinding(`${name}-snapshots-binding-${ns}`, {
            metadata: { name: `${roleName}-snapshots`, namespace: ns, labels }, roleRef: roleRef(snapshotRole), subjects,
          }, { parent: this }))),
    ];
    const configMap = new k8s.core.v1.ConfigMap(`${name}-script`, {
      metadata: { name: jobName, namespace, labels },
      data: { "volume-snapshot.sh": scriptText("volume-snapshot.sh"), kubeconfig: IN_CLUSTER_KUBECONFIG },
    }, { parent: this });
    const cronJob = new k8s.batch.v1.CronJob(`${name}-cronjob`, {
      metadata: { name: jobName, namespace, labels },
      spec: volumeCronJobSpec({ ...args.volumes, schedule: schedule.trim().split(/\s+/).join(" ") }, args.image, account.metadata.name, configMap.metadata.name),
    }, { parent: this, dependsOn: bindings });
    this.cronJobName = cronJob.metadata.name;
    this.registerOutputs({ cronJobName: this.cronJobName });
  }
}

/** The CronJob's spec. Exported for tests. */
export function volumeCronJobSpec(
  volumes: VolumeBackupConfig & { readonly schedule: string },
  image: string,
  serviceAccountName: pulumi.Input<string>,
  configMapName: pulumi.Input<string>,
): k8s.types.input.batch.v1.CronJobSpec {
  return {
    schedule: volumes.schedule,
    ...SCHEDULED_JOB_POLICY,
    jobTemplate: {
      spec: {
        // No retry: a re-run is a new scheduled time, so new snapshots; the next schedule tries again.
        backoffLimit: 0,
        // The script's bound: readyTimeoutSeconds waiting, plus its bounded kubectl calls.
        activeDeadlineSeconds: volumes.readyTimeoutSeconds + 600,
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "volume-snapshots" } },
          spec: {
            restartPolicy: "Never",
            serviceAccountName,
            automountServiceAccountToken: true,
            securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
            volumes: [
              { name: "script", configMap: { name: configMapName, defaultMode: 0o444 } },
              { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
            ],
            containers: [{
              name: "volume-snapshots",
              image,
              command: ["bash", `${SCRIPT_DIR}/volume-snapshot.sh`],
              args: volumeSnapshotArgs("scheduled", volumes),
              env: [
                { name: "KUBECONFIG", value: `${SCRIPT_DIR}/kubeconfig` },
                { name: "HOME", value: "/tmp" },
                { name: "TMPDIR", value: "/tmp" },
              ],
              volumeMounts: [
                { name: "script", mountPath: SCRIPT_DIR, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
              ],
              resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
              securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ["ALL"] } },
            }],
          },
        },
      },
    },
  };
}
