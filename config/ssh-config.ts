/**
 * How the remote commands reach the nodes: the `ssh` config key (user, port, bastion, dial
 * limits) and the SSH host keys that nodes and bastion are checked against. The private key
 * is the Pulumi secret `sshPrivateKey`, read apart (declared `secret: true` in Pulumi.yaml).
 */
import { FieldReader, USER } from "./fields";
import { hostProblem } from "./values";

/** SSH settings for the remote commands. */
export interface SshConfig {
  readonly user: string;
  readonly port: number;
  /** Jump host (`remote.Command` `connection.proxy`), with its host key unless {@link insecureIgnoreHostKey}. */
  readonly bastion?: { readonly host: string; readonly user: string; readonly port: number; readonly hostKey?: string };
  /** Failed dials before giving up; high enough to ride out a reboot. @default 40 */
  readonly dialErrorLimit: number;
  /** Seconds per dial attempt. @default 15 */
  readonly perDialTimeoutSeconds: number;
  /**
   * Nodes and bastion without a `hostKey` are reached accepting any host key (the plan warns).
   * Off, a missing `hostKey` is refused. @default false
   */
  readonly insecureIgnoreHostKey: boolean;
}

/** How one node or the bastion is reached: its address and the host key it must present. */
export interface SshTarget {
  readonly host: string;
  /** `<type> <base64>`; absent only with `ssh.insecureIgnoreHostKey: true`. */
  readonly hostKey?: string;
}

/**
 * Host key types accepted in `hostKey`. @pulumi/command 1.2 checks `connection.hostKey` in
 * provider/pkg/provider/remote/connection.go, `(*connectionBase).SSHConfig`: the value is read
 * with x/crypto's `ssh.ParseAuthorizedKey` (an authorized_keys line: `<type> <base64>
 * [comment]`, the declared type equal to the one inside the base64 blob), the connection
 * accepts only that key (`ssh.FixedHostKey`) and offers only `publicKey.Type()` as host key
 * algorithm. For an RSA key that is `ssh-rsa` (SHA-1 signatures), which OpenSSH 8.8 and later
 * no longer offer ("no matching host key type"), so RSA keys are refused here: every OpenSSH
 * since 6.5 also has an ed25519 host key. Without `hostKey` the provider accepts any host key
 * (`ssh.InsecureIgnoreHostKey`).
 */
export const HOST_KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"] as const;

/** Encoded key sizes inside the blob: ed25519 public key, ECDSA uncompressed point per curve. */
const KEY_BYTES: Readonly<Record<(typeof HOST_KEY_TYPES)[number], number>> = {
  "ssh-ed25519": 32,
  "ecdsa-sha2-nistp256": 65,
  "ecdsa-sha2-nistp384": 97,
  "ecdsa-sha2-nistp521": 133,
};
const RSA_TYPES = ["ssh-rsa", "rsa-sha2-256", "rsa-sha2-512", "ssh-dss"];
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** A comment after the key (as in `/etc/ssh/ssh_host_ed25519_key.pub`): printable, dropped. */
const COMMENT = /^[\x21-\x7e][\x20-\x7e]{0,199}$/;

/** A long value shown cut in errors: the start of a key says enough. */
function shown(value: unknown): unknown {
  return typeof value === "string" && value.length > 48 ? `${value.slice(0, 40)}...(${value.length} chars)` : value;
}

/** The `ssh-keyscan` command that prints a host's ed25519 key. */
function keyscan(host: string | undefined, port: number): string {
  return `ssh-keyscan -t ed25519${port === 22 ? "" : ` -p ${port}`} ${host ?? "<host>"}`;
}

/** Reads a length-prefixed string of an SSH wire-format blob at `at`; undefined past the end. */
function wireString(blob: Buffer, at: number): { bytes: Buffer; next: number } | undefined {
  if (at + 4 > blob.length) return undefined;
  const len = blob.readUInt32BE(at);
  if (at + 4 + len > blob.length) return undefined;
  return { bytes: blob.subarray(at + 4, at + 4 + len), next: at + 4 + len };
}

/** True when `b64` is the canonical encoding of a `type` public key blob of the right size. */
function validBlob(type: (typeof HOST_KEY_TYPES)[number], b64: string): boolean {
  const blob = Buffer.from(b64, "base64");
  if (blob.toString("base64") !== b64) return false;
  const name = wireString(blob, 0);
  if (!name || name.bytes.toString("latin1") !== type) return false;
  let at = name.next;
  if (type !== "ssh-ed25519") {
    const curve = wireString(blob, at);
    if (!curve || curve.bytes.toString("latin1") !== type.slice("ecdsa-sha2-".length)) return false;
    at = curve.next;
  }
  const key = wireString(blob, at);
  return key !== undefined && key.next === blob.length && key.bytes.length === KEY_BYTES[type] && (type === "ssh-ed25519" || key.bytes[0] === 4);
}

/**
 * Reads one `hostKey`: an OpenSSH public host key, `<type> <base64>` (a trailing comment is
 * dropped), type one of {@link HOST_KEY_TYPES}. Absent: refused, unless `insecure`.
 * @param host the address the key belongs to, for the `ssh-keyscan` fix.
 * @returns `<type> <base64>`, or undefined (absent, or a problem recorded).
 */
