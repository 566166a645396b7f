#!/usr/bin/env bash
# Prints this node's boot id (to tell later whether it has rebooted). Read-only.
# Usage: boot-id.sh
set -euo pipefail
me=boot-id.sh
root="${CM_NODE_ROOT:-}"
[[ $# -eq 0 ]] || { echo "cluster-maintenance: $me: $(hostname): usage: $me" >&2; exit 2; }
cat "$root/proc/sys/kernel/random/boot_id"
