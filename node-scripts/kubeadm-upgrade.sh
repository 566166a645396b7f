#!/usr/bin/env bash
# Upgrades this node's control plane (apply: the first control-plane node) or configuration
# (node: every other node) with kubeadm, which must already be at VERSION.
# Usage: kubeadm-upgrade.sh apply VERSION | kubeadm-upgrade.sh node VERSION
# Done on a control-plane node when every static pod kubeadm manages is at VERSION: the image tags
# of kube-apiserver, kube-controller-manager and kube-scheduler are vVERSION and etcd's (where this
# node runs kubeadm's etcd) is the one kubeadm VERSION installs (`kubeadm config images list
# --kubernetes-version vVERSION`) or newer (kubeadm never downgrades etcd). Else kubeadm runs again:
# an apply or node interrupted part way (kubeadm writes etcd, then kube-apiserver, then
# kube-controller-manager and kube-scheduler) is finished by running it again, as the kubeadm
# upgrade guide says ("Recovering from a failure state": kubeadm upgrade is idempotent;
# https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/#recovering-from-a-failure-state).
# On a worker, done when the marker var/lib/cluster-maintenance/kubeadm-upgrade-node-vVERSION exists.
# Nothing is done on a node already past VERSION (never a downgrade): a control-plane static pod's
# image tag past it, or on a worker a marker of a later version or a kubelet past it.
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
# The image tag of etcd ("3.5.15-0") in its static pod manifest, or "" (no kubeadm etcd here).
etcd_tag() {
  local file="$root/etc/kubernetes/manifests/etcd.yaml" tag=""
  if [[ -f $file ]]; then tag=$(grep -o "/etcd:[0-9][^\"[:space:]@]*" "$file" | head -n 1) || true; fi
  echo "${tag#/etcd:}"
}
# The etcd image tag kubeadm VERSION installs, or "" when kubeadm cannot say.
kubeadm_etcd_tag() {
  local line
  line=$(timeout 60 kubeadm config images list --kubernetes-version "$version" 2>/dev/null | grep -m 1 "/etcd:") || true
  echo "${line##*/etcd:}"
}
# Succeeds when version $1 ("v1.37.1") is past VERSION.
past() { [[ $1 != "$version" ]] && version_at_least "$1" "${version#v}"; }
# Control-plane components not at VERSION yet ("kube-scheduler v1.34.6", "etcd 3.6.5-0, kubeadm
# vVERSION installs 3.6.8-0"), one a line; empty when this node's control plane is done. With
# argument "no-etcd", etcd is not compared.
lagging() {
  local component tag want
  for component in kube-apiserver kube-controller-manager kube-scheduler; do
    tag=$(image_tag "$component")
    [[ $tag == "$version" ]] || echo "$component ${tag:-(no manifest)}"
  done
  tag=$(etcd_tag)
  [[ -n $tag && ${1:-} != no-etcd ]] || return 0
  want=$(kubeadm_etcd_tag)
  if [[ -z $want ]]; then
    echo "etcd $tag (kubeadm config images list does not say which etcd $version installs)"
  elif [[ $tag != "$want" ]] && ! { [[ ${tag%%-*} != "${want%%-*}" ]] && version_at_least "${tag%%-*}" "${want%%-*}"; }; then
    echo "etcd $tag, kubeadm $version installs $want"
  fi
}

kubeadm_now=""
if [[ -f $manifest ]]; then
  for component in kube-apiserver kube-controller-manager kube-scheduler; do
    tag=$(image_tag "$component")
    if past "$tag"; then
      say "already past $version: $component is $tag; nothing changed"
      exit 0
    fi
  done
  if [[ $(apiserver_tag) == "$version" ]]; then
    kubeadm_now=$(kubeadm version -o short 2>/dev/null) || true
    if [[ $kubeadm_now == "$version" ]]; then
      left=$(lagging)
      if [[ -z $left ]]; then
        etcd=$(etcd_tag)
        say "already done: kube-apiserver, kube-controller-manager and kube-scheduler are $version${etcd:+, etcd is $etcd}"
        exit 0
      fi
      say "kube-apiserver is $version but not all of this node's control plane is: ${left//$'\n'/; }; running kubeadm upgrade $mode again"
    elif [[ -z $(lagging no-etcd) ]]; then
      say "already done: kube-apiserver, kube-controller-manager and kube-scheduler are $version (etcd not compared: kubeadm is ${kubeadm_now:-unknown}, not $version)"
      exit 0
    fi
  fi
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
  left=$(lagging)
  [[ -z $left ]] || fail 1 "not at $version after kubeadm upgrade $mode: ${left//$'\n'/; }"
else
  install -d -m 0755 "${marker%/*}"
  : >"$marker"
fi
say "kubeadm upgrade $mode $version done"
