#!/usr/bin/env bash
# Installs what the tests run for real, from Debian's packages: sshd and the ssh client (the
# test lab's SSH), etcd 3.4 (the etcd snapshot against a real etcd), openssl (the lab etcd's
# TLS certificates) and shellcheck (the node scripts). Needs root; does nothing when all are there.
set -euo pipefail
need=()
for tool in /usr/sbin/sshd:openssh-server ssh:openssh-client etcd:etcd-server etcdctl:etcd-client openssl:openssl shellcheck:shellcheck; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
if ((${#need[@]} > 0)); then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
