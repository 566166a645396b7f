/**
 * The lab's Kubernetes API: one test double (test/lab/kube-api) per lab, in its own process,
 * started by createLab and ended by lab.cleanup(); its Nodes, Leases and Pods are the lab's
 * simulated nodes (kube-api/lab-state.ts). The real kubectl reaches it through admin.conf on each
 * control-plane node, as kubeadm writes it. It also holds what a resource export of the lab
 * cluster finds: the system namespaces and shop, a ConfigMap, an Event, a Secret, a ClusterRole,
 * two CustomResourceDefinitions (widgets.example.com, gadgets.example.org: the kept discovery
 * lists both) and a Widget; and a PodDisruptionBudget allowing no disruption for each lab pod
 * marked pdbBlocked.
 */
import { randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { prepareKubeApi, spawnKubeApi, storageObjects, writeKubeconfig, type StorageSpec } from "./kube-api";
import { labOwnerName } from "./kube-api/lab-state";
import { RESOURCE_TYPES, storageKey } from "./kube-api/resources";
import type { KubeObject } from "./kube-api/types";

/** What the lab's API needs to know of a node spec. */
interface NodeSpecLike {
  readonly name: string;
  readonly role: "control-plane" | "worker";
  readonly pods?: readonly { readonly name: string; readonly namespace: string; readonly owner?: string; readonly pdbBlocked?: boolean }[];
}

/**
 * The types `kubectl api-resources --verbs=list -o name` lists against the lab's API, in its
 * order: every listable type of the kept discovery once (NAME or NAME.GROUP), the core group
 * first, then by group, each group's by name.
 */
export const LAB_API_TYPES: readonly string[] = [...new Map(RESOURCE_TYPES.filter((t) => t.verbs.includes("list")).map((t) => [storageKey(t), t])).values()]
  .sort((a, b) => (a.group === b.group ? (a.name < b.name ? -1 : 1) : a.group < b.group ? -1 : 1))
  .map(storageKey);

/** The listable types a resource export skips: events in both groups, and Secrets (exported only encrypted). */
const NOT_EXPORTED = new Set(["events", "events.events.k8s.io", "secrets"]);

/**
 * Files a resource export of the lab cluster writes (export-resources.sh with Secrets excluded),
 * sorted: one per type of LAB_API_TYPES, events and Secrets skipped.
 */
export const LAB_EXPORTED_FILES: readonly string[] = LAB_API_TYPES.filter((name) => !NOT_EXPORTED.has(name))
  .map((name) => `${name}.yaml`)
  .sort();

/** Strings only the lab cluster's Secret holds (its data, base64 and plain, and its name). */
export const LAB_SECRET_MARKERS = ["bGFiLXNlY3JldC12YWx1ZQ==", "lab-secret-value", "db-credentials"];

const CREATED = "2026-11-27T22:50:00Z";

function crd(group: string, plural: string, kind: string, scope: "Namespaced" | "Cluster"): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}`, creationTimestamp: CREATED, generation: 1 },
    spec: {
      group,
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
      scope,
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
      conversion: { strategy: "None" },
    },
    status: {
      conditions: [
        { type: "NamesAccepted", status: "True", lastTransitionTime: CREATED, reason: "NoConflicts", message: "no conflicts found" },
        { type: "Established", status: "True", lastTransitionTime: CREATED, reason: "InitialNamesAccepted", message: "the initial names have been accepted" },
      ],
      acceptedNames: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
      storedVersions: ["v1"],
    },
  };
}

/** The lab cluster's objects besides its nodes and pods (see the top of this file). */
export function labSeed(nodes: readonly NodeSpecLike[]): KubeObject[] {
  const pods = nodes.flatMap((n) => n.pods ?? []);
  const namespaces = new Set(["default", "kube-node-lease", "kube-public", "kube-system", "shop", ...pods.map((p) => p.namespace)]);
  const seed: KubeObject[] = [...namespaces].sort().map((name) => ({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, creationTimestamp: CREATED, labels: { "kubernetes.io/metadata.name": name } },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  }));
  seed.push(
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app-config", namespace: "shop", creationTimestamp: CREATED }, data: { mode: "production" } },
    {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "web-1.17a", namespace: "shop", creationTimestamp: CREATED },
      involvedObject: { kind: "Pod", namespace: "shop", name: "web-1", apiVersion: "v1" },
      reason: "Scheduled",
      message: "Successfully assigned shop/web-1",
      source: { component: "default-scheduler" },
      type: "Normal",
    },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "db-credentials", namespace: "shop", creationTimestamp: CREATED }, type: "Opaque", data: { token: LAB_SECRET_MARKERS[0] } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "shop-reader", creationTimestamp: CREATED },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }],
    },
    crd("example.com", "widgets", "Widget", "Namespaced"),
    crd("example.org", "gadgets", "Gadget", "Cluster"),
    { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "blue", namespace: "shop", creationTimestamp: CREATED, generation: 1 }, spec: { size: 3 } },
  );
  // A budget that allows no disruption over each app with a pdbBlocked pod: minAvailable = all its pods.
  const apps = new Map<string, number>();
  for (const p of pods) {
    const app = `${p.namespace}/${p.owner ? labOwnerName(p.name) : p.name}`;
    apps.set(app, (apps.get(app) ?? 0) + 1);
  }
  const blocked = new Set(pods.filter((p) => p.pdbBlocked).map((p) => `${p.namespace}/${p.owner ? labOwnerName(p.name) : p.name}`));
  for (const app of [...blocked].sort()) {
    const [namespace, name] = app.split("/") as [string, string];
    seed.push({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: `${name}-pdb`, namespace, creationTimestamp: CREATED, generation: 1 },
      spec: { minAvailable: apps.get(app)!, selector: { matchLabels: { app: name } } },
    });
  }
  return seed;
}

/** A random address on the loopback network 127.100.0.0/14, away from the SSH lab's 127.0.1.x: each lab's API has its own, on 6443. */
function labAddress(): string {
  return `127.${randomInt(100, 104)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
}

/**
 * Starts the lab's API (not waiting for it: the lab's kubectl waits until it listens) for the
 * lab in `labDir`: files in labDir/kube-api, its process in its own process group, listed in
 * labDir/pids so that the lab's cleanup ends it; writes admin.conf on every control-plane node.
 * Synchronous (openssl runs twice).
 */
export function startLabApi(labDir: string, nodes: readonly NodeSpecLike[], storage?: StorageSpec): void {
  const host = labAddress();
  const seed = labSeed(nodes);
  if (storage) {
    const have = new Set(seed.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name));
    for (const ns of new Set((storage.volumes ?? []).map((v) => v.namespace))) {
      if (!have.has(ns)) seed.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns, creationTimestamp: CREATED, labels: { "kubernetes.io/metadata.name": ns } }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } });
    }
    seed.push(...storageObjects(storage));
  }
  const prepared = prepareKubeApi({ dir: path.join(labDir, "kube-api"), seed, labDir, host, port: 6443, logRequests: true });
  const kubeconfig = writeKubeconfig(prepared, `https://${host}:6443`);
  for (const n of nodes.filter((x) => x.role === "control-plane")) {
    const adminConf = path.join(labDir, "nodes", n.name, "root", "etc", "kubernetes", "admin.conf");
    fs.mkdirSync(path.dirname(adminConf), { recursive: true });
    fs.writeFileSync(adminConf, kubeconfig, { mode: 0o600 });
  }
  const child = spawnKubeApi(prepared, true);
  child.unref();
  fs.writeFileSync(path.join(labDir, "pids", String(child.pid)), "kube-api\n");
}
