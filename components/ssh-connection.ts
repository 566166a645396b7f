/**
 * The SSH connection of a `remote.Command`, from stack config. The whole connection is a
 * Pulumi secret (it holds the private key). Dial limits default high enough to ride out a
 * kubelet restart or a reboot. With `hostKey` (node and bastion) the provider accepts only
 * that key; without it, any (provider/pkg/provider/remote/connection.go, `SSHConfig`).
 * Source: https://www.pulumi.com/registry/packages/command/api-docs/remote/command/
 */
import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import type { SshConfig, SshTarget } from "../config/stack-config";

export type Connection = command.types.input.remote.ConnectionArgs;

/**
 * @param ssh user, port, bastion (with its host key) and dial limits (`ssh` config key).
 * @param target the node's address and host key, already validated.
 * @param privateKey the `sshPrivateKey` secret; also used for the bastion.
 */
export function sshConnection(ssh: SshConfig, target: SshTarget, privateKey: pulumi.Input<string>): pulumi.Output<Connection> {
  const b = ssh.bastion;
  return pulumi.secret(
    pulumi.output(privateKey).apply((key): Connection => ({
      host: target.host,
      port: ssh.port,
      user: ssh.user,
      privateKey: key,
      dialErrorLimit: ssh.dialErrorLimit,
      perDialTimeout: ssh.perDialTimeoutSeconds,
      ...(target.hostKey ? { hostKey: target.hostKey } : {}),
      ...(b
        ? {
            proxy: {
              host: b.host, port: b.port, user: b.user, privateKey: key, dialErrorLimit: ssh.dialErrorLimit, perDialTimeout: ssh.perDialTimeoutSeconds,
              ...(b.hostKey ? { hostKey: b.hostKey } : {}),
            },
          }
        : {}),
    })),
  );
}
