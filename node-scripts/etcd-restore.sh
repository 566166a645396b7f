#!/usr/bin/env bash
# Restores a kubeadm control-plane etcd member from a snapshot (run it only deliberately).
# Usage: etcd-restore.sh SNAPSHOT NAME INITIAL_CLUSTER PEER_URL DATA_DIR MODE [PHASE]
#   SNAPSHOT         absolute path of an etcd-snapshot.sh snapshot (its SNAPSHOT.sha256 beside it)
#   NAME             this member's etcd --name
#   INITIAL_CLUSTER  every member as NAME=PEER_URL,... (must list NAME=PEER_URL)
#   PEER_URL         this member's --initial-advertise-peer-urls
#   DATA_DIR         the NEW data dir (absent or empty); SNAPSHOT and DATA_DIR are used as given
#   MODE             dry-run (prints every action as "would: ...", changes nothing) or apply
#   PHASE            all (default: the whole cycle on this member; for a single-member cluster),
#                    or one phase, run on EVERY member before the next phase starts anywhere:
#     stop     move kube-apiserver.yaml, then etcd.yaml out of /etc/kubernetes/manifests (to
#              /etc/kubernetes/manifests-moved-by-cluster-maintenance/, created 0700 when absent,
#              never changed, refused when not root's or group/world-writable) and wait (a 120 s
#              deadline) until both are stopped, as this script sees it itself: no process of that
#              name in /proc and nothing listening on its ports (kube-apiserver: --secure-port,
#              6443; etcd: 2379, 2380 and PEER_URL's) in /proc/net/tcp and tcp6; otherwise exit 1.
#              It checks first that the snapshot matches its sha256 and DATA_DIR is free
#     restore  check the sha256, restore the snapshot into DATA_DIR (etcdutl with
#              --bump-revision 1000000000 --mark-compacted where the node's etcdutl has them,
#              https://etcd.io/docs/v3.5/op-guide/recovery/ ; otherwise etcdutl or etcdctl
#              without, with a warning), point the moved etcd.yaml's --data-dir, data volume
#              hostPath and mountPath at DATA_DIR (needs stop: refused while either still runs)
#     start    move etcd.yaml back, then kube-apiserver.yaml (needs restore; refused while an
#              old etcd or kube-apiserver still runs: one that kept running through the restore
#              would serve its watch cache from before it)
#   (https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#restoring-an-etcd-cluster:
#   stop every kube-apiserver, restore every member from the same snapshot, then start.)
# Every phase is idempotent (a phase already done says so and exits 0); an apply out of order
# is refused (exit 6) with the phase to run first; a dry-run out of order says so and prints
# the phase's actions as they would run once the earlier phases are done.
# Health is verified by the caller (kubectl). Done when etcd.yaml already points at DATA_DIR and
# both manifests are back.
# Exit codes: 1 a step failed (also: still running at the stop deadline), 2 bad arguments,
# 3 something missing, 6 refused.
set -euo pipefail
me=etcd-restore.sh
node="$(hostname)"
fail() { echo "cluster-maintenance: $me: $node: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }

[[ $# -eq 6 || $# -eq 7 ]] || fail 2 "usage: $me SNAPSHOT NAME INITIAL_CLUSTER PEER_URL DATA_DIR MODE [PHASE]"
snapshot=$1 name=$2 cluster=$3 peer=$4 data=${5%/} mode=$6 phase=all
[[ $# -eq 6 ]] || phase=$7
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
[[ $phase == all || $phase == stop || $phase == restore || $phase == start ]] ||
  fail 2 "PHASE must be 'stop', 'restore', 'start' or 'all', not '$phase'"

root=${CM_NODE_ROOT:-}
manifests="$root/etc/kubernetes/manifests"
moved="$root/etc/kubernetes/manifests-moved-by-cluster-maintenance"
restored_marker="$moved/restored-into"
# 1: print (dry-run) or do every action of the phase, also those that look done already.
every=0
[[ $phase != all ]] || every=1
# This command, applied, with another phase (for the messages that say what to run first: a
# dry-run's hint names the apply, the phase that must have run).
again() { echo "$me $snapshot $name $cluster $peer $data apply $1"; }
# The next command of the same mode (dry-run or apply).
next_cmd() { echo "$me $snapshot $name $cluster $peer $data $mode $1"; }
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
# Refuses (apply: exit 6) or notes (dry-run) that a phase runs out of order; $1 why, $2 the fix.
out_of_order() {
  if [[ $mode == dry-run ]]; then
    echo "note: $1; apply would refuse this phase now ($2); the actions once it may run:"
    every=1
  else
    fail 6 "$phase refused: $1; $2"
  fi
}
points_at_data() { grep -qxF -- "    - --data-dir=$data" "$1"; }
restored() { [[ -f $restored_marker && $(<"$restored_marker") == "$data" && -d $data/member ]]; }
# Whether a static pod still runs, as seen here (not through crictl, which may be missing or
# fail): a process of that name in /proc, or a socket listening on one of its ports in
# /proc/net/tcp or tcp6 (static pods use the host network). Sets running (what was seen).
STOP_WAIT_S=120
# The test lab only (a node root set): a shorter bound from the node root's lab/stop-wait-s.
if [[ -n $root && -f $root/lab/stop-wait-s ]]; then
  STOP_WAIT_S=$(<"$root/lab/stop-wait-s")
  [[ $STOP_WAIT_S =~ ^[1-9][0-9]{0,2}$ ]] || fail 2 "bad $root/lab/stop-wait-s"
fi
running=""
procs_named() {
  local c n
  for c in "$root"/proc/[0-9]*/comm; do
    n=$(cat "$c" 2>/dev/null) || continue
    if [[ $n == "$1" ]]; then c=${c%/comm}; echo "${c##*/}"; fi
  done
}
listening() {
  local f hex
  hex=$(printf ':%04X' "$1")
  for f in "$root/proc/net/tcp" "$root/proc/net/tcp6"; do
    [[ -r $f ]] || continue
    awk -v p="$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' "$f" && return 0
  done
  return 1
}
port_of_url() { [[ $1 =~ :([0-9]{1,5})/?$ ]] && echo "${BASH_REMATCH[1]}"; }
ports_of() {
  local f p
  if [[ $1 == kube-apiserver ]]; then
    p=6443
    for f in "$manifests/kube-apiserver.yaml" "$moved/kube-apiserver.yaml"; do
      if [[ -f $f ]]; then p=$(sed -n 's/^ *- --secure-port=\([0-9]\{1,5\}\)$/\1/p' "$f" | head -n 1); p=${p:-6443}; break; fi
    done
    echo "$p"
  else
    echo "2379 2380 $(port_of_url "$peer")"
  fi
}
runs() {
  local pids port
  pids=$(procs_named "$1" | tr '\n' ' ')
  if [[ -n $pids ]]; then running="a $1 process runs (pid ${pids% })"; return 0; fi
  for port in $(ports_of "$1"); do
    if listening "$port"; then running="port $port is listening"; return 0; fi
  done
  return 1
}
stopped() { [[ ! -f $manifests/$1.yaml && -f $moved/$1.yaml ]] && ! runs "$1"; }

if [[ -f $manifests/etcd.yaml && -f $manifests/kube-apiserver.yaml && -d $data/member ]] && points_at_data "$manifests/etcd.yaml"; then
  say "already done: $manifests/etcd.yaml points at $data"
  exit 0
fi
case $phase in
stop)
  if stopped kube-apiserver && stopped etcd; then
    say "already done: kube-apiserver and etcd are stopped (their manifests are in $moved)"
    exit 0
  fi
  ;;
restore)
  if restored && [[ -f $moved/etcd.yaml ]] && points_at_data "$moved/etcd.yaml"; then
    say "already done: restored into $data and $moved/etcd.yaml points at it"
    exit 0
  fi
  ;;
esac

for f in kube-apiserver.yaml etcd.yaml; do
  [[ -f $manifests/$f || -f $moved/$f ]] || fail 3 "no $f in $manifests (nor in $moved)"
done
etcd_yaml=$manifests/etcd.yaml
[[ -f $etcd_yaml ]] || etcd_yaml=$moved/etcd.yaml

# The order of the phases: restore needs both static pods stopped, start needs the restore.
case $phase in
restore)
  for p in kube-apiserver etcd; do
    if [[ -f $manifests/$p.yaml ]]; then
      out_of_order "$p.yaml is still in $manifests" "run first, on every member: $(again stop)"
      break
    elif runs "$p"; then
      out_of_order "$p still runs: $running" "run first: $(again stop) (it waits until $p is stopped)"
      break
    fi
  done
  ;;
start)
  if ! [[ -d $data/member ]] || ! points_at_data "$etcd_yaml"; then
    out_of_order "$etcd_yaml does not point at a restored $data" "run first, on every member: $(again stop), then $(again restore)"
  else
    # Whatever still runs while its manifest is out was never stopped: an old etcd, or a
    # kube-apiserver that would serve its watch cache from before the restore.
    for p in etcd kube-apiserver; do
      if [[ ! -f $manifests/$p.yaml ]] && runs "$p"; then
        out_of_order "$p still runs though its manifest is moved out ($running): it was not stopped and holds state from before the restore" "stop it (crictl stop, or kill the process), then run $(again start) again"
        break
      fi
    done
  fi
  ;;
esac

data_dir_of() { sed -n 's/^ *- --data-dir=\(.*\)$/\1/p' "$1" | head -n 1; }
old=$(data_dir_of "$etcd_yaml")
# After the restore, the data dir before it is in the copy repoint kept.
if [[ $old == "$data" && -f $moved/etcd.yaml.before-restore ]]; then old=$(data_dir_of "$moved/etcd.yaml.before-restore"); fi
if [[ $phase != start ]]; then
  [[ -f $snapshot ]] || fail 3 "no snapshot $snapshot"
  [[ -f $snapshot.sha256 ]] || fail 6 "no $snapshot.sha256 beside the snapshot; refused"
  (cd "$(dirname "$snapshot")" && sha256sum --status -c "${snapshot##*/}.sha256") ||
    fail 6 "$snapshot does not match its .sha256 (damaged); refused"
  echo "checked: $snapshot matches its sha256"
  if [[ -d $data && -n $(ls -A "$data") ]] && ! [[ -f $restored_marker && $(<"$restored_marker") == "$data" ]]; then
    fail 6 "DATA_DIR $data exists and is not empty; choose a new data dir"
  fi
  [[ $old =~ $path_re ]] || fail 6 "$etcd_yaml has no --data-dir=/... line"
fi
# The restore tool: etcdutl, with --bump-revision and --mark-compacted where it has them (etcd's
# recovery guide, https://etcd.io/docs/v3.5/op-guide/recovery/ : the restored revision is behind
# what watchers saw; bumped far ahead and marked compacted, every watcher relists instead of
# missing events); otherwise etcdutl or etcdctl (etcd 3.4) without them, with a warning.
bump=()
if command -v etcdutl >/dev/null; then
  tool=(etcdutl)
  help=$(etcdutl snapshot restore --help 2>&1 || true)
  if [[ $help == *--bump-revision* && $help == *--mark-compacted* ]]; then bump=(--bump-revision 1000000000 --mark-compacted); fi
else
  tool=(env ETCDCTL_API=3 etcdctl)
fi
if [[ $phase == restore || $phase == all ]] && ((${#bump[@]} == 0)); then
  say "warning: ${tool[*]} has no --bump-revision/--mark-compacted: the restored revision goes back behind what kube-apiserver's watch cache and every informer saw; after start, restart every kube-apiserver, kube-controller-manager, kube-scheduler and kubelet (npm run restore prints it)"
fi

# Wait until the static pod $1 is gone (its manifest out of the kubelet's directory, runs
# false): a deadline of STOP_WAIT_S seconds, each check bounded; exit 1 when it still runs.
wait_gone() {
  local start=$SECONDS # whole seconds: more than STOP_WAIT_S of them is at least STOP_WAIT_S s
  while :; do
    if [[ ! -f $manifests/$1.yaml ]] && ! runs "$1"; then
      return 0
    fi
    ((SECONDS - start <= STOP_WAIT_S)) || break
    sleep 0.5
  done
  fail 1 "$1 still runs $STOP_WAIT_S s after its manifest was moved out of $manifests: $running; not going on (stop it, then run this phase again)"
}
# The directory the manifests are moved to: created 0700 when absent; an existing one is never
# changed, and refused unless root's and not group- or world-writable (a manifest put there
# would be moved into the kubelet's directory by start).
moved_dir() {
  local uid m
  if [[ -e $moved || -L $moved ]]; then
    [[ -d $moved ]] || fail 6 "$moved exists and is not a directory; refused"
    read -r uid m < <(stat -L -c '%u %a' -- "$moved")
    ((uid == EUID && (8#$m & 8#022) == 0)) ||
      fail 6 "$moved is owned by uid $uid with mode $m: it must be root's and not group- or world-writable; refused (it is left as it is)"
  else
    (umask 077 && mkdir -p -- "$moved")
  fi
}
move_out() { moved_dir; if [[ -f $manifests/$1 ]]; then mv -f "$manifests/$1" "$moved/$1"; fi; }
move_back() { if [[ -f $moved/$1 ]]; then mv -f "$moved/$1" "$manifests/$1"; fi; }
restore() {
  if restored; then
    say "already restored into $data"
    return 0
  fi
  rm -rf "${data:?}.part"
  timeout 600 "${tool[@]}" snapshot restore "$snapshot" --name "$name" --initial-cluster "$cluster" \
    --initial-advertise-peer-urls "$peer" --data-dir "$data.part" "${bump[@]}" >&2 || fail 1 "snapshot restore of $snapshot failed"
  if [[ -d $data ]]; then rmdir "$data"; fi
  mv "$data.part" "$data"
  chmod 0700 "$data"
  echo "$data" >"$restored_marker"
}
repoint() {
  local f=$moved/etcd.yaml
  points_at_data "$f" || cp -p "$f" "$f.before-restore"
  sed -i -e "s#^\( *- --data-dir=\)$old\$#\1$data#" -e "s#^\( *\)\(- \)\{0,1\}\(mountPath\|path\): $old\$#\1\2\3: $data#" "$f"
  points_at_data "$f" || fail 6 "could not point $f at $data"
}

phase_stop() {
  local p
  for p in kube-apiserver etcd; do
    if [[ $every == 1 || -f $manifests/$p.yaml ]]; then
      act "move $manifests/$p.yaml to $moved/" move_out "$p.yaml"
    else
      say "already moved: $moved/$p.yaml"
    fi
    act "wait (at most $STOP_WAIT_S s) until $p is stopped (no $p process, nothing listening on port $(ports_of "$p" | sed 's/ /, /g'))" wait_gone "$p"
  done
}
phase_restore() {
  act "${tool[*]} snapshot restore $snapshot --name $name --initial-cluster $cluster --initial-advertise-peer-urls $peer --data-dir $data${bump[*]:+ ${bump[*]}}" restore
  act "point etcd.yaml's --data-dir, hostPath and mountPath $old at $data (original kept as $moved/etcd.yaml.before-restore)" repoint
}
phase_start() {
  local f
  for f in etcd.yaml kube-apiserver.yaml; do
    if [[ $every == 1 || ! -f $manifests/$f ]]; then
      act "move $moved/$f back to $manifests/" move_back "$f"
    else
      say "already back: $manifests/$f"
    fi
  done
  [[ $mode == dry-run ]] || rm -f "$restored_marker"
}

case $phase in
stop) phase_stop ;;
restore) phase_restore ;;
start) phase_start ;;
all)
  phase_stop
  phase_restore
  phase_start
  ;;
esac
case $phase in
stop) echo "next: when kube-apiserver and etcd are stopped on every member: $(next_cmd restore) on every member" ;;
restore) echo "next: when every member is restored: $(next_cmd start) on every member" ;;
*) echo "next: when every member is restored: kubectl -n kube-system get pods (etcd and kube-apiserver Running), etcdctl endpoint health --cluster, then restart every kube-apiserver, kube-controller-manager, kube-scheduler and the kubelets; the old data dir${old:+ $old} is left untouched" ;;
esac
