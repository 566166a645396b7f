/**
 * Builders of controllers and their budgets in the shapes of the kept real answers
 * (daemonsets.json, deployments.json, replicasets.json, poddisruptionbudgets.json): what the
 * API server defaults and what the controllers write to status, for a steady state (every pod
 * scheduled, Ready and up to date).
 */
import type { KubeObject } from "./types";
import { template } from "./templates";
import { apiTime } from "./store";

/** A workload's pod template, as the API defaults it (the kept node-agent DaemonSet's). */
export interface PodTemplateFacts {
  readonly labels: Readonly<Record<string, string>>;
  readonly image: string;
  readonly container: string;
  readonly command?: readonly string[];
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly emptyDir?: boolean;
}

function podTemplateSpec(f: PodTemplateFacts): Record<string, unknown> {
  const t = template("daemonsets.json", "node-agent").spec as { template: { spec: Record<string, any> } };
  const spec = t.template.spec;
  spec.containers[0].name = f.container;
  spec.containers[0].image = f.image;
  if (f.command) {
    const { name, image, ...rest } = spec.containers[0];
    spec.containers[0] = { name, image, command: [...f.command], ...rest };
  }
  if (f.emptyDir) {
    spec.volumes = [{ name: "scratch", emptyDir: {} }];
    spec.containers[0].volumeMounts = [{ name: "scratch", mountPath: "/scratch" }];
  }
  const ordered: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) {
    ordered[k] = v;
    if (k === "dnsPolicy" && f.nodeSelector) ordered.nodeSelector = { ...f.nodeSelector };
  }
  return { metadata: { creationTimestamp: null, labels: { ...f.labels } }, spec: ordered };
}

interface Meta {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly createdMs: number;
}

function meta(o: KubeObject, m: Meta, labels?: Readonly<Record<string, string>>): void {
  o.metadata = {
    ...o.metadata,
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    generation: 1,
    creationTimestamp: apiTime(m.createdMs),
    ...(labels ? { labels: { ...labels } } : {}),
  };
  if (!labels) delete o.metadata.labels;
  delete o.metadata.resourceVersion;
}

/**
 * A DaemonSet (daemonsets.json): `pods` scheduled, all ready. kube-proxy keeps the kept one's
 * pod template (hostNetwork, its command, tolerate everything) with `image`.
 */
export function daemonSetObject(m: Meta, pod: PodTemplateFacts, pods: number): KubeObject {
  const d = template("daemonsets.json", m.name === "kube-proxy" && m.namespace === "kube-system" ? "kube-proxy" : "node-agent");
  meta(d, m, pod.labels);
  const spec = d.spec as Record<string, any>;
  spec.selector = { matchLabels: { ...pod.labels } };
  if (m.name === "kube-proxy") spec.template.spec.containers[0].image = pod.image;
  else spec.template = podTemplateSpec(pod);
  d.status = { currentNumberScheduled: pods, numberMisscheduled: 0, desiredNumberScheduled: pods, numberReady: pods, observedGeneration: 1, updatedNumberScheduled: pods, numberAvailable: pods };
  return d;
}

/** A Deployment (deployments.json, the coredns one's shape): `replicas` of `pod`, available. */
export function deploymentObject(m: Meta, pod: PodTemplateFacts, replicas: number, replicaSet: string): KubeObject {
  const d = template("deployments.json", "coredns");
  meta(d, m, pod.labels);
  const spec = d.spec as Record<string, any>;
  spec.replicas = replicas;
  spec.selector = { matchLabels: { ...pod.labels } };
  if (m.name === "coredns" && m.namespace === "kube-system") spec.template.spec.containers[0].image = pod.image;
  else spec.template = podTemplateSpec(pod);
  const status = d.status as Record<string, any>;
  Object.assign(status, { replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas });
  for (const c of status.conditions) {
    c.lastUpdateTime = apiTime(m.createdMs);
    c.lastTransitionTime = apiTime(m.createdMs);
    if (c.type === "Progressing") c.message = `ReplicaSet "${replicaSet}" has successfully progressed.`;
  }
  return d;
}

/**
 * A ReplicaSet (replicasets.json): the Deployment's (owned by it, `hash` its pod-template-hash)
 * or a bare one (`deployment` undefined).
 */
export function replicaSetObject(m: Meta, pod: PodTemplateFacts, replicas: number, deployment?: { name: string; uid: string; template: unknown }): KubeObject {
  const r = template("replicasets.json", "coredns-*");
  meta(r, m, pod.labels);
  if (deployment) {
    r.metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "Deployment", name: deployment.name, uid: deployment.uid, controller: true, blockOwnerDeletion: true }];
    r.metadata.annotations = {
      "deployment.kubernetes.io/desired-replicas": String(replicas),
      "deployment.kubernetes.io/max-replicas": String(replicas + Math.ceil(replicas / 4)),
      "deployment.kubernetes.io/revision": "1",
    };
  } else {
    delete r.metadata.ownerReferences;
    delete r.metadata.annotations;
  }
  const spec = r.spec as Record<string, any>;
  spec.replicas = replicas;
  spec.selector = { matchLabels: { ...pod.labels } };
  spec.template = deployment ? structuredClone(deployment.template) : podTemplateSpec(pod);
  spec.template.metadata.labels = { ...pod.labels };
  r.status = { replicas, fullyLabeledReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas, observedGeneration: 1 };
  return r;
}

/**
 * A StatefulSet (no kept one: the fields and defaults of apps/v1 StatefulSet as the API server
 * writes them, https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/stateful-set-v1/).
 */
export function statefulSetObject(m: Meta, pod: PodTemplateFacts, replicas: number): KubeObject {
  const revision = `${m.name}-${m.uid.slice(0, 10).replace(/-/g, "")}`;
  return {
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, generation: 1, creationTimestamp: apiTime(m.createdMs), labels: { ...pod.labels } },
    spec: {
      replicas,
      selector: { matchLabels: { ...pod.labels } },
      template: podTemplateSpec(pod),
      serviceName: m.name,
      podManagementPolicy: "OrderedReady",
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
    },
    status: {
      observedGeneration: 1,
      replicas,
      readyReplicas: replicas,
      currentReplicas: replicas,
      updatedReplicas: replicas,
      currentRevision: revision,
      updateRevision: revision,
      collisionCount: 0,
      availableReplicas: replicas,
    },
  };
}

/** A PodDisruptionBudget (poddisruptionbudgets.json) selecting `selector`; its status is computed when read (disruption.ts). */
export function budgetObject(m: Meta, selector: Readonly<Record<string, string>>, budget: { minAvailable?: number | string; maxUnavailable?: number | string }): KubeObject {
  const b = template("poddisruptionbudgets.json", "web-pdb");
  meta(b, m);
  b.spec = {
    ...(budget.minAvailable !== undefined ? { minAvailable: budget.minAvailable } : {}),
    selector: { matchLabels: { ...selector } },
    ...(budget.maxUnavailable !== undefined ? { maxUnavailable: budget.maxUnavailable } : {}),
  };
  const status = b.status as { conditions: { lastTransitionTime: string }[] };
  status.conditions[0]!.lastTransitionTime = apiTime(m.createdMs);
  return b;
}