export function parseHostKey(r: FieldReader, value: unknown, key: string, host: string | undefined, port: number, insecure: boolean): string | undefined {
  const scan = keyscan(host, port);
  const example = `take the key part of \`${scan}\` (the line without the host name), e.g. hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI..."`;
  if (value === undefined) {
    if (!insecure) {
      r.problems.add(key, undefined, "is required: without it any host key is accepted, and a machine answering at this address would get the commands and their secrets",
        `${example}; or set ssh.insecureIgnoreHostKey: true to accept any host key (not recommended)`);
    }
    return undefined;
  }
  const fields = typeof value === "string" ? value.trim().split(/[ \t]+/) : [];
  const [type = "", b64 = "", ...rest] = fields;
  const known = (HOST_KEY_TYPES as readonly string[]).includes(type);
  if (typeof value !== "string" || fields.length < 2) {
    r.problems.add(key, shown(value), "is not an OpenSSH public host key (`<type> <base64>`)", example);
  } else if (!known && !RSA_TYPES.includes(type) && [...HOST_KEY_TYPES, ...RSA_TYPES].includes(b64)) {
    r.problems.add(key, shown(value), "starts with a host name (a known_hosts or ssh-keyscan line)", `drop the leading ${JSON.stringify(type)}: give only "${b64} <base64>"`);
  } else if (RSA_TYPES.includes(type)) {
    r.problems.add(key, shown(value), "is an RSA (or DSA) host key, which @pulumi/command checks only with the SHA-1 ssh-rsa algorithm that OpenSSH 8.8 and later refuse",
      `give the host's ed25519 key instead: ${example}`);
  } else if (!known) {
    r.problems.add(key, shown(value), `has the unknown key type ${JSON.stringify(type)}`, `use one of ${HOST_KEY_TYPES.join(", ")}: ${example}`);
  } else if (!BASE64.test(b64) || !validBlob(type as (typeof HOST_KEY_TYPES)[number], b64)) {
    r.problems.add(key, shown(value), `is not a whole ${type} key (the base64 part is cut, damaged or of another type)`, `copy it again: ${example}`);
  } else if (rest.length > 0 && !COMMENT.test(rest.join(" "))) {
    r.problems.add(key, shown(value), "has a comment with unprintable characters after the key", `give only "${type} ${b64.slice(0, 12)}..."`);
  } else {
    return `${type} ${b64}`;
  }
  return undefined;
}

/** Reads the `ssh` key; every field optional. A bastion needs its hostKey unless insecureIgnoreHostKey. */
export function parseSsh(r: FieldReader, value: unknown): SshConfig | undefined {
  const s = value === undefined ? {} : r.object(value, "ssh", '{ user: "ubuntu", port: 22 }');
  if (!s) return undefined;
  r.noUnknownKeys(s, "ssh", ["user", "port", "bastion", "dialErrorLimit", "perDialTimeoutSeconds", "insecureIgnoreHostKey"]);
  const user = r.string(s.user ?? "ubuntu", "ssh.user", USER, "a user name (lowercase letters, digits, '_', '-')");
  const port = r.integer(s.port, "ssh.port", 1, 65535, 22);
  const dialErrorLimit = r.integer(s.dialErrorLimit, "ssh.dialErrorLimit", 1, 1000, 40);
  const perDialTimeoutSeconds = r.integer(s.perDialTimeoutSeconds, "ssh.perDialTimeoutSeconds", 1, 300, 15);
  let insecureIgnoreHostKey: boolean | undefined = false;
  if (s.insecureIgnoreHostKey !== undefined && typeof s.insecureIgnoreHostKey !== "boolean") {
    r.problems.add("ssh.insecureIgnoreHostKey", s.insecureIgnoreHostKey, "is not true or false", "write true (accept any host key where hostKey is missing; not recommended) or leave it out");
    insecureIgnoreHostKey = undefined;
  } else {
    insecureIgnoreHostKey = s.insecureIgnoreHostKey === true;
  }
  let bastion: SshConfig["bastion"];
  if (s.bastion !== undefined) {
    const b = r.object(s.bastion, "ssh.bastion", '{ host: "bastion.example.com", user: "ubuntu", port: 22, hostKey: "ssh-ed25519 AAAA..." }');
    if (b) {
      r.noUnknownKeys(b, "ssh.bastion", ["host", "user", "port", "hostKey"]);
      const host = r.checked(b.host, "ssh.bastion.host", hostProblem, "a host name or IP address", "a host name or IP address, without a port (that is ssh.bastion.port)");
      const bUser = r.string(b.user ?? user, "ssh.bastion.user", USER, "a user name");
      const bPort = r.integer(b.port, "ssh.bastion.port", 1, 65535, 22);
      const hostKey = parseHostKey(r, b.hostKey, "ssh.bastion.hostKey", host, bPort ?? 22, insecureIgnoreHostKey !== false);
      if (host && bUser && bPort) bastion = { host, user: bUser, port: bPort, ...(hostKey ? { hostKey } : {}) };
    }
  }
  if (!user || !port || !dialErrorLimit || !perDialTimeoutSeconds || insecureIgnoreHostKey === undefined) return undefined;
  return { user, port, dialErrorLimit, perDialTimeoutSeconds, insecureIgnoreHostKey, ...(bastion ? { bastion } : {}) };
}
