#!/usr/bin/env bash
# Restores ONE kubeadm control-plane etcd member from a snapshot (run it on every member with the
# same snapshot file; run it only deliberately).
# Usage: etcd-restore.sh SNAPSHOT NAME INITIAL_CLUSTER PEER_URL DATA_DIR MODE
#   SNAPSHOT         absolute path of an etcd-snapshot.sh snapshot (its SNAPSHOT.sha256 beside it)
#   NAME             this member's etcd --name
#   INITIAL_CLUSTER  every member as NAME=PEER_URL,... (must list NAME=PEER_URL)
#   PEER_URL         this member's --initial-advertise-peer-urls
#   DATA_DIR         the NEW data dir (absent or empty); SNAPSHOT and DATA_DIR are used as given
#   MODE             dry-run (prints every action as "would: ...", changes nothing) or apply
# Steps: check the sha256; move kube-apiserver.yaml out of /etc/kubernetes/manifests (to
# /etc/kubernetes/manifests-moved-by-cluster-maintenance/) and wait until it is stopped; the
# same for etcd.yaml; restore the snapshot into DATA_DIR; point the etcd manifest's --data-dir,
# data volume hostPath and mountPath at DATA_DIR; put etcd.yaml back, then kube-apiserver.yaml.
# Health is verified by the caller (kubectl). Done when etcd.yaml already points at DATA_DIR and
# both manifests are back.
set -euo pipefail
me=etcd-restore.sh
node="$(hostname)"
fail() { echo "cluster-maintenance: $me: $node: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }

[[ $# -eq 6 ]] || fail 2 "usage: $me SNAPSHOT NAME INITIAL_CLUSTER PEER_URL DATA_DIR MODE"
snapshot=$1 name=$2 cluster=$3 peer=$4 data=${5%/} mode=$6
path_re='^(/[A-Za-z0-9._-]+)+$'
name_re='[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?'
url_re='https?://([A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}'
[[ $snapshot =~ $path_re && $snapshot == *.db && /$snapshot/ != */../* && /$snapshot/ != */./* ]] ||
  fail 2 "SNAPSHOT must be an absolute path to a .db file, not '$snapshot'"
[[ $name =~ ^${name_re}$ ]] || fail 2 "bad member name '$name'"
[[ $peer =~ ^${url_re}$ ]] || fail 2 "bad peer URL '$peer'"
[[ $cluster =~ ^${name_re}=${url_re}(,${name_re}=${url_re})*$ ]] || fail 2 "bad INITIAL_CLUSTER '$cluster' (NAME=URL,...)"
[[ ,$cluster, == *",$name=$peer,"* ]] || fail 2 "INITIAL_CLUSTER does not list this member as $name=$peer"
[[ $data =~ $path_re && /$data/ != */../* && /$data/ != */./* ]] || fail 2 "DATA_DIR must be an absolute path, not '$5'"
[[ $mode == dry-run || $mode == apply ]] || fail 2 "MODE must be 'dry-run' or 'apply', not '$mode'"

root=${CM_NODE_ROOT:-}
manifests="$root/etc/kubernetes/manifests"
moved="$root/etc/kubernetes/manifests-moved-by-cluster-maintenance"
# Runs (apply) or prints (dry-run) one action; $1 says what it does.
act() {
  local what=$1
  shift
  if [[ $mode == dry-run ]]; then
    echo "would: $what"
  else
    echo "doing: $what"
    "$@"
  fi
}

if [[ -f $manifests/etcd.yaml && -f $manifests/kube-apiserver.yaml && -d $data/member ]] &&
  grep -qxF -- "    - --data-dir=$data" "$manifests/etcd.yaml"; then
  say "already done: $manifests/etcd.yaml points at $data"
  exit 0
fi

[[ -f $snapshot ]] || fail 3 "no snapshot $snapshot"
[[ -f $snapshot.sha256 ]] || fail 6 "no $snapshot.sha256 beside the snapshot; refused"
(cd "$(dirname "$snapshot")" && sha256sum --status -c "${snapshot##*/}.sha256") ||
  fail 6 "$snapshot does not match its .sha256 (damaged); refused"
echo "checked: $snapshot matches its sha256"
restored_marker="$moved/restored-into"
if [[ -d $data && -n $(ls -A "$data") ]] && ! [[ -f $restored_marker && $(<"$restored_marker") == "$data" ]]; then
  fail 6 "DATA_DIR $data exists and is not empty; choose a new data dir"
fi
for f in kube-apiserver.yaml etcd.yaml; do
  [[ -f $manifests/$f || -f $moved/$f ]] || fail 3 "no $f in $manifests (nor in $moved)"
done
etcd_yaml=$manifests/etcd.yaml
[[ -f $etcd_yaml ]] || etcd_yaml=$moved/etcd.yaml
old=$(sed -n 's/^ *- --data-dir=\(.*\)$/\1/p' "$etcd_yaml" | head -n 1)
[[ $old =~ $path_re ]] || fail 6 "$etcd_yaml has no --data-dir=/... line"
if command -v etcdutl >/dev/null; then tool=(etcdutl); else tool=(env ETCDCTL_API=3 etcdctl); fi

# Bounded wait (120 s) until the static pod $1 is gone: its manifest is out of the kubelet's
# directory and, where crictl exists, no container of it runs.
wait_gone() {
  local i
  for ((i = 0; i < 240; i++)); do
    if [[ ! -f $manifests/$1.yaml ]] &&
      { ! command -v crictl >/dev/null || [[ -z $(timeout 10 crictl ps --name "^$1\$" -q 2>/dev/null) ]]; }; then
      return 0
    fi
    sleep 0.5
  done
  fail 1 "$1 still runs 120 s after its manifest was moved out of $manifests"
}
move_out() { install -d -m 0700 "$moved"; if [[ -f $manifests/$1 ]]; then mv -f "$manifests/$1" "$moved/$1"; fi; }
move_back() { if [[ -f $moved/$1 ]]; then mv -f "$moved/$1" "$manifests/$1"; fi; }
restore() {
  if [[ -f $restored_marker && $(<"$restored_marker") == "$data" && -d $data/member ]]; then
    say "already restored into $data"
    return 0
  fi
  rm -rf "${data:?}.part"
  timeout 600 "${tool[@]}" snapshot restore "$snapshot" --name "$name" --initial-cluster "$cluster" \
    --initial-advertise-peer-urls "$peer" --data-dir "$data.part" >&2 || fail 1 "snapshot restore of $snapshot failed"
  if [[ -d $data ]]; then rmdir "$data"; fi
  mv "$data.part" "$data"
  chmod 0700 "$data"
  echo "$data" >"$restored_marker"
}
repoint() {
  local f=$moved/etcd.yaml
  [[ -f $f.before-restore ]] || cp -p "$f" "$f.before-restore"
  sed -i -e "s#^\( *- --data-dir=\)$old\$#\1$data#" -e "s#^\( *\)\(- \)\{0,1\}\(mountPath\|path\): $old\$#\1\2\3: $data#" "$f"
  grep -qxF -- "    - --data-dir=$data" "$f" || fail 6 "could not point $f at $data"
}

act "move $manifests/kube-apiserver.yaml to $moved/" move_out kube-apiserver.yaml
act "wait (at most 120 s) until kube-apiserver is stopped" wait_gone kube-apiserver
act "move $manifests/etcd.yaml to $moved/" move_out etcd.yaml
act "wait (at most 120 s) until etcd is stopped" wait_gone etcd
act "${tool[*]} snapshot restore $snapshot --name $name --initial-cluster $cluster --initial-advertise-peer-urls $peer --data-dir $data" restore
act "point etcd.yaml's --data-dir, hostPath and mountPath $old at $data (original kept as $moved/etcd.yaml.before-restore)" repoint
act "move $moved/etcd.yaml back to $manifests/" move_back etcd.yaml
act "move $moved/kube-apiserver.yaml back to $manifests/" move_back kube-apiserver.yaml
[[ $mode == dry-run ]] || rm -f "$restored_marker"
echo "next: when every member is restored: kubectl -n kube-system get pods (etcd and kube-apiserver Running), etcdctl endpoint health --cluster, then restart kube-controller-manager, kube-scheduler and the kubelets; the old data dir $old is left untouched"
