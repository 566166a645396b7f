/**
 * What each node script call does, in the words of the tools it runs (kubeadm, kubectl, apt,
 * etcdctl, aws), as the Kubernetes upgrade guide writes them: shown next to each command in the
 * plan's text (planning/render.ts), so a reader who knows kubeadm sees the procedure.
 * Source: https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/
 */
import type { CommandSpec } from "./commands";
import { BEFORE_LABEL } from "../config/volume-config";

/** kubectl drain's flags for drain.sh's and pool-node.sh's TIMEOUT DELETE_EMPTYDIR ALLOW_UNMANAGED DISABLE_EVICTION. */
function drainFlags(timeout: string, emptyDir: string, unmanaged: string, noEviction: string): string {
  return [
    "--ignore-daemonsets", `--timeout=${timeout}s`,
    ...(emptyDir === "true" ? ["--delete-emptydir-data"] : []),
    ...(unmanaged === "true" ? ["--force"] : []),
    ...(noEviction === "true" ? ["--disable-eviction"] : []),
  ].join(" ");
}

const hold = (pkgs: readonly string[], version: string) => `apt-get install -y ${pkgs.map((p) => `${p}=${version}-*`).join(" ")} (apt-mark hold)`;

/**
 * volume-snapshot.sh's LABEL KEEP READY_TIMEOUT_SECONDS REQUIRED NAMESPACES SELECTOR CLASSES
 * (planning/commands.ts volumeSnapshotArgs), e.g. `kubectl create VolumeSnapshot per PVC
 * (namespaces shop,billing, selector app=db, class per driver ebs.csi.aws.com=ebs-snap),
 * labelled cluster-maintenance.io/before=v1.35.9, wait until readyToUse (600 s), newest 3 kept
 * per PVC; a PVC that cannot be snapshotted stops the hop`.
 */
function volumeWords(args: readonly string[]): string {
  const a = (i: number) => args[i] ?? "";
  const namespaces = a(4) === "*" ? "every namespace" : `namespaces ${a(4)}`;
  const selector = a(5) === "-" ? "every bound PVC" : `selector ${a(5)}`;
  const classes = a(6) === "-" ? "each driver's default VolumeSnapshotClass" : `class per driver ${a(6)} (others: the default)`;
  const unable = a(3) === "true" ? "a PVC that cannot be snapshotted stops the hop" : "a PVC that cannot be snapshotted is reported, the hop goes on";
  return `kubectl create VolumeSnapshot per PVC (${namespaces}, ${selector}, ${classes}), labelled ${BEFORE_LABEL}=${a(0)}, wait until readyToUse (${a(2)} s), newest ${a(1)} kept per PVC; ${unable}`;
}

/**
 * The call `script args` in the words of the tools it runs, e.g. `kubeadm upgrade apply
 * v1.35.9` for `kubeadm-upgrade.sh apply 1.35.9`. The script does more (it checks the node
 * first and does nothing when the step is done; README.md, "Carrying it out"): this is the
 * step it takes.
 */
export function inToolWords(script: CommandSpec["script"], args: readonly string[]): string {
  const a = (i: number) => args[i] ?? "";
  switch (script) {
    case "etcd-snapshot.sh":
      return `etcdctl --endpoints=${a(2)} snapshot save ${a(0)}/etcd-<time>-${a(1)}.db, verified (${a(6)}), newest ${a(7)} kept`;
    case "upload-snapshot.sh":
      return `aws s3 cp ${a(0)}/etcd-<time>-${a(1)}.db (and .sha256) s3://${a(2)}/${a(3)} --region ${a(4)}`;
    case "export-resources.sh":
      return `kubectl get <every listable type> -A -o yaml > ${a(0)}/<time>/<type>.yaml (Secrets ${a(1) === "exclude" ? "excluded" : "encrypted with openssl cms"})`;
    case "switch-repository.sh":
      return `apt source deb https://pkgs.k8s.io/core:/stable:/v${a(0)}/deb/ / && apt-get update`;
    case "upgrade-packages.sh":
      return hold(args.slice(1), a(0));
    case "kubeadm-upgrade.sh":
      return a(0) === "apply" ? `kubeadm upgrade apply v${a(1)}` : "kubeadm upgrade node";
    case "drain.sh":
      return `kubectl drain ${a(0)} ${drainFlags(a(2), a(3), a(4), a(5))}`;
    case "upgrade-kubelet.sh":
      return `${hold(["kubelet", "kubectl"], a(0))} && systemctl restart kubelet`;
    case "wait-ready.sh":
      return `kubectl wait --for=condition=Ready node/${a(0)} --timeout=${a(2)}s, kubelet v${a(1)}${args.length > 3 ? ", after its reboot" : ""}`;
    case "uncordon.sh":
      return `kubectl uncordon ${a(0)}`;
    case "os-patch.sh":
      return "apt-get upgrade -y (held packages stay held), then systemctl reboot if /var/run/reboot-required";
    case "join-command.sh":
      return a(0) === "revoke" ? `kubeadm token delete <the tokens of pool ${a(1)} v${a(2)}${args.length > 3 ? ` nodes ${a(3)}` : ""}>` : `kubeadm token create --print-join-command --ttl ${a(0)}m`;
    case "pool-node.sh":
      return a(0) === "wait-joined"
        ? `kubectl wait --for=condition=Ready node/${a(1)} --timeout=${a(3)}s, kubelet v${a(2)}`
        : `kubectl drain ${a(1)} ${drainFlags(a(2), a(3), a(4), a(5))} && kubectl delete node ${a(1)}`;
    case "cordon-node.sh":
      return `kubectl ${a(0) === "cordon" ? "cordon" : "uncordon"} ${a(1)}`;
    case "soak.sh":
      return `kubectl get node ${args.slice(1).join(" ")}: Ready for ${a(0)}s`;
    case "delete-nodes.sh":
      return a(0) === "--dead"
        ? `kubectl get pods -A --field-selector spec.nodeName=${a(1)} (those without a controller: lost for good) && kubectl delete node ${a(1)}`
        : `kubectl delete node ${args.join(" ")}`;
    case "reset-node.sh":
      return "kubeadm reset --force && systemctl stop kubelet && systemctl disable kubelet && rm -rf /etc/cni/net.d/* && iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X && ipvsadm --clear";
    case "etcd-member.sh":
      return a(0) === "check"
        ? `etcdctl --endpoints=${a(3)} member list && etcdctl endpoint health (every member): may ${a(1)}'s member go${a(2) === "true" ? "" : " (an odd count left)"}`
        : `etcdctl --endpoints=${a(3)} member remove <id of ${a(1)}> (unless already gone) && etcdctl member list`;
    case "volume-snapshot.sh":
      return volumeWords(args);
  }
}
