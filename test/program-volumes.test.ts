/**
 * The program with `backup.volumes` configured, under mocks: before each control-plane hop goes
 * on, a volume-snapshot command runs on the kubectl node after the etcd snapshot, its upload and
 * the resource export, with node-scripts/volume-snapshot.sh on stdin.
 */
import * as pulumi from "@pulumi/pulumi";
import { scriptText } from "../components/node-scripts";
import { installMocks, secretValue, setStackConfig, settled, stackConfig } from "./helpers/pulumi-mocks";

const registered = installMocks("dev", false);
setStackConfig({
  ...stackConfig("dev"),
  kubectlNode: "cp-2",
  backup: {
    bucket: "dev-etcd-backups", region: "eu-west-1", image: "example.org/etcd-backup:3.5",
    volumes: { namespaces: ["shop"], selector: "app=db", classes: { "ebs.csi.aws.com": "ebs-snap" }, keep: 2, readyTimeoutSeconds: 900 },
  },
});
jest.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());

it("registers a volume-snapshot command per control-plane hop, on the kubectl node's connection, before the hop goes on", async () => {
  await (await import("../index")).default();
  await settled();
  const commands = registered.filter((r) => r.type === "command:remote:Command");
  const hop1 = commands.filter((r) => r.name.startsWith("dev-cp-1-v1.35.9-")).map((r) => r.name);
  expect(hop1.slice(0, 5)).toEqual([
    "dev-cp-1-v1.35.9-etcd-snapshot", "dev-cp-1-v1.35.9-upload-snapshot", "dev-cp-1-v1.35.9-export-resources", "dev-cp-1-v1.35.9-volume-snapshot", "dev-cp-1-v1.35.9-switch-repository",
  ]);
  const snapshots = commands.filter((r) => r.name.endsWith("-volume-snapshot"));
  expect(snapshots.map((r) => r.name)).toEqual(["dev-cp-1-v1.35.9-volume-snapshot", "dev-cp-1-v1.36.4-volume-snapshot", "dev-cp-1-v1.37.1-volume-snapshot"]);
  const first = snapshots[0]!;
  expect(first.inputs.create).toMatch(/ volume-snapshot\.sh 'v1\.35\.9' '2' '900' 'true' 'shop' 'app=db' 'ebs\.csi\.aws\.com=ebs-snap'$/);
  expect(first.inputs.stdin).toBe(scriptText("volume-snapshot.sh"));
  expect(secretValue(first.inputs.connection).host).toBe("10.0.0.12");
  // The next command of the hop waits for it (the mocks record each resource's dependencies by URN).
  const next = commands.find((r) => r.name === "dev-cp-1-v1.35.9-switch-repository")!;
  expect(next.dependsOn.some((urn) => urn.endsWith("::dev-cp-1-v1.35.9-volume-snapshot"))).toBe(true);
});
