#!/usr/bin/env bash
# Joins this machine to the cluster as a worker at exactly one Kubernetes version: the body of a
# blue-green pool node's user data, run once as root by cloud-init at first boot.
# components/user-data.ts renders `#!/bin/bash`, single-quoted assignments of the parameters, then this
# text. Parameters (shell variables, validated here again):
#   KUBE_VERSION  1.37.1                    the kubelet/kubeadm/kubectl version to install and hold
#   KUBE_MINOR    1.37                      its minor (the pkgs.k8s.io repository)
#   API_ENDPOINT  host:port                 the API server (IPv4, [IPv6] or DNS name)
#   JOIN_TOKEN    [a-z0-9]{6}.[a-z0-9]{16}  bootstrap token: a secret, never printed nor put in argv
#   CA_CERT_HASH  sha256:<64 hex>           the cluster CA's public key hash
# Steps: IMDSv2 session token -> node name from the instance tag Name (validated) -> hostnamectl ->
# swap off -> kernel modules overlay, br_netfilter -> sysctls -> containerd from the distribution with
# SystemdCgroup = true -> the minor's pkgs.k8s.io repository and key -> kubelet, kubeadm, kubectl
# =VERSION-* held -> a 0600 JoinConfiguration (kubeadm.k8s.io/v1beta4) in /run -> kubeadm join --config
# -> the file removed. Idempotent: a node with /etc/kubernetes/kubelet.conf has joined; the join is
# skipped. Every network call is bounded. Node paths are under ${CM_NODE_ROOT:-} (empty on a real node).
# Exit codes: 2 bad parameter or node name, 1 a step failed (the message names it).
# Sources: https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/install-kubeadm/ ,
# https://kubernetes.io/docs/setup/production-environment/container-runtimes/ ,
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/work-with-tags-in-IMDS.html
set -euo pipefail
# cluster-maintenance: include lib/apt.sh
me=join-node.sh
root="${CM_NODE_ROOT:-}"
node=$(hostname 2>/dev/null || echo unknown)
fail() { echo "cluster-maintenance: $me: $node: $2" >&2; exit "$1"; }
say() { echo "cluster-maintenance: $me: $node: $*" >&2; }
export DEBIAN_FRONTEND=noninteractive

# --- parameters (the token and hash are never echoed) ---
[[ ${KUBE_VERSION:-} =~ ^[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}$ ]] || fail 2 "KUBE_VERSION is not X.Y.Z"
[[ ${KUBE_MINOR:-} == "${KUBE_VERSION%.*}" ]] || fail 2 "KUBE_MINOR is not the minor of $KUBE_VERSION"
host_re='^([0-9]{1,3}(\.[0-9]{1,3}){3}|\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*):[1-9][0-9]{0,4}$'
[[ ${API_ENDPOINT:-} =~ $host_re ]] || fail 2 "API_ENDPOINT is not host:port"
[[ ${JOIN_TOKEN:-} =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]] || fail 2 "JOIN_TOKEN is not a bootstrap token (value not shown)"
[[ ${CA_CERT_HASH:-} =~ ^sha256:[a-f0-9]{64}$ ]] || fail 2 "CA_CERT_HASH is not sha256:<64 hex digits> (value not shown)"
version=$KUBE_VERSION
minor=$KUBE_MINOR

# --- node name from the instance tag Name, through IMDSv2 ---
# Retried (6 tries, 5 s apart) while the metadata service cannot be reached, as early in a boot; an
# HTTP error (curl exit 22: no such tag, IMDS disabled) is final.
imds=http://169.254.169.254/latest
imds_get() { # PATH -> body; a session token first (PUT), then the GET with it
  local session
  session=$(curl -fsS --max-time 5 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "$imds/api/token") || return
  curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $session" "$imds/$1"
}
name="" rc=1
for attempt in 1 2 3 4 5 6; do
  rc=0
  name=$(imds_get meta-data/tags/instance/Name) || rc=$?
  if [[ $rc -eq 0 || $rc -eq 22 ]]; then break; fi
  if [[ $attempt -lt 6 ]]; then sleep 5; fi
done
if [[ $rc -eq 22 ]]; then
  fail 1 "the instance metadata has no tag Name (the launch template must enable instance metadata tags and IMDSv2, and the instance be tagged Name)"
