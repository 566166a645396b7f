/**
 * Simulated node kit: a lab directory of simulated kubeadm nodes whose kubeadm, kubelet,
 * apt-get, apt-mark, dpkg-query, systemctl, systemd-run, curl (with an IMDSv2), gpg, sudo (and
 * hostname, hostnamectl, swapoff, modprobe, sysctl, containerd, reboot, shutdown, a logging etcdctl)
 * are the stand-ins in test/lab/standins/, and whose kubectl is the real one (test/lab/recorded/kubectl
 * records each call) talking to the lab's Kubernetes API double (test/lab/lab-api.ts, one process
 * per lab, backed by the simulated nodes), plus helpers to run a node script the way the Pulumi
 * component does (the sudo-bash-c wrapper, the script on stdin), to boot a new EC2-like node from
 * user data ({@link Lab.bootNode}) and to read what happened. The state layout and the call log are
 * described at the top of test/lab/standins/lib/standin.bash; joining at test/lab/standins/kubeadm.
 */
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scriptText } from "../../components/node-scripts";
import { shellQuote, WRAPPER } from "../../planning/commands";
import { startLabApi } from "./lab-api";
import type { StorageSpec } from "./kube-api/snapshots";

export { LAB_API_TYPES, LAB_EXPORTED_FILES, LAB_SECRET_MARKERS } from "./lab-api";

/** Directory of the stand-in executables (put first on a lab node's PATH). */
export const STANDINS_DIR = path.resolve(__dirname, "standins");
/** Directory of the real tools whose calls the lab records (kubectl), second on a lab node's PATH. */
export const RECORDED_DIR = path.resolve(__dirname, "recorded");
/** Directory of the node scripts. */
export const NODE_SCRIPTS_DIR = path.resolve(__dirname, "..", "..", "node-scripts");
/** The repository line of a minor (e.g. "1.35"), as switch-repository.sh writes it. */
export function repositoryLine(minor: string): string {
  return `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v${minor}/deb/ /`;
}
const KUBE_PACKAGES = ["kubeadm", "kubelet", "kubectl"] as const;

export interface LabPod {
  readonly name: string;
  readonly namespace: string;
  /** The controller; undefined: a pod without a controller. */
  readonly owner?: "ReplicaSet" | "DaemonSet" | "StatefulSet";
  readonly emptyDir?: boolean;
  /** Covered by a PodDisruptionBudget that allows no disruption (test/lab/lab-api.ts): eviction is refused (429). */
  readonly pdbBlocked?: boolean;
  /** A static pod's mirror (annotation kubernetes.io/config.mirror): drain ignores it. */
  readonly mirror?: boolean;
}

export interface LabNodeSpec {
  readonly name: string;
  readonly role: "control-plane" | "worker";
  /** Kubernetes version "X.Y.Z" of its packages, kubelet and (control plane) apiserver. */
  readonly version: string;
  readonly pods?: readonly LabPod[];
  /** The Node's labels beyond the kubelet's and kubeadm's own, e.g. { pool: "general" } (cluster/nodes/<name>/labels). */
  readonly labels?: Readonly<Record<string, string>>;
  /** OS packages waiting for `apt-get upgrade` (default 2). */
  readonly osUpdates?: number;
  /** `apt-get upgrade` leaves /var/run/reboot-required (default false). */
  readonly rebootAfterOsUpgrade?: boolean;
  /**
   * `kubelet --version` prints the installed package's version, as the real binary does, instead
   * of the running kubelet's (default false).
   */
  readonly kubeletVersionFromPackage?: boolean;
}

