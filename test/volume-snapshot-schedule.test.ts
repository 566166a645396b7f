/**
 * VolumeSnapshotSchedule (issue 13 item 4) under Pulumi mocks: the CronJob field by field (schedule,
 * image, command and args, volumes, ServiceAccount), the ConfigMap's script and kubeconfig, and
 * every RBAC rule exactly: per-namespace RoleBindings with namespaces, ClusterRoleBindings without.
 */
import * as pulumi from "@pulumi/pulumi";
import { installMocks, RegisteredView, settled, valueOf, viewOf } from "./helpers/pulumi-mocks";
import { scriptText } from "../components/node-scripts";
import { IN_CLUSTER_KUBECONFIG, VolumeSnapshotSchedule, VolumeSnapshotScheduleArgs } from "../components/volume-snapshot-schedule";

const registered = installMocks("test", false);
beforeEach(() => registered.splice(0));
const IMAGE = "example.org/kubectl-bash:1.35@sha256:abc";
const VOLUMES = { namespaces: ["shop", "billing"], classes: { "ebs.csi.aws.com": "ebs-snap" }, keep: 5, readyTimeoutSeconds: 900, required: false, schedule: "30  2 * * *" };

async function build(args: VolumeSnapshotScheduleArgs): Promise<RegisteredView> {
  const c = new VolumeSnapshotSchedule("prod-volume-snapshots", args);
  await valueOf(pulumi.all([c.cronJobName]));
  await settled();
  return viewOf(registered);
}

