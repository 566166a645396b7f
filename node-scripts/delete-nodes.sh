#!/usr/bin/env bash
# Deletes the Node objects of the old (blue) nodes of a blue-green pool once they are drained
# (their instances are terminated by Pulumi afterwards). Runs where kubectl reaches the cluster.
# Usage: delete-nodes.sh NODE...
# A node not in the cluster is skipped. Refuses (exit 3, nothing deleted) when a NODE still runs
# pods other than DaemonSet, mirror and finished pods: it was not drained; they are listed.
# Done when no NODE is in the cluster.
set -euo pipefail
me=delete-nodes.sh
root="${CM_NODE_ROOT:-}"
fail() { echo "cluster-maintenance: $me: ${node:-?}: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }

[[ $# -ge 1 ]] || fail 2 "usage: $me NODE..."
for node in "$@"; do
  [[ $node =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] || fail 2 "bad node name"
done
node=""
export KUBECONFIG="${KUBECONFIG:-$root/etc/kubernetes/admin.conf}"
k() { kubectl --request-timeout=30s "$@"; }
tpl='{range .items[*]}{.metadata.namespace}/{.metadata.name}|{.status.phase}|{.metadata.ownerReferences[?(@.controller==true)].kind}|{.metadata.annotations.kubernetes\.io/config\.mirror}{"\n"}{end}'

# 1. Every node first: present ones must be drained, or nothing is deleted.
present=() refused=()
for node in "$@"; do
  name=$(k get node "$node" --ignore-not-found -o 'jsonpath={.metadata.name}') || fail 1 "reading node $node failed"
  if [[ -z $name ]]; then
    say "already gone: not in the cluster"
    continue
  fi
  pods=$(k get pods --all-namespaces --field-selector "spec.nodeName=$node" -o "jsonpath=$tpl") ||
    fail 1 "listing the pods on $node failed"
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
  k delete node "$node" --ignore-not-found --timeout=60s >/dev/null || fail 1 "deleting node $node failed"
  say "deleted from the cluster"
done