export interface LabOptions {
  readonly nodes: readonly LabNodeSpec[];
  /** Delay of a systemd-run timer in the lab, seconds (default 1; real: its --on-active). */
  readonly timerSeconds?: number;
  /** How long a simulated reboot keeps the kubelet down, seconds (default 1). */
  readonly bootSeconds?: number;
  /**
   * The lab's API serves, as a kubelet creates them, a mirror pod for each static pod manifest of
   * a node (kube-system/<component>-<node>, the manifest's image), which the program's discovery
   * reads for a control-plane node's versions (kube-api/lab-state.ts staticPodMirrors). Default
   * false: the pods are exactly each node spec's `pods`, as the lab's earlier runs expect.
   */
  readonly mirrorStaticPods?: boolean;
  /**
   * PersistentVolumeClaims and their PVs (CSI, hostPath, local), VolumeSnapshotClasses and the
   * external-snapshotter CRDs the lab's API serves, with its simulated snapshot controller
   * (kube-api/snapshots.ts). Default: none.
   */
  readonly storage?: StorageSpec;
}

export interface LabCall {
  readonly ms: number;
  readonly node: string;
  readonly command: string;
  readonly args: string[];
}

export interface NodeState {
  readonly role: "control-plane" | "worker";
  /** Installed Debian versions, e.g. { kubeadm: "1.34.6-1.1" }. */
  readonly packages: Record<string, string>;
  readonly held: string[];
  /** Content of /etc/apt/sources.list.d/kubernetes.list without the final newline, or null. */
  readonly repoLine: string | null;
  readonly keyringPresent: boolean;
  /** Minor ("1.35") of the pkgs.k8s.io index apt last fetched, or null. */
  readonly aptIndexMinor: string | null;
  /** Version ("1.35.9") of the running kubelet. */
  readonly kubeletRunning: string;
  readonly kubeletActive: boolean;
  /** Image tag of the kube-apiserver manifest ("v1.35.9"); null on a worker. */
  readonly apiserverTag: string | null;
  /** Image tag of each static pod manifest in etc/kubernetes/manifests ({ etcd: "3.6.5-0", "kube-scheduler": "v1.35.9", ... }). */
  readonly staticPods: Record<string, string>;
  /** Version of the kubeadm that last managed the node. */
  readonly kubeadmVersion: string;
  readonly cordoned: boolean;
  readonly annotations: Record<string, string>;
  /** "namespace/name" of the pods on the node. */
  readonly pods: string[];
  readonly bootId: string;
  readonly rebootRequired: boolean;
  /** Files in /var/lib/cluster-maintenance. */
  readonly markers: string[];
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Kill the script (its process group) after this long; default 120 s. */
  readonly timeoutMs?: number;
  /** Directories put on PATH after the stand-ins (e.g. a fake etcdutl). */
  readonly extraPath?: readonly string[];
}

/** The lab cluster's API server endpoint (cluster/endpoint), printed in its join commands. */
export const LAB_API_ENDPOINT = "10.0.0.10:6443";

export interface BootOptions {
  /**
   * The instance tag `Name` the node's metadata service serves (meta-data/tags/instance/Name);
   * default: the node's name; null: no such tag (404, as with instance tags not enabled).
   */
  readonly nameTag?: string | null;
  /**
   * The node joins but never becomes Ready: its Ready condition is False with this reason and
   * message (nodes/<name>/not-ready "REASON MESSAGE", read by the lab's API double), e.g.
   * "KubeletNotReady container runtime network not ready: NetworkReady=false". Default: Ready.
   */
  readonly notReady?: string;
  /** Substrings as for {@link Lab.injectFailure}: every stand-in call of the booting node that contains one fails. */
  readonly failures?: readonly string[];
  /** Kill the boot after this long; default 120 s. */
  readonly timeoutMs?: number;
}

