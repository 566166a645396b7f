# Shared code of the lab's stand-in executables (sourced by them; never sent to a node).
# State of the simulated nodes and cluster:
#   $CM_LAB_DIR/nodes/<node>/       pkg-<name> (Debian version), held-<name>, kubelet-running,
#                                   kubelet-active, kubeadm-version, role, os-pending,
#                                   os-reboot-after-upgrade, unit-changed
#   $CM_LAB_DIR/nodes/<node>/root/  the node's filesystem as the scripts see it (CM_NODE_ROOT)
#   $CM_LAB_DIR/cluster/version     the version `kubeadm upgrade apply` last set
#   $CM_LAB_DIR/cluster/nodes/<node>/{unschedulable,annotations,pods}
#   $CM_LAB_DIR/calls.log           "<epoch-ms> <node> <command> <args...>", one line per call
#   $CM_LAB_DIR/fail/<node>         lines; a call whose "<command> <args...>" contains one fails
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
  [[ -f $CM_LAB_DIR/fail/$CM_LAB_NODE ]] || return 0
  while IFS= read -r pat || [[ -n $pat ]]; do
    if [[ -n $pat && $line == *"$pat"* ]]; then
      echo "lab: injected failure" >&2
      exit 1
    fi
  done <"$CM_LAB_DIR/fail/$CM_LAB_NODE"
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
# The image tag in this node's kube-apiserver manifest ("v1.35.9"), or "" on a worker.
apiserver_tag() {
  local m="$lab_root/etc/kubernetes/manifests/kube-apiserver.yaml"
  if [[ -f $m ]]; then sed -n 's/.*image: .*kube-apiserver:\(v[0-9.]*\).*/\1/p' "$m"; fi
}
set_apiserver_tag() {
  local m="$lab_root/etc/kubernetes/manifests/kube-apiserver.yaml"
  sed -i "s/\(image: .*kube-apiserver:\)v[0-9.]*/\1$1/" "$m"
}

# kubelet (re)start: runs the installed kubelet package's version.
kubelet_start() {
  pkg_version kubelet >"$lab_node_dir/kubelet-running"
  : >"$lab_node_dir/kubelet-active"
}

# A reboot: kubelet down (node NotReady), a pause, a new boot id, reboot-required gone, kubelet up.
lab_reboot() {
  lab_lock
  rm -f "$lab_node_dir/kubelet-active"
  lab_unlock
  sleep "$(cat "$CM_LAB_DIR/boot-seconds" 2>/dev/null || echo 1)"
  lab_lock
  cat /proc/sys/kernel/random/uuid >"$lab_root/proc/sys/kernel/random/boot_id"
  rm -f "$lab_root/var/run/reboot-required" "$lab_node_dir/unit-changed"
  kubelet_start
  lab_unlock
}
