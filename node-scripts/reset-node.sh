#!/usr/bin/env bash
# Resets a node that leaves the cluster for good: what `kubeadm init`/`kubeadm join` set up on it is
# undone, and the clean-up kubeadm reset leaves to the operator is done. Runs on that node, as root.
# Usage: reset-node.sh NODE   (NODE: the node's name, for the messages; the machine it runs on is reset)
# Steps, each checked first and done only when needed, each bounded:
#  1. `kubeadm reset --force` (at most 300 s) when anything kubeadm installed is left:
#     /etc/kubernetes/{admin,super-admin,kubelet,bootstrap-kubelet,controller-manager,scheduler}.conf,
#     or anything in /etc/kubernetes/manifests, /etc/kubernetes/pki, /var/lib/kubelet or /var/lib/etcd.
#     Its phases: preflight, remove-etcd-member (a control-plane node with stacked etcd removes its
#     own etcd member; kubeadm only warns when that fails, so the member is removed or checked gone
#     from a node that stays with etcd-member.sh), cleanup-node (kubelet stopped, those files and
#     directories' contents deleted). Anything still left afterwards is a failure. --force: a remote
#     command has no TTY, and without it kubeadm asks for a confirmation and stops.
#  2. kubelet stopped and disabled (systemctl stop / disable kubelet), so a reboot does not start it.
#  3. The CNI configuration removed (the contents of /etc/cni/net.d): kubeadm reset leaves it.
#  4. iptables as the kubeadm reset page says: `iptables -F && iptables -t nat -F && iptables -t
#     mangle -F && iptables -X`, when a rule is left in those tables or a user chain in filter; then
#     `ipvsadm --clear` where ipvsadm is installed and IPVS has virtual services. GUARD: when the
#     filter table's INPUT or OUTPUT policy is not ACCEPT (`iptables -S INPUT` prints "-P INPUT
#     DROP"), flushing the rules would cut this SSH session (and every connection the rules let
#     through): nothing is flushed, a warning says so with the commands to run by hand from the
#     console, and the script goes on (exit 0). Where iptables is not installed it says so and skips.
# Not removed: $HOME/.kube/config and other kubeconfigs outside /etc/kubernetes (kubeadm reset
# leaves them too: remove them by hand if the machine stays), /etc/kubernetes/tmp (kubeadm upgrade's
# backups), the packages, containerd and its images.
# Progress lines "cluster-maintenance: reset-node.sh: NODE: ..." on stderr (kubeadm's own output
# too), each part that is already done says "already reset: ...", then a final "...: NODE: reset".
# A second run on a reset node changes nothing. All paths are under ${CM_NODE_ROOT:-} (the lab).
# Exit codes: 0 done, 1 a step failed (a re-run tries again), 2 bad usage.
# Sources: https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-reset/ (phases, "Cleanup
# of CNI configuration", "Reset iptables rules", IPVS),
# https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/create-cluster-kubeadm/#remove-the-node
set -euo pipefail
me=reset-node.sh
root="${CM_NODE_ROOT:-}"
fail() { echo "cluster-maintenance: $me: ${node:-?}: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }

[[ $# -eq 1 ]] || fail 2 "usage: $me NODE"
[[ $1 =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] || fail 2 "bad node name"
node=$1

# 1. kubeadm reset, while anything kubeadm installed is left.
# kubeadm_left: prints what kubeadm installed that is still on the node, one path a line.
kubeadm_left() {
  local f d
  for f in admin super-admin kubelet bootstrap-kubelet controller-manager scheduler; do
    if [[ -e $root/etc/kubernetes/$f.conf ]]; then echo "/etc/kubernetes/$f.conf"; fi
  done
  for d in etc/kubernetes/manifests etc/kubernetes/pki var/lib/kubelet var/lib/etcd; do
    if [[ -d $root/$d && -n $(find "$root/$d" -mindepth 1 -maxdepth 1 -print -quit) ]]; then echo "/$d/*"; fi
  done
}
left=$(kubeadm_left)
if [[ -z $left ]]; then
  say "already reset: nothing kubeadm installed is left (kubeconfigs, manifests, pki, /var/lib/kubelet, /var/lib/etcd)"
else
  say "kubeadm reset --force (left: ${left//$'\n'/ })"
  rc=0
  timeout 300 kubeadm reset --force >&2 || rc=$?
  case $rc in
    0) ;;
    124) fail 1 "kubeadm reset did not finish within 300 s; run this again to retry" ;;
    127) fail 1 "kubeadm is not installed, and what it installed is left: ${left//$'\n'/ }; remove it by hand" ;;
    *) fail 1 "kubeadm reset failed (exit $rc); run this again to retry" ;;
  esac
  left=$(kubeadm_left)
  [[ -z $left ]] || fail 1 "kubeadm reset finished but left: ${left//$'\n'/ }; see kubeadm's output above"
  say "kubeadm reset done"
