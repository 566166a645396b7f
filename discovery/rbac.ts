/**
 * The read-only RBAC a kubeconfig's user needs for discovery/read-cluster.ts and
 * discovery/read-readiness.ts with discovery/read-volumes.ts: exactly the requests they make
 * (list nodes, pods, PodDisruptionBudgets and ReplicaSets; list PersistentVolumeClaims,
 * PersistentVolumes, VolumeSnapshotClasses and VolumeSnapshots; get three kube-system objects
 * by name; get /readyz, /metrics, /api and /apis), nothing more.
 * RBAC rules: https://kubernetes.io/docs/reference/access-authn-authz/rbac/#role-and-clusterrole
 * Request verbs (GET on a collection is `list`, on one object `get`):
 * https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb
 */
import { stringify } from "yaml";

/** The objects readCluster gets by name: DaemonSet, Deployment and ConfigMap in kube-system. */
export const READ_OBJECTS = { namespace: "kube-system", kubeProxy: "kube-proxy", coreDns: "coredns", kubeadmConfig: "kubeadm-config" } as const;

/** One RBAC PolicyRule (rbac.authorization.k8s.io/v1), read verbs only: for resources, or for non-resource URLs. */
export type PolicyRule =
  | {
      /** "" is the core group. */
      readonly apiGroups: readonly string[];
      readonly resources: readonly string[];
      /** When present, only these objects (by name) can be read. */
      readonly resourceNames?: readonly string[];
      readonly verbs: readonly ("get" | "list")[];
      readonly nonResourceURLs?: undefined;
    }
  | {
      /** Paths that are not API resources. https://kubernetes.io/docs/reference/access-authn-authz/rbac/#role-and-clusterrole */
      readonly nonResourceURLs: readonly string[];
      readonly verbs: readonly "get"[];
      readonly apiGroups?: undefined;
    };

/**
 * The non-resource URLs read: /readyz, the kube-apiservers' /metrics, and API discovery. Only
 * /metrics is not already granted to every authenticated user by the default roles
 * (system:discovery, system:public-info-viewer); they are listed so the role stands alone.
 * https://kubernetes.io/docs/reference/access-authn-authz/rbac/#discovery-roles
 */
export const READ_URLS = ["/readyz", "/metrics", "/api", "/apis"] as const;

/** The ClusterRole's default name. */
export const DISCOVERY_ROLE_NAME = "cluster-maintenance-discovery";

/**
 * The ClusterRole: list Nodes and Pods (every pod: the go/no-go check sees what each drain
 * evicts), PodDisruptionBudgets and ReplicaSets (which Deployment owns a pod); get the
 * kube-proxy DaemonSet, the coredns Deployment and the kubeadm-config ConfigMap by name; list
 * PersistentVolumeClaims and PersistentVolumes, VolumeSnapshotClasses and VolumeSnapshots
 * (snapshot.storage.k8s.io: the volume-snapshot listing of `backup.volumes`, and
 * `npm run restore -- --volumes`; a stack without `backup.volumes` makes none of these four
 * requests); get the {@link READ_URLS}.
 */
export const DISCOVERY_CLUSTER_ROLE = {
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRole",
  metadata: { name: DISCOVERY_ROLE_NAME },
  rules: [
    { apiGroups: [""], resources: ["nodes"], verbs: ["list"] },
    { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
    { apiGroups: [""], resources: ["configmaps"], resourceNames: [READ_OBJECTS.kubeadmConfig], verbs: ["get"] },
    { apiGroups: ["apps"], resources: ["daemonsets"], resourceNames: [READ_OBJECTS.kubeProxy], verbs: ["get"] },
    { apiGroups: ["apps"], resources: ["deployments"], resourceNames: [READ_OBJECTS.coreDns], verbs: ["get"] },
    { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: ["list"] },
    { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["list"] },
    { apiGroups: [""], resources: ["persistentvolumeclaims", "persistentvolumes"], verbs: ["list"] },
    { apiGroups: ["snapshot.storage.k8s.io"], resources: ["volumesnapshotclasses", "volumesnapshots"], verbs: ["list"] },
    { nonResourceURLs: READ_URLS, verbs: ["get"] },
  ] as readonly PolicyRule[],
} as const;

/** The rules in a few words, for messages: `list nodes; list pods; get configmaps/kubeadm-config; ...`. */
export function rulesSummary(): string {
  return DISCOVERY_CLUSTER_ROLE.rules
    .map((r) => {
      if (r.nonResourceURLs) return `${r.verbs.join("/")} ${r.nonResourceURLs.join(", ")}`;
      const resources = r.resources.map((res) => (r.apiGroups[0] ? `${res}.${r.apiGroups[0]}` : res));
      return `${r.verbs.join("/")} ${resources.map((res) => (r.resourceNames ? r.resourceNames.map((n) => `${res}/${n}`).join(", ") : res)).join(", ")}`;
    })
    .join("; ");
}

/**
 * The ClusterRole named `name`, and a ClusterRoleBinding of it to the group of the same name
 * (a template: replace the group with yours), as a two-document YAML stream for
 * `kubectl apply -f -` by a cluster admin.
 * @param name the ClusterRole's, the binding's and the group's name. @default {@link DISCOVERY_ROLE_NAME}
 */
export function rbacManifest(name: string = DISCOVERY_ROLE_NAME): string {
  const role = { ...DISCOVERY_CLUSTER_ROLE, metadata: { name } };
  const binding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name }],
  };
  return [
    "# Read-only access for cluster-maintenance's discovery (discovery/read-cluster.ts).",
    stringify(role).trimEnd(),
    "---",
    `# Template: binds the role to the group ${JSON.stringify(name)}; replace it with your group`,
    "# (for a client certificate, its organization O=), or bind a User or ServiceAccount instead.",
    stringify(binding).trimEnd(),
    "",
  ].join("\n");
}
