#!/usr/bin/env bash
# A node of a blue-green pool's color, seen from the cluster: the create hook of its readiness gate
# (wait-joined) and the delete hook of its removal command (remove, when the color leaves the
# program: a rollback, or the old color once the pool's version is set). Runs where kubectl
# reaches the cluster.
# Usage: pool-node.sh wait-joined NODE VERSION TIMEOUT_SECONDS
#        pool-node.sh remove NODE DRAIN_TIMEOUT_SECONDS DELETE_EMPTYDIR ALLOW_UNMANAGED DISABLE_EVICTION
#        (the last three true|false)
# wait-joined: waits until NODE is registered, Ready and runs kubelet vVERSION. Ready: the Ready
#   condition True and the node's Lease renewed within its leaseDurationSeconds (lib/node-health.sh:
#   a stopped kubelet leaves Ready True for 50 s, then Unknown). When that is not so within
#   TIMEOUT_SECONDS (a deadline; every kubectl call bounded by the time left, at most 10 s), exit 5
#   with why: it has not joined, it is NotReady (Unknown, the Ready condition's reason and message,
#   or a stale Lease), or it runs another kubelet version.
# remove: a node not in the cluster is done ("already gone"). Else it is cordoned (annotation
#   cluster-maintenance.io/cordoned=true first), drained as drain.sh drains (pods without a
#   controller and pods with emptyDir volumes refused unless allowed: exit 3, the node stays
#   cordoned; a drain that does not finish in time: exit 4, saying why per pod as drain.sh does,
#   lib/drain-why.sh) and its Node object deleted. The
#   instance is terminated by Pulumi afterwards.
set -euo pipefail
me=pool-node.sh
root="${CM_NODE_ROOT:-}"
fail() { echo "cluster-maintenance: $me: ${node:-?}: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }
# cluster-maintenance: include lib/node-health.sh
# cluster-maintenance: include lib/drain-why.sh

usage="usage: $me wait-joined NODE VERSION TIMEOUT_SECONDS | $me remove NODE DRAIN_TIMEOUT_SECONDS DELETE_EMPTYDIR ALLOW_UNMANAGED DISABLE_EVICTION"
mode=${1:-}
case $mode in
  wait-joined) [[ $# -eq 4 ]] || fail 2 "$usage" ;;
  remove) [[ $# -eq 6 ]] || fail 2 "$usage" ;;
  *) fail 2 "$usage" ;;
esac
node=$2
[[ $node =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] || fail 2 "bad node name"
export KUBECONFIG="${KUBECONFIG:-$root/etc/kubernetes/admin.conf}"
k() { kubectl --request-timeout=30s "$@"; }

if [[ $mode == wait-joined ]]; then
  [[ $3 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail 2 "bad version '$3'"
  [[ $4 =~ ^[1-9][0-9]{0,5}$ ]] || fail 2 "TIMEOUT_SECONDS must be a positive number of seconds"
  version=v$3 limit=$4
  ready_tpl='{.status.conditions[?(@.type=="Ready")]'
  tpl="{.metadata.name}|${ready_tpl}.status}|{.status.nodeInfo.kubeletVersion}|${ready_tpl}.reason}|${ready_tpl}.message}"
  deadline=$((SECONDS + limit))
  err=$(mktemp)
  trap 'rm -f "$err"' EXIT
  first=1
  while :; do
    read_ok=1 why="" error="" name="" ready="" kubelet="" reason="" message=""
    if seen=$(kube_bounded "$(time_left "$deadline")" get node "$node" --ignore-not-found -o "jsonpath=$tpl" 2>"$err"); then
      IFS='|' read -r name ready kubelet reason message <<<"$seen"
      if [[ -n $name && $ready == True ]] && ! lease_check "$node" "$(time_left "$deadline")"; then
        read_ok=0 error="reading its Lease: ${lease_error:-}"
      elif [[ -n $name ]]; then
        why=$(not_ready_why "$ready" "$reason" "$message")
      fi
    else
      read_ok=0 error=$(tail -n 1 "$err")
    fi
    if [[ $read_ok -eq 1 && -n $name && -z $why && $kubelet == "$version" ]]; then
      if [[ $first -eq 1 ]]; then say "already done: joined, Ready at $version"; else say "joined, Ready at $version"; fi
      exit 0
    fi
    if ((SECONDS >= deadline)); then
      if [[ $read_ok -eq 0 ]]; then
        fail 5 "its state is unknown after ${limit}s: reading it failed${error:+: $error}"
      elif [[ -z $name ]]; then
        fail 5 "has not joined the cluster within ${limit}s (its instance did not boot or kubeadm join failed: see /var/log/cloud-init-output.log on the instance)"
      elif [[ -n $why ]]; then
        fail 5 "is $why (after ${limit}s)"
      else
        fail 5 "runs kubelet ${kubelet:-unknown}, not $version (after ${limit}s)"
      fi
    fi
    first=0
    sleep "$(time_left "$deadline" 2)"
  done
fi

# remove
timeout_s=$3 emptydir=$4 unmanaged=$5 no_eviction=$6
[[ $timeout_s =~ ^[1-9][0-9]{0,5}$ ]] || fail 2 "DRAIN_TIMEOUT_SECONDS must be a positive number of seconds"
for flag in "$emptydir" "$unmanaged" "$no_eviction"; do
  [[ $flag == true || $flag == false ]] || fail 2 "flags must be true or false, not '$flag'"
done
ours=cluster-maintenance.io/cordoned

# 1. Cordon (a node absent from the cluster is done).
seen=$(k get node "$node" --ignore-not-found -o 'jsonpath={.metadata.name}|{.spec.unschedulable}') ||
  fail 1 "reading node $node failed"
IFS='|' read -r name unschedulable <<<"$seen"
if [[ -z $name ]]; then
  say "already gone: not in the cluster"
  exit 0
fi
if [[ $unschedulable != true ]]; then
  k annotate node "$node" "$ours=true" --overwrite >/dev/null || fail 1 "annotating $node before cordoning failed"
  k cordon "$node" >/dev/null || fail 1 "cordoning $node failed"
  say "cordoned"
fi

# 2. Pods that a drain would remove (DaemonSet, mirror and finished pods are not), as drain.sh.
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

# 3. Drain, bounded.
if [[ $count -gt 0 ]]; then
  flags=(--ignore-daemonsets "--timeout=${timeout_s}s")
  if [[ $emptydir == true ]]; then flags+=(--delete-emptydir-data); fi
  if [[ $unmanaged == true ]]; then flags+=(--force); fi
  if [[ $no_eviction == true ]]; then flags+=(--disable-eviction); fi
  if ! timeout "$((timeout_s + 60))" kubectl drain "$node" "${flags[@]}"; then
    fail 4 "drain of $node did not finish within ${timeout_s}s: $(drain_why "$node" "$no_eviction")$node stays cordoned"
  fi
  say "drained"
fi

# 4. Delete the Node object.
k delete node "$node" --ignore-not-found --timeout=60s >/dev/null || fail 1 "deleting node $node failed"
say "deleted from the cluster"
