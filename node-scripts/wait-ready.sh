#!/usr/bin/env bash
# Waits until a node is Ready with its kubelet at vVERSION or past it (and, when BOOT_ID_NOT is
# given, with a boot id other than that one: it has rebooted). Runs where kubectl reaches the cluster.
# Usage: wait-ready.sh NODE VERSION TIMEOUT_SECONDS [BOOT_ID_NOT]
# Ready: the Ready condition True and the node's Lease renewed within its leaseDurationSeconds
# (lib/node-health.sh: a stopped kubelet leaves Ready True for 50 s, then Unknown).
# Exit 5 when that is not so within TIMEOUT_SECONDS: a deadline, every kubectl call bounded by the
# time left (at most 10 s), so the script gives up within TIMEOUT_SECONDS and a second or two.
set -euo pipefail
me=wait-ready.sh
root="${CM_NODE_ROOT:-}"
fail() { echo "cluster-maintenance: $me: ${node:-?}: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }
# cluster-maintenance: include lib/versions.sh
# cluster-maintenance: include lib/node-health.sh

[[ $# -eq 3 || $# -eq 4 ]] || fail 2 "usage: $me NODE VERSION TIMEOUT_SECONDS [BOOT_ID_NOT]"
node=$1 version=v$2 limit=$3 old_boot=${4:-}
[[ $node =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] || fail 2 "bad node name"
[[ $2 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail 2 "bad version '$2'"
[[ $limit =~ ^[1-9][0-9]{0,5}$ ]] || fail 2 "TIMEOUT_SECONDS must be a positive number of seconds"
[[ $old_boot =~ ^[-0-9a-f]*$ ]] || fail 2 "bad boot id '$old_boot'"
export KUBECONFIG="${KUBECONFIG:-$root/etc/kubernetes/admin.conf}"
ready_tpl='{.status.conditions[?(@.type=="Ready")]'
tpl="${ready_tpl}.status}|{.status.nodeInfo.kubeletVersion}|{.status.nodeInfo.bootID}|${ready_tpl}.reason}|${ready_tpl}.message}"
err=$(mktemp)
trap 'rm -f "$err"' EXIT

deadline=$((SECONDS + limit))
first=1 error="" why=""
while :; do
  error="" why="" ready="" kubelet="" boot="" reason="" message=""
  if seen=$(kube_bounded "$(time_left "$deadline")" get node "$node" -o "jsonpath=$tpl" 2>"$err"); then
    IFS='|' read -r ready kubelet boot reason message <<<"$seen"
    if [[ $ready == True ]] && ! lease_check "$node" "$(time_left "$deadline")"; then
      why="its Lease could not be read: ${lease_error:-}"
    else
      why=$(not_ready_why "$ready" "$reason" "$message")
    fi
  else
    error=$(tail -n 1 "$err")
    error=${error:-no answer in time}
  fi
  if [[ -z $error && -z $why && (-z $old_boot || (-n $boot && $boot != "$old_boot")) ]] && version_at_least "$kubelet" "$2"; then
    at=$version
    [[ $kubelet == "$version" ]] || at="$kubelet, past $version"
    if [[ $first -eq 1 ]]; then say "already done: Ready at $at"; else say "Ready at $at"; fi
    exit 0
  fi
  if ((SECONDS >= deadline)); then
    fail 5 "not Ready at $version within ${limit}s (Ready=${ready:-unknown}, kubelet ${kubelet:-unknown}${old_boot:+, boot id ${boot:-unknown}, waiting for one other than $old_boot}${why:+; $why}${error:+; last kubectl error: $error})"
  fi
  first=0
  sleep "$(time_left "$deadline" 2)"
done
