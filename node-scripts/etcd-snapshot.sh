#!/usr/bin/env bash
# Saves an etcd snapshot, checks it and keeps it under a dated name with its sha256.
# Usage: etcd-snapshot.sh BACKUP_DIR LABEL ENDPOINT CACERT CERT KEY
# (paths are used as given). Writes BACKUP_DIR/etcd-<UTC time>-LABEL.db and .db.sha256 and prints
# "snapshot FILE revision R keys K size S hash H" (from `etcdutl snapshot status`, or
# `etcdctl snapshot status` where there is no etcdutl, as on etcd 3.4). Refuses (exit 6, nothing
# kept) an empty snapshot or one with revision 0 or no keys. Done when a *-LABEL.db whose .sha256
# matches is already in BACKUP_DIR.
set -euo pipefail
me=etcd-snapshot.sh
node="$(hostname)"
fail() { echo "cluster-maintenance: $me: $node: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }

[[ $# -eq 6 ]] || fail 2 "usage: $me BACKUP_DIR LABEL ENDPOINT CACERT CERT KEY"
dir=${1%/} label=$2 endpoint=$3 cacert=$4 cert=$5 key=$6
[[ $dir == /?* ]] || fail 2 "BACKUP_DIR must be an absolute path"
[[ $label =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || fail 2 "bad label '$label'"

for db in "$dir"/etcd-*-"$label".db; do
  [[ ${db##*/} =~ ^etcd-[0-9]{8}T[0-9]{6}Z-(.+)\.db$ && ${BASH_REMATCH[1]} == "$label" ]] || continue
  if [[ -f $db && -f $db.sha256 ]] && (cd "$dir" && sha256sum --status -c "${db##*/}.sha256"); then
    say "already done: $db (sha256 matches)"
    exit 0
  fi
done

umask 077
install -d -m 0700 "$dir"
name="etcd-$(date -u +%Y%m%dT%H%M%SZ)-$label.db"
part="$dir/$name.part"
trap 'rm -f "$part" "$part.part"' EXIT
tls=(--endpoints="$endpoint" --cacert="$cacert" --cert="$cert" --key="$key" --dial-timeout=5s)
ETCDCTL_API=3 timeout 30 etcdctl "${tls[@]}" --command-timeout=5s endpoint health >&2 ||
  fail 1 "etcd at $endpoint is not healthy (etcdctl endpoint health); no snapshot taken"
ETCDCTL_API=3 timeout 300 etcdctl "${tls[@]}" --command-timeout=290s snapshot save "$part" >&2 ||
  fail 1 "etcdctl snapshot save from $endpoint failed"
[[ -s $part ]] || fail 6 "the snapshot from $endpoint is empty; refused"
if command -v etcdutl >/dev/null; then
  status=$(timeout 300 etcdutl snapshot status "$part" -w json) || fail 6 "etcdutl snapshot status failed; refused"
else
  status=$(ETCDCTL_API=3 timeout 300 etcdctl snapshot status "$part" -w json) || fail 6 "etcdctl snapshot status failed; refused"
fi
field() { if [[ $status =~ \"$1\":([0-9]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi; }
hash=$(field hash) revision=$(field revision) keys=$(field totalKey) size=$(field totalSize)
((revision > 0 && keys > 0)) || fail 6 "snapshot status shows revision $revision and $keys keys; refused (status: ${status:-empty})"
mv -f "$part" "$dir/$name"
trap - EXIT
(cd "$dir" && sha256sum "$name" >"$name.sha256")
printf 'snapshot %s revision %s keys %s size %s hash %x\n' "$dir/$name" "$revision" "$keys" "$size" "$hash"
