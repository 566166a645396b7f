# shellcheck shell=bash
# Node health as the control plane shows it, and bounded kubectl calls, shared by wait-ready.sh,
# soak.sh and pool-node.sh (wait-joined): components/node-scripts.ts puts it in place of each
# script's include line for this file.
#
# A Ready condition of True is not enough. When a kubelet stops, a real control plane leaves Ready
# True for the node-monitor grace period (50 s), then sets it to Unknown (NodeStatusUnknown), never
# False (measured on kube-apiserver 1.31 and 1.32). Only the node's Lease in kube-node-lease shows it
# at once (https://kubernetes.io/docs/concepts/architecture/leases/ and "Node heartbeats" in
# https://kubernetes.io/docs/concepts/architecture/nodes/#node-heartbeats): the kubelet renews it
# every 10 s, a quarter of its leaseDurationSeconds (40), and retries a failed renewal with
# backoff from 200 ms capped at 7 s. A node is healthy here when Ready is True AND its Lease's renewTime is at most two
# renew intervals old (leaseDurationSeconds/2, 20 s): a live kubelet's Lease is never older than one
# interval and a retry (17 s), while a dead one's is caught within 10 to 20 s of its death, so a
# 30 s soak catches a kubelet that died just before it. Waiting for the Lease to expire
# (leaseDurationSeconds, 40 s, up to 50 s after the death) would let such a soak pass. renewTime is
# compared with this host's clock: nodes keep time (NTP).

lease_problem="" lease_error=""

# kube_bounded SECONDS ARGS...: kubectl ARGS, given up after SECONDS (at least 1) as a whole.
kube_bounded() {
  local s=$1
  shift
  ((s >= 1)) || s=1
  timeout "$s" kubectl --request-timeout="${s}s" "$@"
}

# time_left DEADLINE [CAP]: seconds from now ($SECONDS) to DEADLINE, at most CAP (default 10), at least 1.
time_left() {
  local s=$(($1 - SECONDS)) cap=${2:-10}
  ((s <= cap)) || s=$cap
  ((s >= 1)) || s=1
  echo "$s"
}

# lease_check NODE SECONDS: one read of NODE's Lease, bounded by SECONDS. Sets lease_problem to ""
# when the Lease was renewed within leaseDurationSeconds/2, else to why not. Returns 1 when the
# Lease could not be read (lease_error: kubectl's last line).
lease_check() {
  local seen renew duration t now err
  lease_problem="" lease_error=""
  err=$(mktemp)
  if ! seen=$(kube_bounded "$2" get lease -n kube-node-lease "$1" --ignore-not-found \
    -o 'jsonpath={.spec.renewTime}|{.spec.leaseDurationSeconds}' 2>"$err"); then
    lease_error=$(tail -n 1 "$err")
    rm -f "$err"
    [[ -n $lease_error ]] || lease_error="no answer within $2 s"
    return 1
  fi
  rm -f "$err"
  IFS='|' read -r renew duration <<<"$seen"
  [[ $duration =~ ^[1-9][0-9]{0,5}$ ]] || duration=40
  if [[ -z $renew ]]; then
    lease_problem="its kubelet has not renewed its Lease (kube-node-lease/$1): none yet"
    return 0
  fi
  if ! t=$(date -u -d "$renew" +%s 2>/dev/null); then
    lease_problem="its Lease's renewTime '$renew' cannot be read"
    return 0
  fi
  now=$(date -u +%s)
  if ((now - t > duration / 2)); then
    lease_problem="its kubelet stopped renewing its Lease: kube-node-lease/$1 last renewed $renew, $((now - t)) s ago (renewed every $((duration / 4)) s while it runs; the Ready condition stays True for the node-monitor grace period, 50 s, before it turns Unknown)"
  fi
}

# not_ready_why READY REASON MESSAGE: why a node whose Ready condition is READY is not Ready, or
# "" when READY is True and lease_problem is empty (call lease_check first).
not_ready_why() {
  case $1 in
    True) [[ -z $lease_problem ]] || echo "NotReady: $lease_problem" ;;
    Unknown) echo "NotReady (Ready is Unknown: the control plane has not heard from its kubelet): ${2:-no reason}: ${3:-no message}" ;;
    "") echo "NotReady: no Ready condition reported yet" ;;
    *) echo "NotReady: ${2:-no reason}: ${3:-no message}" ;;
  esac
}
