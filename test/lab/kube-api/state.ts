/**
 * The double's view of the cluster: the store's objects, with the lab overlay's Nodes, node
 * Leases, Pods, pod controllers and kubeadm's kube-system objects in place when a lab is given, and the verbs on them (get,
 * list, patch, delete, evict) as the API carries them out.
 */
import type { KubeObject } from "./types";
import { resourceType, type ResourceType } from "./resources";
import { Store, apiTime } from "./store";
import { LabState } from "./lab-state";
import { withLabLock } from "./lab-lock";
import { budgetStatus, evictionVerdict } from "./disruption";
import { applyPatch } from "./patch";
import { ApiError, badRequest, notFound, notSimulated } from "./status";
import { CRD_TYPES, SNAPSHOT_GROUP, type CrdType } from "./crd-types";
import { installedCrdTypes, reconcileSnapshot, type SnapshotWorld } from "./snapshots";

const type = (group: string, version: string, name: string): ResourceType => resourceType(group, version, name)!;
const NODES = type("", "v1", "nodes");
const PODS = type("", "v1", "pods");
const LEASES = type("coordination.k8s.io", "v1", "leases");
const PDBS = type("policy", "v1", "poddisruptionbudgets");
const CRDS = type("apiextensions.k8s.io", "v1", "customresourcedefinitions");
const PVCS = type("", "v1", "persistentvolumeclaims");
const PVS = type("", "v1", "persistentvolumes");
const SNAPSHOTS = type(SNAPSHOT_GROUP, "v1", "volumesnapshots");
const SNAPSHOT_CLASSES = type(SNAPSHOT_GROUP, "v1", "volumesnapshotclasses");
const SNAPSHOT_CONTENTS = type(SNAPSHOT_GROUP, "v1", "volumesnapshotcontents");
const isSnapshots = (t: ResourceType) => t.group === SNAPSHOT_GROUP && t.name === "volumesnapshots";
/** A DNS-1123 subdomain (metadata.name of most kinds, CRD-defined ones included). */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LAB_CONTROLLERS: Record<string, "DaemonSet" | "ReplicaSet" | "StatefulSet"> = { daemonsets: "DaemonSet", replicasets: "ReplicaSet", statefulsets: "StatefulSet" };
/** The types of kubeadm's kube-system objects the lab serves (lab-kubeadm.ts), by group and plural name. */
const LAB_KUBEADM: Record<string, "ConfigMap" | "DaemonSet" | "Deployment"> = { "/configmaps": "ConfigMap", "apps/daemonsets": "DaemonSet", "apps/deployments": "Deployment" };

/** What DELETE was asked: DeleteOptions' grace period (undefined: the object's own) and dry run. */
export interface DeleteOptions {
  readonly gracePeriodSeconds?: number;
  readonly dryRun: boolean;
}

/**
 * The node lifecycle controller keeps the taint node.kubernetes.io/unschedulable:NoSchedule in
 * step with spec.unschedulable (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-nodes-by-condition).
 */
