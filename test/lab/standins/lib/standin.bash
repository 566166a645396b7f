# Shared code of the lab's stand-in executables (sourced by them; never sent to a node).
# State of the simulated nodes and cluster:
#   $CM_LAB_DIR/nodes/<node>/       pkg-<name> (Debian version), held-<name>, kubelet-running,
#                                   kubelet-active, kubeadm-version, role, os-pending,
#                                   os-reboot-after-upgrade, unit-changed
#   $CM_LAB_DIR/nodes/<node>/root/  the node's filesystem as the scripts see it (CM_NODE_ROOT)
#   $CM_LAB_DIR/cluster/version     the version `kubeadm upgrade apply` last set
#   $CM_LAB_DIR/cluster/addons      "kube-proxy vX.Y.Z" and "coredns vA.B.C" lines: the add-ons as
#                                   kubeadm's add-on phase last deployed them (kubeadm upgrade_addons)
#   $CM_LAB_DIR/cluster/nodes/<node>/{unschedulable,annotations,labels,pods}  the Node object (its
#                                   directory), as the lab's Kubernetes API double serves and changes
#                                   it (test/lab/kube-api/lab-state.ts); pods: "NS NAME OWNER EMPTYDIR
#                                   PDB MIRROR [DELETED_MS GRACE_S]" per line, the last two on a pod
#                                   being deleted while its kubelet is down
#   $CM_LAB_DIR/calls.log           "<epoch-ms> <node> <command> <args...>", one line per call
#   $CM_LAB_DIR/fail/<node>         lines; a call whose "<command> <args...>" contains one fails
#   $CM_LAB_DIR/slow/<node>         lines "SECONDS SUBSTRING": a call whose "<command> <args...>"
#                                   contains SUBSTRING first takes SECONDS (a slow API server, a
#                                   loaded node); the first matching line counts
#   nodes/<node>/kubelet-stopped-at epoch ms of the kubelet's last stop (systemctl stop, a reboot);
#                                   read by the API double (Ready and the node's Lease)
#   nodes/<node>/kubeadm-interrupt-after  a control-plane component name: the next kubeadm upgrade
#                                   apply/node stops (exit 1, as if killed) right after writing that
#                                   component's manifest; the file is removed
#   nodes/<node>/enabled-<unit>     kubelet or containerd is enabled (systemctl enable/disable/is-enabled)
#   nodes/<node>/kubeadm-reset-interrupt-after  preflight or remove-etcd-member: the next kubeadm
#                                   reset stops (exit 1) right after that phase; the file is removed
#   nodes/<node>/lab-etcd           how kubeadm reset reaches the lab's real etcd (endpoints=, cacert=,
#                                   cert=, key= lines; test/lab/etcd-cluster.ts labEtcdFor)
#   nodes/<node>/iptables/<table>   the table as `iptables -t TABLE -S` prints it (stand-in iptables);
#                                   nodes/<node>/no-iptables: iptables not installed
#   nodes/<node>/ipvs               the IPVS table as `ipvsadm -Sn` prints it, where pkg-ipvsadm exists
set -euo pipefail