fi
[[ $rc -eq 0 && -n $name ]] || fail 1 "could not reach the instance metadata service (IMDSv2) to read the instance tag Name"
[[ ${#name} -le 253 && $name =~ ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ ]] || fail 2 "the instance tag Name \"${name//[^[:print:]]/?}\" is not a valid node name (lowercase DNS name)"
node=$name
hostnamectl set-hostname "$name" || fail 1 "hostnamectl set-hostname $name failed"

# --- swap, kernel modules, sysctls (as the kubeadm installation guide asks) ---
swapoff -a || fail 1 "swapoff -a failed"
if [[ -f $root/etc/fstab ]]; then sed -i -E '/^[^#].*[[:space:]]swap[[:space:]]/ s/^/#/' "$root/etc/fstab"; fi
install -d -m 0755 "$root/etc/modules-load.d" "$root/etc/sysctl.d"
printf '%s\n' overlay br_netfilter >"$root/etc/modules-load.d/kubernetes.conf"
modprobe overlay || fail 1 "modprobe overlay failed"
modprobe br_netfilter || fail 1 "modprobe br_netfilter failed"
printf '%s\n' "net.bridge.bridge-nf-call-iptables = 1" "net.bridge.bridge-nf-call-ip6tables = 1" \
  "net.ipv4.ip_forward = 1" >"$root/etc/sysctl.d/99-kubernetes.conf"
sysctl --system >/dev/null || fail 1 "sysctl --system failed"

# --- containerd from the distribution, systemd cgroup driver ---
apt_get 300 update || fail 1 "apt-get update failed"
apt_get 600 install -y containerd ca-certificates curl gpg || fail 1 "installing containerd failed"
install -d -m 0755 "$root/etc/containerd"
conf="$root/etc/containerd/config.toml"
containerd config default >"$conf.new" || fail 1 "containerd config default failed"
if grep -q 'SystemdCgroup = ' "$conf.new"; then
  sed -i -E 's/^([[:space:]]*)SystemdCgroup = .*/\1SystemdCgroup = true/' "$conf.new"
else # containerd 2.x omits the key: add it under the runc options table
  sed -i -E "/^[[:space:]]*\[plugins\..*runtimes\.runc\.options\]/a\\            SystemdCgroup = true" "$conf.new"
fi
grep -q 'SystemdCgroup = true' "$conf.new" || fail 1 "could not set SystemdCgroup = true in $conf"
if cmp -s "$conf.new" "$conf"; then
  rm -f "$conf.new"
else
  mv -f "$conf.new" "$conf"
  systemctl restart containerd || fail 1 "systemctl restart containerd failed"
fi

# --- the v$minor pkgs.k8s.io repository, the packages at exactly $version, held ---
url="https://pkgs.k8s.io/core:/stable:/v$minor/deb/"
keyring=/etc/apt/keyrings/kubernetes-apt-keyring.gpg
line="deb [signed-by=$keyring] $url /"
list="$root/etc/apt/sources.list.d/kubernetes.list"
install -d -m 0755 "$root${keyring%/*}" "${list%/*}"
if [[ ! -s $root$keyring ]]; then
  curl -fsSL --max-time 60 "${url}Release.key" | gpg --dearmor --yes -o "$root$keyring.new" ||
    fail 1 "fetching the repository key ${url}Release.key failed"
  chmod 0644 "$root$keyring.new"
  mv -f "$root$keyring.new" "$root$keyring"
fi
printf '%s\n' "$line" >"$list"
chmod 0644 "$list"
apt_get 300 update || fail 1 "apt-get update for the v$minor repository failed"
apt_get 600 install -y "kubelet=$version-*" "kubeadm=$version-*" "kubectl=$version-*" ||
  fail 1 "installing kubelet, kubeadm and kubectl $version failed"
apt-mark hold kubelet kubeadm kubectl >/dev/null || fail 1 "apt-mark hold failed"
# Started at boot from now on (kubeadm join starts it; an enabled unit survives a reboot).
systemctl enable kubelet || fail 1 "systemctl enable kubelet failed"

# --- join ---
if [[ -e $root/etc/kubernetes/kubelet.conf ]]; then
  say "already done: joined (/etc/kubernetes/kubelet.conf exists)"
  exit 0
fi
install -d -m 0700 "$root/run/cluster-maintenance"
join_conf="$root/run/cluster-maintenance/join-configuration.yaml"
trap 'rm -f "$join_conf"' EXIT
(
  umask 077
  cat >"$join_conf" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: "$API_ENDPOINT"
    token: "$JOIN_TOKEN"
    caCertHashes:
      - "$CA_CERT_HASH"
nodeRegistration:
  name: "$name"
  criSocket: unix:///run/containerd/containerd.sock
timeouts:
  discovery: 5m0s
  tlsBootstrap: 5m0s
  kubeletHealthCheck: 4m0s
EOF
)
chmod 0600 "$join_conf"
say "joining $API_ENDPOINT as $name at v$version"
timeout 900 kubeadm join --config "$join_conf" || fail 1 "kubeadm join failed (see its messages above)"
rm -f "$join_conf"
say "joined the cluster as $name at v$version"
