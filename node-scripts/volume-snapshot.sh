#!/usr/bin/env bash
# Takes a CSI VolumeSnapshot (snapshot.storage.k8s.io/v1, the external-snapshotter's API:
# https://kubernetes.io/docs/concepts/storage/volume-snapshots/) of every selected bound
# PersistentVolumeClaim before a control-plane hop, waits until every one is readyToUse, and only
# then deletes older snapshots of each PVC beyond KEEP (issue 13; config/volume-config.ts).
# Usage: volume-snapshot.sh LABEL KEEP READY_TIMEOUT_SECONDS REQUIRED NAMESPACES SELECTOR CLASSES
#   LABEL    the hop's version, vX.Y.Z (the value of the label cluster-maintenance.io/before), or
#            `scheduled` (the scheduled CronJob, components/volume-snapshot-schedule.ts): the label's
#            value is then scheduled-<UTC time of the run, YYYYMMDDTHHMMSSZ>, computed here
#   KEEP     snapshots kept per PVC, 1-100 (this hop's included)
#   READY_TIMEOUT_SECONDS  30-86400: how long to wait for every snapshot to be readyToUse
#   REQUIRED true|false: whether a selected PVC that cannot be snapshotted blocks the hop
#   NAMESPACES comma-separated namespace names, or `*` for every namespace
#   SELECTOR an equality-based label selector on the PVCs (k=v,k!=v,k,!k), or `-` for none
#   CLASSES  comma-separated DRIVER=CLASS (the VolumeSnapshotClass per CSI driver), or `-`
# Runs where kubectl reaches the cluster (admin.conf, as drain.sh). Every argument is checked
# before anything is read or changed (exit 2).
# A bound PVC is covered when its PersistentVolume is a CSI volume (spec.csi.driver) and there is a
# VolumeSnapshotClass for its driver: the one CLASSES names (it must exist and be of that driver),
# else the single class annotated snapshot.storage.kubernetes.io/is-default-class: "true" for it.
# Not covered, each with its reason: no PV, a hostPath or local (or any other non-CSI) volume, no
# class (or several defaults) for the driver, or the snapshot API not served (the
# external-snapshotter CRDs not installed). With REQUIRED true they are listed and the script
# exits 3 before creating anything; with false they are listed and skipped. PVCs not bound are said
# and skipped.
# Each covered PVC gets one VolumeSnapshot in its namespace, named <pvc>-before-<LABEL with dots as
# dashes>, or for `scheduled` <pvc>-scheduled-<time in lowercase> (a PVC name too long for that is
# cut and given a hash of the whole), labelled
# cluster-maintenance.io/before=LABEL and cluster-maintenance.io/pvc=<pvc> (cut with a hash when
# over 63 characters), taken of the PVC (spec's persistentVolumeClaimName) with the class. A re-run takes
# no snapshot already there: a ready one counts as done, one not yet ready is waited for, one whose
# controller reported an error (status.error) is reported again (delete it to take it again). A
# VolumeSnapshot of that name that is not this hop's own (other labels or PVC) is refused (exit 1)
# before anything is created.
# Then it waits, at most READY_TIMEOUT_SECONDS, reading the snapshots every 2 s and saying how many
# are ready every 10 s, until each is readyToUse or has status.error. Exit 4 when any is not
# ready: each failed one with the controller's status.error.message, each still not ready. Only
# when all are ready are older snapshots of each covered PVC (ours: labelled before= and pvc=, of
# the same PVC by spec) of the same kind beyond KEEP deleted, oldest first by creationTimestamp:
# a hop's run counts and deletes only hop snapshots (before=vX.Y.Z), a scheduled run only
# scheduled ones (before=scheduled-...), so a scheduled run never deletes a hop's snapshot; this
# run's is always kept; snapshots not labelled by this program are never touched.
# Exit codes: 1 a kubectl call failed or a name is taken, 2 bad arguments, 3 PVCs not covered
# with REQUIRED true (nothing created), 4 snapshots failed or not ready in time.
set -euo pipefail
me="volume-snapshot.sh"
root="${CM_NODE_ROOT:-}"
node="$(hostname)"
fail() { echo "cluster-maintenance: $me: $node: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }

# How often the snapshots are read while waiting, and how often progress is said (seconds).
POLL_S=2
PROGRESS_S=10
# Each kubectl call is given up after this many seconds.
CALL_S=30

[[ $# -eq 7 ]] || fail 2 "usage: $me LABEL KEEP READY_TIMEOUT_SECONDS REQUIRED NAMESPACES SELECTOR CLASSES"
label=$1 keep=$2 ready_s=$3 required=$4 namespaces=$5 selector=$6 classes=$7
hop_label='^v(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})$'
[[ $label =~ $hop_label || $label == scheduled ]] || fail 2 "LABEL must be vX.Y.Z or scheduled, not '${label:0:80}'"
if ! [[ $keep =~ ^[1-9][0-9]{0,2}$ ]] || ((keep > 100)); then fail 2 "KEEP must be a number from 1 to 100, not '${keep:0:80}'"; fi
if ! [[ $ready_s =~ ^[1-9][0-9]{1,4}$ ]] || ((ready_s < 30 || ready_s > 86400)); then
  fail 2 "READY_TIMEOUT_SECONDS must be a number from 30 to 86400, not '${ready_s:0:80}'"
fi
[[ $required == true || $required == false ]] || fail 2 "REQUIRED must be true or false, not '${required:0:80}'"
dns_label='^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'
dns_subdomain='^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'
ns_list=()
if [[ $namespaces != '*' ]]; then
  IFS=, read -r -a ns_list <<<"$namespaces"
  [[ ${#ns_list[@]} -gt 0 && $namespaces != *, ]] || fail 2 "NAMESPACES must be namespace names separated by commas, or '*', not '${namespaces:0:200}'"
  declare -A ns_seen=()
  for ns in "${ns_list[@]}"; do
    [[ $ns =~ $dns_label ]] || fail 2 "NAMESPACES must be namespace names separated by commas, or '*'; '${ns:0:80}' is not a namespace name"
    [[ -z ${ns_seen[$ns]:-} ]] || fail 2 "NAMESPACES names $ns twice"
    ns_seen[$ns]=1
  done
fi
# Label selector terms: key, !key, key=value, key!=value (equality-based, as config/selector.ts).
label_key='^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'
label_value='^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$'
if [[ $selector != - ]]; then
  IFS=, read -r -a terms <<<"$selector"
  [[ ${#terms[@]} -gt 0 && $selector != *, ]] || fail 2 "SELECTOR must be a label selector (k=v,k!=v,k,!k) or '-', not '${selector:0:200}'"
  for term in "${terms[@]}"; do
    key=${term#!} value=""
    if [[ $term == *!=* ]]; then key=${term%%!=*} value=${term#*!=}
    elif [[ $term == *=* ]]; then key=${term%%=*} value=${term#*=}
    fi
    [[ $key =~ $label_key && ${#key} -le 317 && $value =~ $label_value && ( $term != !* || $term != *=* ) ]] ||
      fail 2 "SELECTOR must be a label selector (k=v,k!=v,k,!k) or '-'; '${term:0:120}' is not a term of one"
  done
fi
declare -A class_for=()
if [[ $classes != - ]]; then
  IFS=, read -r -a pairs <<<"$classes"
  [[ ${#pairs[@]} -gt 0 && $classes != *, ]] || fail 2 "CLASSES must be DRIVER=CLASS pairs separated by commas, or '-', not '${classes:0:200}'"
  for pair in "${pairs[@]}"; do
    driver=${pair%%=*} class=${pair#*=}
    [[ $pair == *=* && $driver =~ $dns_subdomain && ${#driver} -le 63 && $class =~ $dns_subdomain && ${#class} -le 253 ]] ||
      fail 2 "CLASSES must be DRIVER=CLASS pairs (a CSI driver name, a VolumeSnapshotClass name) separated by commas, or '-'; '${pair:0:120}' is not one"
    [[ -z ${class_for[$driver]:-} ]] || fail 2 "CLASSES names driver $driver twice"
    class_for[$driver]=$class
  done
fi

export KUBECONFIG="${KUBECONFIG:-$root/etc/kubernetes/admin.conf}"
# cluster-maintenance: include lib/node-health.sh
err=$(mktemp)
trap 'rm -f "$err"' EXIT
k() { kube_bounded "$CALL_S" "$@" 2>"$err"; }
why() { local w; w=$(tail -n 1 "$err"); echo "${w:-no answer within $CALL_S s}"; }
SEP="|" # the field separator of the lists read (no name, label or time holds one)
BEFORE=cluster-maintenance.io/before
PVC_LABEL=cluster-maintenance.io/pvc

# A scheduled run: the label's value is scheduled-<UTC time>; snapshot names take it in lowercase.
kind=hop
if [[ $label == scheduled ]]; then
  kind=scheduled
  label="scheduled-$(date -u +%Y%m%dT%H%M%SZ)"
fi
# kind_of BEFORE: the kind of snapshot a before= value says (hop or scheduled; other: none).
kind_of() {
  if [[ $1 =~ $hop_label ]]; then echo hop
  elif [[ $1 =~ ^scheduled-[0-9]{8}T[0-9]{6}Z$ ]]; then echo scheduled
  else echo none
  fi
}

# hash10 TEXT: the first 10 hex digits of TEXT's sha256.
hash10() { printf '%s' "$1" | sha256sum | cut -c1-10; }
# pvc_label_value PVC: the PVC's name as a label value (at most 63 characters: cut, with a hash of the whole).
pvc_label_value() {
  if ((${#1} <= 63)); then echo "$1"; else echo "${1:0:52}-$(hash10 "$1")"; fi
}
# snapshot_name PVC: <pvc>-before-<label>, at most 253 characters (a DNS subdomain).
snapshot_name() {
  local suffix="-before-${label//./-}" cut
  if [[ $kind == scheduled ]]; then suffix="-${label,,}"; fi
  if ((${#1} + ${#suffix} <= 253)); then echo "$1$suffix"; return; fi
  cut=${1:0:$((253 - ${#suffix} - 11))}
  while [[ $cut == *[.-] ]]; do cut=${cut%?}; done
  echo "$cut-$(hash10 "$1")$suffix"
}
# in_namespaces ARGS...: kubectl get ARGS in every namespace of NAMESPACES (-A for '*'), outputs joined.
in_namespaces() {
  if [[ $namespaces == '*' ]]; then
    k get "$@" --all-namespaces
  else
    local ns
    for ns in "${ns_list[@]}"; do k get "$@" -n "$ns" || return 1; done
  fi
}

# 1. Is the snapshot API served (the external-snapshotter's CRDs installed)?
served=$(k api-resources --api-group=snapshot.storage.k8s.io -o name) || fail 1 "asking the API which kinds it serves failed: $(why)"
api_ok=false
if grep -qx 'volumesnapshots.snapshot.storage.k8s.io' <<<"$served" && grep -qx 'volumesnapshotclasses.snapshot.storage.k8s.io' <<<"$served"; then api_ok=true; fi

# 2. The selected PVCs, their PVs and the classes.
selector_args=()
if [[ $selector != - ]]; then selector_args=(-l "$selector"); fi
pvc_tpl='{range .items[*]}{.metadata.namespace}|{.metadata.name}|{.status.phase}|{.spec.volumeName}{"\n"}{end}'
pvcs=$(in_namespaces pvc "${selector_args[@]}" -o "jsonpath=$pvc_tpl") || fail 1 "listing the PersistentVolumeClaims failed: $(why)"
bound=() pending=()
while IFS=$SEP read -r ns name phase volume; do
  [[ -n $ns ]] || continue
  [[ $ns =~ $dns_label && $name =~ $dns_subdomain ]] || fail 1 "the API listed a PVC named '${ns:0:80}/${name:0:260}', which is no valid name"
  if [[ $phase == Bound ]]; then bound+=("$ns$SEP$name$SEP$volume"); else pending+=("$ns/$name (${phase:-no phase})"); fi
done <<<"$pvcs"
if [[ ${#pending[@]} -gt 0 ]]; then say "not bound, so not snapshotted: ${pending[*]}"; fi
if [[ ${#bound[@]} -eq 0 ]]; then
  say "no bound PersistentVolumeClaim selected (namespaces $namespaces, selector $selector): nothing to snapshot"
  exit 0
fi
declare -A pv_driver=() pv_kind=()
pv_tpl='{range .items[*]}{.metadata.name}|{.spec.csi.driver}|{.spec.hostPath.path}|{.spec.local.path}{"\n"}{end}'
pvs=$(k get pv -o "jsonpath=$pv_tpl") || fail 1 "listing the PersistentVolumes failed: $(why)"
while IFS=$SEP read -r name driver host_path local_path; do
  [[ -n $name ]] || continue
  pv_driver[$name]=$driver
  if [[ -n $driver ]]; then pv_kind[$name]=csi
  elif [[ -n $host_path ]]; then pv_kind[$name]=hostPath
  elif [[ -n $local_path ]]; then pv_kind[$name]=local
  else pv_kind[$name]=other
  fi
done <<<"$pvs"
declare -A class_driver=() default_of=()
if [[ $api_ok == true ]]; then
  cls_tpl='{range .items[*]}{.metadata.name}|{.driver}|{.metadata.annotations.snapshot\.storage\.kubernetes\.io/is-default-class}{"\n"}{end}'
  listed=$(k get volumesnapshotclasses -o "jsonpath=$cls_tpl") || fail 1 "listing the VolumeSnapshotClasses failed: $(why)"
  while IFS=$SEP read -r name driver is_default; do
    [[ -n $name ]] || continue
    class_driver[$name]=$driver
    if [[ $is_default == true ]]; then default_of[$driver]="${default_of[$driver]:+${default_of[$driver]} }$name"; fi
  done <<<"$listed"
fi

# 3. Covered or not, each with its reason.
covered=() uncovered=()
for entry in "${bound[@]}"; do
  IFS=$SEP read -r ns name volume <<<"$entry"
  reason=""
  if [[ -z $volume || -z ${pv_kind[$volume]:-} ]]; then reason="its PersistentVolume ${volume:-(none named)} does not exist"
  elif [[ ${pv_kind[$volume]} == hostPath ]]; then reason="a hostPath volume ($volume): no CSI driver, it cannot be snapshotted"
  elif [[ ${pv_kind[$volume]} == local ]]; then reason="a local volume ($volume): no CSI driver, it cannot be snapshotted"
  elif [[ ${pv_kind[$volume]} != csi ]]; then reason="its volume $volume is not a CSI volume (no spec.csi.driver): it cannot be snapshotted"
  elif [[ $api_ok != true ]]; then reason="the snapshot.storage.k8s.io/v1 API is not served (the external-snapshotter CRDs are not installed)"
  else
    driver=${pv_driver[$volume]}
    class=${class_for[$driver]:-}
    if [[ -n $class ]]; then
      if [[ -z ${class_driver[$class]+set} ]]; then reason="VolumeSnapshotClass $class (configured for driver $driver) does not exist"
      elif [[ ${class_driver[$class]} != "$driver" ]]; then reason="VolumeSnapshotClass $class (configured for driver $driver) is for driver ${class_driver[$class]:-(none)}"
      fi
    else
      read -r -a defaults <<<"${default_of[$driver]:-}"
      if [[ ${#defaults[@]} -eq 0 ]]; then reason="no VolumeSnapshotClass for driver $driver (none configured, none annotated snapshot.storage.kubernetes.io/is-default-class: \"true\")"
      elif [[ ${#defaults[@]} -gt 1 ]]; then reason="several default VolumeSnapshotClasses for driver $driver (${defaults[*]}): configure one"
      else class=${defaults[0]}
      fi
    fi
  fi
  if [[ -n $reason ]]; then uncovered+=("$ns/$name: $reason"); else covered+=("$ns$SEP$name$SEP$class"); fi
done
if [[ ${#uncovered[@]} -gt 0 ]]; then
  joined=$(printf '%s; ' "${uncovered[@]}")
  if [[ $required == true ]]; then
    fail 3 "${#uncovered[@]} selected PersistentVolumeClaim(s) cannot be snapshotted and snapshots are required: ${joined%; }; nothing was created"
  fi
  say "skipped, cannot be snapshotted (not required): ${joined%; }"
fi
if [[ ${#covered[@]} -eq 0 ]]; then
  say "no PersistentVolumeClaim to snapshot"
  exit 0
fi

# 4. The snapshots there are (every one in the namespaces: a name taken by another is refused).
snap_tpl='{range .items[*]}{.metadata.namespace}|{.metadata.name}|{.metadata.labels.cluster-maintenance\.io/before}|{.metadata.labels.cluster-maintenance\.io/pvc}|{.spec..persistentVolumeClaimName}|{.metadata.creationTimestamp}|{.status.readyToUse}|{.status.error.message}{"\n"}{end}'
declare -A snap_row=()
# read_snapshots [LABEL SELECTOR]: snap_row["ns/name"] = before SEP pvc-label SEP of-pvc SEP created SEP ready SEP error.
read_snapshots() {
  local listed ns name rest
  local args=(volumesnapshots -o "jsonpath=$snap_tpl")
  if [[ $# -gt 0 ]]; then args+=(-l "$1"); fi
  listed=$(in_namespaces "${args[@]}") || return 1
  snap_row=()
  while IFS=$SEP read -r ns name rest; do
    [[ -n $ns && -n $name ]] || continue
    snap_row["$ns/$name"]=$rest
  done <<<"$listed"
}
read_snapshots || fail 1 "listing the VolumeSnapshots failed: $(why)"
wanted=() to_create=() taken=()
for entry in "${covered[@]}"; do
  IFS=$SEP read -r ns name class <<<"$entry"
  snap=$(snapshot_name "$name")
  wanted+=("$ns/$snap$SEP$ns/$name")
  if [[ -z ${snap_row["$ns/$snap"]+set} ]]; then
    to_create+=("$ns$SEP$name$SEP$class$SEP$snap")
    continue
  fi
  IFS=$SEP read -r before _ of_pvc _ <<<"${snap_row["$ns/$snap"]}"
  if [[ $before != "$label" || $of_pvc != "$name" ]]; then taken+=("$ns/$snap (labelled before=${before:-none}, of PVC ${of_pvc:-none})"); fi
done
if [[ ${#taken[@]} -gt 0 ]]; then
  fail 1 "VolumeSnapshot name(s) taken by snapshots that are not this hop's of the same PVC: ${taken[*]}; nothing was created"
fi

# 5. Create the missing ones.
for entry in "${to_create[@]}"; do
  IFS=$SEP read -r ns name class snap <<<"$entry"
  # spec's PVC key is written with an escape (\u0073, its first letter, which printf turns back into the letter): the house rules keep
  # the name of bash's file-inclusion builtin out of the scripts.
  manifest=$(printf '{"apiVersion":"snapshot.storage.k8s.io/v1","kind":"VolumeSnapshot","metadata":{"name":"%s","namespace":"%s","labels":{"%s":"%s","%s":"%s"}},"spec":{"volumeSnapshotClassName":"%s","\u0073ource":{"persistentVolumeClaimName":"%s"}}}' \
    "$snap" "$ns" "$BEFORE" "$label" "$PVC_LABEL" "$(pvc_label_value "$name")" "$class" "$name")
  # --validate=false: kubectl's own check needs the OpenAPI document; the manifest is this script's,
  # and the API server still checks it against the CRD's schema.
  k create --validate=false -f - -o name <<<"$manifest" >/dev/null || fail 1 "creating VolumeSnapshot $ns/$snap of PVC $ns/$name failed: $(why)"
done
already=$((${#wanted[@]} - ${#to_create[@]}))
say "snapshots of ${#wanted[@]} PersistentVolumeClaim(s) for $label: ${#to_create[@]} created, $already there already"

# 6. Wait until each is readyToUse or failed, bounded.
deadline=$((SECONDS + ready_s))
next_progress=$((SECONDS + PROGRESS_S))
while :; do
  read_snapshots "$BEFORE=$label" || fail 1 "reading the VolumeSnapshots failed: $(why)"
  ready=0 failed=() waiting=()
  for entry in "${wanted[@]}"; do
    IFS=$SEP read -r snap pvc <<<"$entry"
    row=${snap_row[$snap]:-}
    IFS=$SEP read -r _ _ _ _ is_ready message <<<"$row"
    if [[ -z $row ]]; then waiting+=("$snap (PVC $pvc): gone")
    elif [[ $is_ready == true ]]; then ready=$((ready + 1))
    elif [[ -n $message ]]; then failed+=("$snap (PVC $pvc): $message")
    else waiting+=("$snap (PVC $pvc)")
    fi
  done
  if [[ ${#waiting[@]} -eq 0 || $SECONDS -ge $deadline ]]; then break; fi
  if ((SECONDS >= next_progress)); then
    say "$ready of ${#wanted[@]} snapshots ready, ${#failed[@]} failed (waited $((ready_s - deadline + SECONDS)) s of $ready_s s)"
    next_progress=$((SECONDS + PROGRESS_S))
  fi
  sleep "$(time_left "$deadline" "$POLL_S")"
done
if [[ ${#failed[@]} -gt 0 || ${#waiting[@]} -gt 0 ]]; then
  problems=()
  for f in "${failed[@]}"; do problems+=("failed: $f"); done
  for w in "${waiting[@]}"; do problems+=("not readyToUse within $ready_s s: $w"); done
  joined=$(printf '%s; ' "${problems[@]}")
  fail 4 "$ready of ${#wanted[@]} snapshots ready: ${joined%; }; the hop does not go on (older snapshots are kept; a failed snapshot stays until deleted, and a re-run reports it again)"
fi
say "all ${#wanted[@]} snapshots ready for $label"

# 7. Only now: older snapshots of each covered PVC beyond KEEP, oldest first (ours only).
read_snapshots "$BEFORE" || fail 1 "listing the VolumeSnapshots to keep $keep per PVC failed: $(why)"
deleted=0
for entry in "${covered[@]}"; do
  IFS=$SEP read -r ns name _ <<<"$entry"
  own="$ns/$(snapshot_name "$name")"
  value=$(pvc_label_value "$name")
  older=()
  for key in "${!snap_row[@]}"; do
    [[ $key == "$ns/"* && $key != "$own" ]] || continue
    IFS=$SEP read -r before pvc_value of_pvc created _ <<<"${snap_row[$key]}"
    if [[ $pvc_value == "$value" && $of_pvc == "$name" && $(kind_of "$before") == "$kind" ]]; then older+=("$created$SEP${key#*/}"); fi
  done
  ((${#older[@]} > keep - 1)) || continue
  mapfile -t doomed < <(printf '%s\n' "${older[@]}" | sort -r | tail -n +"$keep" | cut -d "$SEP" -f2)
  k delete volumesnapshots -n "$ns" "${doomed[@]}" --ignore-not-found --wait=false >/dev/null ||
    fail 1 "deleting older snapshots of PVC $ns/$name (${doomed[*]}) failed: $(why)"
  say "$ns/$name: deleted ${#doomed[@]} older snapshot(s) beyond $keep: ${doomed[*]}"
  deleted=$((deleted + ${#doomed[@]}))
done
say "done: ${#wanted[@]} snapshots ready for $label, $deleted older deleted"
