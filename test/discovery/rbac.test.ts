/**
 * The discovery ClusterRole: every request readCluster makes (recorded by the static API,
 * in pages and whole) is allowed by it, every rule is needed, and rbacManifest prints it.
 * Authorization follows RBAC's rule matching: group, resource, verb, and resourceNames only
 * for requests naming an object (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources).
 */
import { parseAllDocuments } from "yaml";
import { DISCOVERY_CLUSTER_ROLE, PolicyRule, rbacManifest } from "../../discovery/rbac";
import { readCluster } from "../../discovery/read-cluster";
import { readReadiness } from "../../discovery/read-readiness";
import { kubeconfigFor, RecordedRequest, requestAttributes, RequestAttributes, startStaticApi } from "./static-api";

/** A request as RBAC sees it: a resource request, or a non-resource URL (its path, without the query). */
type Attributes = RequestAttributes | { readonly verb: "get"; readonly url: string };
const NON_RESOURCE = /^\/(readyz|livez|healthz|metrics|version|api|apis)$/;
const attributesOf = (r: RecordedRequest): Attributes => (NON_RESOURCE.test(r.path) ? { verb: "get", url: r.path } : requestAttributes(r));

function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  const has = (list: readonly string[], value: string) => list.includes(value) || list.includes("*");
  if ("url" in a || rule.nonResourceURLs) return "url" in a && rule.nonResourceURLs !== undefined && has(rule.nonResourceURLs, a.url) && has(rule.verbs, a.verb);
  const named = !rule.resourceNames || rule.resourceNames.length === 0 || (a.name !== undefined && rule.resourceNames.includes(a.name));
  return has(rule.apiGroups, a.apiGroup) && has(rule.resources, a.resource) && has(rule.verbs, a.verb) && named;
}

async function recordedRequests(pageSize: number): Promise<RecordedRequest[]> {
  const api = await startStaticApi();
  try {
    await readCluster(kubeconfigFor(api.url), { pageSize });
    await readReadiness(kubeconfigFor(api.url), { pageSize, volumes: true });
    return api.requests;
  } finally {
    await api.close();
  }
}

describe("the discovery ClusterRole", () => {
  test("allows every request readCluster and readReadiness make, and each rule is used", async () => {
    const requests = [...(await recordedRequests(500)), ...(await recordedRequests(2))];
    const attributes = requests.map(attributesOf);
    expect(attributes.filter((a) => !DISCOVERY_CLUSTER_ROLE.rules.some((rule) => ruleAllows(rule, a)))).toEqual([]);
    for (const rule of DISCOVERY_CLUSTER_ROLE.rules) expect(attributes.some((a) => ruleAllows(rule, a))).toBe(true);
  });

  test("read verbs only; objects fetched by name are limited to their names", () => {
    expect(DISCOVERY_CLUSTER_ROLE.rules.flatMap((r) => r.verbs).every((verb) => verb === "get" || verb === "list")).toBe(true);
    expect(DISCOVERY_CLUSTER_ROLE.rules.filter((r) => r.verbs.includes("get") && !r.nonResourceURLs).every((r) => !r.nonResourceURLs && r.resourceNames && r.resourceNames.length > 0)).toBe(true);
  });

  test("the checker refuses what the role does not grant", () => {
    const refused: RequestAttributes[] = [
      { verb: "list", apiGroup: "", resource: "configmaps", namespace: "kube-system" },
      { verb: "get", apiGroup: "", resource: "configmaps", namespace: "kube-system", name: "kubelet-config" },
      { verb: "get", apiGroup: "", resource: "secrets", namespace: "kube-system", name: "kubeadm-config" },
      { verb: "watch", apiGroup: "", resource: "nodes" },
      { verb: "get", apiGroup: "", resource: "daemonsets", namespace: "kube-system", name: "kube-proxy" },
      { verb: "patch", apiGroup: "", resource: "nodes", name: "cp-1" },
      { verb: "create", apiGroup: "", resource: "pods", namespace: "shop", name: "web-1" },
      { verb: "list", apiGroup: "", resource: "secrets" },
      { verb: "create", apiGroup: "snapshot.storage.k8s.io", resource: "volumesnapshots", namespace: "shop" },
      { verb: "delete", apiGroup: "snapshot.storage.k8s.io", resource: "volumesnapshots", namespace: "shop", name: "data-before-v1-35-9" },
      { verb: "get", apiGroup: "", resource: "persistentvolumeclaims", namespace: "shop", name: "data" },
      { verb: "list", apiGroup: "snapshot.storage.k8s.io", resource: "volumesnapshotcontents" },
      { verb: "create", apiGroup: "", resource: "persistentvolumeclaims", namespace: "shop" },
    ];
    expect(DISCOVERY_CLUSTER_ROLE.rules.some((rule) => ruleAllows(rule, { verb: "get", url: "/logs" }))).toBe(false);
    for (const a of refused) expect(DISCOVERY_CLUSTER_ROLE.rules.some((rule) => ruleAllows(rule, a))).toBe(false);
  });

  test("rbacManifest: the ClusterRole and a ClusterRoleBinding to a group, as YAML", () => {
    const text = rbacManifest("readers");
    const docs = parseAllDocuments(text).map((d) => d.toJS());
    expect(docs).toEqual([
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "readers" },
        rules: [
          { apiGroups: [""], resources: ["nodes"], verbs: ["list"] },
          { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
          { apiGroups: [""], resources: ["configmaps"], resourceNames: ["kubeadm-config"], verbs: ["get"] },
          { apiGroups: ["apps"], resources: ["daemonsets"], resourceNames: ["kube-proxy"], verbs: ["get"] },
          { apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["coredns"], verbs: ["get"] },
          { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: ["list"] },
          { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["list"] },
          { apiGroups: [""], resources: ["persistentvolumeclaims", "persistentvolumes"], verbs: ["list"] },
          { apiGroups: ["snapshot.storage.k8s.io"], resources: ["volumesnapshotclasses", "volumesnapshots"], verbs: ["list"] },
          { nonResourceURLs: ["/readyz", "/metrics", "/api", "/apis"], verbs: ["get"] },
        ],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: "readers" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "readers" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "readers" }],
      },
    ]);
    expect(text).toContain('# Template: binds the role to the group "readers"; replace it with your group');
    expect(parseAllDocuments(rbacManifest()).map((d) => d.toJS().metadata.name)).toEqual(["cluster-maintenance-discovery", "cluster-maintenance-discovery"]);
  });
});
