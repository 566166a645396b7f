#!/usr/bin/env bash
# Copies the newest etcd snapshot of a label off the node to S3, with its checksum file and its
# verification record (.db.verified, from etcd-snapshot.sh) when there is one.
# Usage: upload-snapshot.sh BACKUP_DIR LABEL BUCKET PREFIX REGION   (BACKUP_DIR used as given;
# PREFIX may be empty). Uploads BACKUP_DIR/etcd-<time>-LABEL.db (the newest by mtime) and its
# .db.sha256 (and .db.verified) to s3://BUCKET/PREFIX/<name> with `aws s3 cp --region REGION` (encrypted by the bucket's default SSE-KMS key; `--sse aws:kms` alone would pick the AWS-managed key instead), each
# object carrying its own sha256 as metadata (sha256=...). Credentials are the AWS CLI's own:
# the node's instance profile or its AWS config; none is ever passed on a command line.
# Refuses (exit 6) a snapshot whose .sha256 does not match. Done (no upload) for an object that
# `aws s3api head-object` shows with the same sha256 metadata. The program's upload policy
# (backupUploadPolicy) is write-only, which denies head-object: then a re-run uploads again, as a
# new version of the same key (the old one expires with the bucket's lifecycle).
set -euo pipefail
# cluster-maintenance: include lib/paths.sh
# cluster-maintenance: include lib/s3.sh
me=upload-snapshot.sh
node="$(hostname)"
fail() { echo "cluster-maintenance: $me: $node: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }

[[ $# -eq 5 ]] || fail 2 "usage: $me BACKUP_DIR LABEL BUCKET PREFIX REGION"
dir=${1%/} label=$2 bucket=$3 prefix=$4 region=$5
[[ -z $prefix || $prefix == */ ]] || prefix+=/
plain_path "$dir" || fail 2 "BACKUP_DIR must be an absolute path of letters, digits, '.', '_', '-' with no '.' or '..' part, not '${1:0:300}'"
[[ $label =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || fail 2 "bad label '${label:0:100}'"
s3_bucket "$bucket" || fail 2 "bad bucket name '${bucket:0:100}' (S3 bucket naming rules)"
s3_prefix "$prefix" || fail 2 "bad prefix '${4:0:300}' (letters, digits, . _ -, parts ending in /, no '.' or '..' part)"
prefix=${prefix%/}
aws_region "$region" || fail 2 "bad region '${region:0:100}'"
command -v aws >/dev/null || fail 7 "the AWS CLI (aws) is not installed on this node"

newest=""
while IFS= read -r line; do
  f=${line#* }
  if [[ $f =~ ^etcd-[0-9]{8}T[0-9]{6}Z-(.+)\.db$ && ${BASH_REMATCH[1]} == "$label" ]]; then newest=$f; break; fi
done < <(find "$dir" -maxdepth 1 -type f -name "etcd-*-$label.db" -printf '%T@ %f\n' 2>/dev/null | sort -rn)
[[ -n $newest ]] || fail 3 "no snapshot etcd-*-$label.db in $dir"
[[ -f $dir/$newest.sha256 ]] || fail 6 "$dir/$newest has no .sha256 (not verified); not uploaded"
(cd "$dir" && sha256sum --status -c "$newest.sha256") || fail 6 "$dir/$newest does not match its .sha256; not uploaded"

key_prefix=${prefix:+$prefix/}
files=("$newest" "$newest.sha256")
[[ ! -f $dir/$newest.verified ]] || files+=("$newest.verified")
for f in "${files[@]}"; do
  sum=$(sha256sum "$dir/$f") sum=${sum%% *}
  key="$key_prefix$f"
  if head=$(timeout 60 aws s3api head-object --bucket "$bucket" --key "$key" --region "$region" --output json 2>/dev/null) &&
    [[ $head =~ \"sha256\":[[:space:]]*\"([0-9a-f]{64})\" && ${BASH_REMATCH[1]} == "$sum" ]]; then
    say "already uploaded: s3://$bucket/$key (sha256 matches)"
    continue
  fi
  timeout 900 aws s3 cp "$dir/$f" "s3://$bucket/$key" --region "$region" \
    --metadata "sha256=$sum" --only-show-errors >&2 ||
    fail 1 "aws s3 cp of $dir/$f to s3://$bucket/$key failed (or took over 900 s)"
  echo "uploaded s3://$bucket/$key sha256 $sum"
done
