#!/usr/bin/env bash
# Upgrades kubelet and kubectl to VERSION (installed and held) and restarts the kubelet.
# Usage: upgrade-kubelet.sh VERSION        (e.g. 1.35.9; run on a drained node)
# Done when both packages are at VERSION-* and held, `kubelet --version` is vVERSION, the
# kubelet is active and no restart is pending (var/lib/cluster-maintenance/kubelet-restart-pending
# is written before the packages change and removed after the restart, so a run that failed in
# between restarts the kubelet the next time). A node whose kubelet (package or running) is past
# VERSION is left as it is; a kubectl past VERSION is left as it is (neither is ever downgraded).
set -euo pipefail
me=upgrade-kubelet.sh
root="${CM_NODE_ROOT:-}"
node="$(hostname)"
fail() { echo "cluster-maintenance: $me: $node: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }
# cluster-maintenance: include lib/apt.sh
# cluster-maintenance: include lib/versions.sh

[[ $# -eq 1 && $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail 2 "usage: $me VERSION"
version=$1
pending="$root/var/lib/cluster-maintenance/kubelet-restart-pending"
running() { local v; v=$(kubelet --version 2>/dev/null) || true; echo "${v##* }"; }

held=$(apt-mark showhold) || fail 1 "apt-mark showhold failed"
to_install=() to_hold=() past=() kubelet_past=""
for p in kubelet kubectl; do
  have=$(dpkg-query -W -f="\${Version}" "$p" 2>/dev/null || true)
  if [[ $have != "$version"-* ]] && version_at_least "${have%-*}" "$version"; then
    past+=("$p ${have%-*}")
    if [[ $p == kubelet ]]; then kubelet_past=1; fi
  elif [[ $have != "$version"-* ]]; then
    to_install+=("$p")
    to_hold+=("$p")
  elif ! grep -qxF -- "$p" <<<"$held"; then
    to_hold+=("$p")
  fi
done
run=$(running)
if [[ $run != "v$version" ]] && version_at_least "$run" "$version"; then
  past+=("kubelet $run running")
  kubelet_past=1
fi
left=""
if [[ ${#past[@]} -gt 0 ]]; then
  left=$(printf '%s, ' "${past[@]}")
  left=${left%, }
fi
if [[ -n $kubelet_past ]]; then
  say "already past $version ($left): nothing changed"
  exit 0
fi
if [[ ${#to_hold[@]} -eq 0 && ! -e $pending && $run == "v$version" ]] && systemctl is-active --quiet kubelet; then
  if [[ -z $left ]]; then
    say "already done: kubelet and kubectl at $version and held, kubelet v$version running"
  else
    say "already done: kubelet at $version and held, kubelet v$version running; past $version, left as it is: $left"
  fi
  exit 0
fi
if [[ ${#to_install[@]} -gt 0 ]]; then
  install -d -m 0755 "${pending%/*}"
  : >"$pending"
  specs=()
  for p in "${to_install[@]}"; do specs+=("$p=$version-*"); done
  apt-mark unhold "${to_install[@]}" || fail 1 "apt-mark unhold ${to_install[*]} failed"
  if ! DEBIAN_FRONTEND=noninteractive apt_get 600 install -y "${specs[@]}"; then
    apt-mark hold "${to_install[@]}" >/dev/null || true
    fail 1 "apt-get install ${specs[*]} failed (packages held again)"
  fi
fi
if [[ ${#to_hold[@]} -gt 0 ]]; then
  apt-mark hold "${to_hold[@]}" || fail 1 "apt-mark hold ${to_hold[*]} failed"
fi
systemctl daemon-reload || fail 1 "systemctl daemon-reload failed"
timeout 120 systemctl restart kubelet || fail 1 "systemctl restart kubelet failed"
deadline=$((SECONDS + 60))
until timeout 5 systemctl is-active --quiet kubelet; do
  ((SECONDS < deadline)) || fail 1 "kubelet is not active 60s after its restart"
  sleep 2
done
now=$(running)
[[ $now == "v$version" ]] || fail 1 "kubelet reports ${now:-nothing} after its restart, not v$version"
rm -f "$pending"
if [[ -z $left ]]; then
  say "kubelet v$version running; kubelet and kubectl held"
else
  say "kubelet v$version running and held; past $version, left as it is: $left"
fi
