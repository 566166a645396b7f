/**
 * The cluster the plan benchmarks plan: `size` nodes at 1.34.6, of which 5 control-plane nodes,
 * the workers spread round-robin over four pools (rolling pools with maxUnavailable 1, 50 and 10,
 * and a blue-green pool), so every kind of step and batch is in the plan.
 */
import { ClusterSpec, NodeState, PoolSpec } from "../planning/cluster";
import type { ExecutionOptions } from "../planning/commands";
import { KubeVersion } from "../planning/versions";

/** Control-plane nodes of the benchmark cluster. */
export const CONTROL_PLANE = 5;

/** The benchmark cluster of `size` nodes (at least {@link CONTROL_PLANE}), all at 1.34.6. */
export function benchCluster(size: number): ClusterSpec {
  const v = KubeVersion.of(1, 34, 6);
  const pools: PoolSpec[] = [
    { name: "general", strategy: "rolling", maxUnavailable: 1 },
    { name: "compute", strategy: "rolling", maxUnavailable: 50 },
    { name: "memory", strategy: "rolling", maxUnavailable: 10 },
    { name: "batch", strategy: "blue-green", maxUnavailable: 1 },
  ];
  const nodes: NodeState[] = [];
  for (let i = 1; i <= CONTROL_PLANE; i++) {
    nodes.push({ name: `cp-${i}`, role: "control-plane", pool: "control-plane", versions: { "kube-apiserver": v, "kube-controller-manager": v, "kube-scheduler": v, kubelet: v, kubectl: v, "kube-proxy": v } });
  }
  for (let i = 0; nodes.length < size; i++) {
    const pool = pools[i % pools.length]!;
    nodes.push({ name: `${pool.name}-${i}`, role: "worker", pool: pool.name, versions: { kubelet: v, kubectl: v, "kube-proxy": v } });
  }
  return { name: "bench", pools, nodes };
}

/** How the benchmark cluster's plan is carried out (the dev stack's defaults): for its commands and its JSON. */
export const BENCH_EXECUTION: ExecutionOptions = {
  kubectlNode: "cp-1",
  drain: () => ({ timeoutSeconds: 600, deleteEmptyDirData: false, deleteUnmanagedPods: false, disableEviction: false }),
  etcd: {
    endpoint: "https://127.0.0.1:2379", caCert: "/etc/kubernetes/pki/etcd/ca.crt", cert: "/etc/kubernetes/pki/etcd/server.crt",
    key: "/etc/kubernetes/pki/etcd/server.key", backupDir: "/var/lib/cluster-maintenance/etcd-backups", verify: "restore", keep: 5,
  },
  readyTimeoutSeconds: 600,
};
