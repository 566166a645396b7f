#!/usr/bin/env bash
# Deletes the Node objects of the old (blue) nodes of a blue-green pool once they are drained
# (their instances are terminated by Pulumi afterwards). Runs where kubectl reaches the cluster.
# Usage: delete-nodes.sh NODE...
# A node not in the cluster is skipped. Refuses (exit 3, nothing deleted) when a NODE still runs
# pods other than DaemonSet, mirror and finished pods: it was not drained; they are listed.
# Done when no NODE is in the cluster.
# Usage: delete-nodes.sh --dead NODE...   (a node removed for good that cannot be drained: its
# machine is gone or down). Every NODE first: one not in the cluster is "already gone"; one whose
# Ready condition is True is refused (exit 3, nothing deleted: "node X is Ready: it is not dead;
# remove `dead: true` from its removeNodes entry so it is drained and reset"). Then for each: every
# pod bound to it, one line each, "ns/name (Kind)" for a pod with a controller (which makes a new
# one elsewhere; a DaemonSet's is not replaced, a mirror pod goes with its node) and "ns/name: no
# controller, lost for good" for one without; then `kubectl delete node` (--ignore-not-found,
# bounded). The pods themselves are left to kube-controller-manager's pod garbage collector, which
# deletes the pods bound to a node that no longer exists
# (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-garbage-collection). A
# control-plane node's etcd member is not touched here (etcd-member.sh).
# Exit codes: 0 done, 1 a kubectl call failed, 2 bad usage, 3 refused.
set -euo pipefail
me=delete-nodes.sh
root="${CM_NODE_ROOT:-}"
fail() { echo "cluster-maintenance: $me: ${node:-?}: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }

dead=""
if [[ ${1:-} == --dead ]]; then
  dead=yes
  shift
  [[ $# -ge 1 ]] || fail 2 "usage: $me --dead NODE..."
fi
[[ $# -ge 1 ]] || fail 2 "usage: $me NODE..."
for node in "$@"; do
  [[ $node =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] || fail 2 "bad node name"
done
node=""
export KUBECONFIG="${KUBECONFIG:-$root/etc/kubernetes/admin.conf}"
k() { kubectl --request-timeout=30s "$@"; }
tpl='{range .items[*]}{.metadata.namespace}/{.metadata.name}|{.status.phase}|{.metadata.ownerReferences[?(@.controller==true)].kind}|{.metadata.annotations.kubernetes\.io/config\.mirror}{"\n"}{end}'
# pods_on NODE: "namespace/name|phase|controller kind|mirror annotation" of each pod bound to NODE.
pods_on() { k get pods --all-namespaces --field-selector "spec.nodeName=$1" -o "jsonpath=$tpl" || fail 1 "listing the pods on $1 failed"; }
delete_node() { k delete node "$1" --ignore-not-found --timeout=60s >/dev/null || fail 1 "deleting node $1 failed"; }

# --dead: every node first (a Ready one refuses them all), then each one's pods listed and the node deleted.
if [[ -n $dead ]]; then
  ready_tpl='{.metadata.name}|{.status.conditions[?(@.type=="Ready")].status}'
  present=() refused=()
  declare -A ready=()
  for node in "$@"; do
    line=$(k get node "$node" --ignore-not-found -o "jsonpath=$ready_tpl") || fail 1 "reading node $node failed"
    if [[ -z $line ]]; then
      say "already gone: not in the cluster"
      continue
    fi
    ready[$node]=${line#*|}
    if [[ ${ready[$node]} == True ]]; then
      say "node $node is Ready: it is not dead; remove \`dead: true\` from its removeNodes entry so it is drained and reset"
      refused+=("$node")
    fi
    present+=("$node")
  done
  if [[ ${#refused[@]} -gt 0 ]]; then
    node=${refused[0]}
    fail 3 "refusing to delete nodes that are Ready: ${refused[*]}; nothing deleted"
  fi
  for node in "${present[@]}"; do
    pods=$(pods_on "$node")
    say "not Ready (Ready: ${ready[$node]:-no condition}): deleting its Node object without a drain; the pods bound to it:"
    lost=() count=0
    while IFS='|' read -r pod phase owner mirror; do
      [[ -n $pod ]] || continue
      count=$((count + 1))
      if [[ -n $mirror ]]; then
        say "$pod (mirror pod of a static pod: goes with the node)"
      elif [[ -n $owner ]]; then
        say "$pod ($owner)"
      elif [[ $phase == Succeeded || $phase == Failed ]]; then
        say "$pod: no controller, finished ($phase)"
      else
        say "$pod: no controller, lost for good"
        lost+=("$pod")
      fi
    done <<<"$pods"
    if ((count == 0)); then say "no pods bound to it"; fi
    delete_node "$node"
    if [[ ${#lost[@]} -gt 0 ]]; then
      say "deleted from the cluster; lost for good (no controller): ${lost[*]}; kube-controller-manager's pod garbage collector deletes the pods bound to it"
    else
      say "deleted from the cluster; kube-controller-manager's pod garbage collector deletes the pods bound to it"
    fi
  done
  exit 0
fi

# 1. Every node first: present ones must be drained, or nothing is deleted.
present=() refused=()
for node in "$@"; do
  name=$(k get node "$node" --ignore-not-found -o 'jsonpath={.metadata.name}') || fail 1 "reading node $node failed"
  if [[ -z $name ]]; then
    say "already gone: not in the cluster"
    continue
  fi
  pods=$(pods_on "$node")
  left=()
  while IFS='|' read -r pod phase owner mirror; do
    [[ -n $pod && -z $mirror && $owner != DaemonSet && $phase != Succeeded && $phase != Failed ]] || continue
    left+=("$pod")
  done <<<"$pods"
  if [[ ${#left[@]} -gt 0 ]]; then
    echo "cluster-maintenance: $me: $node: still runs pods (it was not drained): ${left[*]}" >&2
    refused+=("$node")
  fi
  present+=("$node")
done
if [[ ${#refused[@]} -gt 0 ]]; then
  node=${refused[0]}
  fail 3 "refusing to delete nodes that were not drained: ${refused[*]}; nothing deleted"
fi

# 2. Delete.
for node in "${present[@]}"; do
  delete_node "$node"
  say "deleted from the cluster"
done
