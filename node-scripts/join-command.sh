#!/usr/bin/env bash
# Creates a bootstrap token for new nodes of a blue-green pool and prints their join command, or
# deletes the tokens it created for a batch of them once they joined.
# Runs on a control-plane node (kubeadm reads /etc/kubernetes/admin.conf).
# Usage: join-command.sh TTL_MINUTES POOL VERSION [NODES]
#        join-command.sh revoke POOL VERSION [NODES]
#   NODES: the batch of launches the token is for, FIRST-LAST (1-based node numbers, e.g. 1-10).
# Create: stdout is exactly one line, `kubeadm join <host:port> --token <token>
#   --discovery-token-ca-cert-hash sha256:<hex>`, and nothing else. It is a secret: the token lets
#   anyone who holds it join a node until it expires (after TTL_MINUTES). The token carries the
#   description "cluster-maintenance pool POOL vVERSION[ nodes NODES]" (see `kubeadm token list`).
#   Exit 1 when kubeadm fails or does not finish within 60 s, or prints anything that does not look
#   like that line; the messages never contain what it printed on stdout (it may hold the token).
# Revoke: deletes every token whose description is exactly that description (`kubeadm token list
#   -o jsonpath`, then `kubeadm token delete <token ID>`: the ID is the token's public part, the
#   secret part never leaves this script). None left (already revoked, or expired and cleaned up)
#   is done. Stdout is empty. Exit 1 when kubeadm fails, does not finish within 60 s or lists a
#   token that is not of the form [a-z0-9]{6}.[a-z0-9]{16}.
# Bootstrap tokens are masked in what kubeadm prints on stderr.
# Source: https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-token/
set -euo pipefail
me=join-command.sh
fail() { echo "cluster-maintenance: $me: ${node:-?}: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }

node=$(hostname 2>/dev/null) || node=""
[[ $node =~ ^[-a-zA-Z0-9.]{1,253}$ ]] || node="?"
usage="usage: $me TTL_MINUTES POOL VERSION [FIRST-LAST] | $me revoke POOL VERSION [FIRST-LAST]"
mode=create
if [[ ${1:-} == revoke ]]; then
  mode=revoke
  shift
  [[ $# -eq 2 || $# -eq 3 ]] || fail 2 "$usage"
else
  [[ $# -eq 3 || $# -eq 4 ]] || fail 2 "$usage"
  ttl=$1
  [[ $ttl =~ ^[1-9][0-9]{0,4}$ ]] || fail 2 "TTL_MINUTES must be a positive number of minutes"
  shift
fi
pool=$1 version=$2 nodes=${3:-}
[[ $pool =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || fail 2 "bad pool name"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail 2 "bad version '$version'"
[[ -z $nodes || $nodes =~ ^[1-9][0-9]{0,4}-[1-9][0-9]{0,4}$ ]] || fail 2 "NODES must be FIRST-LAST, e.g. 1-10"
description="cluster-maintenance pool $pool v$version${nodes:+ nodes $nodes}"

err=$(mktemp)
trap 'rm -f "$err"' EXIT
# kubeadm's own messages, with anything shaped like a bootstrap token masked.
pass_stderr() { sed -E 's/[a-z0-9]{6}\.[a-z0-9]{16}/<token>/g' "$err" >&2; }
# Runs kubeadm (bounded to 60 s) with stdout into $out; fails naming `what`.
kubeadm_run() {
  local what=$1 code=0
  shift
  out=$(timeout 60 kubeadm "$@" 2>"$err") || code=$?
  pass_stderr
  if [[ $code -eq 124 ]]; then
    fail 1 "kubeadm $what did not finish within 60s"
  elif [[ $code -ne 0 ]]; then
    fail 1 "kubeadm $what failed (exit $code)"
  fi
}

if [[ $mode == revoke ]]; then
  kubeadm_run "token list" token list -o 'jsonpath={.token}{"\t"}{.description}{"\n"}'
  ids=()
  while IFS=$'\t' read -r token listed; do
    [[ -n $token && $listed == "$description" ]] || continue
    [[ $token =~ ^([a-z0-9]{6})\.[a-z0-9]{16}$ ]] ||
      fail 1 "kubeadm token list printed a token that is not of the form [a-z0-9]{6}.[a-z0-9]{16} (not shown)"
    ids+=("${BASH_REMATCH[1]}")
  done <<<"$out"
  out=""
  if [[ ${#ids[@]} -eq 0 ]]; then
    say "already done: no token described '$description'"
    exit 0
  fi
  for id in "${ids[@]}"; do
    kubeadm_run "token delete" token delete "$id"
  done
  say "revoked ${#ids[@]} token(s) described '$description'"
  exit 0
fi

kubeadm_run "token create" token create --print-join-command --ttl "${ttl}m" --description "$description"
# One line, surrounding white space ignored.
line=$out
line=${line#"${line%%[![:space:]]*}"}
line=${line%"${line##*[![:space:]]}"}
re='^kubeadm join [-A-Za-z0-9.:]+:[0-9]{1,5} --token [a-z0-9]{6}\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[0-9a-f]{64}$'
re6='^kubeadm join \[[0-9a-fA-F:.]+\]:[0-9]{1,5} --token [a-z0-9]{6}\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[0-9a-f]{64}$'
if [[ ! $line =~ $re && ! $line =~ $re6 ]]; then
  lines=$(printf '%s\n' "$out" | wc -l)
  fail 1 "kubeadm token create --print-join-command printed something that is not one 'kubeadm join <host:port> --token <token> --discovery-token-ca-cert-hash sha256:<hex>' line (${lines} lines, ${#out} characters; not shown: it may hold a token)"
fi
printf '%s\n' "$line"
