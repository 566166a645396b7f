#!/usr/bin/env bash
# Installs Kubernetes packages at one version and holds them.
# Usage: upgrade-packages.sh VERSION PKG...   (e.g. 1.35.9 kubeadm)
# Done when every PKG is installed at VERSION-* and held; otherwise unholds, installs and holds
# the packages that are not (a package at VERSION that is only unheld is just held). A package
# installed past VERSION is left as it is (never downgraded); when all are, nothing is done.
set -euo pipefail
me=upgrade-packages.sh
node="$(hostname)"
fail() { echo "cluster-maintenance: $me: $node: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }
# cluster-maintenance: include lib/apt.sh
# cluster-maintenance: include lib/versions.sh

[[ $# -ge 2 && $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail 2 "usage: $me VERSION PKG..."
version=$1
shift
held=$(apt-mark showhold) || fail 1 "apt-mark showhold failed"
to_install=() to_hold=() current=() past=()
for p in "$@"; do
  [[ $p =~ ^[a-z0-9][a-z0-9.+-]*$ ]] || fail 2 "bad package name '$p'"
  have=$(dpkg-query -W -f="\${Version}" "$p" 2>/dev/null || true)
  if [[ $have != "$version"-* ]] && version_at_least "${have%-*}" "$version"; then
    past+=("$p ${have%-*}")
    continue
  fi
  current+=("$p")
  if [[ $have != "$version"-* ]]; then
    to_install+=("$p")
    to_hold+=("$p")
  elif ! grep -qxF -- "$p" <<<"$held"; then
    to_hold+=("$p")
  fi
done
left=""
if [[ ${#past[@]} -gt 0 ]]; then
  left=$(printf '%s, ' "${past[@]}")
  left=${left%, }
fi
if [[ ${#past[@]} -eq $# ]]; then
  say "already past $version ($left): nothing changed"
  exit 0
fi
if [[ ${#to_hold[@]} -eq 0 ]]; then
  say "already done: ${current[*]} at $version and held${left:+; past $version, left as they are: $left}"
  exit 0
fi
if [[ ${#to_install[@]} -gt 0 ]]; then
  specs=()
  for p in "${to_install[@]}"; do specs+=("$p=$version-*"); done
  apt-mark unhold "${to_install[@]}" || fail 1 "apt-mark unhold ${to_install[*]} failed"
  if ! DEBIAN_FRONTEND=noninteractive apt_get 600 install -y "${specs[@]}"; then
    apt-mark hold "${to_install[@]}" >/dev/null || true
    fail 1 "apt-get install ${specs[*]} failed (packages held again)"
  fi
fi
apt-mark hold "${to_hold[@]}" || fail 1 "apt-mark hold ${to_hold[*]} failed"
for p in "${current[@]}"; do
  have=$(dpkg-query -W -f="\${Version}" "$p" 2>/dev/null || true)
  [[ $have == "$version"-* ]] || fail 1 "$p is at '${have:-not installed}' after the install, not $version"
done
say "${current[*]} at $version and held${left:+; past $version, left as they are: $left}"