export interface Lab {
  /** CM_LAB_DIR. */
  readonly dir: string;
  /** A kubeconfig file for the lab's API double (what each control-plane node's admin.conf holds). */
  readonly kubeconfigPath: string;
  readonly nodes: readonly LabNodeSpec[];
  /** Entries of calls.log, in file order. */
  calls(): LabCall[];
  /** The node's package, kubelet, apiserver and cluster state. */
  nodeState(name: string): NodeState;
  /** The version `kubeadm upgrade apply` last set (initially the first control plane's). */
  clusterVersion(): string;
  /** Every later stand-in call on `node` whose "<command> <args...>" contains `substring` fails. */
  injectFailure(node: string, substring: string): void;
  clearFailures(): void;
  /** Marks a node unschedulable the way an operator's `kubectl cordon` would. */
  operatorCordon(node: string): void;
  /** The environment a lab node's commands run with (as the SSH lab's node-login sets it). */
  env(node: string): Record<string, string>;
  /** Runs a shell command line "on" a node (bash -c, the node's environment, bounded). */
  run(node: string, command: string, options?: RunOptions): Promise<RunResult>;
  /** Runs node-scripts/<script> "on" a node: {@link runScript}. */
  runScript(node: string, script: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /**
   * "Launches an EC2 instance": a brand-new worker machine `name` (no packages, no kubelet, not in the
   * cluster, an IMDSv2 serving its Name tag, swap on) whose cloud-init runs `userData` once as root:
   * written to root/var/lib/cloud/instance/scripts/part-001 (0700) and run with bash in the node's
   * environment ({@link Lab.env}: stand-ins first on PATH, CM_NODE_ROOT), its output also written to
   * root/var/log/cloud-init-output.log. A user data that joins registers the node in the lab cluster
   * (cluster/nodes/<name>, see test/lab/standins/kubeadm); calls are logged under `name`.
   * To make it fail: `options.failures` (e.g. "kubeadm join"), a user data with a bad token, or a
   * version other than the cluster's; to make it join but never become Ready: `options.notReady`.
   * @returns the exit code and output of the user data script (-1 when killed at the timeout).
   * @throws Error when a node `name` already exists or the name is not a lab node name.
   */
  bootNode(name: string, userData: string, options?: BootOptions): Promise<RunResult>;
  /** Whether node `name` is registered in the lab cluster (a Node object exists). */
  registered(name: string): boolean;
  /** The cluster CA public key hash (`sha256:<64 hex>`), as join commands print it. */
  caCertHash(): string;
  /** Every bootstrap token made so far by `kubeadm token create` expires now. */
  expireJoinTokens(): void;
  /** Ends background processes the lab started (its API double, systemd-run timers) and removes the directory. */
  cleanup(): void;
}


/** The command line that runs a node script: the wrapper, the script's name, the quoted args. */
export function scriptCommand(script: string, args: readonly string[]): string {
  return [WRAPPER, script, ...args.map(shellQuote)].join(" ");
}

function minorOf(version: string): string {
  const [major, minor] = version.split(".");
  return `${major}.${minor}`;
}

function write(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}

function podLine(p: LabPod): string {
  const field = (v: string) => {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v)) throw new Error(`lab: bad pod field ${JSON.stringify(v)}`);
    return v;
  };
  return [field(p.namespace), field(p.name), p.owner ?? "-", String(!!p.emptyDir), String(!!p.pdbBlocked), String(!!p.mirror)].join(" ");
}

/**
 * The etcd image tag the lab's kubeadm of `version`'s minor installs (test/lab/standins/lib/kubeadm-etcd-versions,
 * the lab's stand-in for kubeadm's constants.SupportedEtcdVersion).
 */
export function labEtcdTag(version: string): string {
  const minor = version.split(".")[1];
  const line = fs
    .readFileSync(path.join(STANDINS_DIR, "lib", "kubeadm-etcd-versions"), "utf8")
    .split("\n")
    .find((l) => l.split(" ")[0] === minor);
  if (line === undefined) throw new Error(`lab: no etcd version for ${version} in kubeadm-etcd-versions`);
  return line.split(" ")[1]!;
}

/** The CoreDNS tag the lab's kubeadm deploys (the kubeadm stand-in's kubeadm_coredns_tag, test/lab/standins/lib/standin.bash). */
export const LAB_COREDNS_TAG = "v1.11.3";

