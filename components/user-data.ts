/**
 * The user data of a blue-green pool's EC2 instances: a bash script that cloud-init runs once as
 * root at first boot, which installs the node's packages at exactly one Kubernetes version and joins
 * the cluster with a bootstrap token (node-scripts/join-node.sh).
 *
 * The join parameters come from `kubeadm token create --print-join-command` (join-command.sh) and
 * are secrets: the token lets anyone who holds it join a node to the cluster until it expires.
 * Nothing here ever puts the token or CA hash in an error message.
 * Sources: https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-join/ ,
 * https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/#kubeadm-k8s-io-v1beta4-JoinConfiguration
 */
import { isIPv6 } from "node:net";
import { shellQuote } from "../planning/commands";
import { scriptText } from "./node-scripts";
import type { KubeVersion } from "../planning/versions";

/** What a worker needs to join: all three are validated by {@link parseJoinCommand}. */
export interface JoinParameters {
  /** The API server endpoint `host:port` (IPv4, `[IPv6]` or a DNS name; port 1..65535), e.g. `10.0.0.10:6443`. */
  readonly endpoint: string;
  /** The bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}`. Secret. */
  readonly token: string;
  /** The cluster CA's public key hash `sha256:<64 lowercase hex>`. */
  readonly caCertHash: string;
}

const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;
const CA_CERT_HASH = /^sha256:[a-f0-9]{64}$/;
const OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i;
const PORT = /^[1-9][0-9]{0,4}$/;

/** Whether `host` is an IPv4 address, a bracketed IPv6 address or a DNS name (labels of 1..63, at most 253). */
function isHost(host: string): boolean {
  if (host.startsWith("[") && host.endsWith("]")) return isIPv6(host.slice(1, -1));
  if (IPV4.test(host)) return true;
  // A name made of digits and dots only is a malformed IPv4 address, not a DNS name.
  if (/^[0-9.]+$/.test(host)) return false;
  return host.length <= 253 && host.split(".").every((label) => DNS_LABEL.test(label));
}

/** Whether `endpoint` is `host:port` with a valid host and a port in 1..65535. */
export function isEndpoint(endpoint: string): boolean {
  const colon = endpoint.lastIndexOf(":");
  if (colon <= 0) return false;
  const host = endpoint.slice(0, colon);
  const port = endpoint.slice(colon + 1);
  return isHost(host) && PORT.test(port) && Number(port) <= 65535;
}

/** Error prefix; the messages name what is wrong, never the values (they are secrets). */
const PREFIX = "the join command printed by `kubeadm token create --print-join-command`";

/**
 * Checks the three join parameters.
 * @throws Error naming the first bad parameter; the message never contains the token or hash.
 */
export function validateJoinParameters(p: JoinParameters): JoinParameters {
  if (typeof p.endpoint !== "string" || !isEndpoint(p.endpoint)) {
    throw new Error("join parameters: the API server endpoint is not host:port (IPv4, [IPv6] or a DNS name; port 1-65535)");
  }
  if (typeof p.token !== "string" || !TOKEN.test(p.token)) {
    throw new Error("join parameters: the bootstrap token does not look like [a-z0-9]{6}.[a-z0-9]{16} (value not shown: it is a secret)");
  }
  if (typeof p.caCertHash !== "string" || !CA_CERT_HASH.test(p.caCertHash)) {
    throw new Error("join parameters: the CA certificate hash does not look like sha256:<64 hex digits> (value not shown)");
  }
  return p;
}

/**
 * Parses `kubeadm join <endpoint> --token <t> --discovery-token-ca-cert-hash sha256:<h>` (one line;
 * surrounding white space ignored; the two flags in either order, each exactly once, no other flag:
 * a `--control-plane` join command is refused, since pool nodes are workers).
 * @param stdout the standard output of join-command.sh.
 * @returns the three parameters, validated as {@link validateJoinParameters} does.
 * @throws Error whose message never contains the token or hash (nor any other part of `stdout`).
 */