fi

# 2. kubelet stopped and disabled.
kubelet_done=yes
if timeout 30 systemctl is-active --quiet kubelet; then
  timeout 60 systemctl stop kubelet || fail 1 "systemctl stop kubelet failed"
  say "kubelet stopped"
  kubelet_done=""
fi
if timeout 30 systemctl is-enabled --quiet kubelet 2>/dev/null; then
  timeout 60 systemctl disable kubelet >&2 || fail 1 "systemctl disable kubelet failed"
  say "kubelet disabled (it does not start at boot)"
  kubelet_done=""
fi
if [[ -n $kubelet_done ]]; then say "already reset: kubelet is stopped and disabled"; fi

# 3. CNI configuration.
cni="$root/etc/cni/net.d"
if [[ -d $cni && -n $(find "$cni" -mindepth 1 -maxdepth 1 -print -quit) ]]; then
  entries=$(find "$cni" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort | tr '\n' ' ')
  timeout 60 find "$cni" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} + || fail 1 "removing the contents of /etc/cni/net.d failed"
  say "removed the CNI configuration in /etc/cni/net.d: ${entries% }"
else
  say "already reset: /etc/cni/net.d is empty"
fi

# 4. iptables, then IPVS.
guarded=""
rc=0
input=$(timeout 30 iptables -S INPUT 2>&1) || rc=$?
if ((rc == 127)); then
  say "iptables is not installed: no iptables rules to flush"
else
  ((rc == 0)) || fail 1 "iptables -S INPUT failed (exit $rc): ${input##*$'\n'}"
  output=$(timeout 30 iptables -S OUTPUT 2>&1) || fail 1 "iptables -S OUTPUT failed: ${output##*$'\n'}"
  for chain in INPUT OUTPUT; do
    if [[ $chain == INPUT ]]; then rules=$input; else rules=$output; fi
    policy=$(awk -v c="$chain" '$1 == "-P" && $2 == c { print $3 }' <<<"$rules")
    if [[ $policy != ACCEPT ]]; then guarded+="${guarded:+, }$chain ${policy:-unknown}"; fi
  done
  if [[ -n $guarded ]]; then
    say "warning: iptables NOT flushed: the filter table's policy is $guarded, so flushing its rules would cut this SSH session and every connection they let through. To reset iptables by hand from the machine's console: iptables -P INPUT ACCEPT && iptables -P OUTPUT ACCEPT && iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X"
  else
    # Anything the documented commands would remove: a rule in filter, nat or mangle, a user chain in filter.
    dirty=""
    for table in filter nat mangle; do
      rules=$(timeout 30 iptables -t "$table" -S 2>&1) || fail 1 "iptables -t $table -S failed: ${rules##*$'\n'}"
      if grep -q '^-A ' <<<"$rules" || { [[ $table == filter ]] && grep -q '^-N ' <<<"$rules"; }; then dirty+="${dirty:+ }$table"; fi
    done
    if [[ -n $dirty ]]; then
      { timeout 60 iptables -F && timeout 60 iptables -t nat -F && timeout 60 iptables -t mangle -F && timeout 60 iptables -X; } ||
        fail 1 "flushing iptables failed (iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X); run this again to retry"
      say "iptables flushed (filter, nat, mangle; user chains of filter deleted): rules were left in $dirty"
    else
      say "already reset: no iptables rules in filter, nat and mangle"
    fi
  fi
fi
rc=0
ipvs=$(timeout 30 ipvsadm -Sn 2>&1) || rc=$?
if ((rc == 127)); then
  say "ipvsadm is not installed: no IPVS tables to clear"
elif ((rc != 0)); then
  say "ipvsadm -Sn failed (IPVS not available in this kernel?): not cleared: ${ipvs##*$'\n'}"
elif [[ -n $ipvs ]]; then
  timeout 60 ipvsadm --clear || fail 1 "ipvsadm --clear failed"
  say "IPVS tables cleared (ipvsadm --clear)"
else
  say "already reset: IPVS has no virtual services"
fi

if [[ -n $guarded ]]; then
  say "reset, except iptables (policy $guarded: see the warning above)"
else
  say "reset"
fi