: "${CM_LAB_DIR:?lab: CM_LAB_DIR is not set}" "${CM_LAB_NODE:?lab: CM_LAB_NODE is not set}"
lab_cmd=${0##*/}
lab_node_dir="$CM_LAB_DIR/nodes/$CM_LAB_NODE"
lab_root="$lab_node_dir/root"
lab_cluster="$CM_LAB_DIR/cluster"
[[ -d $lab_node_dir ]] || { echo "lab: no node $CM_LAB_NODE in $CM_LAB_DIR" >&2; exit 1; }

# Appends the call to calls.log (one write of one line), then applies failure injection.
lab_start() {
  local us=${EPOCHREALTIME/[.,]/} line="$lab_cmd $*" pat
  line=${line//$'\n'/\\n}
  printf '%s %s %s\n' "${us:0:${#us}-3}" "$CM_LAB_NODE" "$line" >>"$CM_LAB_DIR/calls.log"
  lab_slow "$@"
  [[ -f $CM_LAB_DIR/fail/$CM_LAB_NODE ]] || return 0
  while IFS= read -r pat || [[ -n $pat ]]; do
    if [[ -n $pat && $line == *"$pat"* ]]; then
      echo "lab: injected failure" >&2
      exit 1
    fi
  done <"$CM_LAB_DIR/fail/$CM_LAB_NODE"
}
# The slowness of this call (slow/<node>), applied by lab_start before failure injection.
lab_slow() {
  local line="$lab_cmd $*" seconds pat
  [[ -f $CM_LAB_DIR/slow/$CM_LAB_NODE ]] || return 0
  while read -r seconds pat || [[ -n $seconds ]]; do
    if [[ -n $pat && $line == *"$pat"* ]]; then
      sleep "$seconds"
      return 0
    fi
  done <"$CM_LAB_DIR/slow/$CM_LAB_NODE"
}

# One lock for all lab state; held for the short read-modify-write of a call.
lab_lock() {
  exec 9>>"$CM_LAB_DIR/.lock"
  flock -w 60 9 || { echo "lab: state lock not acquired within 60s" >&2; exit 1; }
}
lab_unlock() { flock -u 9; exec 9>&-; }

# "1.35.9" -> 35
minor_of() { local v=${1#v}; v=${v#*.}; echo "${v%%.*}"; }
# Succeeds when version $1 < version $2 (x.y.z).
version_lt() { [[ $1 != "$2" && $(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1) == "$1" ]]; }
# Installed package version without the Debian revision ("1.35.9-1.1" -> "1.35.9"), or "".
pkg_version() { local f="$lab_node_dir/pkg-$1"; if [[ -f $f ]]; then local v; v=$(<"$f"); echo "${v%-*}"; fi; }
# The image tag in this node's static pod manifest of component $1 ("v1.35.9", etcd "3.6.5-0"),
# or "" when there is no such manifest (a worker).
manifest_tag() {
  local m="$lab_root/etc/kubernetes/manifests/$1.yaml"
  if [[ -f $m ]]; then sed -n "s/.*image: .*\/$1:\([-v0-9.]*\).*/\1/p" "$m"; fi
}
set_manifest_tag() {
  local m="$lab_root/etc/kubernetes/manifests/$1.yaml"
  sed -i "s/\(image: .*\/$1:\)[-v0-9.]*/\1$2/" "$m"
}
apiserver_tag() { manifest_tag kube-apiserver; }
set_apiserver_tag() { set_manifest_tag kube-apiserver "$1"; }
# The etcd image tag the lab's kubeadm X.Y.Z installs (lib/kubeadm-etcd-versions; the real table is
# kubeadm's constants.SupportedEtcdVersion, which changes between patch releases too).
kubeadm_etcd_tag() {
  awk -v m="$(minor_of "$1")" '$1 == m { print $2 }' "$(dirname "${BASH_SOURCE[0]}")/kubeadm-etcd-versions"
}

# The CoreDNS image tag the lab's kubeadm deploys, every minor (kubeadm's constants.CoreDNSVersion
# changes now and then; the lab does not follow it). node-kit.ts LAB_COREDNS_TAG is the same.
kubeadm_coredns_tag() { echo v1.11.3; }

# kubelet (re)start: runs the installed kubelet package's version, and finishes the deletion of
# the node's pods that were deleted while it was down (they were Terminating until now).
kubelet_start() {
  local pods="$lab_cluster/nodes/$CM_LAB_NODE/pods"
  pkg_version kubelet >"$lab_node_dir/kubelet-running"
  : >"$lab_node_dir/kubelet-active"
  rm -f "$lab_node_dir/kubelet-stopped-at"
  if [[ -f $pods ]]; then
    awk 'NF < 7' "$pods" >"$pods.kubelet"
    mv "$pods.kubelet" "$pods"
  fi
}
# kubelet stop: the time is kept (the control plane notices only through the Lease at once).
kubelet_stop() {
  if [[ -e $lab_node_dir/kubelet-active ]]; then
    local us=${EPOCHREALTIME/[.,]/}
    echo "${us:0:${#us}-3}" >"$lab_node_dir/kubelet-stopped-at"
  fi
  rm -f "$lab_node_dir/kubelet-active"
}

# A reboot: kubelet down (node NotReady), a pause, a new boot id, reboot-required gone, kubelet up.
lab_reboot() {
  lab_lock
  kubelet_stop
  lab_unlock
  sleep "$(cat "$CM_LAB_DIR/boot-seconds" 2>/dev/null || echo 1)"
  lab_lock
  cat /proc/sys/kernel/random/uuid >"$lab_root/proc/sys/kernel/random/boot_id"
  rm -f "$lab_root/var/run/reboot-required" "$lab_node_dir/unit-changed"
  kubelet_start
  lab_unlock
}
