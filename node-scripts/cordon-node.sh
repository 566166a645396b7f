#!/usr/bin/env bash
# Cordons an old (blue) node of a blue-green pool before its drain, and undoes that cordon: the
# create and delete hooks of one command. Runs where kubectl reaches the cluster.
# Usage: cordon-node.sh cordon NODE | cordon-node.sh uncordon NODE
# cordon: as drain.sh's first step. A node this program cordons gets the annotation
#   cluster-maintenance.io/cordoned=true first; a node an operator had cordoned gets
#   cluster-maintenance.io/operator-cordoned=true instead and is left as it is. A node that is not
#   in the cluster is an error (exit 1). Done when the node is cordoned.
# uncordon: a node no longer in the cluster (its Node object deleted) is done ("already gone");
#   else as uncordon.sh: only a cordon of this program's is undone, with its annotation removed.
set -euo pipefail
me=cordon-node.sh
root="${CM_NODE_ROOT:-}"
fail() { echo "cluster-maintenance: $me: ${node:-?}: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }

[[ $# -eq 2 && ($1 == cordon || $1 == uncordon) ]] || fail 2 "usage: $me cordon|uncordon NODE"
mode=$1 node=$2
[[ $node =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] || fail 2 "bad node name"
export KUBECONFIG="${KUBECONFIG:-$root/etc/kubernetes/admin.conf}"
ours=cluster-maintenance.io/cordoned
operator=cluster-maintenance.io/operator-cordoned
k() { kubectl --request-timeout=30s "$@"; }
get() { k get node "$node" --ignore-not-found -o "jsonpath=$1"; }

# One read: "<name>|<unschedulable>|<our mark>|<operator mark>"; the name is empty when absent.
seen=$(get '{.metadata.name}|{.spec.unschedulable}|{.metadata.annotations.cluster-maintenance\.io/cordoned}|{.metadata.annotations.cluster-maintenance\.io/operator-cordoned}') ||
  fail 1 "reading the node failed"
IFS='|' read -r name unschedulable mark op_mark <<<"$seen"

if [[ $mode == cordon ]]; then
  [[ -n $name ]] || fail 1 "not in the cluster; nothing to cordon"
  if [[ $unschedulable == true ]]; then
    if [[ $mark == true ]]; then
      say "already done: cordoned"
    elif [[ $op_mark == true ]]; then
      say "already done: cordoned by an operator, left as it is"
    else
      k annotate node "$node" "$operator=true" --overwrite >/dev/null || fail 1 "annotating it as operator-cordoned failed"
      say "was cordoned by an operator; it stays cordoned if the replacement is rolled back"
    fi
  else
    if [[ $op_mark == true ]]; then
      k annotate node "$node" "$operator-" >/dev/null || fail 1 "removing the stale $operator annotation failed"
    fi
    k annotate node "$node" "$ours=true" --overwrite >/dev/null || fail 1 "annotating it before cordoning failed"
    k cordon "$node" >/dev/null || fail 1 "cordon failed"
    say "cordoned"
  fi
  exit 0
fi

if [[ -z $name ]]; then
  say "already gone: not in the cluster"
elif [[ $mark == true ]]; then
  if [[ $unschedulable == true ]]; then
    k uncordon "$node" >/dev/null || fail 1 "uncordon failed"
  fi
  k annotate node "$node" "$ours-" >/dev/null || fail 1 "removing the cordoned annotation failed"
  say "uncordoned"
elif [[ $unschedulable == true ]]; then
  say "was cordoned by an operator before; left cordoned"
else
  say "already done: schedulable"
fi
