# shellcheck shell=bash
# Path checks shared by the node scripts, the bash mirror of config/values.ts (plainPathProblem,
# ownedDirProblem, SYSTEM_TREES, SHARED_PARENTS): the config is refused by the same rule when it
# is parsed, so no script refuses a value half way through an update.
# components/node-scripts.ts puts this file in place of each script's include line for it.

# plain_path PATH: succeeds for a plain absolute path: "/"-separated parts of letters, digits,
# '.', '_', '-', none of them "." or "..", no empty part (no "//", no trailing "/"), at most 255
# characters.
plain_path() {
  local re='^(/[A-Za-z0-9._-]+)+$'
  [[ ${#1} -le 255 && $1 =~ $re && /$1/ != */./* && /$1/ != */../* ]]
}

# owned_dir PATH: succeeds when PATH may be a directory this program creates and owns: a
# plain_path at least two levels deep, neither a system tree nor inside one, and not a direct
# child of /var or /home (/var/lib, /home/ubuntu); inside such a child is fine
# (/var/lib/cluster-maintenance/etcd-backups). /lib* is every top-level name starting with lib.
owned_dir() {
  plain_path "$1" && [[ $1 == /*/* ]] || return 1
  case $1/ in
    /bin/* | /boot/* | /dev/* | /etc/* | /lib*/* | /proc/* | /root/* | /run/* | /sbin/* | /snap/* | /sys/* | /usr/* | \
      /var/cache/* | /var/lock/* | /var/run/* | /var/tmp/* | /tmp/* | \
      /var/lib/apt/* | /var/lib/dpkg/* | /var/lib/systemd/* | \
      /var/lib/etcd/* | /var/lib/kubelet/* | /var/lib/containerd/* | /var/lib/docker/* | /var/lib/cni/* | /opt/cni/* | \
      /var/log/pods/* | /var/log/containers/*)
      return 1
      ;;
  esac
  local shared='^/(var|home)/[^/]+$'
  [[ ! $1 =~ $shared ]]
}
