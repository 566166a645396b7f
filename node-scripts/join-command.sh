#!/usr/bin/env bash
# Creates a bootstrap token for the new nodes of a blue-green pool and prints their join command.
# Runs on a control-plane node (kubeadm reads /etc/kubernetes/admin.conf).
# Usage: join-command.sh TTL_MINUTES POOL VERSION
# Stdout: exactly one line, `kubeadm join <host:port> --token <token>
#   --discovery-token-ca-cert-hash sha256:<hex>`, and nothing else. It is a secret: the token lets
#   anyone who holds it join a node until it expires (after TTL_MINUTES). The token carries the
#   description "cluster-maintenance pool POOL vVERSION" (see `kubeadm token list`).
# Exit 1 when kubeadm fails or does not finish within 60 s, or prints anything that does not look
# like that line; the messages never contain what it printed on stdout (it may hold the token),
# and bootstrap tokens are masked in what it printed on stderr.
# Source: https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-token/
set -euo pipefail
me=join-command.sh
fail() { echo "cluster-maintenance: $me: ${node:-?}: $2" >&2; exit "$1"; }

node=$(hostname 2>/dev/null) || node=""
[[ $node =~ ^[-a-zA-Z0-9.]{1,253}$ ]] || node="?"
[[ $# -eq 3 ]] || fail 2 "usage: $me TTL_MINUTES POOL VERSION"
ttl=$1 pool=$2 version=$3
[[ $ttl =~ ^[1-9][0-9]{0,4}$ ]] || fail 2 "TTL_MINUTES must be a positive number of minutes"
[[ $pool =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || fail 2 "bad pool name"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail 2 "bad version '$version'"

err=$(mktemp)
trap 'rm -f "$err"' EXIT
code=0
out=$(timeout 60 kubeadm token create --print-join-command --ttl "${ttl}m" \
  --description "cluster-maintenance pool $pool v$version" 2>"$err") || code=$?
# kubeadm's own messages, with anything shaped like a bootstrap token masked.
sed -E 's/[a-z0-9]{6}\.[a-z0-9]{16}/<token>/g' "$err" >&2
if [[ $code -eq 124 ]]; then
  fail 1 "kubeadm token create did not finish within 60s"
elif [[ $code -ne 0 ]]; then
  fail 1 "kubeadm token create failed (exit $code)"
fi

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
