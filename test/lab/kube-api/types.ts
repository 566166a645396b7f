/** Shapes the Kubernetes API test double stores and serves (a subset of the API's types; every other field passes through). */

/** An owner reference (metadata.ownerReferences[]). */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** ObjectMeta: the fields the double reads or sets; the others are kept as they are. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [field: string]: unknown;
}

/** A Kubernetes object as JSON. `apiVersion` and `kind` name its type (a seed object must have both). */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Objects to start a double with (seed), in any order. */
export type KubeObjects = readonly KubeObject[];

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
