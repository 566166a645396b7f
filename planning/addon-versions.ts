/**
 * etcd and CoreDNS in `kubeadm upgrade plan`'s words: the versions the cluster runs (read by
 * discovery, {@link ClusterAddons}) and the versions kubeadm of a minor installs
 * (planning/data/kubeadm-addons.json, read from kubeadm's cmd/kubeadm/app/constants/constants.go:
 * `SupportedEtcdVersion` and `CoreDNSVersion`). kubeadm upgrades both itself during
 * `kubeadm upgrade apply` (CoreDNS, and etcd on that node) and `kubeadm upgrade node` (etcd on
 * that node): https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-upgrade/
 */
import embedded from "./data/kubeadm-addons.json";

/** What the cluster runs, as discovery read it (discovery/live-cluster.ts clusterAddons). */
export interface ClusterAddons {
  /**
   * etcd's image tag (e.g. `3.5.15-0`) on each control-plane node that runs kubeadm's etcd
   * static pod, sorted by node name; empty with an external etcd (kubeadm then leaves etcd alone
   * and `kubeadm upgrade plan` prints no etcd row).
   */
  readonly etcd: readonly { readonly node: string; readonly version: string }[];
  /** The image tag of Deployment kube-system/coredns (e.g. `v1.11.3`); absent when there is none. */
  readonly coreDns?: string;
}

/** What kubeadm of one minor installs, or why it is not known. */
export interface KubeadmAddons {
  /** The minor's number (32 for 1.32). */
  readonly minor: number;
  /** etcd's image tag, e.g. `3.5.24-0`; absent when not read (then `etcdNotRead` says why). */
  readonly etcd?: string;
  readonly etcdSource?: string;
  readonly etcdNotRead?: string;
  /** CoreDNS's image tag, e.g. `v1.11.3`; absent when not read (then `coreDnsNotRead` says why). */
  readonly coreDns?: string;
  readonly coreDnsSource?: string;
  readonly coreDnsNotRead?: string;
}

/** The data file's path, for messages. */
export const ADDONS_FILE = "planning/data/kubeadm-addons.json";

/** etcd tags as kubeadm writes them (`3.5.24-0`) and CoreDNS tags (`v1.11.3`). */
const ETCD = /^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+$/;
const COREDNS = /^v[0-9]+\.[0-9]+\.[0-9]+$/;

type Entry = { readonly minor: string } & Omit<KubeadmAddons, "minor">;

/**
 * The entries of {@link ADDONS_FILE} by minor number, checked: each minor `1.N` once; each
 * value in its form with a source, each absent value with the reason it was not read.
 * @throws Error naming the entry and what is wrong (a broken data file is a bug of this program).
 */
export function parseAddonData(data: { readonly minors: readonly Entry[] }): ReadonlyMap<number, KubeadmAddons> {
  const byMinor = new Map<number, KubeadmAddons>();
  for (const [i, e] of data.minors.entries()) {
    const where = `${ADDONS_FILE} minors[${i}]`;
    const m = /^1\.([0-9]+)$/.exec(e.minor);
    if (!m) throw new Error(`${where}: minor ${JSON.stringify(e.minor)} is not 1.N`);
    const minor = Number(m[1]);
    if (byMinor.has(minor)) throw new Error(`${where}: minor ${e.minor} is listed twice`);
    check(where, "etcd", e.etcd, e.etcdSource, e.etcdNotRead, ETCD);
    check(where, "coreDns", e.coreDns, e.coreDnsSource, e.coreDnsNotRead, COREDNS);
    const { minor: _, ...rest } = e;
    byMinor.set(minor, { minor, ...rest });
  }
  return byMinor;
}

function check(where: string, what: string, value: string | undefined, source: string | undefined, notRead: string | undefined, form: RegExp): void {
  if (value === undefined) {
    if (!notRead) throw new Error(`${where}: no ${what} and no ${what}NotRead saying why`);
    return;
  }
  if (!form.test(value)) throw new Error(`${where}: ${what} ${JSON.stringify(value)} is not of the form ${form}`);
  if (!source) throw new Error(`${where}: ${what} ${value} has no ${what}Source`);
}

const ADDONS = parseAddonData(embedded);

/**
 * What kubeadm of `minor` installs ({@link ADDONS_FILE}); undefined for a minor the file does
 * not list. A listed minor may still lack a value (then its `*NotRead` says why).
 */
export function kubeadmAddons(minor: number): KubeadmAddons | undefined {
  return ADDONS.get(minor);
}

/** Every minor {@link ADDONS_FILE} lists, ascending. */
export function addonMinors(): number[] {
  return [...ADDONS.keys()].sort((a, b) => a - b);
}
