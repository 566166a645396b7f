/**
 * Objects the real API answered (../shared/data/kube-api/v1.31-kubeadm-ha), used as the
 * templates of the objects the double makes, so that every object it serves has the real
 * shape: the fields, their order and their defaults as the kube-apiserver, the kubelet and the
 * controllers wrote them. A template is a deep copy without managedFields (the double keeps no
 * field managers: kubectl hides them by default) and without the kubectl apply annotation (the
 * kept cluster's objects were created with `kubectl apply`; kubeadm and the controllers create
 * theirs without it).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { KubeObject } from "./types";
import { KUBE_API_DATA } from "./resources";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** A kept response file, parsed (cached). */
const files = new Map<string, unknown>();
export function keptFile<T = unknown>(name: string): T {
  if (!files.has(name)) files.set(name, JSON.parse(fs.readFileSync(path.join(KUBE_API_DATA, name), "utf8")));
  return files.get(name) as T;
}

/** The object without managedFields and the kubectl apply annotation (a copy). */
export function withoutBookkeeping(o: KubeObject): KubeObject {
  const copy = JSON.parse(JSON.stringify(o)) as KubeObject;
  delete copy.metadata.managedFields;
  if (copy.metadata.annotations) {
    delete copy.metadata.annotations[LAST_APPLIED];
    if (Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
  }
  return copy;
}

const cache = new Map<string, string>();
/**
 * A copy of the item of kept list `file` (e.g. "pods.json") whose name is `name` or, when
 * `name` ends with "*", starts with it; without resourceVersion (a new object gets its own).
 * @throws Error when the kept file has no such item.
 */
export function template(file: string, name: string): KubeObject {
  const key = `${file}:${name}`;
  let text = cache.get(key);
  if (text === undefined) {
    const items = keptFile<{ items: KubeObject[] }>(file).items;
    const found = items.find((i) => (name.endsWith("*") ? i.metadata.name.startsWith(name.slice(0, -1)) : i.metadata.name === name));
    if (found === undefined) throw new Error(`kube-api: no ${name} in ${file}`);
    const t = withoutBookkeeping(found);
    delete t.metadata.resourceVersion;
    cache.set(key, (text = JSON.stringify(t)));
  }
  return JSON.parse(text) as KubeObject;
}
