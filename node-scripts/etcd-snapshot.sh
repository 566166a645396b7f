#!/usr/bin/env bash
# Saves an etcd snapshot, verifies it and keeps it under a dated name with its sha256 and a record
# of how it was verified.
# Usage: etcd-snapshot.sh BACKUP_DIR LABEL ENDPOINT CACERT CERT KEY VERIFY KEEP
# (paths are used as given). VERIFY: `status` or `restore`; KEEP: how many snapshots (each with
# its .sha256 and .verified) stay in BACKUP_DIR, newest first, after a successful new one (at least 1).
# BACKUP_DIR must be a directory of this program's own (owned_dir, lib/paths.sh: no '.' or '..'
# part, no system directory; exit 2). When it is absent it is created mode 0700 (and its missing
# parents, 0700, as the program's own); an existing one is never changed: it is refused (exit 6)
# when it is not owned by root (the user running this) or is group- or world-writable.
# Writes BACKUP_DIR/etcd-<UTC time>-LABEL.db, .db.verified and .db.sha256 and prints
# "snapshot FILE revision R keys K size S hash H" (from `etcdutl snapshot status`, or
# `etcdctl snapshot status` where there is no etcdutl, as on etcd 3.4), then "verified: MODE"
# (the verification the snapshot has, which may be stronger than VERIFY).
# Every snapshot must carry etcd's own sha256 trailer (what `snapshot restore` checks), so a
# bit-flipped or truncated file is refused in both modes. With VERIFY=restore the snapshot is also
# restored into a scratch data dir, a scratch etcd is started on it and its revision and key count
# are compared with the snapshot's (exit 6 on a mismatch; exit 7 when there is no etcd binary on
# the node). The scratch etcd (it holds every Secret) listens on unix sockets only, inside the
# 0700 scratch dir in BACKUP_DIR: no TCP port, so no other local user and no host-network pod
# reaches it. It must be healthy within 60 s (a deadline, every call included). Refuses (exit 6,
# nothing kept) an empty snapshot or one with revision 0 or no keys.
# Free space: before a snapshot, df on BACKUP_DIR must show 2 x etcd's database size (its
# `endpoint status` dbSize: the snapshot, and the scratch data dir of a test restore) plus 128 MiB;
# before the test restore of a kept snapshot, its size plus 128 MiB. Otherwise exit 8 with the
# numbers, before any snapshot is saved or any scratch etcd started.
# FILE.verified is one line "mode=status|restore revision=R totalKey=K totalSize=S hash=H
# [liveKeys=L] sha256=SUM verifiedAt=T": the verification, the status it checked, and the sha256
# of the file it was made on (a record for other content does not count).
# Done when a *-LABEL.db whose .sha256 matches (the same digest function as the one that wrote
# it) is already in BACKUP_DIR (the .sha256 is only written after verification), its .verified is
# at least as strong as VERIFY (restore satisfies status), and it is fresh: taken at most
# MAX_AGE_S (900 s) ago by its name's UTC time, and its revision at most MAX_BEHIND (10000)
# revisions behind the live etcd's (`endpoint status`; never ahead of it). A stale one is not
# counted (a new snapshot is taken; retention removes the old one in turn). A fresh kept snapshot
# with a weaker or no record is verified now as asked, with no new snapshot; one that fails that
# verification is set aside as .db.refused (removed after the next good snapshot) and a new
# snapshot is taken.
# Exit codes: 1 a step failed (etcd unreachable...), 2 bad arguments, 6 refused, 7 no etcd
# binary for verify: restore, 8 not enough free space.
set -euo pipefail
me=etcd-snapshot.sh
node="$(hostname)"
fail() { echo "cluster-maintenance: $me: $node: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }
# cluster-maintenance: include lib/paths.sh

# A kept snapshot of this label counts as done only when it is this fresh (see the header).
MAX_AGE_S=900
MAX_BEHIND=10000
# Free space asked for beyond the database's size (x2 before a new snapshot, x1 before the test
# restore of a kept one).
MARGIN_BYTES=$((128 * 1024 * 1024))
# The scratch etcd of a test restore must answer `endpoint health` within this many seconds.
SCRATCH_HEALTH_S=60

[[ $# -eq 8 ]] || fail 2 "usage: $me BACKUP_DIR LABEL ENDPOINT CACERT CERT KEY VERIFY KEEP"
dir=${1%/} label=$2 endpoint=$3 cacert=$4 cert=$5 key=$6 verify=$7 keep=$8
[[ $label =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || fail 2 "bad label '$label'"
[[ $verify == status || $verify == restore ]] || fail 2 "VERIFY must be 'status' or 'restore', not '$verify'"
[[ $keep =~ ^[1-9][0-9]{0,3}$ ]] || fail 2 "KEEP must be a number from 1 to 9999, not '$keep'"
# In the test lab (CM_NODE_ROOT set) a BACKUP_DIR given inside the node's root is checked as the
# path it stands for; one given as on a real node is put inside the node's root.
root=${CM_NODE_ROOT:-}
as_configured=$dir
if [[ -n $root ]]; then
  if [[ $dir == "$root"/* ]]; then as_configured=${dir#"$root"}; else dir=$root$dir; fi
fi
owned_dir "$as_configured" ||
  fail 2 "BACKUP_DIR must be an absolute path (letters, digits, '.', '_', '-'; no '.' or '..' part) of this program's own, not a system directory, not '${1:0:300}'"

umask 077
# BACKUP_DIR: created 0700 (with its missing parents) when absent; an existing one is used only
# when it is safe to write secrets into, and never changed.
if [[ -e $dir || -L $dir ]]; then
  [[ -d $dir ]] || fail 6 "BACKUP_DIR $dir exists and is not a directory; refused"
  read -r dir_uid dir_mode < <(stat -L -c '%u %a' -- "$dir")
  ((dir_uid == EUID)) ||
    fail 6 "BACKUP_DIR $dir is owned by uid $dir_uid, not by uid $EUID (root): not safe for snapshots, which hold every Secret; refused (it is left as it is: use a directory of this program's own)"
  (((8#$dir_mode & 8#022) == 0)) ||
    fail 6 "BACKUP_DIR $dir is group- or world-writable (mode $dir_mode): not safe for snapshots, which hold every Secret; refused (it is left as it is: use a directory of this program's own)"
else
  mkdir -p -- "$dir" || fail 1 "cannot create BACKUP_DIR $dir"
  say "created $dir (mode 0700)"
fi

tls=(--endpoints="$endpoint" --cacert="$cacert" --cert="$cert" --key="$key" --dial-timeout=5s)
field() { if [[ $2 =~ \"$1\":([0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi; }
# How strong a verification is: none 0 < status 1 < restore 2.
strength() { case $1 in restore) echo 2 ;; status) echo 1 ;; *) echo 0 ;; esac; }
why="" part="" scratch="" scratch_pid=""
stop_scratch() {
  if [[ -n $scratch_pid ]]; then
    kill "$scratch_pid" 2>/dev/null || true
    for _ in {1..50}; do kill -0 "$scratch_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$scratch_pid" 2>/dev/null || true
    wait "$scratch_pid" 2>/dev/null || true
  fi
  if [[ -n $scratch ]]; then rm -rf "$scratch"; fi
  scratch="" scratch_pid=""
}
# On exit: background readers of the snapshot stopped, the scratch etcd stopped, partial files removed.
cleanup() {
  local j
  for j in $(jobs -p); do kill "$j" 2>/dev/null || true; done
  stop_scratch
  if [[ -n $part ]]; then rm -f "$part" "$part.part" "$part.content" "$part.status" "$part.sum"; fi
}
trap cleanup EXIT

# digest: the sha256 of stdin, in hex (openssl where it exists: about twice as fast as sha256sum).
# The one digest function: the kept .sha256 is written and checked with it.
digest() {
  local out
  if command -v openssl >/dev/null; then out=$(openssl dgst -sha256 -r) || return 1; else out=$(sha256sum) || return 1; fi
  echo "${out%% *}"
}

# sum_matches FILE: FILE.sha256 is "<sha256>  <FILE's name>" and FILE's digest is that sha256.
sum_matches() {
  local line sum
  [[ -f $1 && -f $1.sha256 ]] || return 1
  line=$(<"$1.sha256")
  [[ $line =~ ^([0-9a-f]{64})\ [\ *](.+)$ && ${BASH_REMATCH[2]} == "${1##*/}" ]] || return 1
  sum=$(digest <"$1") || return 1
  [[ $sum == "${BASH_REMATCH[1]}" ]]
}

# status_json FILE: prints the snapshot's status as JSON (etcdutl where it exists), or fails.
status_json() {
  if command -v etcdutl >/dev/null; then
    timeout 300 etcdutl snapshot status "$1" -w json
  else
    ETCDCTL_API=3 timeout 300 etcdctl snapshot status "$1" -w json 2>/dev/null
  fi
}

# parse_status JSON: sets hash, revision, keys, size. Returns 6 (why set) when the status shows
# revision 0 or no keys.
parse_status() {
  local st=$1
  hash=$(field hash "$st") revision=$(field revision "$st") keys=$(field totalKey "$st") size=$(field totalSize "$st")
  ((revision > 0 && keys > 0)) || { why="snapshot status shows revision $revision and $keys keys; refused (status: ${st:-empty})"; return 6; }
}

# read_status FILE: sets hash, revision, keys, size from the snapshot's status. Returns 6 (why
# set) when the status cannot be read or shows revision 0 or no keys.
read_status() {
  local st
  st=$(status_json "$1") || { why="snapshot status failed (damaged snapshot?); refused"; return 6; }
  parse_status "$st"
}

# enough_space BYTES WHAT: df on BACKUP_DIR shows BYTES + the margin available, or exit 8.
enough_space() {
  local avail need=$(($1 + MARGIN_BYTES))
  avail=$(df -P -k -- "$dir" | awk 'NR == 2 { print $4 }') || fail 1 "df on $dir failed"
  [[ $avail =~ ^[0-9]+$ ]] || fail 1 "df on $dir printed no free space figure"
  avail=$((avail * 1024))
  ((avail >= need)) ||
    fail 8 "not enough free space in $dir: $avail bytes available, $need needed ($2 + a margin of $MARGIN_BYTES bytes); nothing done"
}

# fresh FILE REV: succeeds when the kept snapshot FILE (revision REV) is fresh enough to count as
# this run's: its name's UTC time at most MAX_AGE_S ago (not in the future) and REV at most
# MAX_BEHIND behind the live etcd's revision (not ahead of it). Sets stale (why not) otherwise.
fresh() {
  local t taken age behind
  [[ ${1##*/} =~ ^etcd-([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z- ]] || { stale="no time in its name"; return 1; }
  t="${BASH_REMATCH[1]}-${BASH_REMATCH[2]}-${BASH_REMATCH[3]}T${BASH_REMATCH[4]}:${BASH_REMATCH[5]}:${BASH_REMATCH[6]}Z"
  taken=$(date -u -d "$t" +%s 2>/dev/null) || { stale="bad time $t in its name"; return 1; }
  age=$(($(date -u +%s) - taken))
  ((age >= 0)) || { stale="taken in the future ($t)"; return 1; }
  ((age <= MAX_AGE_S)) || { stale="taken ${age} s ago (counted at most ${MAX_AGE_S} s)"; return 1; }
  behind=$((live_revision - $2))
  ((behind >= 0)) || { stale="its revision $2 is ahead of $endpoint's $live_revision (another etcd history)"; return 1; }
  ((behind <= MAX_BEHIND)) || { stale="its revision $2 is $behind behind $endpoint's $live_revision (counted at most $MAX_BEHIND)"; return 1; }
}

# restore_verify FILE: restores FILE (status already read into revision and keys) into a scratch
# data dir, starts a scratch etcd on it and compares. Sets live. Returns 0 when it matches, 6
# (why set) when the snapshot is refused, 1 (why set) when no scratch etcd could be run.
# Called in a condition (no errexit here): every step checks its own result.
# The scratch etcd listens on unix sockets only, "localhost:1" (client) and "localhost:2" (peer)
# in the 0700 scratch dir (etcd 3.4 takes unix://HOST:PORT and binds HOST:PORT relative to its
# working directory): nothing outside this root-only directory can connect to it.
restore_verify() {
  local file=$1 started="" restore_tool restored_rev at_rev expected deadline left
  if command -v etcdutl >/dev/null; then restore_tool=(etcdutl); else restore_tool=(env ETCDCTL_API=3 etcdctl); fi
  scratch=$(mktemp -d "$dir/.verify-XXXXXX") || { why="cannot create a scratch dir in $dir"; return 1; }
  timeout 300 "${restore_tool[@]}" snapshot restore "$file" --data-dir "$scratch/data" --name verify \
    --initial-cluster "verify=unix://localhost:2" --initial-advertise-peer-urls "unix://localhost:2" \
    >"$scratch/restore.log" 2>&1 ||
    { why="test restore of the snapshot failed (damaged snapshot?); refused: $(tail -n 1 "$scratch/restore.log")"; return 6; }
  (cd "$scratch" && exec etcd --name verify --data-dir "$scratch/data" \
    --listen-client-urls unix://localhost:1 --advertise-client-urls unix://localhost:1 \
    --listen-peer-urls unix://localhost:2 --initial-advertise-peer-urls unix://localhost:2 \
    --initial-cluster verify=unix://localhost:2 --quota-backend-bytes=8589934592 \
    </dev/null >"$scratch/etcd.log" 2>&1) &
  scratch_pid=$!
  sctl() { (cd "$scratch" && ETCDCTL_API=3 timeout "$1" etcdctl --endpoints=unix://localhost:1 "${@:2}"); }
  # A deadline, not a count of tries: every health call is cut to the time left.
  deadline=$((SECONDS + SCRATCH_HEALTH_S))
  while kill -0 "$scratch_pid" 2>/dev/null; do
    left=$((deadline - SECONDS))
    ((left > 0)) || break
    if sctl "$((left < 5 ? left : 5))" --dial-timeout=1s --command-timeout=2s endpoint health >/dev/null 2>&1; then
      started=yes
      break
    fi
    sleep 0.1
  done
  if [[ -z $started ]]; then
    if kill -0 "$scratch_pid" 2>/dev/null; then
      why="the scratch etcd on the restored snapshot was not healthy within $SCRATCH_HEALTH_S s; refused"
    else
      why="the scratch etcd on the restored snapshot exited; refused: $(tail -n 1 "$scratch/etcd.log")"
    fi
    return 6
  fi
  # etcd keeps the store's revision through a restore (3.4, and 3.5+ without --bump-revision),
  # so the scratch member's header revision must equal the snapshot's revision exactly.
  restored_rev=$(field revision "$(sctl 60 --dial-timeout=2s --command-timeout=50s endpoint status -w json)")
  ((restored_rev == revision)) ||
    { why="the restored snapshot is at revision $restored_rev, the snapshot's status says $revision; refused"; return 6; }
  # Key counts: the status's totalKey counts every key of every bbolt bucket: each revision of
  # each key (older versions not yet compacted, deletion tombstones) plus etcd's own meta, member
  # and auth keys (on etcd 3.4: 4 live keys, one overwrite, one delete -> totalKey 13; a restore
  # adds a member key -> 14). It is not a key count and only bounds one: live keys <= totalKey.
  # The exact figure is the number of live keys at the snapshot's revision, which the live
  # etcd still answers (`get --rev=R`) unless it was compacted past R since the save. A range
  # count (`-w json` "count"; etcd 3.4 has no --count-only) on the scratch etcd must equal it.
  live=$(field count "$(sctl 60 --dial-timeout=2s --command-timeout=50s get "" --from-key --keys-only --limit=1 -w json)")
  ((live > 0 && live <= keys)) || { why="the restored snapshot holds $live keys (status totalKey $keys); refused"; return 6; }
  if at_rev=$(ETCDCTL_API=3 timeout 60 etcdctl "${tls[@]}" --command-timeout=50s get "" --from-key --keys-only --limit=1 --rev="$revision" -w json 2>/dev/null); then
    expected=$(field count "$at_rev")
    ((live == expected)) ||
      { why="the restored snapshot holds $live keys, $endpoint held $expected at revision $revision; refused"; return 6; }
    say "test restore: revision $restored_rev, $live keys (as $endpoint at revision $revision)"
  else
    say "test restore: revision $restored_rev, $live keys (<= totalKey $keys; $endpoint no longer has revision $revision to compare with)"
  fi
  stop_scratch
}

# write_record FILE MODE SHA256: FILE.verified from the status just read (and live, for restore).
write_record() {
  local extra=""
  [[ $2 != restore ]] || extra=" liveKeys=$live"
  printf 'mode=%s revision=%s totalKey=%s totalSize=%s hash=%s%s sha256=%s verifiedAt=%s\n' \
    "$2" "$revision" "$keys" "$size" "$hash" "$extra" "$3" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$1.verified.part" &&
    mv -f "$1.verified.part" "$1.verified"
}

# read_record FILE: sets rec_mode (none without a valid record for FILE's current .sha256),
# and revision, keys, size, hash from it.
read_record() {
  local line="" re='^mode=(status|restore) revision=([0-9]+) totalKey=([0-9]+) totalSize=([0-9]+) hash=([0-9]+)( liveKeys=[0-9]+)? sha256=([0-9a-f]{64}) '
  local sum
  sum=$(<"$1.sha256")
  rec_mode=none
  if [[ -f $1.verified ]]; then line=$(<"$1.verified"); fi
  if [[ $line =~ $re && ${BASH_REMATCH[7]} == "${sum%% *}" ]]; then
    rec_mode=${BASH_REMATCH[1]} revision=${BASH_REMATCH[2]} keys=${BASH_REMATCH[3]} size=${BASH_REMATCH[4]} hash=${BASH_REMATCH[5]}
  fi
}

result() { # FILE MODE
  printf 'snapshot %s revision %s keys %s size %s hash %x\n' "$1" "$revision" "$keys" "$size" "$hash"
  echo "verified: $2"
}

need_etcd() {
  if [[ $verify == restore ]] && ! command -v etcd >/dev/null; then
    fail 7 "verify: restore needs the etcd binary on this node to start a scratch etcd; install it (same version as the cluster's etcd) or set verify: status"
  fi
}

# live_status: the live etcd's health, revision and database size (once), or exit 1.
live_revision="" live_db=""
live_status() {
  local st
  [[ -z $live_revision ]] || return 0
  ETCDCTL_API=3 timeout 30 etcdctl "${tls[@]}" --command-timeout=5s endpoint health >&2 ||
    fail 1 "etcd at $endpoint is not healthy (etcdctl endpoint health); no snapshot taken"
  st=$(ETCDCTL_API=3 timeout 30 etcdctl "${tls[@]}" --command-timeout=5s endpoint status -w json) ||
    fail 1 "etcdctl endpoint status of $endpoint failed; no snapshot taken"
  live_revision=$(field revision "$st") live_db=$(field dbSize "$st")
  ((live_revision > 0 && live_db > 0)) || fail 1 "etcdctl endpoint status of $endpoint shows revision $live_revision, dbSize $live_db; no snapshot taken"
}

# Already done? A fresh kept snapshot of this label whose sha256 matches, verified at least as asked.
candidate="" candidate_mode=""
for db in "$dir"/etcd-*-"$label".db; do
  [[ ${db##*/} =~ ^etcd-[0-9]{8}T[0-9]{6}Z-(.+)\.db$ && ${BASH_REMATCH[1]} == "$label" ]] || continue
  sum_matches "$db" || continue
  read_record "$db"
  live_status
  if [[ $rec_mode != none ]] && ! fresh "$db" "$revision"; then
    say "kept $db does not count: $stale"
    continue
  fi
  if (($(strength "$rec_mode") >= $(strength "$verify"))); then
    say "already done: $db (sha256 matches, verified: $rec_mode) at revision $revision, $endpoint at $live_revision (fresh: at most ${MAX_AGE_S} s old and $MAX_BEHIND revisions behind)"
    result "$db" "$rec_mode"
    exit 0
  fi
  candidate=$db candidate_mode=$rec_mode # names sort by UTC time: the last one is the newest
done

# A kept snapshot verified less than asked: verify it now instead of taking a new one.
if [[ -n $candidate ]]; then
  need_etcd
  rc=0
  read_status "$candidate" || rc=$?
  if ((rc == 0)) && ! fresh "$candidate" "$revision"; then
    say "kept $candidate does not count: $stale"
    candidate=""
  fi
fi
if [[ -n $candidate ]]; then
  say "$candidate: sha256 matches, verified: $candidate_mode, asked: $verify; verifying it now (no new snapshot)"
  if ((rc == 0)) && [[ $verify == restore ]]; then
    enough_space "$(stat -c %s "$candidate")" "the test restore of $candidate's $(stat -c %s "$candidate") bytes"
    restore_verify "$candidate" || rc=$?
  fi
  if ((rc == 0)); then
    sum=$(<"$candidate.sha256")
    write_record "$candidate" "$verify" "${sum%% *}" || fail 1 "writing $candidate.verified failed"
    say "verified now: $candidate (verified: $verify, was $candidate_mode)"
    result "$candidate" "$verify"
    exit 0
  fi
  ((rc == 6)) || fail "$rc" "$why"
  stop_scratch
  rm -f "$candidate.sha256" "$candidate.verified"
  mv -f "$candidate" "$candidate.refused"
  say "$candidate failed verification: $why; set aside as $candidate.refused, taking a new snapshot"
fi

need_etcd
live_status
enough_space $((2 * live_db)) "2 x etcd's database of $live_db bytes"
name="etcd-$(date -u +%Y%m%dT%H%M%SZ)-$label.db"
part="$dir/$name.part"
ETCDCTL_API=3 timeout 300 etcdctl "${tls[@]}" --command-timeout=290s snapshot save "$part" >&2 ||
  fail 1 "etcdctl snapshot save from $endpoint failed"
[[ -s $part ]] || fail 6 "the snapshot from $endpoint is empty; refused"

# etcd appends the sha256 of the database to a snapshot it streams (file size = n*512 + 32);
# `snapshot restore` checks it. `snapshot status` does not: a flipped bit in a free page or a
# value passes it. Check the trailer here so that status mode refuses damage too. The size is
# checked first (status crashes on a truncated file); then the status, the trailer check (status
# mode) and the file's own sha256 (kept below) read the file side by side.
bytes=$(stat -c %s "$part")
((bytes % 512 == 32)) || fail 6 "the snapshot has no etcd sha256 trailer (size $bytes; truncated?); refused"
want=$(tail -c 32 "$part" | od -An -v -tx1 | tr -d ' \n')
status_json "$part" >"$part.status" &
status_pid=$!
# In restore mode the test restore checks the trailer itself (etcd refuses a mismatch).
if [[ $verify == status ]]; then
  head -c $((bytes - 32)) "$part" | digest >"$part.content" &
  content_sum=$!
fi
# The file's own sha256 is computed in the background, alongside the test restore.
digest <"$part" >"$part.sum" &
whole_sum=$!
if [[ $verify == status ]]; then
  wait "$content_sum" || fail 6 "reading the snapshot failed; refused"
  got=$(<"$part.content")
  [[ $got == "$want" ]] || fail 6 "the snapshot's sha256 trailer does not match its content (damaged); refused"
fi
wait "$status_pid" || fail 6 "snapshot status failed (damaged snapshot?); refused"
parse_status "$(<"$part.status")" || fail "$?" "$why"
rm -f "$part.content" "$part.status"

if [[ $verify == restore ]]; then restore_verify "$part" || fail "$?" "$why"; fi
wait "$whole_sum" || fail 6 "reading the snapshot failed; refused"
whole=$(<"$part.sum")
rm -f "$part.sum"

mv -f "$part" "$dir/$name"
part=""
trap - EXIT
# The record first, the .sha256 last: a snapshot counts only once both are there.
write_record "$dir/$name" "$verify" "$whole" || fail 1 "writing $dir/$name.verified failed"
printf '%s  %s\n' "$whole" "$name" >"$dir/$name.sha256"

# Retention: the KEEP newest snapshots of this script's naming (any label) stay; older ones go,
# and so do snapshots set aside after a failed verification.
n=0
while IFS= read -r line; do
  old=${line#* }
  [[ $old =~ ^etcd-[0-9]{8}T[0-9]{6}Z-[A-Za-z0-9][A-Za-z0-9._-]{0,63}\.db$ ]] || continue
  n=$((n + 1))
  if ((n > keep)); then
    rm -f "$dir/$old" "$dir/$old.sha256" "$dir/$old.verified"
    say "removed old snapshot $dir/$old (keeping $keep)"
  fi
done < <(find "$dir" -maxdepth 1 -type f -name 'etcd-*.db' -printf '%T@ %f\n' | sort -rn)
find "$dir" -maxdepth 1 -type f -name 'etcd-*.db.refused' -delete

result "$dir/$name" "$verify"
