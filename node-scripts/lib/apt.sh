# shellcheck shell=bash
# apt-get that waits for another apt (unattended-upgrades, apt-daily at boot) instead of failing,
# shared by the scripts that install or update packages: components/node-scripts.ts puts it in
# place of each script's include line for this file.
# apt-get fails at once ("E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process
# N (unattended-upgr)") while another apt holds its lock. `-o DPkg::Lock::Timeout=S` (apt 1.9.11+)
# makes it wait up to S seconds for the dpkg lock; that option does not cover the lists lock of
# `apt-get update` (/var/lib/apt/lists/lock), so an update refused for that lock is tried again
# every 5 s until the same wait has passed.
apt_lock_wait=300

# apt_get SECONDS ARGS...: apt-get ARGS, waiting up to apt_lock_wait for apt's locks, then bounded by
# SECONDS; its exit code.
apt_get() {
  local limit=$1 deadline err rc
  shift
  deadline=$((SECONDS + apt_lock_wait))
  err=$(mktemp)
  while :; do
    rc=0
    timeout "$((limit + apt_lock_wait))" apt-get -o "DPkg::Lock::Timeout=$apt_lock_wait" "$@" 2>"$err" || rc=$?
    if ((rc != 0)) && grep -q '^E: Could not get lock /var/lib/apt/lists/lock' "$err" && ((SECONDS + 5 < deadline)); then
      echo "apt-get $1: the package lists are locked by another apt ($(grep -m 1 -o 'held by process.*' "$err" || echo 'unknown process')); trying again in 5 s" >&2
      sleep 5
      continue
    fi
    cat "$err" >&2
    rm -f "$err"
    return "$rc"
  done
}