function syncUnschedulableTaint(node: KubeObject, now: number): void {
  const spec = (node.spec ?? {}) as { unschedulable?: boolean; taints?: { key: string; effect: string; timeAdded?: string }[] };
  const others = (spec.taints ?? []).filter((t) => t.key !== "node.kubernetes.io/unschedulable");
  const had = (spec.taints ?? []).find((t) => t.key === "node.kubernetes.io/unschedulable");
  const taints = spec.unschedulable ? [...others, had ?? { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule", timeAdded: apiTime(now) }] : others;
  if (taints.length > 0) spec.taints = taints;
  else delete spec.taints;
  node.spec = spec;
}

/**
 * The cluster the double serves. `lab`: Nodes, the Leases in kube-node-lease and Pods are the
 * lab's (lab-state.ts), with the controllers its pods name; everything else is the store's.
 * @throws Error (constructor) when a lab is given and the store holds Nodes, Pods or node Leases.
 */
export class ApiState {
  constructor(
    readonly store: Store,
    readonly lab?: LabState,
    private readonly now: () => number = Date.now,
  ) {
    if (lab) {
      for (const t of [NODES, PODS]) {
        if (store.list(t).length > 0) throw new Error(`kube-api: with a lab, ${t.name} come from the lab, not from the seed`);
      }
      if (store.list(LEASES, "kube-node-lease").length > 0) throw new Error("kube-api: with a lab, node Leases come from the lab, not from the seed");
    }
  }

  /** Whether the lab keeps objects of this type (and namespace): Nodes, Pods, the Leases in kube-node-lease. */
  private labBacked(t: ResourceType, namespace?: string): boolean {
    if (this.lab === undefined) return false;
    return (t.group === "" && (t.name === "nodes" || t.name === "pods")) || (t.group === "coordination.k8s.io" && t.name === "leases" && namespace === "kube-node-lease");
  }

  /** Lab objects carry the current resourceVersion (they change outside the store). */
  private versioned(objects: KubeObject[]): KubeObject[] {
    for (const o of objects) o.metadata.resourceVersion = this.store.resourceVersion;
    return objects;
  }

  /** The lab's objects of a type in `namespace` (all when undefined), or [] without a lab. */
  private labObjects(t: ResourceType, namespace?: string): KubeObject[] {
    const lab = this.lab;
    if (lab === undefined) return [];
    const inNamespace = (o: KubeObject) => namespace === undefined || o.metadata.namespace === namespace;
    if (t.group === "" && t.name === "nodes") return this.versioned(lab.nodeNames().flatMap((n) => lab.node(n) ?? []));
    if (t.group === "" && t.name === "pods") return this.versioned(lab.pods().filter(inNamespace));
    if (t.group === "coordination.k8s.io" && t.name === "leases" && (namespace === undefined || namespace === "kube-node-lease")) {
      return this.versioned(lab.nodeNames().flatMap((n) => lab.lease(n) ?? []));
    }
    const kind = t.group === "apps" ? LAB_CONTROLLERS[t.name] : undefined;
    const kubeadm = LAB_KUBEADM[`${t.group}/${t.name}`];
    return this.versioned([...(kind ? lab.controllers(kind) : []), ...(kubeadm ? lab.kubeadmObjects(kubeadm) : [])].filter(inNamespace));
  }

  /**
   * Objects of a type, in etcd's order, of `namespace` when given. Not copies (a list of
   * thousands is served as it is kept): read them, never change them.
   */
  list(t: ResourceType, namespace?: string): KubeObject[] {
    if (isSnapshots(t)) for (const o of [...this.store.list(t, namespace)]) this.reconcile(o);
    const key = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    const stored = this.store.list(t, namespace);
    const fromLab = this.labObjects(t, namespace);
    const mine = fromLab.length === 0 ? undefined : new Set(stored.map(key));
    const lab = fromLab.filter((o) => !mine!.has(key(o)));
    const items = lab.length === 0 ? stored : [...stored, ...lab].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    return t.group === "policy" && t.name === "poddisruptionbudgets" ? items.map((b) => ({ ...b, status: this.budget(b) })) : items;
  }

  /** One object (a copy), or undefined. */
  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    if (isSnapshots(t)) {
      const stored = this.store.get(t, namespace, name);
      if (stored) this.reconcile(stored);
    }
    if (this.lab && t.group === "" && t.name === "nodes") return this.versioned([this.lab.node(name)].filter((n): n is KubeObject => n !== undefined))[0];
    if (this.lab && t.group === "coordination.k8s.io" && t.name === "leases" && namespace === "kube-node-lease") {
      return this.versioned([this.lab.lease(name)].filter((l): l is KubeObject => l !== undefined))[0];
    }
    const o = this.store.get(t, namespace, name);
    if (o === undefined) return this.labObjects(t, namespace).find((x) => x.metadata.name === name);
    const copy = structuredClone(o);
    if (t.group === "policy" && t.name === "poddisruptionbudgets") copy.status = this.budget(copy);
    return copy;
  }

  /** The CRD-defined types whose CustomResourceDefinition the store holds (served: discovery and paths). */
  installedCrds(): CrdType[] {
    return installedCrdTypes(new Set(this.store.list(CRDS).map((c) => c.metadata.name)));
  }

  /** Whether the API serves `t`: a kept type always, a CRD-defined one while its CRD is installed. */
  serves(t: ResourceType): boolean {
    const crd = CRD_TYPES.find((c) => c.group === t.group && c.name === t.name);
    return crd === undefined || this.store.get(CRDS, undefined, crd.crdName) !== undefined;
  }

  /** Reads of each VolumeSnapshot (by uid) so far, for the simulated controller (snapshots.ts). */
  private readonly snapshotReads = new Map<string, number>();

  /** The simulated snapshot controller's work on one read of a stored VolumeSnapshot. */
  private reconcile(stored: KubeObject): void {
    const id = stored.metadata.uid!;
    const reads = (this.snapshotReads.get(id) ?? 0) + 1;
    this.snapshotReads.set(id, reads);
    const world: SnapshotWorld = {
      pvc: (ns, name) => this.store.get(PVCS, ns, name),
      pv: (name) => this.store.get(PVS, undefined, name),
      classes: () => (this.serves(SNAPSHOT_CLASSES) ? this.store.list(SNAPSHOT_CLASSES) : []),
      content: (name) => this.store.get(SNAPSHOT_CONTENTS, undefined, name),
      putContent: (o) => void this.store.put(SNAPSHOT_CONTENTS, structuredClone(o)),
      now: this.now,
    };
    const next = reconcileSnapshot(structuredClone(stored), reads, world);
    if (next) this.store.put(SNAPSHOTS, next);
  }

  /**
   * POST to a collection: creates `body` (only the CRD-defined kinds, snapshots.ts; others are not
   * simulated). As the API does: the kind and apiVersion must be the path's, the namespace the
   * path's, the name a DNS-1123 subdomain (no generateName), status dropped (a status
   * subresource); a VolumeSnapshot's spec.source must name exactly one of
   * persistentVolumeClaimName and volumeSnapshotContentName and a class name must not be empty
   * (the CRD's x-kubernetes-validations). A dry run stores nothing.
   * @throws ApiError 400, 404 (no such namespace), 409 AlreadyExists, 422 Invalid.
   */
  create(t: ResourceType, namespace: string | undefined, body: unknown, dryRun: boolean): KubeObject {
    if (!CRD_TYPES.some((c) => c.group === t.group && c.name === t.name)) throw notSimulated(`creating ${t.name}`);
    const o = structuredClone((body ?? {}) as KubeObject);
    const gv = t.group === "" ? t.version : `${t.group}/${t.version}`;
    if (o.kind !== t.kind || o.apiVersion !== gv) throw badRequest(`the API version in the data (${o.apiVersion}) does not match the expected API version (${gv})`);
    const meta = (o.metadata ?? {}) as KubeObject["metadata"];
    if (!meta.name) throw notSimulated("generateName");
    if (t.namespaced && meta.namespace !== undefined && meta.namespace !== namespace) throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    const qualified = `${t.kind}.${t.group}`;
    const invalid = (field: string, value: unknown, why: string) =>
      new ApiError(422, "Invalid", `${qualified} "${meta.name}" is invalid: ${field}: Invalid value: ${JSON.stringify(value)}: ${why}`, { name: meta.name, group: t.group, kind: t.kind, causes: [{ reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(value)}: ${why}`, field }] });
    if (meta.name.length > 253 || !DNS_SUBDOMAIN.test(meta.name)) {
      throw invalid("metadata.name", meta.name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    }
    if (t.namespaced && this.store.get(type("", "v1", "namespaces"), undefined, namespace!) === undefined) throw notFound(type("", "v1", "namespaces"), namespace!);
    if (isSnapshots(t)) {
      const spec = o.spec as { source?: Record<string, unknown>; volumeSnapshotClassName?: string } | undefined;
      if (spec === undefined) throw invalid("spec", "null", "spec in body is required");
      const source = spec.source;
      if (source === undefined) throw invalid("spec.source", "null", "spec.source in body is required");
      if (("persistentVolumeClaimName" in source) === ("volumeSnapshotContentName" in source)) throw invalid("spec.source", "object", "exactly one of volumeSnapshotContentName and persistentVolumeClaimName must be set");
      if (spec.volumeSnapshotClassName === "") throw invalid("spec.volumeSnapshotClassName", "", "volumeSnapshotClassName must not be the empty string when set");
    }
    if (this.store.get(t, namespace, meta.name) !== undefined) {
      throw new ApiError(409, "AlreadyExists", `${t.name}.${t.group} "${meta.name}" already exists`, { name: meta.name, group: t.group, kind: t.name });
    }
    const { status: _dropped, ...rest } = o;
    const fresh: KubeObject = { ...rest, metadata: { ...meta, ...(t.namespaced ? { namespace } : {}), generation: 1 } };
    delete fresh.metadata.uid;
    delete fresh.metadata.resourceVersion;
    delete fresh.metadata.creationTimestamp;
    if (dryRun) return fresh;
    return structuredClone(this.store.put(t, fresh));
  }

  /** A budget's status as its controller computes it now (disruption.ts). */
  private budget(pdb: KubeObject): Record<string, unknown> {
    const pods = this.list(PODS, pdb.metadata.namespace);
    // One lookup per owner, not per pod (a budget over thousands of pods has a few owners).
    const owners = new Map<string, { key: string; replicas: number } | undefined>();
    const scaleOf = (pod: KubeObject) => {
      const ref = pod.metadata.ownerReferences?.find((r) => r.controller);
      const id = ref ? `${ref.kind}/${ref.name}` : "";
      if (!owners.has(id)) owners.set(id, ownerScale(pod));
      return owners.get(id);
    };
    const ownerScale = (pod: KubeObject) => {
      const ref = pod.metadata.ownerReferences?.find((r) => r.controller);
      const ns = pod.metadata.namespace;
      if (ref?.kind === "ReplicaSet") {
        const rs = this.get(type("apps", "v1", "replicasets"), ns, ref.name);
        const dRef = rs?.metadata.ownerReferences?.find((r) => r.controller && r.kind === "Deployment");
        const d = dRef && this.get(type("apps", "v1", "deployments"), ns, dRef.name);
        const owner = d ?? rs;
        return owner && { key: `${d ? "Deployment" : "ReplicaSet"}/${owner.metadata.name}`, replicas: (owner.spec as { replicas?: number }).replicas ?? 1 };
      }
      if (ref?.kind === "StatefulSet" || ref?.kind === "ReplicationController") {
        const owner = this.get(ref.kind === "StatefulSet" ? type("apps", "v1", "statefulsets") : type("", "v1", "replicationcontrollers"), ns, ref.name);
        return owner && { key: `${ref.kind}/${ref.name}`, replicas: (owner.spec as { replicas?: number }).replicas ?? 1 };
      }
      return undefined;
    };
    return budgetStatus(pdb, pods, scaleOf, this.now());
  }

  /**
   * PATCH: `body` of `contentType` applied to the object (patch.ts); a dry run changes nothing.
   * A lab Node keeps its annotations, labels and cordon in the lab's files.
   * @throws ApiError 404 when there is no such object.
   */
  async patch(t: ResourceType, namespace: string | undefined, name: string, contentType: string, body: unknown, dryRun: boolean): Promise<KubeObject> {
    const change = (): KubeObject => {
      const before = this.get(t, namespace, name);
      if (before === undefined) throw notFound(t, name);
      const after = applyPatch(contentType, before, body) as KubeObject;
      after.metadata = { ...after.metadata, name, ...(namespace !== undefined && t.namespaced ? { namespace } : {}), uid: before.metadata.uid };
      if (dryRun) return after;
      if (this.lab && t.group === "" && t.name === "nodes") {
        this.lab.writeNode(before, after);
        this.store.bump();
        return this.get(t, namespace, name)!;
      }
      if (this.lab && this.labBacked(t, namespace)) throw notSimulated(`changing a lab ${t.kind}`);
      if (t.group === "policy" && t.name === "poddisruptionbudgets" && JSON.stringify(after.spec) !== JSON.stringify(before.spec)) {
        after.metadata.generation = (before.metadata.generation ?? 1) + 1;
      }
      if (t.group === "" && t.name === "nodes") syncUnschedulableTaint(after, this.now());
      return structuredClone(this.store.put(t, after));
    };
    return this.lab && !dryRun ? withLabLock(this.lab.dir, change) : change();
  }

  /**
   * DELETE. A pod goes at once unless its kubelet is down (lab: not running; otherwise: its
   * Node's Ready condition Unknown), when it stays Terminating until the kubelet returns; a
   * grace period of 0 removes it at once (a forced deletion). Returns the object as deleted
   * (a pod being deleted: with its deletionTimestamp).
   * @throws ApiError 404 when there is no such object.
   */
  async delete(t: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions): Promise<KubeObject> {
    const remove = (): KubeObject => {
      const before = this.get(t, namespace, name);
      if (before === undefined) throw notFound(t, name);
      if (options.dryRun) return before;
      const isPod = t.group === "" && t.name === "pods";
      const grace = options.gracePeriodSeconds ?? ((before.spec as { terminationGracePeriodSeconds?: number } | undefined)?.terminationGracePeriodSeconds ?? 30);
      if (this.lab && this.labBacked(t, namespace)) {
        if (t.group === "" && t.name === "nodes") this.lab.removeNode(name);
        else if (isPod) this.lab.deletePod(namespace!, name, grace);
        else throw notSimulated(`deleting a lab ${t.kind}`);
        this.store.bump(); // a change in the lab's files
        return (isPod && this.get(t, namespace, name)) || before;
      }
      if (isPod && grace > 0 && !this.kubeletPosting(before)) {
        if (before.metadata.deletionTimestamp === undefined) {
          before.metadata.deletionTimestamp = apiTime(this.now());
          before.metadata.deletionGracePeriodSeconds = grace;
          this.store.put(t, structuredClone(before));
        }
        return this.get(t, namespace, name)!;
      }
      if (!this.store.remove(t, namespace, name)) throw notSimulated(`deleting the controller of lab pods, ${t.kind} ${name}`);
      // The snapshot controller deletes a deleted snapshot's content when its deletionPolicy is Delete.
      const contentName = isSnapshots(t) ? ((before.status as { boundVolumeSnapshotContentName?: string } | undefined)?.boundVolumeSnapshotContentName) : undefined;
      const content = contentName ? this.store.get(SNAPSHOT_CONTENTS, undefined, contentName) : undefined;
      if (content && (content.spec as { deletionPolicy?: string }).deletionPolicy === "Delete") this.store.remove(SNAPSHOT_CONTENTS, undefined, contentName!);
      return before;
    };
    return this.lab && !options.dryRun ? withLabLock(this.lab.dir, remove) : remove();
  }

  /** Whether the kubelet of a (store) pod's node posts status: its Node's Ready condition is not Unknown. */
  private kubeletPosting(pod: KubeObject): boolean {
    const node = this.store.get(NODES, undefined, String((pod.spec as { nodeName?: string }).nodeName));
    const ready = (node?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.find((c) => c.type === "Ready");
    return ready?.status !== "Unknown";
  }

  /**
   * POST pods/NAME/eviction (policy/v1 Eviction): the budget check (disruption.ts), then, unless
   * a dry run, the budget's disruption spent (the pod in its disruptedPods) and the pod deleted
   * (DELETE's rules, with the Eviction's deleteOptions.gracePeriodSeconds).
   * @throws ApiError 404 for no such pod, 429 when a budget allows no disruption, 500 for two budgets.
   */
  async evict(namespace: string, name: string, gracePeriodSeconds: number | undefined, dryRun: boolean): Promise<void> {
    const pod = this.get(PODS, namespace, name);
    if (pod === undefined) throw notFound(PODS, name);
    const verdict = evictionVerdict(pod, this.list(PDBS, namespace));
    if (dryRun) return;
    if (verdict.charge) {
      const stored = structuredClone(this.store.get(PDBS, namespace, verdict.charge.metadata.name)!);
      const status = (stored.status ?? {}) as { disruptedPods?: Record<string, string> };
      stored.status = { ...status, disruptedPods: { ...status.disruptedPods, [name]: apiTime(this.now()) } };
      this.store.put(PDBS, stored);
    }
    await this.delete(PODS, namespace, name, { ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}), dryRun: false });
  }
}
