#!/usr/bin/env bash
# Checks that a control-plane node's stacked etcd member may be removed, or removes it. Runs as root
# on a healthy control-plane node that stays (kubeadm names each stacked etcd member after its node:
# `--name=<node name>` in the etcd static pod manifest).
# Usage: etcd-member.sh MODE NODE ALLOW_EVEN ENDPOINT CACERT CERT KEY
#   MODE: `check` (changes nothing) or `remove`; NODE: the node whose member goes; ALLOW_EVEN: `true`
#   accepts leaving an even number of members; ENDPOINT: an etcd client URL (https://10.0.0.1:2379);
#   CACERT, CERT, KEY: absolute paths of the etcd CA and a client certificate and key it accepts
#   (/etc/kubernetes/pki/etcd/ca.crt, healthcheck-client.crt/.key or server.crt/.key), used as
#   given, as etcd-snapshot.sh uses its own (lib/paths.sh plain_path: letters, digits, '.', '_', '-').
# Steps (every etcdctl call with ETCDCTL_API=3, --dial-timeout, --command-timeout and inside `timeout`):
#  1. `etcdctl member list -w simple` at ENDPOINT (not json: etcd 3.4 prints member IDs in JSON as
#     decimal uint64 numbers, which lose precision in jq and JavaScript; simple output prints hex):
#     each member's hex ID, name and client URLs. No member named NODE: "no etcd member named NODE:
#     nothing to remove", exit 0, in both modes (a re-run, or kubeadm reset already removed it).
#  2. `etcdctl --endpoints=<its client URLs> endpoint health` for every member side by side (at
#     most 10 s), NODE's own included (it counts for the current quorum); a member with no client
#     URL (never started) is unhealthy. A member of an etcd without quorum answers unhealthy too.
#  3. Refused (exit 3, nothing changed), one message each, naming the numbers:
#     - NODE is etcd's only member: removing it would leave no etcd;
#     - etcd has no quorum now: fewer than floor(n/2)+1 of its n members healthy, so a member remove
#       cannot be committed;
#     - another member is not healthy (named): removal needs every other member healthy (the
#       remaining members must keep a quorum without NODE);
#     - n-1 is even and ALLOW_EVEN is not `true`: an even count tolerates no more failures than one
#       member fewer; the config key removeNodes[].allowEvenEtcdMembers: true accepts it.
#  4. check: "may remove etcd member NODE (<hex id>): n members -> n-1, tolerating F failure(s)", exit 0.
#     remove: `etcdctl member remove <hex id>` through the other members' client URLs (retried for
#     up to 60 s while etcd answers "unhealthy cluster": its strict reconfiguration check refuses a
#     remove until the remaining members have been connected for 5 s, e.g. after one restarted),
#     then `member list` again must show it gone (else exit 1); prints "removed etcd member NODE
#     (<hex id>): remaining members: <names, sorted, space-separated>". NODE's etcd shuts itself
#     down once removed.
# Messages "cluster-maintenance: etcd-member.sh: NODE: ..." on stderr. Learner members count as members.
# Exit codes: 0 done (or may remove), 1 a step failed (etcd unreachable, remove not confirmed),
# 2 bad arguments, 3 refused.
# Sources: https://etcd.io/docs/v3.5/op-guide/runtime-configuration/#remove-a-member ,
# https://etcd.io/docs/v3.5/faq/#why-an-odd-number-of-cluster-members ,
# https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-reset/ (remove-etcd-member phase)
set -euo pipefail
me=etcd-member.sh
fail() { echo "cluster-maintenance: $me: ${node:-?}: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }
# cluster-maintenance: include lib/paths.sh

[[ $# -eq 7 ]] || fail 2 "usage: $me MODE NODE ALLOW_EVEN ENDPOINT CACERT CERT KEY"
[[ $2 =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] || fail 2 "bad node name"
mode=$1 node=$2 allow_even=$3 endpoint=$4 cacert=$5 cert=$6 key=$7
[[ $mode == check || $mode == remove ]] || fail 2 "MODE must be 'check' or 'remove', not '${mode:0:100}'"
[[ $allow_even == true || $allow_even == false ]] || fail 2 "ALLOW_EVEN must be true or false, not '${allow_even:0:100}'"
port=0
if [[ $endpoint =~ ^https?://[A-Za-z0-9.-]{1,253}:([0-9]{1,5})$ ]]; then port=$((10#${BASH_REMATCH[1]})); fi
((port >= 1 && port <= 65535)) || fail 2 "ENDPOINT must be an etcd client URL http(s)://HOST:PORT, not '${endpoint:0:300}'"
for f in "$cacert" "$cert" "$key"; do
  plain_path "$f" || fail 2 "CACERT, CERT and KEY must be absolute paths (letters, digits, '.', '_', '-'; no '.' or '..' part), not '${f:0:300}'"
done
for f in "$cacert" "$cert" "$key"; do
  [[ -r $f ]] || fail 1 "cannot read $f"
done

tmp=$(mktemp -d)
err=$tmp/err
trap 'rm -rf "$tmp"' EXIT
# ctl SECONDS ENDPOINTS ARGS...: etcdctl at ENDPOINTS (comma-separated), bounded (the command's own
# timeout SECONDS - 5, the process's SECONDS); its stderr in $err.
ctl() {
  ETCDCTL_API=3 timeout "$1" etcdctl --endpoints="$2" --cacert="$cacert" --cert="$cert" --key="$key" \
    --dial-timeout=3s --command-timeout=$(($1 - 5))s "${@:3}" 2>"$err"
}
last_error() { local e; e=$(grep -v '^{"level"' "$err" | tail -n 1); echo "${e:-$(tail -n 1 "$err")}"; }

# list ENDPOINTS: sets ids, names, urls (arrays, one entry per member) from `member list -w simple`:
# "ID, STATUS, NAME, PEER ADDRS, CLIENT ADDRS[, IS LEARNER]" (addresses joined by ",").
ids=() names=() urls=()
list() {
  local out line re='^([0-9a-f]{1,16}), (started|unstarted), ([^ ,]*), ([^ ]*), ([^ ]*)(, (true|false))?$'
  out=$(ctl 15 "$1" member list -w simple) || fail 1 "etcdctl member list at $1 failed: $(last_error)"
  ids=() names=() urls=()
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    [[ $line =~ $re ]] || fail 1 "etcdctl member list printed a line this script does not know: '${line:0:300}'"
    ids+=("${BASH_REMATCH[1]}") names+=("${BASH_REMATCH[3]}") urls+=("${BASH_REMATCH[5]}")
  done <<<"$out"
}

# 1. The members, and NODE's.
list "$endpoint"
n=${#ids[@]}
target=-1
for i in "${!names[@]}"; do
  if [[ ${names[i]} == "$node" ]]; then
    ((target < 0)) || fail 1 "several etcd members are named $node (${ids[target]}, ${ids[i]}); remove the wrong one by hand"
    target=$i
  fi
done
if ((target < 0)); then
  say "no etcd member named $node: nothing to remove"
  exit 0
fi
id=${ids[target]}

# 2. Health of every member, checked side by side (an unhealthy one takes the whole timeout).
healthy=0 sick=() others="" pids=()
for i in "${!ids[@]}"; do
  pids+=("")
  if [[ -n ${urls[i]} ]]; then
    err=$tmp/health-$i ctl 10 "${urls[i]}" endpoint health >/dev/null &
    pids[i]=$!
  fi
done
for i in "${!ids[@]}"; do
  label=${names[i]:-${ids[i]} (never started)}
  ok=""
  if [[ -n ${pids[i]} ]] && wait "${pids[i]}"; then ok=yes; fi
  if [[ -n $ok ]]; then healthy=$((healthy + 1)); fi
  if ((i != target)); then
    if [[ -z $ok ]]; then sick+=("$label"); fi
    if [[ -n ${urls[i]} ]]; then others+="${others:+,}${urls[i]}"; fi
  fi
done
say "etcd has $n members, $healthy healthy; $node is member $id"

# 3. Refusals.
remaining=$((n - 1)) quorum=$((n / 2 + 1))
tolerates=$(((remaining - 1) / 2))
if ((n == 1)); then
  fail 3 "$node is etcd's only member: removing it would leave no etcd; refused, nothing changed"
fi
if ((healthy < quorum)); then
  fail 3 "etcd has no quorum now: $healthy of its $n members are healthy, $quorum needed, so a member remove cannot be committed; refused, nothing changed"
fi
if ((${#sick[@]} > 0)); then
  fail 3 "etcd members not healthy: ${sick[*]}: removing $node needs every other member healthy ($((n - 1 - ${#sick[@]})) of the $((n - 1)) others are); refused, nothing changed"
fi
if ((remaining % 2 == 0)) && [[ $allow_even != true ]]; then
  fail 3 "removing $node leaves $remaining etcd members, an even count: it tolerates no more failures than $((remaining - 1)) members ($tolerates failure(s); https://etcd.io/docs/v3.5/faq/#why-an-odd-number-of-cluster-members); set removeNodes[].allowEvenEtcdMembers: true to accept it; refused, nothing changed"
fi

# 4. check, or remove and confirm.
if [[ $mode == check ]]; then
  say "may remove etcd member $node ($id): $n members -> $remaining, tolerating $tolerates failure(s)"
  exit 0
fi
deadline=$((SECONDS + 60))
until ctl 20 "$others" member remove "$id" >/dev/null; do
  if grep -q 'member not found' "$err"; then break; fi # removed meanwhile: the list below tells
  if ! grep -q 'unhealthy cluster' "$err" || ((SECONDS >= deadline)); then
    fail 1 "etcdctl member remove $id failed: $(last_error)"
  fi
  sleep 1
done
list "$others"
for i in "${!ids[@]}"; do
  [[ ${ids[i]} != "$id" ]] || fail 1 "etcd member $node ($id) is still listed after etcdctl member remove"
done
remaining_names=$(printf '%s\n' "${names[@]}" | LC_ALL=C sort | tr '\n' ' ')
say "removed etcd member $node ($id): remaining members: ${remaining_names% }"
