/**
 * Stack config for carrying the plan out on the nodes: drain behaviour per pool, OS patch
 * revisions, the etcd snapshot settings and the node kubectl runs on. Every value here
 * reaches a node script as an argument, so each is checked against a strict pattern.
 */
import { DEFAULT_DRAIN_TIMEOUT_SECONDS } from "../planning/actions";
import type { DrainOptions, EtcdOptions } from "../planning/commands";
import { FieldReader, RawObject } from "./fields";
import { ownedDirProblem, plainPathProblem } from "./values";

export const DEFAULT_DRAIN: DrainOptions = {
  timeoutSeconds: DEFAULT_DRAIN_TIMEOUT_SECONDS,
  deleteEmptyDirData: false,
  deleteUnmanagedPods: false,
  disableEviction: false,
};

/** kubeadm's paths. */
export const DEFAULT_ETCD: EtcdOptions = {
  endpoint: "https://127.0.0.1:2379",
  caCert: "/etc/kubernetes/pki/etcd/ca.crt",
  cert: "/etc/kubernetes/pki/etcd/server.crt",
  key: "/etc/kubernetes/pki/etcd/server.key",
  backupDir: "/var/lib/cluster-maintenance/etcd-backups",
  verify: "restore",
  keep: 5,
};

/** An etcd client URL on a host name or IPv4 address; the port 1-65535 ({@link etcdEndpointProblem}). */
export const ETCD_ENDPOINT = /^https?:\/\/[A-Za-z0-9.-]{1,253}:([0-9]{1,5})$/;

/** Why `value` is not an etcd client URL, as etcd-member.sh checks its ENDPOINT; undefined when it is one. */
export function etcdEndpointProblem(value: string): string | undefined {
  const m = ETCD_ENDPOINT.exec(value);
  if (!m) return "not http(s)://HOST:PORT";
  const port = Number(m[1]);
  return port >= 1 && port <= 65535 ? undefined : `port ${m[1]} is not 1-65535`;
}
/** An OS patch revision: any label the operator bumps to trigger patching, e.g. `2026-11`. */
export const REVISION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Reads an optional true/false at `key`. @default false */
export function flag(r: FieldReader, value: unknown, key: string): boolean | undefined {
  if (value === undefined) return false;
  if (typeof value === "boolean") return value;
  r.problems.add(key, value, "is not true or false", "write true or false, or leave it out for false");
  return undefined;
}

/** Reads `<key>.drain`; every field optional. */
export function parseDrain(r: FieldReader, value: unknown, key: string): DrainOptions | undefined {
  if (value === undefined) return DEFAULT_DRAIN;
  const d = r.object(value, key, "{ timeoutSeconds: 600, deleteEmptyDirData: false }");
  if (!d) return undefined;
  r.noUnknownKeys(d, key, ["timeoutSeconds", "deleteEmptyDirData", "deleteUnmanagedPods", "disableEviction"]);
  const timeoutSeconds = r.integer(d.timeoutSeconds, `${key}.timeoutSeconds`, 30, 86400, DEFAULT_DRAIN.timeoutSeconds);
  const deleteEmptyDirData = flag(r, d.deleteEmptyDirData, `${key}.deleteEmptyDirData`);
  const deleteUnmanagedPods = flag(r, d.deleteUnmanagedPods, `${key}.deleteUnmanagedPods`);
  const disableEviction = flag(r, d.disableEviction, `${key}.disableEviction`);
  if (timeoutSeconds === undefined || deleteEmptyDirData === undefined || deleteUnmanagedPods === undefined || disableEviction === undefined) return undefined;
  return { timeoutSeconds, deleteEmptyDirData, deleteUnmanagedPods, disableEviction };
}

/** Reads `<key>.osPatchRevision` (optional). */
export function parseRevision(r: FieldReader, value: unknown, key: string): string | undefined {
  if (value === undefined) return undefined;
  return r.string(value, key, REVISION, 'a revision label such as "2026-11" (letters, digits, ".", "_", "-")');
}

/** Reads `etcd`; every field optional, kubeadm's defaults otherwise. */
export function parseEtcd(r: FieldReader, value: unknown): EtcdOptions | undefined {
  if (value === undefined) return DEFAULT_ETCD;
  const e: RawObject | undefined = r.object(value, "etcd", '{ endpoint: "https://127.0.0.1:2379", backupDir: "/var/lib/cluster-maintenance/etcd-backups" }');
  if (!e) return undefined;
  r.noUnknownKeys(e, "etcd", Object.keys(DEFAULT_ETCD));
  const endpoint = r.checked(e.endpoint ?? DEFAULT_ETCD.endpoint, "etcd.endpoint", etcdEndpointProblem, "an etcd client URL", "an etcd client URL such as https://127.0.0.1:2379 (a port from 1 to 65535)");
  const [caCert, cert, key] = (["caCert", "cert", "key"] as const).map((k) =>
    r.checked(e[k] ?? DEFAULT_ETCD[k], `etcd.${k}`, plainPathProblem, "an absolute path", "an absolute path of letters, digits, '.', '_', '-' with single '/' between its parts and no '.' or '..' part"),
  );
  const backupDir = r.checked(e.backupDir ?? DEFAULT_ETCD.backupDir, "etcd.backupDir", ownedDirProblem, "an absolute path of a directory of this program's own", "a directory of this program's own, such as /var/lib/cluster-maintenance/etcd-backups (README.md, Configuration reference: etcd.backupDir)");
  const verify = r.choice(e.verify, "etcd.verify", ["restore", "status"] as const, DEFAULT_ETCD.verify);
  const keep = r.integer(e.keep, "etcd.keep", 1, 1000, DEFAULT_ETCD.keep);
  if (!endpoint || !caCert || !cert || !key || !backupDir || !verify || !keep) return undefined;
  return { endpoint, caCert, cert, key, backupDir, verify, keep };
}
