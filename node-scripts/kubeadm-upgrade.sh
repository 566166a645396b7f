#!/usr/bin/env bash
# Upgrades this node's control plane (apply: the first control-plane node) or configuration
# (node: every other node) with kubeadm, which must already be at VERSION.
# Usage: kubeadm-upgrade.sh apply VERSION | kubeadm-upgrade.sh node VERSION
# Done when the kube-apiserver manifest's image tag is vVERSION (control-plane node), or when the
# marker var/lib/cluster-maintenance/kubeadm-upgrade-node-vVERSION exists (worker). Nothing is done
# on a node already past VERSION (never a downgrade): a control-plane static pod's image tag past
# it, or on a worker a marker of a later version or a kubelet past it.
set -euo pipefail
me=kubeadm-upgrade.sh
root="${CM_NODE_ROOT:-}"
node="$(hostname)"
fail() { echo "cluster-maintenance: $me: $node: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }
# cluster-maintenance: include lib/versions.sh

[[ $# -eq 2 && $1 =~ ^(apply|node)$ && $2 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail 2 "usage: $me apply|node VERSION"
mode=$1
version=v$2
manifest="$root/etc/kubernetes/manifests/kube-apiserver.yaml"
marker="$root/var/lib/cluster-maintenance/kubeadm-upgrade-node-$version"
# The image tag ("v1.35.9") of control-plane component $1 in its static pod manifest, or "".
image_tag() {
  local file="$root/etc/kubernetes/manifests/$1.yaml" tag=""
  if [[ -f $file ]]; then tag=$(grep -o "$1:v[0-9][^\"[:space:]@]*" "$file" | head -n 1) || true; fi
  echo "${tag#"$1":}"
}
apiserver_tag() { image_tag kube-apiserver; }
# Succeeds when version $1 ("v1.37.1") is past VERSION.
past() { [[ $1 != "$version" ]] && version_at_least "$1" "${version#v}"; }

if [[ -f $manifest ]]; then
  if [[ $(apiserver_tag) == "$version" ]]; then
    say "already done: kube-apiserver is $version"
    exit 0
  fi
  for component in kube-apiserver kube-controller-manager kube-scheduler; do
    tag=$(image_tag "$component")
    if past "$tag"; then
      say "already past $version: $component is $tag; nothing changed"
      exit 0
    fi
  done
elif [[ $mode == apply ]]; then
  fail 1 "kubeadm upgrade apply $version: no $manifest, this is not a control-plane node"
elif [[ -e $marker ]]; then
  say "already done: kubeadm upgrade node ran for $version"
  exit 0
else
  for m in "${marker%-v*}"-v*; do
    if [[ -e $m ]] && past "${m##*-}"; then
      say "already past $version: kubeadm upgrade node ran for ${m##*-}; nothing changed"
      exit 0
    fi
  done
  kubelet=$(kubelet --version 2>/dev/null) || true
  kubelet=${kubelet##* }
  if past "$kubelet"; then
    say "already past $version: kubelet is $kubelet; nothing changed"
    exit 0
  fi
fi
kubeadm_version=$(kubeadm version -o short) || fail 1 "kubeadm version failed"
[[ $kubeadm_version == "$version" ]] ||
  fail 1 "kubeadm is $kubeadm_version, not $version: upgrade the kubeadm package first"
if [[ $mode == apply ]]; then
  timeout 600 kubeadm upgrade plan "$version" || fail 1 "kubeadm upgrade plan $version failed"
  timeout 1200 kubeadm upgrade apply "$version" --yes || fail 1 "kubeadm upgrade apply $version failed"
else
  timeout 1200 kubeadm upgrade node || fail 1 "kubeadm upgrade node ($version) failed"
fi
if [[ -f $manifest ]]; then
  tag=$(apiserver_tag)
  [[ $tag == "$version" ]] || fail 1 "kube-apiserver is ${tag:-unknown} after kubeadm upgrade $mode, not $version"
else
  install -d -m 0755 "${marker%/*}"
  : >"$marker"
fi
say "kubeadm upgrade $mode $version done"
