/**
 * The lab overlay: Nodes, their Leases and the Pods on them are the lab's simulated nodes, read
 * from the lab directory at every request (layout: test/lab/standins/lib/standin.bash), so that
 * what a stand-in does to a machine (systemctl stop kubelet, an upgrade, a reboot, kubeadm join)
 * is what the API shows, and what the API changes (cordon, annotations, evictions, Node
 * deletion) is in the files the lab's helpers read.
 *
 * A Node exists while cluster/nodes/<name>/ does; its annotations, labels and cordon are that
 * directory's annotations, labels ("key=value" lines) and unschedulable files; its pods are the
 * lines of its pods file, "NAMESPACE NAME OWNER EMPTYDIR PDB MIRROR [DELETED_MS GRACE_S]" (OWNER a
 * controller kind or -, the flags true|false; a pod being deleted carries its deletion time and
 * grace period until its kubelet runs again: standin.bash's kubelet_start drops it). The
 * machine (nodes/<name>/) gives the kubelet's version, state and stop time, the boot id and the
 * not-ready file; the lab dir's node-monitor-grace-seconds (default 50) and
 * lease-duration-seconds (default 40) set the control plane's timing; its mirror-static-pods file
 * adds the mirror pods of each node's static pod manifests (staticPodMirrors) and kubeadm's
 * kube-system objects: kubeadm-config, kube-proxy (a pod per Node), coredns (lab-kubeadm.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { KubeObject } from "./types";
import { uidOf } from "./ids";
import { leaseObject, NODE_OWN_LABELS, nodeObject, podObject, type ConditionFacts, type PodKind } from "./objects";
import { daemonSetObject, replicaSetObject, statefulSetObject } from "./workloads";
import { notSimulated } from "./status";
import { labKubeadmObjects, labKubeProxyPod, readLabKubeadm, type KubeadmKind } from "./lab-kubeadm";

/** The annotations every Node has from its kubelet and the attach-detach controller (nodes.json). */
const KUBELET_ANNOTATIONS = ["node.alpha.kubernetes.io/ttl", "volumes.kubernetes.io/controller-managed-attach-detach"];

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
function mtime(file: string): number | undefined {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}
function keyValues(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (text ?? "").split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
/** Writes a file whole (a rename), so that a reader never sees half of it. */
function replaceFile(file: string, text: string): void {
  fs.writeFileSync(`${file}.kube-api`, text);
  fs.renameSync(`${file}.kube-api`, file);
}

/** A pod line of a node's pods file. */
interface PodLine {
  readonly node: string;
  readonly namespace: string;
  readonly name: string;
  readonly owner: string;
  readonly emptyDir: boolean;
  readonly mirror: boolean;
  readonly deletion?: { ms: number; graceSeconds: number };
}

/** The controller a lab pod's name implies: its name without the last "-part" (web-1 -> web). */
export function labOwnerName(pod: string): string {
  return pod.includes("-") ? pod.slice(0, pod.lastIndexOf("-")) : pod;
}

/**
 * The lab directory `dir` seen as the API: Nodes, their Leases, the Pods on them and the
 * controllers those pods name (see the top of this file), and the changes the API makes to them.
 * `now` is the clock (epoch ms) the Ready condition and the Leases follow.
 */
export class LabState {
  /** What each node last posted, for a Node whose machine is gone (a terminated instance). */
  private readonly lastSeen = new Map<string, { kubelet: string; boot: string; controlPlane: boolean }>();
  /** When the double first saw each Node directory (by name and inode): its creationTimestamp. */
  private readonly firstSeen = new Map<string, number>();
  /** When the overlay started (the lab's creation): the pod controllers' creationTimestamp. */
  private readonly startedMs: number;

  constructor(
    readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.startedMs = now();
  }

  private setting(file: string, fallback: number): number {
    const n = Number((read(path.join(this.dir, file)) ?? "").trim());
    return Number.isFinite(n) && n > 0 ? n : fallback;
  }
  private clusterDir(name: string): string {
    return path.join(this.dir, "cluster", "nodes", name);
  }
  private machineDir(name: string): string {
    return path.join(this.dir, "nodes", name);
  }

  /** Names of the Nodes in the cluster, sorted. */
  nodeNames(): string[] {
    const d = path.join(this.dir, "cluster", "nodes");
    return fs.existsSync(d) ? fs.readdirSync(d).filter((n) => fs.statSync(path.join(d, n)).isDirectory()).sort() : [];
  }

  private identity(name: string): { uid: string; createdMs: number } | undefined {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.clusterDir(name));
    } catch {
      return undefined;
    }
    const key = `${name}:${st.ino}`;
    if (!this.firstSeen.has(key)) this.firstSeen.set(key, Math.min(st.ctimeMs, this.now()));
    return { uid: uidOf("lab-node", this.dir, key), createdMs: this.firstSeen.get(key)! };
  }

  /** The node's address: its SSH lab address when it has one, else one made from its name. */
  private address(name: string): string {
    const map = read(path.join(this.dir, "ssh-lab-nodes")) ?? "";
    const line = map.split("\n").find((l) => l.split(" ")[1] === name);
    if (line) return line.split(" ")[0]!;
    const h = parseInt(uidOf("address", name).slice(0, 4), 16);
    return `10.0.${(h >> 8) & 255}.${(h & 254) + 1}`;
  }

  /** Whether the node's kubelet runs, and when it last stopped (epoch ms; 0: never recorded, long ago). */
  private kubelet(name: string): { active: boolean; stoppedMs: number } {
    const md = this.machineDir(name);
    return { active: fs.existsSync(path.join(md, "kubelet-active")), stoppedMs: Number((read(path.join(md, "kubelet-stopped-at")) ?? "0").trim()) || 0 };
  }

  /**
   * The Ready condition as a real control plane shows it (REFERENCE.md "Measured on a real
   * kube-apiserver"; batch-2-kubelet-stopped-20s and -65s): while the kubelet runs, what it posts
   * (False with the not-ready file's "REASON MESSAGE", else True); once it stopped, what it last
   * posted for the node-monitor grace period, then Unknown (NodeStatusUnknown, "Kubelet stopped
   * posting node status."), never False.
   */
  private ready(name: string, createdMs: number): ConditionFacts {
    const md = this.machineDir(name);
    const { active, stoppedMs } = this.kubelet(name);
    const grace = this.setting("node-monitor-grace-seconds", 50) * 1000;
    if (!active && this.now() - stoppedMs >= grace) {
      return { status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status.", sinceMs: Math.max(createdMs, stoppedMs + grace) };
    }
    const notReady = read(path.join(md, "not-ready"));
    if (notReady !== undefined) {
      const line = notReady.split("\n")[0]!.trim();
      const space = line.indexOf(" ");
      const reason = (space < 0 ? line : line.slice(0, space)) || "KubeletNotReady";
      const message = space < 0 ? "" : line.slice(space + 1).trim();
      return {
        status: "False",
        reason,
        message: message || "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
        sinceMs: mtime(path.join(md, "not-ready")) ?? createdMs,
      };
    }
    return { status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", sinceMs: Math.max(createdMs, mtime(path.join(md, "kubelet-active")) ?? createdMs) };
  }

  /**
   * When the kubelet last renewed the node's Lease (epoch ms): at its start and every
   * leaseDurationSeconds/4 after (its 10 s of 40) while it runs; it stops at once when the
   * kubelet stops (https://kubernetes.io/docs/concepts/architecture/leases/#node-heart-beats).
   * A stopped kubelet's last renewal is taken at or before its stop (its start is no longer known).
   */
  private renewedMs(name: string): number {
    const md = this.machineDir(name);
    const { active, stoppedMs } = this.kubelet(name);
    const every = this.setting("lease-duration-seconds", 40) * 250;
    const now = this.now();
    if (active) {
      const started = Math.min(mtime(path.join(md, "kubelet-active")) ?? now, now);
      return started + Math.floor((now - started) / every) * every;
    }
    const t = stoppedMs > 0 ? stoppedMs : now - 3_600_000;
    return t - (t % every);
  }

  /** The Node object, or undefined when it is not in the cluster. */
  node(name: string): KubeObject | undefined {
    const id = this.identity(name);
    if (id === undefined) return undefined;
    const md = this.machineDir(name);
    const cd = this.clusterDir(name);
    const running = read(path.join(md, "kubelet-running"));
    const seen = this.lastSeen.get(name);
    const facts = running === undefined && seen ? seen : {
      kubelet: running === undefined ? "" : `v${running.trim()}`,
      boot: (read(path.join(md, "root", "proc", "sys", "kernel", "random", "boot_id")) ?? "").trim(),
      controlPlane: (read(path.join(md, "role")) ?? "").trim() === "control-plane",
    };
    this.lastSeen.set(name, facts);
    const unschedulable = mtime(path.join(cd, "unschedulable"));
    return nodeObject({
      name,
      uid: id.uid,
      createdMs: id.createdMs,
      controlPlane: facts.controlPlane,
      labels: keyValues(read(path.join(cd, "labels"))),
      annotations: keyValues(read(path.join(cd, "annotations"))),
      ...(unschedulable !== undefined ? { unschedulableSinceMs: unschedulable } : {}),
      kubeletVersion: facts.kubelet,
      bootID: facts.boot,
      address: this.address(name),
      ready: this.ready(name, id.createdMs),
      heartbeatMs: this.renewedMs(name),
    });
  }

  /** The node's Lease in kube-node-lease (there while its Node is), or undefined. */
  lease(name: string): KubeObject | undefined {
    const id = this.identity(name);
    if (id === undefined) return undefined;
    return leaseObject({ name, uid: id.uid, createdMs: id.createdMs }, uidOf("lab-lease", id.uid), this.renewedMs(name), this.setting("lease-duration-seconds", 40));
  }

  private podLines(node: string): PodLine[] {
    return (read(path.join(this.clusterDir(node), "pods")) ?? "")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => {
        const [namespace, name, owner, emptyDir, , mirror, deletedMs, grace] = l.trim().split(/\s+/);
        return {
          node,
          namespace: namespace!,
          name: name!,
          owner: owner ?? "-",
          emptyDir: emptyDir === "true",
          mirror: mirror === "true",
          ...(deletedMs !== undefined ? { deletion: { ms: Number(deletedMs), graceSeconds: Number(grace ?? 30) } } : {}),
        };
      });
  }

  /** The image of a mirror pod: its static pod manifest's on the node, when there is one. */
  private mirrorImage(p: PodLine): string | undefined {
    const component = p.name.endsWith(`-${p.node}`) ? p.name.slice(0, -(p.node.length + 1)) : p.name;
    const manifest = read(path.join(this.machineDir(p.node), "root", "etc", "kubernetes", "manifests", `${component}.yaml`));
    return /image: (\S+)/.exec(manifest ?? "")?.[1];
  }

  private ownerUid(kind: string, namespace: string, name: string): string {
    return uidOf("lab-owner", this.dir, kind, namespace, name);
  }

  private pod(p: PodLine, node: KubeObject): KubeObject {
    const kind: PodKind = p.mirror ? "mirror" : p.owner === "-" ? "none" : (p.owner as PodKind);
    const ownerName = labOwnerName(p.name);
    const address = (node.status as { addresses: { address: string }[] }).addresses[0]!.address;
    const h = parseInt(uidOf("pod-ip", p.namespace, p.name).slice(0, 4), 16);
    return podObject({
      kind,
      name: p.name,
      namespace: p.namespace,
      uid: uidOf("lab-pod", this.dir, p.namespace, p.name, node.metadata.uid!),
      createdMs: Date.parse(node.metadata.creationTimestamp!),
      nodeName: p.node,
      hostIP: address,
      podIP: p.mirror ? address : `10.244.${h >> 8}.${(h & 254) + 1}`,
      ...(kind === "mirror"
        ? { owner: { kind: "Node", name: p.node, uid: node.metadata.uid! } }
        : kind === "none"
          ? {}
          : { owner: { kind: p.owner, name: ownerName, uid: this.ownerUid(p.owner, p.namespace, ownerName) } }),
      labels: { app: kind === "none" ? p.name : ownerName },
      image: (p.mirror ? this.mirrorImage(p) : undefined) ?? `registry.example/${kind === "none" ? p.name : ownerName}:1.0`,
      emptyDir: p.emptyDir,
      ...(p.deletion ? { deletion: p.deletion } : {}),
    });
  }

  /**
   * With the lab dir's mirror-static-pods file (createLab's mirrorStaticPods): the mirror pod a
   * kubelet creates for each static pod manifest in the node's /etc/kubernetes/manifests,
   * `<component>-<node>` in kube-system (https://kubernetes.io/docs/tasks/configure-pod-container/static-pod/;
   * kept: pods.json's kube-apiserver-cp-1 and the other three), unless the pods file lists it.
   * Its image is the manifest's (mirrorImage), so it follows what kubeadm writes. Not deletable
   * through the API (the kubelet would recreate it).
   */
  private staticPodMirrors(node: string, listed: readonly PodLine[]): PodLine[] {
    if (!fs.existsSync(path.join(this.dir, "mirror-static-pods"))) return [];
    const manifests = path.join(this.machineDir(node), "root", "etc", "kubernetes", "manifests");
    const files = fs.existsSync(manifests) ? fs.readdirSync(manifests).filter((f) => f.endsWith(".yaml")).sort() : [];
    return files
      .map((f) => `${f.slice(0, -".yaml".length)}-${node}`)
      .filter((name) => !listed.some((l) => l.namespace === "kube-system" && l.name === name))
      .map((name) => ({ node, namespace: "kube-system", name, owner: "-", emptyDir: false, mirror: true }));
  }

  /** Every pod on the cluster's Nodes (with mirror-static-pods, kube-proxy's too), in etcd's order (namespace, name). */
  pods(): KubeObject[] {
    const out: KubeObject[] = [];
    const kubeadm = readLabKubeadm(this.dir);
    for (const name of this.nodeNames()) {
      const node = this.node(name);
      if (node === undefined) continue;
      const lines = this.podLines(name);
      for (const p of [...lines, ...this.staticPodMirrors(name, lines)]) out.push(this.pod(p, node));
      if (kubeadm) out.push(labKubeProxyPod(this.dir, kubeadm, node));
    }
    return out.sort((a, b) => (`${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}` ? -1 : 1));
  }

  /**
   * The controllers of the lab's pods (DaemonSets, ReplicaSets, StatefulSets named as
   * labOwnerName says), each as its controller shows it with its pods running: `kind` selects.
   */
  controllers(kind: "DaemonSet" | "ReplicaSet" | "StatefulSet"): KubeObject[] {
    const groups = new Map<string, PodLine[]>();
    for (const name of this.nodeNames()) {
      for (const p of this.podLines(name).filter((l) => !l.mirror && l.owner === kind)) {
        const key = `${p.namespace}/${labOwnerName(p.name)}`;
        groups.set(key, [...(groups.get(key) ?? []), p]);
      }
    }
    return [...groups.keys()].sort().map((key) => {
      const [namespace, name] = key.split("/") as [string, string];
      const count = groups.get(key)!.length;
      const m = { name, namespace, uid: this.ownerUid(kind, namespace, name), createdMs: this.startedMs };
      const facts = { labels: { app: name }, image: `registry.example/${name}:1.0`, container: name };
      return kind === "DaemonSet" ? daemonSetObject(m, facts, count) : kind === "ReplicaSet" ? replicaSetObject(m, facts, count) : statefulSetObject(m, facts, count);
    });
  }

  /** With mirror-static-pods: kubeadm's kube-system objects of `kind` (lab-kubeadm.ts), else none. */
  kubeadmObjects(kind: KubeadmKind): KubeObject[] {
    const kubeadm = readLabKubeadm(this.dir);
    return kubeadm ? labKubeadmObjects(this.dir, kubeadm, kind, this.startedMs, this.nodeNames().length) : [];
  }

  /**
   * Keeps what a change to a Node may change in the lab's files: annotations, labels, the cordon.
   * Call under withLabLock.
   * @throws ApiError 500 for any other change (the lab does not simulate it).
   */
  writeNode(before: KubeObject, after: KubeObject): void {
    const strip = (o: KubeObject) => {
      const { annotations: _a, labels: _l, resourceVersion: _r, ...meta } = o.metadata;
      const { unschedulable: _u, ...spec } = (o.spec ?? {}) as Record<string, unknown>;
      return JSON.stringify({ ...o, metadata: meta, spec });
    };
    if (strip(before) !== strip(after)) throw notSimulated("changing a lab Node other than its annotations, labels and spec.unschedulable");
    const cd = this.clusterDir(after.metadata.name);
    const lines = (o: Record<string, string> | undefined, skip: (k: string) => boolean) =>
      Object.entries(o ?? {}).filter(([k]) => !skip(k)).map(([k, v]) => `${k}=${v}\n`).join("");
    replaceFile(path.join(cd, "annotations"), lines(after.metadata.annotations, (k) => KUBELET_ANNOTATIONS.includes(k)));
    const labels = lines(after.metadata.labels, (k) => NODE_OWN_LABELS.includes(k));
    if (labels !== "" || fs.existsSync(path.join(cd, "labels"))) replaceFile(path.join(cd, "labels"), labels);
    const cordoned = (after.spec as { unschedulable?: boolean } | undefined)?.unschedulable === true;
    if (cordoned && !fs.existsSync(path.join(cd, "unschedulable"))) fs.writeFileSync(path.join(cd, "unschedulable"), "");
    if (!cordoned) fs.rmSync(path.join(cd, "unschedulable"), { force: true });
  }

  /** Removes the Node object (its annotations, cordon and pods: the pod garbage collector's part done at once). Call under withLabLock. */
  removeNode(name: string): void {
    fs.rmSync(this.clusterDir(name), { recursive: true, force: true });
  }

  /**
   * Deletes a pod as its kubelet would: gone at once while the kubelet runs (the lab's kubelet
   * stops containers at once), else left Terminating (deletionTimestamp set) until the kubelet
   * runs again (REFERENCE.md "Measured on a real kube-apiserver": evicted pods on a node whose
   * kubelet is down stay Terminating); a grace period of 0 (a forced deletion) removes it at once.
   * Call under withLabLock. Returns false when there is no such pod.
   */
  deletePod(namespace: string, name: string, graceSeconds: number): boolean {
    for (const node of this.nodeNames()) {
      const lines = this.podLines(node);
      const at = lines.findIndex((l) => l.namespace === namespace && l.name === name);
      if (at < 0) continue;
      const file = path.join(this.clusterDir(node), "pods");
      const raw = (read(file) ?? "").split("\n").filter((l) => l.trim() !== "");
      if (graceSeconds === 0 || this.kubelet(node).active) raw.splice(at, 1);
      else if (lines[at]!.deletion === undefined) raw[at] = `${raw[at]!.trim().split(/\s+/).slice(0, 6).join(" ")} ${this.now()} ${graceSeconds}`;
      replaceFile(file, raw.map((l) => `${l}\n`).join(""));
      return true;
    }
    return false;
  }
}
