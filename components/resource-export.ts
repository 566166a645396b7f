/**
 * The resource-definitions export of the scheduled backup job (issue 4 item 3, "on the
 * schedule"): the POSIX sh part of the job's script and the least-privilege RBAC it needs.
 * The same export as node-scripts/export-resources.sh (one YAML file per listable type, not
 * `kubectl get all`; events skipped; Secrets excluded or CMS-encrypted), run in the CronJob's pod
 * with its own ServiceAccount instead of admin.conf, and uploaded to S3 next to the snapshot.
 */
import type * as k8s from "@pulumi/kubernetes";

/** `exclude`, or `encrypt:<absolute path of a PEM recipient certificate on the control-plane hosts>`. */
export type ExportSecrets = "exclude" | `encrypt:/${string}`;


/** The recipient certificate path of `encrypt:<path>`, or undefined for `exclude`. */
export function recipientCert(exportSecrets: string): string | undefined {
  return exportSecrets.startsWith("encrypt:") ? exportSecrets.slice("encrypt:".length) : undefined;
}

/**
 * Built-in listable resource types by API group (Kubernetes 1.29-1.37), without Secrets and
 * without events (the export skips them). Types a cluster's version lacks are harmless in a rule.
 * Why a list and not `apiGroups: ["*"], resources: ["*"]`: RBAC only adds permissions, so a
 * wildcard cannot leave Secrets out ("*" groups include the core group); and `resources: ["*"]`
 * also grants every subresource, e.g. `get` on `nodes/proxy`, which reaches the kubelet API (and
 * through it exec into pods), and `pods/log`. Naming the types grants list/get on the objects and
 * nothing else. A built-in type added by a later Kubernetes release, or a custom resource whose
 * group is not in `exportApiGroups`, is reported by the job as not permitted, not exported.
 */
export const BUILT_IN_TYPES: Readonly<Record<string, readonly string[]>> = {
  "": [
    "configmaps", "endpoints", "limitranges", "namespaces", "nodes", "persistentvolumeclaims", "persistentvolumes",
    "pods", "podtemplates", "replicationcontrollers", "resourcequotas", "serviceaccounts", "services",
  ],
  "admissionregistration.k8s.io": [
    "mutatingadmissionpolicies", "mutatingadmissionpolicybindings", "mutatingwebhookconfigurations",
    "validatingadmissionpolicies", "validatingadmissionpolicybindings", "validatingwebhookconfigurations",
  ],
  "apiextensions.k8s.io": ["customresourcedefinitions"],
  "apiregistration.k8s.io": ["apiservices"],
  apps: ["controllerrevisions", "daemonsets", "deployments", "replicasets", "statefulsets"],
  autoscaling: ["horizontalpodautoscalers"],
  batch: ["cronjobs", "jobs"],
  "certificates.k8s.io": ["certificatesigningrequests", "clustertrustbundles"],
  "coordination.k8s.io": ["leases", "leasecandidates"],
  "discovery.k8s.io": ["endpointslices"],
  "flowcontrol.apiserver.k8s.io": ["flowschemas", "prioritylevelconfigurations"],
  "networking.k8s.io": ["ingressclasses", "ingresses", "ipaddresses", "networkpolicies", "servicecidrs"],
  "node.k8s.io": ["runtimeclasses"],
  policy: ["poddisruptionbudgets"],
  "rbac.authorization.k8s.io": ["clusterrolebindings", "clusterroles", "rolebindings", "roles"],
  "resource.k8s.io": ["deviceclasses", "resourceclaims", "resourceclaimtemplates", "resourceslices"],
  "scheduling.k8s.io": ["priorityclasses"],
  "storage.k8s.io": ["csidrivers", "csinodes", "csistoragecapacities", "storageclasses", "volumeattachments", "volumeattributesclasses"],
};

/**
 * The export's ClusterRole rules: get/list (no watch, no write) on the built-in types, on
 * `secrets` only when they are exported encrypted, and on every resource of each custom resource
 * group in `apiGroups` (a CRD's subresources are only status and scale, both harmless to read).
 */
export function exportRules(exportSecrets: string, apiGroups: readonly string[]): k8s.types.input.rbac.v1.PolicyRule[] {
  const verbs = ["get", "list"];
  const rules: k8s.types.input.rbac.v1.PolicyRule[] = Object.entries(BUILT_IN_TYPES).map(([group, resources]) => ({
    apiGroups: [group],
    resources: group === "" && recipientCert(exportSecrets) !== undefined ? [...resources, "secrets"] : [...resources],
    verbs,
  }));
  if (apiGroups.length > 0) rules.push({ apiGroups: [...apiGroups], resources: ["*"], verbs });
  return rules;
}

