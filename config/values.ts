/**
 * One check per type of value that reaches a node script, AWS or the Kubernetes API, so that
 * config is refused when it is parsed and never half way through an update. Each returns what
 * is wrong with a string, or undefined when it is good. The node scripts check the same values
 * with the bash mirrors in node-scripts/lib/ (paths.sh, s3.sh), and test/value-checks.test.ts
 * feeds every value to both.
 */
import { isIPv6 } from "node:net";

/** A path component: letters, digits, '.', '_', '-' (never "." or ".."). */
const COMPONENT = /^[A-Za-z0-9._-]+$/;
const PATH_MAX = 255;

/**
 * A plain absolute path: "/"-separated components of letters, digits, '.', '_', '-', none of
 * them "." or "..", no empty component (no "//", no trailing "/"), at most 255 characters.
 * Mirror: `plain_path` in node-scripts/lib/paths.sh.
 */
export function plainPathProblem(value: string): string | undefined {
  if (value.length > PATH_MAX) return `has more than ${PATH_MAX} characters`;
  if (!value.startsWith("/") || value === "/") return "does not start with '/' and a name";
  const parts = value.slice(1).split("/");
  if (parts.some((p) => !COMPONENT.test(p))) return "has a character other than letters, digits, '.', '_', '-', or an empty part: '//' or a trailing '/'";
  if (parts.some((p) => p === "." || p === "..")) return "has a '.' or '..' part";
  return undefined;
}

/**
 * Trees a directory of this program's may never be, nor be inside: the OS and its packages
 * (`/lib*` is every top-level directory whose name starts with "lib": lib, lib32, lib64, libx32),
 * Kubernetes, etcd and the container runtime, and world-writable or boot-cleared places.
 * Mirror: the `case` in `owned_dir`, node-scripts/lib/paths.sh.
 */
export const SYSTEM_TREES = [
  "/bin", "/boot", "/dev", "/etc", "/lib*", "/proc", "/root", "/run", "/sbin", "/snap", "/sys", "/usr",
  "/var/cache", "/var/lock", "/var/run", "/var/tmp", "/tmp",
  "/var/lib/apt", "/var/lib/dpkg", "/var/lib/systemd",
  "/var/lib/etcd", "/var/lib/kubelet", "/var/lib/containerd", "/var/lib/docker", "/var/lib/cni", "/opt/cni",
  "/var/log/pods", "/var/log/containers",
] as const;

/** Parents whose direct children are the system's or a user's: a directory of ours is never one of those children. */
export const SHARED_PARENTS = ["/var", "/home"] as const;

function inTree(path: string, tree: string): boolean {
  if (tree.endsWith("*")) return path.slice(1).split("/")[0]!.startsWith(tree.slice(1, -1));
  return path === tree || path.startsWith(`${tree}/`);
}

/**
 * A directory this program creates and owns (etcd.backupDir, backup.exportDir): a plain
 * absolute path ({@link plainPathProblem}) at least two levels deep (never `/`, `/tmp`,
 * `/srv`), not one of the {@link SYSTEM_TREES} nor inside one, and not a direct child of a
 * {@link SHARED_PARENTS} (`/var/lib`, `/var/backups`, `/home/ubuntu`). Inside such a child
 * is fine: `/var/lib/cluster-maintenance/etcd-backups`.
 * Mirror: `owned_dir` in node-scripts/lib/paths.sh.
 */
export function ownedDirProblem(value: string): string | undefined {
  const plain = plainPathProblem(value);
  if (plain) return plain;
  if (!value.slice(1).includes("/")) return "is a top-level directory: one at least two levels deep is needed";
  const tree = SYSTEM_TREES.find((t) => inTree(value, t));
  if (tree) return `is ${value === tree ? "" : "inside "}the system directory ${tree}`;
  const parent = SHARED_PARENTS.find((p) => value.lastIndexOf("/") === p.length && value.startsWith(`${p}/`));
  if (parent) return `is a directory of the system or of a user: a direct child of ${parent}`;
  return undefined;
}

/**
 * An S3 general purpose bucket name. Source:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 * Mirror: `s3_bucket` in node-scripts/lib/s3.sh.
 */
export function bucketProblem(value: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value)) return "has a character other than lowercase letters, digits, '.', '-', a length outside 3-63, or no letter or digit at an end";
  if (value.includes("..")) return "has two adjacent periods";
  if (/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(value)) return "is formatted as an IP address";
  const prefix = ["xn--", "sthree-", "amzn-s3-demo-"].find((p) => value.startsWith(p));
  if (prefix) return `starts with the reserved prefix ${prefix}`;
  const suffix = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"].find((s) => value.endsWith(s));
  if (suffix) return `ends with the reserved suffix ${suffix}`;
  return undefined;
}

/**
 * An S3 key prefix: empty, or parts of letters, digits, '.', '_', '-', each ending in "/",
 * none "." or "..", at most 256 characters. Mirror: `s3_prefix` in node-scripts/lib/s3.sh.
 */
