/**
 * The SSH connection of a `remote.Command`, from stack config. The whole connection is a
 * Pulumi secret (it holds the private key). Dial limits default high enough to ride out a
 * kubelet restart or a reboot. Source: https://www.pulumi.com/registry/packages/command/api-docs/remote/command/
 */
import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import type { SshConfig } from "../config/stack-config";

export type Connection = command.types.input.remote.ConnectionArgs;

/**
 * @param ssh user, port, bastion and dial limits (`ssh` config key).
 * @param host the node's address, already validated.
 * @param privateKey the `sshPrivateKey` secret; also used for the bastion.
 */
export function sshConnection(ssh: SshConfig, host: string, privateKey: pulumi.Input<string>): pulumi.Output<Connection> {
  return pulumi.secret(
    pulumi.output(privateKey).apply((key): Connection => ({
      host,
      port: ssh.port,
      user: ssh.user,
      privateKey: key,
      dialErrorLimit: ssh.dialErrorLimit,
      perDialTimeout: ssh.perDialTimeoutSeconds,
      ...(ssh.bastion
        ? { proxy: { host: ssh.bastion.host, port: ssh.bastion.port, user: ssh.bastion.user, privateKey: key, dialErrorLimit: ssh.dialErrorLimit, perDialTimeout: ssh.perDialTimeoutSeconds } }
        : {}),
    })),
  );
}