/**
 * The export part of the job's script (POSIX sh, `set -eu`; runs after the snapshot part, whose
 * `stamp` it reuses so the export pairs with its snapshot, or alone). Values come from the
 * environment: EXPORT_DIR (a scratch emptyDir), EXPORT_SECRETS, BUCKET, PREFIX, AWS_REGION,
 * NODE_NAME. kubectl uses the pod's ServiceAccount (in-cluster config). Each type listed by
 * `kubectl api-resources --verbs=list` goes to TYPE.yaml; Secrets are skipped, or piped straight
 * into `openssl cms -encrypt` (secrets.cms, never plain on disk); a type the ClusterRole does not
 * allow (Forbidden) is reported, not fatal; any other failure fails the job after the rest is
 * uploaded to s3://BUCKET/PREFIXresources-STAMP-NODE/ and the scratch copy removed.
 */
export const EXPORT_SCRIPT = `set -eu
xfail() { echo "cluster-maintenance: etcd-backup: \${NODE_NAME:-?}: resource export: $*" >&2; exit 1; }
stamp=\${stamp:-$(date -u +%Y%m%dT%H%M%SZ)}
xname="resources-\${stamp}-\${NODE_NAME}"
xdir="\${EXPORT_DIR}/\${xname}"
xerr="\${TMPDIR:-/tmp}/cm-export-$$.err"
cert=""
case $EXPORT_SECRETS in
  exclude) ;;
  encrypt:/*) cert=\${EXPORT_SECRETS#encrypt:}; [ -f "$cert" ] || xfail "the recipient certificate $cert is not mounted" ;;
  *) xfail "EXPORT_SECRETS must be exclude or encrypt:<path>, not '$EXPORT_SECRETS'" ;;
esac
k() { timeout 150 kubectl --request-timeout=120s "$@"; }
rm -rf "\${EXPORT_DIR}"/resources-*
mkdir -p "$xdir"
types=$(k api-resources --verbs=list -o name) || xfail "listing the API resource types failed"
exported=0 skipped="" denied="" failed=""
set -f # the type names are split on whitespace, never globbed
for type in $types; do
  case $type in
    *[!a-z0-9.-]* | [!a-z0-9]*) failed="$failed $type"; continue ;;
    events | events.events.k8s.io) skipped="$skipped $type"; continue ;;
  esac
  if [ "$type" = secrets ]; then
    if [ -z "$cert" ]; then skipped="$skipped secrets"; continue; fi
    rm -f "$xerr.status"
    { k get secrets -A -o yaml 2>"$xerr" || echo failed >"$xerr.status"; } |
      openssl cms -encrypt -aes256 -binary -outform DER -out "$xdir/secrets.cms.part" "$cert" || echo failed >"$xerr.status"
    if [ ! -e "$xerr.status" ]; then
      mv "$xdir/secrets.cms.part" "$xdir/secrets.cms"; exported=$((exported + 1))
    else
      rm -f "$xdir/secrets.cms.part"
      if grep -q Forbidden "$xerr" 2>/dev/null; then denied="$denied secrets"; else failed="$failed secrets"; fi
    fi
    continue
  fi
  if k get "$type" -A -o yaml >"$xdir/$type.yaml.part" 2>"$xerr"; then
    mv "$xdir/$type.yaml.part" "$xdir/$type.yaml"; exported=$((exported + 1))
  else
    rm -f "$xdir/$type.yaml.part"
    if grep -q Forbidden "$xerr"; then denied="$denied $type"; else failed="$failed $type"; fi
  fi
done
set +f
rm -f "$xerr" "$xerr.status"
for f in "$xdir"/*; do
  [ -e "$f" ] || continue
  aws s3 cp "$f" "s3://\${BUCKET}/\${PREFIX}\${xname}/\${f##*/}" --region "$AWS_REGION" --only-show-errors ||
    { rm -rf "$xdir"; xfail "upload of \${f##*/} to s3://\${BUCKET}/\${PREFIX}\${xname}/ failed"; }
done
rm -rf "$xdir"
secrets_note=excluded
[ -z "$cert" ] || secrets_note="encrypted for $cert"
[ -z "$failed" ] || xfail "exporting these types failed:$failed (the other $exported are in s3://\${BUCKET}/\${PREFIX}\${xname}/)"
[ "$exported" -gt 0 ] || xfail "no resource type was exported"
echo "cluster-maintenance: etcd-backup: \${NODE_NAME}: exported $exported resource types to s3://\${BUCKET}/\${PREFIX}\${xname}/ (secrets $secrets_note; skipped:\${skipped:- none}; not permitted:\${denied:- none})"
`;