function initNode(dir: string, spec: LabNodeSpec): void {
  if (!/^\d+\.\d+\.\d+$/.test(spec.version)) throw new Error(`lab: bad version ${spec.version}`);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(spec.name)) throw new Error(`lab: bad node name ${spec.name}`);
  const nd = path.join(dir, "nodes", spec.name);
  const root = path.join(nd, "root");
  const minor = minorOf(spec.version);
  write(path.join(nd, "role"), `${spec.role}\n`);
  for (const p of KUBE_PACKAGES) {
    write(path.join(nd, `pkg-${p}`), `${spec.version}-1.1\n`);
    write(path.join(nd, `held-${p}`), "");
  }
  write(path.join(nd, "kubelet-running"), `${spec.version}\n`);
  write(path.join(nd, "kubelet-active"), "");
  write(path.join(nd, "enabled-kubelet"), ""); // the kubelet package's install enables its unit
  write(path.join(nd, "kubeadm-version"), `${spec.version}\n`);
  write(path.join(nd, "os-pending"), `${spec.osUpdates ?? 2}\n`);
  if (spec.rebootAfterOsUpgrade) write(path.join(nd, "os-reboot-after-upgrade"), "");
  if (spec.kubeletVersionFromPackage) write(path.join(nd, "kubelet-version-from-package"), "");
  write(path.join(root, "etc/apt/sources.list.d/kubernetes.list"), `${repositoryLine(minor)}\n`);
  write(path.join(root, "etc/apt/keyrings/kubernetes-apt-keyring.gpg"), "lab-keyring initial\n");
  write(path.join(root, `var/lib/apt/lists/pkgs.k8s.io_core:_stable:_v${minor}_deb_InRelease`), "");
  write(path.join(root, `var/lib/apt/lists/pkgs.k8s.io_core:_stable:_v${minor}_deb_Packages`), "");
  write(path.join(root, "proc/sys/kernel/random/boot_id"), `${randomUUID()}\n`);
  fs.mkdirSync(path.join(root, "var/run"), { recursive: true });
  if (spec.role === "control-plane") {
    // kubeadm's static pods, each image as kubeadm of the node's version writes it.
    const tags: Record<string, string> = {
      etcd: labEtcdTag(spec.version),
      "kube-apiserver": `v${spec.version}`,
      "kube-controller-manager": `v${spec.version}`,
      "kube-scheduler": `v${spec.version}`,
    };
    for (const [component, tag] of Object.entries(tags)) {
      write(
        path.join(root, `etc/kubernetes/manifests/${component}.yaml`),
        [
          "apiVersion: v1",
          "kind: Pod",
          "metadata:",
          `  name: ${component}`,
          "  namespace: kube-system",
          "spec:",
          "  containers:",
          `  - name: ${component}`,
          `    image: registry.k8s.io/${component}:${tag}`,
          "",
        ].join("\n"),
      );
    }
  } else {
    write(path.join(root, "etc/kubernetes/kubelet.conf"), "# lab kubelet.conf\n");
  }
  const cd = path.join(dir, "cluster", "nodes", spec.name);
  write(path.join(cd, "annotations"), "");
  write(path.join(cd, "pods"), (spec.pods ?? []).map((p) => `${podLine(p)}\n`).join(""));
  const labels = Object.entries(spec.labels ?? {});
  for (const [k, v] of labels) if (!/^[a-z0-9]([-a-z0-9./]*[a-z0-9])?$/.test(k) || !/^[-A-Za-z0-9_.]*$/.test(v)) throw new Error(`lab: bad label ${k}=${v}`);
  if (labels.length > 0) write(path.join(cd, "labels"), labels.map(([k, v]) => `${k}=${v}\n`).join(""));
}

function ensureExecutable(): void {
  for (const f of fs.readdirSync(STANDINS_DIR)) {
    const file = path.join(STANDINS_DIR, f);
    const st = fs.statSync(file);
    if (st.isFile() && (st.mode & 0o111) !== 0o111) fs.chmodSync(file, 0o755);
  }
}

