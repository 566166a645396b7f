/**
 * The kept real cluster (../shared/data/kube-api/v1.31-kubeadm-ha) as a seed: the objects of
 * nodes.json, pods.json, daemonsets.json, deployments.json, replicasets.json,
 * poddisruptionbudgets.json, node-leases.json and the configmap-*.json files, exactly as the
 * real API answered them (managedFields and resourceVersions included), with the apiVersion and
 * kind their lists imply.
 */
import * as fs from "node:fs";
import type { KubeObject } from "./types";
import { KUBE_API_DATA } from "./resources";
import { keptFile } from "./templates";

const LISTS = ["nodes.json", "pods.json", "daemonsets.json", "deployments.json", "replicasets.json", "poddisruptionbudgets.json", "node-leases.json"];

/** The kept cluster's objects (fresh copies), apiVersion and kind set on each. */
export function sharedObjects(): KubeObject[] {
  const out: KubeObject[] = [];
  for (const file of LISTS) {
    const list = keptFile<{ kind: string; apiVersion: string; items: KubeObject[] }>(file);
    const kind = list.kind.replace(/List$/, "");
    for (const item of list.items) out.push({ apiVersion: list.apiVersion, kind, ...structuredClone(item) });
  }
  for (const file of fs.readdirSync(KUBE_API_DATA).filter((f) => /^configmap-.*\.json$/.test(f)).sort()) out.push(structuredClone(keptFile<KubeObject>(file)));
  return out;
}
