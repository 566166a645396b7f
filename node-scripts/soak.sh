#!/usr/bin/env bash
# Soaks the new (green) nodes of a blue-green pool: watches that they stay in the cluster and
# Ready for a while before the old nodes are deleted. Runs where kubectl reaches the cluster.
# Usage: soak.sh SECONDS NODE...   (SECONDS 0: one check)
# Checks every min(10, SECONDS) seconds and prints progress. Exit 8 at once when a NODE is not in
# the cluster or not Ready (named, with why): its Ready condition not True (Unknown: the control
# plane lost its kubelet; False: the condition's reason and message), or its Lease in
# kube-node-lease not renewed within its leaseDurationSeconds (a kubelet that stopped: Ready stays
# True for the node-monitor grace period, 50 s; see lib/node-health.sh); exit 9 when an
# operator put the annotation cluster-maintenance.io/abort-soak=true on any NODE (to stop the
# replacement; roll back by setting the pool's version back). Exit 1 when the nodes cannot be
# read three checks in a row. Done when every check of the whole period passed. Each kubectl call
# is bounded (10 s); the soak ends at most one check after SECONDS.
set -euo pipefail
me=soak.sh
root="${CM_NODE_ROOT:-}"
fail() { echo "cluster-maintenance: $me: ${node:-?}: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }
# cluster-maintenance: include lib/node-health.sh

[[ $# -ge 2 ]] || fail 2 "usage: $me SECONDS NODE..."
[[ $1 =~ ^(0|[1-9][0-9]{0,5})$ ]] || fail 2 "SECONDS must be a number of seconds (0: one check)"
soak_s=$1
shift
nodes=("$@")
for n in "${nodes[@]}"; do
  [[ $n =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] || fail 2 "bad node name"
done
node=$(IFS=,; echo "${nodes[*]}")
all=$node
export KUBECONFIG="${KUBECONFIG:-$root/etc/kubernetes/admin.conf}"
abort=cluster-maintenance.io/abort-soak
ready_tpl='{.status.conditions[?(@.type=="Ready")]'
tpl="{.metadata.name}|${ready_tpl}.status}|{.metadata.annotations.cluster-maintenance\\.io/abort-soak}|${ready_tpl}.reason}|${ready_tpl}.message}"
interval=$((soak_s < 10 ? soak_s : 10))

# check: one look at every node; exits 8 or 9, or returns 1 when a node could not be read.
check() {
  local n seen name ready aborted reason message why states=()
  for n in "${nodes[@]}"; do
    seen=$(kube_bounded 10 get node "$n" --ignore-not-found -o "jsonpath=$tpl") || return 1
    IFS='|' read -r name ready aborted reason message <<<"$seen"
    lease_problem=""
    if [[ -n $name && $ready == True ]]; then lease_check "$n" 10 || return 1; fi
    # The Lease's verdict travels as the last field (messages may hold "|": read last).
    states+=("$n|$seen|$lease_problem")
  done
  for seen in "${states[@]}"; do
    IFS='|' read -r n name ready aborted reason message <<<"$seen"
    if [[ $aborted == true ]]; then
      node=$n
      fail 9 "soak aborted by an operator (annotation $abort=true on $n)"
    fi
  done
  for seen in "${states[@]}"; do
    IFS='|' read -r n name ready aborted reason message <<<"${seen%|*}"
    lease_problem=${seen##*|}
    node=$n
    [[ -n $name ]] || fail 8 "soak failed: $n is not in the cluster"
    why=$(not_ready_why "$ready" "$reason" "$message")
    [[ -z $why ]] || fail 8 "soak failed: $n is $why"
  done
  node=$all
}

# The soak's clock in milliseconds ($EPOCHREALTIME): bash's whole-second $SECONDS can tick just after
# the start and end a soak up to 1 s early.
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#${t:0:${#t}-3})); }
start=$(now_ms)
deadline=$((start + soak_s * 1000))
errors=0
while :; do
  if check; then
    errors=0
  else
    errors=$((errors + 1))
    ((errors < 3)) || fail 1 "reading the nodes failed three checks in a row; the soak did not pass"
  fi
  now=$(now_ms)
  elapsed=$(((now - start) / 1000))
  ((elapsed <= soak_s)) || elapsed=$soak_s
  if ((errors == 0)); then
    say "soak: $elapsed/$soak_s s, ${#nodes[@]} nodes Ready"
    if ((now >= deadline)); then break; fi
  else
    say "soak: $elapsed/$soak_s s, reading the nodes failed; checking again"
  fi
  wait_ms=$((deadline - $(now_ms)))
  ((wait_ms <= interval * 1000 && wait_ms > 0)) || wait_ms=$(((interval > 0 ? interval : 1) * 1000))
  sleep "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"
done
say "soak passed: ${#nodes[@]} nodes Ready for ${soak_s}s"
