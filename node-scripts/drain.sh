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
# still to go (the first 10; each kubectl call at most 10 s, no pod checked after 60 s): a pod being
# deleted while the node's kubelet is not reporting (Ready not True, or its Lease not renewed:
# lib/node-health.sh) is stuck Terminating until the kubelet returns or an operator force-deletes
# it (never done here); any other pod is asked about with a server-side dry-run eviction, whose 429
# names the PodDisruptionBudget in details.causes[].message (kubectl drain prints only the generic
# message; kubectl -v=4 logs the whole Status); else what is so is said (being deleted, eviction
# allowed now).
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

# 5. Why not, for each pod still to go, as the API tells it. Names reach paths and JSON only when
#    they are names the API allows (a namespace is a DNS label, a pod name a DNS subdomain).
deadline=$((SECONDS + 60))
kd() { kube_bounded "$(time_left "$deadline")" "$@"; }
ns_re='^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'
name_re='^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$'

# eviction_why NS NAME: what a server-side dry-run eviction of NS/NAME answers, as a sentence.
eviction_why() {
  local out budgets="" msg pdb
  if out=$(printf '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"namespace":"%s","name":"%s"},"deleteOptions":{"dryRun":["All"]}}' "$1" "$2" |
    kd create --raw "/api/v1/namespaces/$1/pods/$2/eviction" -f - -v=4 2>&1 >/dev/null); then
    echo "its eviction is allowed now (a server-side dry run) but it was not evicted in time"
    return
  fi
  # The Status as kubectl -v=4 logs it ("server response object"): one cause message a line.
  while IFS= read -r msg; do
    pdb=${msg#The disruption budget }
    pdb=${pdb%% *}
    [[ $pdb =~ $name_re ]] || pdb="?"
    budgets+="${budgets:+, }PodDisruptionBudget $1/$pdb (\"$msg\")"
  done < <(grep -o '"message": *"The disruption budget [^"]*"' <<<"$out" | sed 's/^"message": *"//; s/"$//' | awk '!seen[$0]++')
  if [[ -n $budgets ]]; then
    echo "its eviction is refused by $budgets"
  else
    out=$(tail -n 1 <<<"$out")
    echo "the eviction API answers a server-side dry run with: ${out:-no answer in time}"
  fi
}

left_tpl='{range .items[*]}{.metadata.namespace}|{.metadata.name}|{.status.phase}|{.metadata.ownerReferences[?(@.controller==true)].kind}|{.metadata.annotations.kubernetes\.io/config\.mirror}|{.metadata.deletionTimestamp}|{.metadata.deletionGracePeriodSeconds}|{.metadata.finalizers[*]}{"\n"}{end}'
err=$(mktemp)
trap 'rm -f "$err"' EXIT
if ! left=$(kd get pods --all-namespaces --field-selector "spec.nodeName=$node" -o "jsonpath=$left_tpl" 2>"$err"); then
  fail 4 "drain of $node did not finish within ${timeout_s}s; listing the pods left on it failed: $(tail -n 1 "$err"); $node stays cordoned"
fi
reasons=() stuck=() checked=0 more=0 kubelet_state="" silent=""
while IFS='|' read -r ns name phase owner mirror deleting grace finalizers; do
  [[ -n $name && -z $mirror && $owner != DaemonSet && $phase != Succeeded && $phase != Failed ]] || continue
  if ((checked >= 10 || SECONDS >= deadline)); then
    more=$((more + 1))
    continue
  fi
  checked=$((checked + 1))
  if ! [[ $ns =~ $ns_re && $name =~ $name_re ]]; then
    reasons+=("a pod with an unexpected name is left (not checked)")
    continue
  fi
  pod="$ns/$name"
  if [[ -n $deleting ]]; then
    if [[ -z $kubelet_state ]]; then
      # Whether the node's kubelet reports: its Ready condition, then (Ready True) its Lease.
      kubelet_state=reporting
      if seen=$(kd get node "$node" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}|{.status.conditions[?(@.type=="Ready")].reason}|{.status.conditions[?(@.type=="Ready")].message}' 2>"$err"); then
        IFS='|' read -r ready reason message <<<"$seen"
        if [[ $ready == True ]] && ! lease_check "$node" "$(time_left "$deadline")"; then
          kubelet_state="not known: its Lease could not be read: ${lease_error:-}"
        else
          silent=$(not_ready_why "$ready" "$reason" "$message")
          [[ -z $silent ]] || kubelet_state=silent
        fi
      else
        kubelet_state="not known: reading node $node failed: $(tail -n 1 "$err")"
      fi
    fi
    if [[ $kubelet_state == silent ]]; then
      stuck+=("$pod")
    else
      reasons+=("$pod is being deleted (since $deleting, grace period ${grace:-?} s${finalizers:+, finalizers $finalizers}) and not gone yet; whether the kubelet on $node reports: $kubelet_state")
    fi
  elif [[ $no_eviction == true ]]; then
    reasons+=("$pod is still there (${phase:-no phase}) and not being deleted")
  else
    reasons+=("$pod: $(eviction_why "$ns" "$name")")
  fi
done <<<"$left"
if [[ ${#stuck[@]} -gt 0 ]]; then
  reasons+=("stuck Terminating because the kubelet on $node is not reporting ($silent): ${stuck[*]}; they go when the kubelet returns; if the machine is gone for good, an operator may force-delete them (kubectl delete pod -n NAMESPACE NAME --force --grace-period=0; this script never does)")
fi
if ((more > 0)); then reasons+=("and $more more pods left, not checked"); fi
if [[ ${#reasons[@]} -eq 0 ]]; then reasons+=("no pod is left to evict on it now (kubectl drain's own error is above)"); fi
why=$(printf '%s; ' "${reasons[@]}")
fail 4 "drain of $node did not finish within ${timeout_s}s: ${why}$node stays cordoned"
