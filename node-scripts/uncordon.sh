#!/usr/bin/env bash
# Uncordons a node this program cordoned (annotation cluster-maintenance.io/cordoned=true) and
# removes that annotation; a node cordoned by an operator stays cordoned. Runs where kubectl
# reaches the cluster.
# Usage: uncordon.sh NODE
# Done when the node has no cordoned annotation (schedulable, or left cordoned for its operator).
set -euo pipefail
me=uncordon.sh
root="${CM_NODE_ROOT:-}"
fail() { echo "cluster-maintenance: $me: ${node:-?}: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }

[[ $# -eq 1 && $1 =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] || fail 2 "usage: $me NODE"
node=$1
export KUBECONFIG="${KUBECONFIG:-$root/etc/kubernetes/admin.conf}"
k() { kubectl --request-timeout=30s "$@"; }
get() { k get node "$node" -o "jsonpath=$1"; }

mark=$(get '{.metadata.annotations.cluster-maintenance\.io/cordoned}') || fail 1 "reading the node failed"
unschedulable=$(get '{.spec.unschedulable}') || fail 1 "reading the node failed"
if [[ $mark == true ]]; then
  if [[ $unschedulable == true ]]; then
    k uncordon "$node" >/dev/null || fail 1 "uncordon failed"
  fi
  k annotate node "$node" cluster-maintenance.io/cordoned- >/dev/null || fail 1 "removing the cordoned annotation failed"
  say "uncordoned"
elif [[ $unschedulable == true ]]; then
  say "was cordoned by an operator before; left cordoned"
else
  say "already done: schedulable"
fi