const NAME = "prod-volume-snapshots-volume-snapshots";
const ROLE = `cluster-maintenance:${NAME}`;
const LABELS = { "app.kubernetes.io/name": "volume-snapshots", "app.kubernetes.io/managed-by": "cluster-maintenance" };
const SUBJECTS = [{ kind: "ServiceAccount", name: NAME, namespace: "kube-system" }];
const NAMESPACED_RULES = [
  { apiGroups: ["snapshot.storage.k8s.io"], resources: ["volumesnapshots"], verbs: ["create", "get", "list", "delete"] },
  { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list"] },
];
const CLUSTER_RULES = [
  { apiGroups: ["snapshot.storage.k8s.io"], resources: ["volumesnapshotclasses"], verbs: ["get", "list"] },
  { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["get", "list"] },
];

describe("with namespaces", () => {
  let t: Awaited<ReturnType<typeof build>>;
  beforeAll(async () => {
    registered.splice(0);
    t = await build({ volumes: VOLUMES, image: IMAGE });
  });

  it("registers exactly these children, all parented to the component", () => {
    const children = t.all.filter((r) => r.type !== "cluster-maintenance:backup:VolumeSnapshotSchedule");
    expect(children.map((r) => [r.type, r.name]).sort()).toEqual([
      ["kubernetes:batch/v1:CronJob", "prod-volume-snapshots-cronjob"],
      ["kubernetes:core/v1:ConfigMap", "prod-volume-snapshots-script"],
      ["kubernetes:core/v1:ServiceAccount", "prod-volume-snapshots-service-account"],
      ["kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "prod-volume-snapshots-cluster-role"],
      ["kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "prod-volume-snapshots-snapshots-role"],
      ["kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "prod-volume-snapshots-cluster-binding"],
      ["kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "prod-volume-snapshots-snapshots-binding-billing"],
      ["kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "prod-volume-snapshots-snapshots-binding-shop"],
    ]);
    for (const c of children) expect(c.parent).toMatch(/VolumeSnapshotSchedule::prod-volume-snapshots$/);
  });

  it("its own ServiceAccount, no token mounted by default", () => {
    expect(t.one("kubernetes:core/v1:ServiceAccount").inputs).toEqual({
      apiVersion: "v1", kind: "ServiceAccount",
      metadata: { name: NAME, namespace: "kube-system", labels: LABELS }, automountServiceAccountToken: false,
    });
  });

  it("every RBAC rule exactly: the namespaced ones bound in each selected namespace only, the cluster-scoped ones cluster-wide", () => {
    const roles = Object.fromEntries(t.byType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole").map((r) => [r.name, r.inputs]));
    expect(roles["prod-volume-snapshots-snapshots-role"]).toMatchObject({ metadata: { name: `${ROLE}-snapshots` }, rules: NAMESPACED_RULES });
    expect((roles["prod-volume-snapshots-snapshots-role"] as { rules: unknown }).rules).toEqual(NAMESPACED_RULES);
    expect(roles["prod-volume-snapshots-cluster-role"]).toMatchObject({ metadata: { name: `${ROLE}-cluster` } });
    expect((roles["prod-volume-snapshots-cluster-role"] as { rules: unknown }).rules).toEqual(CLUSTER_RULES);
    const crb = t.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").inputs;
    expect(crb).toMatchObject({ metadata: { name: `${ROLE}-cluster` }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${ROLE}-cluster` }, subjects: SUBJECTS });
    const rbs = t.byType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").map((r) => r.inputs as { metadata: { namespace: string } });
    expect(rbs.map((r) => r.metadata.namespace).sort()).toEqual(["billing", "shop"]);
    for (const rb of rbs) {
      expect(rb).toMatchObject({ metadata: { name: `${ROLE}-snapshots` }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${ROLE}-snapshots` }, subjects: SUBJECTS });
    }
  });

  it("the ConfigMap holds the script as scriptText gives it and the in-cluster kubeconfig", () => {
    const cm = t.one("kubernetes:core/v1:ConfigMap").inputs as { metadata: unknown; data: Record<string, string> };
    expect(cm.metadata).toEqual({ name: NAME, namespace: "kube-system", labels: LABELS });
    expect(cm.data).toEqual({ "volume-snapshot.sh": scriptText("volume-snapshot.sh"), kubeconfig: IN_CLUSTER_KUBECONFIG });
    expect(IN_CLUSTER_KUBECONFIG).toContain("tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token");
  });

  it("the CronJob: schedule, image, bash running the script with LABEL scheduled and the configured values, the volumes, the ServiceAccount", () => {
    const cj = t.one("kubernetes:batch/v1:CronJob").inputs as any;
    expect(cj.metadata).toEqual({ name: NAME, namespace: "kube-system", labels: LABELS });
    expect(cj.spec.schedule).toBe("30 2 * * *");
    expect(cj.spec.concurrencyPolicy).toBe("Forbid");
    const job = cj.spec.jobTemplate.spec;
    expect(job.backoffLimit).toBe(0);
    expect(job.activeDeadlineSeconds).toBe(1500);
    const pod = job.template.spec;
    expect(pod.serviceAccountName).toBe(NAME);
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.volumes).toEqual([
      { name: "script", configMap: { name: NAME, defaultMode: 0o444 } },
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
    ]);
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0];
    expect(c.image).toBe(IMAGE);
    expect(c.command).toEqual(["bash", "/opt/cluster-maintenance/volume-snapshot.sh"]);
    expect(c.args).toEqual(["scheduled", "5", "900", "false", "shop,billing", "-", "ebs.csi.aws.com=ebs-snap"]);
    expect(c.env).toEqual([
      { name: "KUBECONFIG", value: "/opt/cluster-maintenance/kubeconfig" },
      { name: "HOME", value: "/tmp" },
      { name: "TMPDIR", value: "/tmp" },
    ]);
    expect(c.volumeMounts).toEqual([
      { name: "script", mountPath: "/opt/cluster-maintenance", readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ]);
    expect(c.securityContext).toEqual({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ["ALL"] } });
  });
});

describe("without namespaces (every namespace)", () => {
  it("binds the namespaced rules cluster-wide with a ClusterRoleBinding, no RoleBinding; args '*' and the selector", async () => {
    const t = await build({ volumes: { namespaces: [], selector: { text: "app=db", requirements: [{ key: "app", op: "=", value: "db" }] }, classes: {}, keep: 3, readyTimeoutSeconds: 600, required: true, schedule: "@daily" }, image: IMAGE });
    expect(t.byType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")).toEqual([]);
    const crbs = Object.fromEntries(t.byType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").map((r) => [r.name, r.inputs]));
    expect(Object.keys(crbs).sort()).toEqual(["prod-volume-snapshots-cluster-binding", "prod-volume-snapshots-snapshots-binding"]);
    expect(crbs["prod-volume-snapshots-snapshots-binding"]).toMatchObject({ metadata: { name: `${ROLE}-snapshots` }, roleRef: { kind: "ClusterRole", name: `${ROLE}-snapshots` }, subjects: SUBJECTS });
    const cj = t.one("kubernetes:batch/v1:CronJob").inputs as any;
    expect(cj.spec.schedule).toBe("@daily");
    expect(cj.spec.jobTemplate.spec.template.spec.containers[0].args).toEqual(["scheduled", "3", "600", "true", "*", "app=db", "-"]);
  });
});

describe("bad args", () => {
  it("refuses a bad schedule and image with one error, before anything is registered", () => {
    expect(() => new VolumeSnapshotSchedule("x", { volumes: { ...VOLUMES, schedule: "every day" }, image: "a b" })).toThrow(
      /VolumeSnapshotSchedule "x": invalid args: volumes.schedule "every day" is not a cron schedule.*; image "a b" is not a container image/,
    );
    expect(registered).toEqual([]);
  });
});
