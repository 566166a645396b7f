#!/usr/bin/env bash
# Points apt at the pkgs.k8s.io repository of one Kubernetes minor and refreshes the index.
# Usage: switch-repository.sh MINOR        (e.g. 1.35)
# Done when the list file holds exactly the repository line, the keyring exists and apt has the
# index of that repository (var/lib/apt/lists); otherwise writes what is missing and runs
# apt-get update. Node paths are under ${CM_NODE_ROOT:-} (empty on a real node). A node whose
# installed kubeadm is of a later minor than MINOR is left as it is.
set -euo pipefail
me=switch-repository.sh
root="${CM_NODE_ROOT:-}"
node="$(hostname)"
fail() { echo "cluster-maintenance: $me: $node: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }
# cluster-maintenance: include lib/apt.sh
# cluster-maintenance: include lib/versions.sh

[[ $# -eq 1 && $1 =~ ^1\.[0-9]{1,3}$ ]] || fail 2 "usage: $me MINOR (like 1.35)"
minor=$1
url="https://pkgs.k8s.io/core:/stable:/v$minor/deb/"
keyring=/etc/apt/keyrings/kubernetes-apt-keyring.gpg
line="deb [signed-by=$keyring] $url /"
list="$root/etc/apt/sources.list.d/kubernetes.list"
index="$root/var/lib/apt/lists/pkgs.k8s.io_core:_stable:_v${minor}_deb_InRelease"

# Past MINOR: the installed kubeadm is at or past the next minor's first release (1.35 -> 1.36.0).
kubeadm=$(dpkg-query -W -f="\${Version}" kubeadm 2>/dev/null) || kubeadm=""
kubeadm=${kubeadm%-*}
if version_at_least "$kubeadm" "${minor%.*}.$((10#${minor#*.} + 1)).0"; then
  say "already past v$minor: kubeadm is $kubeadm; nothing changed"
  exit 0
fi
configured() { [[ -s $root$keyring && -f $list && "$(<"$list")" == "$line" ]]; }
if configured && [[ -e $index ]]; then
  say "already done: apt uses the v$minor repository"
  exit 0
fi
if ! configured; then
  install -d -m 0755 "$root${keyring%/*}" "${list%/*}"
  curl -fsSL --max-time 60 "${url}Release.key" | gpg --dearmor --yes -o "$root$keyring.new" ||
    fail 1 "fetching the repository key ${url}Release.key failed"
  chmod 0644 "$root$keyring.new"
  mv -f "$root$keyring.new" "$root$keyring"
  printf '%s\n' "$line" >"$list.new"
  chmod 0644 "$list.new"
  mv -f "$list.new" "$list"
fi
apt_get 300 update || fail 1 "apt-get update for the v$minor repository failed"
[[ -e $index ]] || fail 1 "apt-get update did not fetch the v$minor repository index"
say "apt uses the v$minor repository"