/** Creates a lab directory (under the OS temp dir) with the given nodes. */
export function createLab(options: LabOptions): Lab {
  if (options.nodes.length === 0) throw new Error("lab: no nodes");
  ensureExecutable();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cm-lab-"));
  for (const sub of ["fail", "pids", "cluster/nodes"]) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  write(path.join(dir, "calls.log"), "");
  write(path.join(dir, "timer-seconds"), `${options.timerSeconds ?? 1}\n`);
  write(path.join(dir, "boot-seconds"), `${options.bootSeconds ?? 1}\n`);
  if (options.mirrorStaticPods) write(path.join(dir, "mirror-static-pods"), "");
  for (const n of options.nodes) initNode(dir, n);
  startLabApi(dir, options.nodes, options.storage);
  const firstCp = options.nodes.find((n) => n.role === "control-plane") ?? options.nodes[0]!;
  write(path.join(dir, "cluster", "version"), `${firstCp.version}\n`);
  write(path.join(dir, "cluster", "addons"), `kube-proxy v${firstCp.version}\ncoredns ${LAB_COREDNS_TAG}\n`);
  write(path.join(dir, "cluster", "endpoint"), `${LAB_API_ENDPOINT}\n`);
  write(path.join(dir, "cluster", "ca-cert-hash"), `sha256:${randomBytes(32).toString("hex")}\n`);

  const nodeDir = (name: string) => {
    const d = path.join(dir, "nodes", name);
    if (!fs.existsSync(d)) throw new Error(`lab: no node ${name}`);
    return d;
  };
  const lab: Lab = {
    dir,
    kubeconfigPath: path.join(dir, "kube-api", "kubeconfig"),
    nodes: options.nodes,
    calls: () => parseCalls(readOr(path.join(dir, "calls.log"), "")),
    nodeState: (name) => readNodeState(dir, nodeDir(name), name),
    clusterVersion: () => readOr(path.join(dir, "cluster", "version"), "").trim(),
    injectFailure: (node, substring) => {
      nodeDir(node);
      if (substring.includes("\n") || substring === "") throw new Error("lab: a failure substring is one non-empty line");
      fs.appendFileSync(path.join(dir, "fail", node), `${substring}\n`);
    },
    clearFailures: () => {
      for (const f of fs.readdirSync(path.join(dir, "fail"))) fs.rmSync(path.join(dir, "fail", f));
    },
    operatorCordon: (node) => {
      nodeDir(node);
      write(path.join(dir, "cluster", "nodes", node, "unschedulable"), "");
    },
    env: (node) => ({
      CM_LAB_DIR: dir,
      CM_LAB_NODE: node,
      CM_NODE_ROOT: path.join(nodeDir(node), "root"),
      PATH: `${STANDINS_DIR}:${RECORDED_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    }),
    run: (node, command, runOptions) => runCommand(lab, node, command, "", runOptions),
    runScript: (node, script, args, runOptions) => runScript(lab, node, script, args, runOptions),
    bootNode: (name, userData, bootOptions) => bootNode(lab, name, userData, bootOptions),
    registered: (name) => fs.existsSync(path.join(dir, "cluster", "nodes", name)),
    caCertHash: () => readOr(path.join(dir, "cluster", "ca-cert-hash"), "").trim(),
    expireJoinTokens: () => {
      const tokens = path.join(dir, "cluster", "tokens");
      for (const f of fs.existsSync(tokens) ? fs.readdirSync(tokens) : []) {
        const [secret, , ...description] = readOr(path.join(tokens, f), "").trim().split(" ");
        write(path.join(tokens, f), `${secret} 1 ${description.join(" ")}\n`);
      }
    },
    cleanup: () => {
      const pids = path.join(dir, "pids");
      for (const f of fs.existsSync(pids) ? fs.readdirSync(pids) : []) {
        try {
          process.kill(-Number(f), "SIGKILL");
        } catch {
          // already gone
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return lab;
}

/**
 * A new machine `name` booting from `userData` ({@link Lab.bootNode}): the node directory as
 * createLab lays it out minus everything installed (no pkg-*, no kubelet, no kubeconfig, not in
 * cluster/nodes), plus imds/ (the metadata service of the curl stand-in), swap on, an fstab with a
 * swap line; then cloud-init's run of the user data.
 */
export async function bootNode(lab: Lab, name: string, userData: string, options: BootOptions = {}): Promise<RunResult> {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new Error(`lab: bad node name ${name}`);
  const nd = path.join(lab.dir, "nodes", name);
  if (fs.existsSync(nd)) throw new Error(`lab: node ${name} exists already`);
  const root = path.join(nd, "root");
  write(path.join(nd, "role"), "worker\n");
  write(path.join(nd, "os-pending"), "0\n");
  write(path.join(nd, "swap-on"), "");
  write(path.join(root, "proc/sys/kernel/random/boot_id"), `${randomUUID()}\n`);
  write(path.join(root, "proc/sys/net/ipv4/ip_forward"), "0\n");
  write(path.join(root, "etc/fstab"), "LABEL=cloudimg-rootfs / ext4 discard,errors=remount-ro 0 1\n/swap.img none swap sw 0 0\n");
  fs.mkdirSync(path.join(root, "var/run"), { recursive: true });
  write(path.join(nd, "imds/meta-data/instance-id"), `i-${randomBytes(9).toString("hex").slice(0, 17)}`);
  const tag = options.nameTag === undefined ? name : options.nameTag;
  if (tag !== null) write(path.join(nd, "imds/meta-data/tags/instance/Name"), tag);
  if (options.notReady !== undefined) {
    if (!/^[A-Za-z]+ [^\n]+$/.test(options.notReady)) throw new Error("lab: notReady is one line \"REASON MESSAGE\"");
    write(path.join(nd, "not-ready"), `${options.notReady}\n`);
  }
  for (const f of options.failures ?? []) lab.injectFailure(name, f);
  const script = path.join(root, "var/lib/cloud/instance/scripts/part-001");
  write(script, userData);
  fs.chmodSync(script, 0o700);
  const result = await runCommand(lab, name, `exec bash ${shellQuote(script)}`, "", { timeoutMs: options.timeoutMs });
  write(path.join(root, "var/log/cloud-init-output.log"), result.stdout + result.stderr);
  return result;
}

/** Parses calls.log text: "<epoch-ms> <node> <command> <args...>" per line. */
export function parseCalls(text: string): LabCall[] {
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => {
      const [ms, node, command, ...args] = l.split(" ");
      return { ms: Number(ms), node: node!, command: command!, args };
    });
}

const READ_ONLY: Record<string, (args: string[]) => boolean> = {
  sudo: () => true,
  hostname: () => true,
  kubelet: () => true,
  "dpkg-query": () => true,
  "apt-mark": (a) => a[0] === "showhold",
  systemctl: (a) => a.some((x) => ["is-active", "status", "show", "is-enabled"].includes(x)),
  kubeadm: (a) => a[0] === "version" || (a[0] === "upgrade" && a[1] === "plan") || (a[0] === "config" && a[1] === "images" && a[2] === "list"),
  kubectl: (a) => a.filter((x) => !x.startsWith("--request-timeout"))[0] === "get",
  etcdctl: (a) => !a.includes("save") && !a.includes("put") && !a.includes("del") && !a.includes("remove"),
  iptables: (a) => a.includes("-S") || a.includes("--list-rules"),
  ipvsadm: (a) => a.some((x) => /^-S|^--save$/.test(x)),
};

/** Whether a stand-in call changes a node or the cluster (anything but reads). */
export function isMutating(call: LabCall): boolean {
  const readOnly = READ_ONLY[call.command];
  return readOnly === undefined || !readOnly(call.args);
}

function readNodeState(dir: string, nd: string, name: string): NodeState {
  const root = path.join(nd, "root");
  const packages: Record<string, string> = {};
  const held: string[] = [];
  for (const f of fs.readdirSync(nd).sort()) {
    if (f.startsWith("pkg-")) packages[f.slice(4)] = readOr(path.join(nd, f), "").trim();
    if (f.startsWith("held-")) held.push(f.slice(5));
  }
  const list = readOr(path.join(root, "etc/apt/sources.list.d/kubernetes.list"), "");
  const lists = path.join(root, "var/lib/apt/lists");
  const index = (fs.existsSync(lists) ? fs.readdirSync(lists) : [])
    .map((f) => /^pkgs\.k8s\.io_core:_stable:_v(1\.\d+)_deb_Packages$/.exec(f)?.[1])
    .find((m) => m !== undefined);
  const manifest = readOr(path.join(root, "etc/kubernetes/manifests/kube-apiserver.yaml"), "");
  const cd = path.join(dir, "cluster", "nodes", name);
  const annotations: Record<string, string> = {};
  for (const line of readOr(path.join(cd, "annotations"), "").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) annotations[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const markersDir = path.join(root, "var/lib/cluster-maintenance");
  const manifests = path.join(root, "etc/kubernetes/manifests");
  const staticPods: Record<string, string> = {};
  for (const f of fs.existsSync(manifests) ? fs.readdirSync(manifests).sort() : []) {
    const tag = /image: \S*\/[a-z-]+:([-v0-9.]+)/.exec(readOr(path.join(manifests, f), ""))?.[1];
    if (f.endsWith(".yaml") && tag !== undefined) staticPods[f.slice(0, -5)] = tag;
  }
  return {
    role: readOr(path.join(nd, "role"), "").trim() as NodeState["role"],
    packages,
    held,
    repoLine: list === "" ? null : list.replace(/\n$/, ""),
    keyringPresent: fs.existsSync(path.join(root, "etc/apt/keyrings/kubernetes-apt-keyring.gpg")),
    aptIndexMinor: index ?? null,
    kubeletRunning: readOr(path.join(nd, "kubelet-running"), "").trim(),
    kubeletActive: fs.existsSync(path.join(nd, "kubelet-active")),
    apiserverTag: /image: \S*kube-apiserver:(v[0-9.]+)/.exec(manifest)?.[1] ?? null,
    staticPods,
    kubeadmVersion: readOr(path.join(nd, "kubeadm-version"), "").trim(),
    cordoned: fs.existsSync(path.join(cd, "unschedulable")),
    annotations,
    pods: readOr(path.join(cd, "pods"), "")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => {
        const [ns, pod] = l.split(" ");
        return `${ns}/${pod}`;
      }),
    bootId: readOr(path.join(root, "proc/sys/kernel/random/boot_id"), "").trim(),
    rebootRequired: fs.existsSync(path.join(root, "var/run/reboot-required")),
    markers: fs.existsSync(markersDir) ? fs.readdirSync(markersDir).sort() : [],
  };
}

/**
 * Runs node-scripts/<script> on a lab node exactly as the Pulumi component does over SSH:
 * `bash -c "<wrapper> <script> <quoted args>"` with the script's text as the component sends it on stdin, in the node's
 * environment (stand-ins first on PATH). Bounded: the process group is killed after the timeout.
 */
export function runScript(lab: Lab, node: string, script: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runCommand(lab, node, scriptCommand(script, args), scriptText(script), options);
}

/** Runs `bash -c COMMAND` in a lab node's environment with `stdin`; kills its process group at the timeout. */
export function runCommand(lab: Lab, node: string, command: string, stdin: string, options: RunOptions = {}): Promise<RunResult> {
  const env = lab.env(node);
  if (options.extraPath?.length) env.PATH = [STANDINS_DIR, ...options.extraPath, env.PATH!.slice(STANDINS_DIR.length + 1)].join(":");
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", command], {
      // HOME inside the node root: bash started with stdin on a socket (as node's pipes are)
      // sources ~/.bashrc, and the developer's must not leak in (nor slow every call).
      env: { HOME: path.join(env.CM_NODE_ROOT!, "root"), LANG: "C.UTF-8", ...env },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\nlab: "${command}" on ${node} killed after ${timeoutMs} ms`;
      resolve({ code: timedOut ? -1 : (code ?? -1), stdout, stderr });
    });
    child.stdin.on("error", () => undefined); // a command that exits before reading all of stdin
    child.stdin.end(stdin);
  });
}
