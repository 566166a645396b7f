#!/usr/bin/env bash
# Cordons and drains a node through the eviction API (PodDisruptionBudgets respected).
# Usage: drain.sh NODE VERSION TIMEOUT_SECONDS DELETE_EMPTYDIR ALLOW_UNMANAGED DISABLE_EVICTION
#        (VERSION X.Y.Z, the step's, or `any`; the last three true|false; runs where kubectl
#        reaches the cluster)
# A node whose kubelet is already at or past VERSION is not drained (nor cordoned), unless a
# drain of ours did not finish on it (it is cordoned with our annotation): then it goes on.
# A node this program cordons gets the annotation cluster-maintenance.io/cordoned=true first; a
# node an operator had cordoned gets cluster-maintenance.io/operator-cordoned=true instead and is
# left cordoned by uncordon.sh. Pods without a controller and pods with emptyDir volumes are
# refused (exit 3, listed) unless allowed. Done when the node is cordoned and has no pod left to
# evict.
# A drain that does not finish in time exits 4 with the node left cordoned, saying why for each pod
# still to go (lib/drain-why.sh: the PodDisruptionBudget a dry-run eviction names, pods stuck
# Terminating on a kubelet that is not reporting, or what else is so).
set -euo pipefail
me=drain.sh
root="${CM_NODE_ROOT:-}"
fail() { echo "cluster-maintenance: $me: ${node:-?}: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }

[[ $# -eq 6 ]] || fail 2 "usage: $me NODE VERSION|any TIMEOUT_SECONDS DELETE_EMPTYDIR ALLOW_UNMANAGED DISABLE_EVICTION"
node=$1 version=$2 timeout_s=$3 emptydir=$4 unmanaged=$5 no_eviction=$6
[[ $node =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] || fail 2 "bad node name"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ || $version == any ]] || fail 2 "VERSION must be X.Y.Z or any, not '$version'"
[[ $timeout_s =~ ^[1-9][0-9]{0,5}$ ]] || fail 2 "TIMEOUT_SECONDS must be a positive number of seconds"
for flag in "$emptydir" "$unmanaged" "$no_eviction"; do
  [[ $flag == true || $flag == false ]] || fail 2 "flags must be true or false, not '$flag'"
done
export KUBECONFIG="${KUBECONFIG:-$root/etc/kubernetes/admin.conf}"
ours=cluster-maintenance.io/cordoned
operator=cluster-maintenance.io/operator-cordoned
k() { kubectl --request-timeout=30s "$@"; }
get() { k get node "$node" -o "jsonpath=$1"; }
# cluster-maintenance: include lib/versions.sh
# cluster-maintenance: include lib/node-health.sh
# cluster-maintenance: include lib/drain-why.sh

# 1. A node already at or past VERSION is left alone, unless a drain of ours did not finish on it.
unschedulable=$(get '{.spec.unschedulable}') || fail 1 "reading node $node failed"
mark=$(get '{.metadata.annotations.cluster-maintenance\.io/cordoned}') || fail 1 "reading node $node failed"
op_mark=$(get '{.metadata.annotations.cluster-maintenance\.io/operator-cordoned}') || fail 1 "reading node $node failed"
if [[ $version != any && ($unschedulable != true || $mark != true) ]]; then
  kubelet=$(get '{.status.nodeInfo.kubeletVersion}') || fail 1 "reading node $node failed"
  if version_at_least "$kubelet" "$version"; then
    say "already at or past v$version (kubelet $kubelet): not drained"
    exit 0
  fi
fi

# 2. Cordon, remembering who did.
if [[ $unschedulable == true ]]; then
  if [[ $mark != true && $op_mark != true ]]; then
    k annotate node "$node" "$operator=true" --overwrite >/dev/null || fail 1 "annotating $node as operator-cordoned failed"
    say "was cordoned by an operator; it stays cordoned after the upgrade"
  fi
else
  if [[ $op_mark == true ]]; then
    k annotate node "$node" "$operator-" >/dev/null || fail 1 "removing the stale $operator annotation failed"
  fi
  k annotate node "$node" "$ours=true" --overwrite >/dev/null || fail 1 "annotating $node before cordoning failed"
  k cordon "$node" >/dev/null || fail 1 "cordoning $node failed"
  say "cordoned"
  cordoned_now=1
fi

# 3. Pods that a drain would remove (DaemonSet, mirror and finished pods are not).
tpl='{range .items[*]}{.metadata.namespace}/{.metadata.name}|{.status.phase}|{.metadata.ownerReferences[?(@.controller==true)].kind}|{.metadata.annotations.kubernetes\.io/config\.mirror}|{.spec.volumes[?(@.emptyDir)].name}{"\n"}{end}'
pods=$(k get pods --all-namespaces --field-selector "spec.nodeName=$node" -o "jsonpath=$tpl") ||
  fail 1 "listing the pods on $node failed"
count=0 no_controller=() with_emptydir=()
while IFS='|' read -r pod phase owner mirror volumes; do
  [[ -n $pod && -z $mirror && $owner != DaemonSet && $phase != Succeeded && $phase != Failed ]] || continue
  count=$((count + 1))
  if [[ -z $owner ]]; then no_controller+=("$pod"); fi
  if [[ -n $volumes ]]; then with_emptydir+=("$pod"); fi
done <<<"$pods"
refusals=()
if [[ $unmanaged != true && ${#no_controller[@]} -gt 0 ]]; then
  refusals+=("pods without a controller (deleting them loses them for good; not allowed for this node's pool): ${no_controller[*]}")
fi
if [[ $emptydir != true && ${#with_emptydir[@]} -gt 0 ]]; then
  refusals+=("pods with emptyDir volumes (their data would be deleted; not allowed for this node's pool): ${with_emptydir[*]}")
fi
if [[ ${#refusals[@]} -gt 0 ]]; then
  joined=$(printf '%s; ' "${refusals[@]}")
  fail 3 "drain refused: ${joined}$node stays cordoned"
fi
if [[ $count -eq 0 ]]; then
  if [[ -n ${cordoned_now:-} ]]; then say "no pods to evict"; else say "already done: cordoned, no pods to evict"; fi
  exit 0
fi

# 4. Drain, bounded.
flags=(--ignore-daemonsets "--timeout=${timeout_s}s")
if [[ $emptydir == true ]]; then flags+=(--delete-emptydir-data); fi
if [[ $unmanaged == true ]]; then flags+=(--force); fi
if [[ $no_eviction == true ]]; then flags+=(--disable-eviction); fi
if timeout "$((timeout_s + 60))" kubectl drain "$node" "${flags[@]}"; then
  say "drained"
  exit 0
fi

# 5. Why not, for each pod still to go, as the API tells it (lib/drain-why.sh).
fail 4 "drain of $node did not finish within ${timeout_s}s: $(drain_why "$node" "$no_eviction")$node stays cordoned"
