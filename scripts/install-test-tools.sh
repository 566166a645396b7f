#!/usr/bin/env bash
# Installs what the tests run for real, from Debian's packages: sshd and the ssh client (the
# test lab's SSH), etcd 3.4 (the etcd snapshot against a real etcd), openssl (the lab etcd's
# TLS certificates) and shellcheck (the node scripts). Needs root; does nothing when all are there.
# The lab's kubectl is the real one at /usr/bin/kubectl (test/lab/recorded/kubectl runs it): Debian
# has no kubectl package, so it is checked for, not installed.
set -euo pipefail
if [[ ! -x /usr/bin/kubectl ]]; then
  echo "install-test-tools.sh: /usr/bin/kubectl is missing: the test lab runs the real kubectl there, and Debian's packages do not provide it; install a kubectl binary (1.30 or later) at /usr/bin/kubectl" >&2
  exit 1
fi
need=()
for tool in /usr/sbin/sshd:openssh-server ssh:openssh-client etcd:etcd-server etcdctl:etcd-client openssl:openssl shellcheck:shellcheck; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool#*:}")
done
if ((${#need[@]} > 0)); then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
