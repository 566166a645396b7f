/** The program with `backup` configured: the backup schedule is created, and every pre-upgrade snapshot is copied off and the resources exported. */
import * as pulumi from "@pulumi/pulumi";
import { installMocks, setStackConfig, settled, stackConfig, valueOf } from "./helpers/pulumi-mocks";

const registered = installMocks("dev", false);
setStackConfig({ ...stackConfig("dev"), backup: { bucket: "dev-etcd-backups", region: "eu-west-1", image: "example.org/etcd-backup:3.5" } });
jest.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());

it("creates the EtcdBackupSchedule and chains upload and export after each snapshot", async () => {
  const program = await (await import("../index")).default();
  await settled();
  const schedule = registered.filter((r) => r.type === "cluster-maintenance:backup:EtcdBackupSchedule");
  expect(schedule.map((r) => r.name)).toEqual(["dev-backup"]);
  expect(registered.some((r) => r.type === "kubernetes:batch/v1:CronJob")).toBe(true);
  // The scheduled export's identity: Secrets excluded by default, so the role cannot read them.
  const sa = registered.filter((r) => r.type === "kubernetes:core/v1:ServiceAccount").map((r) => r.name);
  expect(sa).toEqual(["dev-backup-service-account"]);
  const role = registered.find((r) => r.type === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole" && r.name === "dev-backup-export-role")!;
  const resources = (role.inputs.rules as { resources: string[] }[]).flatMap((r) => r.resources);
  expect(resources).toContain("configmaps");
  expect(resources).not.toContain("secrets");
  expect(resources).not.toContain("*");
  const pod = ((registered.find((r) => r.type === "kubernetes:batch/v1:CronJob")!.inputs.spec as any).jobTemplate.spec.template.spec);
  expect(pod.serviceAccountName).toBe("dev-backup-etcd-backup");
  expect(await valueOf(program.backupBucket!)).toBe("dev-etcd-backups");
  const hop1 = registered.filter((r) => r.type === "command:remote:Command" && r.name.startsWith("dev-cp-1-v1.35.9-")).map((r) => r.name);
  expect(hop1.slice(0, 4)).toEqual(["dev-cp-1-v1.35.9-etcd-snapshot", "dev-cp-1-v1.35.9-upload-snapshot", "dev-cp-1-v1.35.9-export-resources", "dev-cp-1-v1.35.9-switch-repository"]);
  const upload = registered.find((r) => r.name === "dev-cp-1-v1.35.9-upload-snapshot")!;
  expect(upload.inputs.create).toContain("upload-snapshot.sh '/var/lib/cluster-maintenance/etcd-backups' 'before-v1.35.9' 'dev-etcd-backups' 'dev/' 'eu-west-1'");
});