export function prefixProblem(value: string): string | undefined {
  if (value.length > 256) return "has more than 256 characters";
  if (!/^([A-Za-z0-9._-]+\/)*$/.test(value)) return 'has a part that is not letters, digits, \'.\', \'_\', \'-\' ending in "/"';
  if (value.split("/").some((p) => p === "." || p === "..")) return "has a '.' or '..' part";
  return undefined;
}

/** An AWS region name such as eu-west-1 or us-gov-west-1. Mirror: `aws_region` in node-scripts/lib/s3.sh. */
export function regionProblem(value: string): string | undefined {
  return /^[a-z]{2}(-[a-z]{1,16}){1,3}-[0-9]{1,2}$/.test(value) ? undefined : "does not have the form of eu-west-1 or us-gov-west-1";
}

/**
 * The fields of a Kubernetes CronJob schedule, as the API server's validation parses them
 * (github.com/robfig/cron/v3 `ParseStandard`): minute, hour, day of month, month, day of week.
 * Source: https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#schedule-syntax
 */
const CRON_FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
  { name: "day of week", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
] as const;
const CRON_MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/**
 * A CronJob schedule: 5 fields (lists of `*`, `?`, `N`, `N-M`, each with an optional `/STEP`;
 * months and weekdays also by their three-letter names), each number in its field's range, or
 * one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly.
 */
export function cronProblem(value: string): string | undefined {
  if (CRON_MACROS.includes(value.trim())) return undefined;
  const fields = value.trim().split(/\s+/);
  if (value.length > 200) return "has more than 200 characters";
  if (fields.length !== 5) return `has ${fields.length} fields, not 5 (minute hour day-of-month month day-of-week), and is not a macro such as @daily`;
  for (const [i, text] of fields.entries()) {
    const f = CRON_FIELDS[i]!;
    const num = (s: string): number | undefined => {
      if (/^[0-9]{1,2}$/.test(s)) return Number(s);
      const at = "names" in f ? (f.names as readonly string[]).indexOf(s.toLowerCase()) : -1;
      return at < 0 ? undefined : at + f.min;
    };
    for (const range of text.split(",")) {
      const m = /^(\*|\?|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/([0-9]{1,2}))?$/.exec(range);
      if (!m) return `has the ${f.name} ${JSON.stringify(text)}, not a list of *, N, N-M, each with an optional /STEP`;
      if (m[2] !== undefined && Number(m[2]) === 0) return `has the ${f.name} step 0 in ${JSON.stringify(text)}`;
      if (m[1] === "*" || m[1] === "?") continue;
      const [lo, hi] = m[1]!.split("-").map(num);
      const bad = [lo, hi].some((n) => n !== undefined && (n < f.min || n > f.max)) || lo === undefined || (m[1]!.includes("-") && hi === undefined);
      if (bad) return `has the ${f.name} ${JSON.stringify(text)} out of its range ${f.min}-${f.max}`;
      if (hi !== undefined && hi < lo!) return `has the ${f.name} range ${JSON.stringify(range)} beginning after its end`;
    }
  }
  return undefined;
}

/**
 * A host the SSH connection dials: an IPv4 address (dotted decimal, each part 0-255), an IPv6
 * address (no brackets, no zone, no port), or a DNS name (labels of letters, digits, '-', at
 * most 63 each and 253 in all, the last one not all digits). Never with a port: that is
 * `ssh.port` / `ssh.bastion.port`.
 */
export function hostProblem(value: string): string | undefined {
  if (value.length > 253) return "has more than 253 characters";
  if (value.includes(":")) {
    if (/^[0-9A-Fa-f:.]+$/.test(value) && isIPv6(value)) return undefined;
    return "has a ':' but is not an IPv6 address; a port is given apart";
  }
  if (/^[0-9.]+$/.test(value)) {
    const parts = value.split(".");
    return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255) ? undefined : "is digits and dots but not an IPv4 address: four numbers from 0 to 255";
  }
  const labels = value.split(".");
  if (labels.some((l) => !/^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$/.test(l))) return "has a label that is not letters, digits, '-' (at most 63, '.' between labels)";
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return "ends in an all-digit label: neither a host name nor an IPv4 address";
  return undefined;
}

/**
 * Secrets in a resource export: `exclude`, or `encrypt:` and the plain absolute path
 * ({@link plainPathProblem}) of a PEM recipient certificate.
 */
export function exportSecretsProblem(value: string): string | undefined {
  if (value === "exclude") return undefined;
  if (!value.startsWith("encrypt:")) return "is neither exclude nor encrypt:<path>";
  const problem = plainPathProblem(value.slice("encrypt:".length));
  return problem === undefined ? undefined : `has a recipient certificate path that ${problem}`;
}

/** A custom resource API group: a DNS subdomain with at least one dot (never the core group ""). */
export const API_GROUP = /^(?=.{3,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;
