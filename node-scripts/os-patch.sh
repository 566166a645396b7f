#!/usr/bin/env bash
# Upgrades the OS packages of a (drained) node once per patch revision; held packages stay held.
# When the OS asks for a reboot (var/run/reboot-required) prints "reboot required", schedules one
# 5 s later (systemd-run, so that this command can still return) and prints as its last line
# "reboot-scheduled <boot id before the reboot>" (for wait-ready.sh's BOOT_ID_NOT).
# Usage: os-patch.sh REVISION
# Done when the marker var/lib/cluster-maintenance/os-patch-REVISION exists; it is written after
# the upgrade (and the reboot scheduling) succeeded.
set -euo pipefail
me=os-patch.sh
root="${CM_NODE_ROOT:-}"
node="$(hostname)"
fail() { echo "cluster-maintenance: $me: $node: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }
# cluster-maintenance: include lib/apt.sh

[[ $# -eq 1 && $1 =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || fail 2 "usage: $me REVISION (letters, digits, . _ -)"
marker="$root/var/lib/cluster-maintenance/os-patch-$1"
if [[ -e $marker ]]; then
  say "already done: OS patch revision $1 applied"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt_get 300 update || fail 1 "apt-get update failed"
apt_get 1800 upgrade -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ||
  fail 1 "apt-get upgrade failed"
install -d -m 0755 "${marker%/*}"
if [[ -e $root/var/run/reboot-required ]]; then
  echo "reboot required"
  boot_id=$(<"$root/proc/sys/kernel/random/boot_id")
  systemd-run --on-active=5 systemctl reboot || fail 1 "scheduling the reboot failed"
  : >"$marker"
  say "OS patch revision $1 applied; reboot in 5 s"
  echo "reboot-scheduled $boot_id"
  exit 0
fi
: >"$marker"
say "OS patch revision $1 applied"
