/** The remote.Command connection built from config: host keys on the node and on the bastion (proxy). */
import * as pulumi from "@pulumi/pulumi";
import { sshConnection } from "../components/ssh-connection";
import { parseStackConfig, sshTargetsOf } from "../config/stack-config";
import { testHostKey } from "./helpers/host-keys";
import { valueOf } from "./helpers/pulumi-mocks";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key\n-----END OPENSSH PRIVATE KEY-----";
const raw = (ssh: Record<string, unknown>, hostKey?: string) => ({
  targetVersion: "1.37",
  ssh,
  controlPlane: { nodes: [{ name: "cp-1", host: "10.0.0.11", version: "1.36.4", ...(hostKey ? { hostKey } : {}) }] },
});

it("gives the connection the node's hostKey and the proxy the bastion's, as a secret", async () => {
  const config = parseStackConfig(raw({ port: 2222, bastion: { host: "jump.example.com", user: "hop", hostKey: testHostKey("jump") } }, testHostKey("cp-1")), "t");
  const connection = sshConnection(config.ssh, sshTargetsOf(config).get("cp-1")!, KEY);
  expect(await pulumi.isSecret(connection)).toBe(true);
  expect(await valueOf(connection)).toEqual({
    host: "10.0.0.11", port: 2222, user: "ubuntu", privateKey: KEY, dialErrorLimit: 40, perDialTimeout: 15, hostKey: testHostKey("cp-1"),
    proxy: { host: "jump.example.com", port: 22, user: "hop", privateKey: KEY, dialErrorLimit: 40, perDialTimeout: 15, hostKey: testHostKey("jump") },
  });
});

it("leaves hostKey out (the provider then accepts any key) only where ssh.insecureIgnoreHostKey let it be missing", async () => {
  const config = parseStackConfig(raw({ insecureIgnoreHostKey: true, bastion: { host: "jump.example.com" } }), "t");
  const value = await valueOf(sshConnection(config.ssh, sshTargetsOf(config).get("cp-1")!, KEY));
  expect(value).not.toHaveProperty("hostKey");
  expect(value.proxy).not.toHaveProperty("hostKey");
  expect(value.proxy).toMatchObject({ host: "jump.example.com" });
});
