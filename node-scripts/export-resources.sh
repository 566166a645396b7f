#!/usr/bin/env bash
# Exports the definitions of every API resource type that can be listed, namespaced and
# cluster-scoped, built-in and custom (CRDs and their objects): one YAML file per type,
# `kubectl get TYPE -A -o yaml`, into OUT_DIR/<UTC timestamp>/. Not `kubectl get all`, which
# covers a handful of workload types only. Events (events, events.events.k8s.io) are skipped.
# Usage: export-resources.sh OUT_DIR SECRETS
#   OUT_DIR  absolute directory on this node (created, mode 0700)
#   SECRETS  exclude                 Secrets are not exported
#            encrypt:/path/cert.pem  Secrets are encrypted for that recipient certificate with
#                                    `openssl cms -encrypt -aes256` into secrets.cms (DER); the
#                                    plain YAML never touches the disk
# Runs where kubectl reaches the cluster as admin (KUBECONFIG, default /etc/kubernetes/admin.conf).
# Every kubectl call is bounded (--request-timeout and timeout). Prints one summary line; exits 1
# (after exporting the rest) when a type could not be exported, 2 on bad arguments.
set -euo pipefail
# cluster-maintenance: include lib/paths.sh
me=export-resources.sh
root="${CM_NODE_ROOT:-}"
node=$(hostname 2>/dev/null) || node="?"
fail() { echo "cluster-maintenance: $me: $node: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }

[[ $# -eq 2 ]] || fail 2 "usage: $me OUT_DIR exclude|encrypt:/path/to/recipient-cert.pem"
out=$1 secrets=$2
owned_dir "$out" || fail 2 "OUT_DIR must be an absolute path (letters, digits, '.', '_', '-', '/'; no '.' or '..' part) of this program's own, not a system directory, not '${out:0:300}'"
cert=""
case $secrets in
  exclude) ;;
  encrypt:/*)
    cert=${secrets#encrypt:}
    plain_path "$cert" || fail 2 "the recipient certificate path '${cert:0:300}' has characters other than letters, digits, '.', '_', '-', '/' or a '.' or '..' part"
    [[ -f $root$cert ]] || fail 2 "the recipient certificate $cert does not exist"
    openssl x509 -in "$root$cert" -noout 2>/dev/null || fail 2 "$cert is not a PEM certificate"
    ;;
  *) fail 2 "SECRETS must be exclude or encrypt:<absolute path of a recipient certificate>, not '$secrets'" ;;
esac
command -v kubectl >/dev/null || fail 1 "kubectl not found"
export KUBECONFIG="${KUBECONFIG:-$root/etc/kubernetes/admin.conf}"
k() { timeout 150 kubectl --request-timeout=120s "$@"; }

umask 077
stamp=$(date -u +%Y%m%dT%H%M%SZ)
dir="$root$out/$stamp"
[[ ! -e $dir ]] || fail 1 "$out/$stamp already exists"
mkdir -p "$dir" || fail 1 "creating $out/$stamp failed"

types=$(k api-resources --verbs=list -o name) || fail 1 "listing the API resource types failed"
exported=0 skipped=() failed=()
while IFS= read -r type; do
  [[ -n $type ]] || continue
  [[ $type =~ ^[a-z0-9][a-z0-9.-]*$ ]] || { failed+=("$type"); continue; }
  case $type in
    events | events.events.k8s.io) skipped+=("$type"); continue ;;
    secrets)
      if [[ -z $cert ]]; then skipped+=("$type"); continue; fi
      if k get secrets -A -o yaml |
        openssl cms -encrypt -aes256 -binary -outform DER -out "$dir/secrets.cms.part" "$root$cert"; then
        mv "$dir/secrets.cms.part" "$dir/secrets.cms"
        exported=$((exported + 1))
      else
        rm -f "$dir/secrets.cms.part"
        failed+=("$type")
      fi
      continue
      ;;
  esac
  if k get "$type" -A -o yaml >"$dir/$type.yaml.part"; then
    mv "$dir/$type.yaml.part" "$dir/$type.yaml"
    exported=$((exported + 1))
  else
    rm -f "$dir/$type.yaml.part"
    failed+=("$type")
  fi
done < <(printf '%s\n' "$types" | sort -u)

secrets_note=excluded
[[ -z $cert ]] || secrets_note="encrypted for $cert"
if [[ ${#failed[@]} -gt 0 ]]; then
  fail 1 "exporting these types failed: ${failed[*]} (the other $exported are in $out/$stamp)"
fi
[[ $exported -gt 0 ]] || fail 1 "no resource type was exported"
echo "cluster-maintenance: $me: $node: exported $exported resource types to $out/$stamp (secrets $secrets_note; skipped: ${skipped[*]:-none})"