export function parseJoinCommand(stdout: string): JoinParameters {
  if (typeof stdout !== "string") throw new Error(`${PREFIX} is not text`);
  const text = stdout.trim();
  if (text === "") throw new Error(`${PREFIX} is empty`);
  if (/[\r\n]/.test(text)) throw new Error(`${PREFIX} is more than one line (output not shown: it holds a secret)`);
  const words = text.split(/[ \t]+/);
  if (words[0] !== "kubeadm" || words[1] !== "join" || words.length !== 7) {
    throw new Error(
      `${PREFIX} is not \`kubeadm join <host:port> --token <token> --discovery-token-ca-cert-hash sha256:<hash>\` (output not shown: it holds a secret)`,
    );
  }
  const flags = new Map<string, string>();
  for (let i = 3; i < words.length; i += 2) {
    const flag = words[i]!;
    if (flag !== "--token" && flag !== "--discovery-token-ca-cert-hash") {
      throw new Error(`${PREFIX} has an unexpected word where --token or --discovery-token-ca-cert-hash belongs (output not shown)`);
    }
    if (flags.has(flag)) throw new Error(`${PREFIX} has ${flag} twice (output not shown)`);
    flags.set(flag, words[i + 1]!);
  }
  try {
    return validateJoinParameters({
      endpoint: words[2]!,
      token: flags.get("--token") ?? "",
      caCertHash: flags.get("--discovery-token-ca-cert-hash") ?? "",
    });
  } catch (e) {
    throw new Error(`${PREFIX} is not usable: ${(e as Error).message.replace(/^join parameters: /, "")}`);
  }
}

/** EC2's limit on user data, in bytes before base64 encoding. Source: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html */
export const USER_DATA_MAX_BYTES = 16 * 1024;

let body: string | undefined;

/**
 * node-scripts/join-node.sh as the node scripts are sent (its shared functions in place: apt that
 * waits for the boot's own apt runs), without its `#!` line, read once.
 * @throws Error when the file or a library it includes is missing.
 */
function joinNodeBody(): string {
  if (body === undefined) body = scriptText("join-node.sh").replace(/^#!.*\n/, "");
  return body;
}

/**
 * The instance user data (a bash script for cloud-init), joining at exactly `version`:
 * `#!/bin/bash`, then single-quoted assignments of the validated parameters (KUBE_VERSION `1.37.1`,
 * KUBE_MINOR `1.37`, API_ENDPOINT, JOIN_TOKEN, CA_CERT_HASH; not exported), then the body of
 * node-scripts/join-node.sh. The result holds the token: treat it as a secret.
 * @throws Error (without the secret values) when a join parameter is invalid; Error when the result
 *   is over {@link USER_DATA_MAX_BYTES}.
 */
export function renderUserData(args: { readonly version: KubeVersion; readonly join: JoinParameters }): string {
  const p = validateJoinParameters(args.join);
  const version = args.version.toString();
  if (!/^[0-9]+\.[0-9]+\.[0-9]+$/.test(version)) throw new Error(`not a full Kubernetes version: ${version}`);
  const assignments: [string, string][] = [
    ["KUBE_VERSION", version],
    ["KUBE_MINOR", args.version.minorLine],
    ["API_ENDPOINT", p.endpoint],
    ["JOIN_TOKEN", p.token],
    ["CA_CERT_HASH", p.caCertHash],
  ];
  const preamble = assignments.map(([name, value]) => `${name}=${shellQuote(value)}`).join("\n");
  const text = `#!/bin/bash\n# cluster-maintenance: user data of a pool node (node-scripts/join-node.sh); holds a secret.\n${preamble}\n${joinNodeBody()}`;
  if (Buffer.byteLength(text, "utf8") > USER_DATA_MAX_BYTES) {
    throw new Error(`the rendered user data is over EC2's ${USER_DATA_MAX_BYTES} bytes (node-scripts/join-node.sh grew too long)`);
  }
  return text;
}
