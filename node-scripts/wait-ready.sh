#!/usr/bin/env bash
# Waits until a node is Ready with its kubelet at vVERSION or past it (and, when BOOT_ID_NOT is
# given, with a boot id other than that one: it has rebooted). Runs where kubectl reaches the cluster.
# Usage: wait-ready.sh NODE VERSION TIMEOUT_SECONDS [BOOT_ID_NOT]
# Exit 5 when that is not so within TIMEOUT_SECONDS.
set -euo pipefail
me=wait-ready.sh
root="${CM_NODE_ROOT:-}"
fail() { echo "cluster-maintenance: $me: ${node:-?}: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }
# cluster-maintenance: include lib/versions.sh

[[ $# -eq 3 || $# -eq 4 ]] || fail 2 "usage: $me NODE VERSION TIMEOUT_SECONDS [BOOT_ID_NOT]"
node=$1 version=v$2 limit=$3 old_boot=${4:-}
[[ $node =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] || fail 2 "bad node name"
[[ $2 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail 2 "bad version '$2'"
[[ $limit =~ ^[1-9][0-9]{0,5}$ ]] || fail 2 "TIMEOUT_SECONDS must be a positive number of seconds"
[[ $old_boot =~ ^[-0-9a-f]*$ ]] || fail 2 "bad boot id '$old_boot'"
export KUBECONFIG="${KUBECONFIG:-$root/etc/kubernetes/admin.conf}"
tpl='{.status.conditions[?(@.type=="Ready")].status}|{.status.nodeInfo.kubeletVersion}|{.status.nodeInfo.bootID}'

deadline=$((SECONDS + limit))
first=1 error=""
while :; do
  seen=$(kubectl --request-timeout=10s get node "$node" -o "jsonpath=$tpl" 2>/dev/null) || seen=""
  IFS='|' read -r ready kubelet boot <<<"$seen"
  if [[ $ready == True && (-z $old_boot || (-n $boot && $boot != "$old_boot")) ]] && version_at_least "$kubelet" "$2"; then
    at=$version
    [[ $kubelet == "$version" ]] || at="$kubelet, past $version"
    if [[ $first -eq 1 ]]; then say "already done: Ready at $at"; else say "Ready at $at"; fi
    exit 0
  fi
  if ((SECONDS >= deadline)); then
    [[ -n $seen ]] || error=$(kubectl --request-timeout=10s get node "$node" 2>&1 >/dev/null | tail -n 1) || true
    fail 5 "not Ready at $version within ${limit}s (Ready=${ready:-unknown}, kubelet ${kubelet:-unknown}${old_boot:+, boot id ${boot:-unknown}, waiting for one other than $old_boot}${error:+; last kubectl error: $error})"
  fi
  first=0
  sleep 2
done
