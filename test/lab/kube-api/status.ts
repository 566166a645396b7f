/**
 * API errors as the kube-apiserver writes them: a `Status` object (kind Status, apiVersion v1,
 * status Failure, message, reason, details, code), the shape of
 * ../shared/data/kube-api/v1.31-kubeadm-ha/eviction-denied-by-pdb.json and of
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#response-status-kind .
 */
import type { ResourceType } from "./resources";

/** details of a Status. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason?: string; message: string; field?: string }[];
  retryAfterSeconds?: number;
}

/** An error answered as a Status with HTTP `code`. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  /** The Status body. */
  status(): Record<string, unknown> {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(this.details === undefined ? {} : { details: this.details }),
      code: this.code,
    };
  }
}

/** "nodes" or "leases.coordination.k8s.io", as messages name a resource. */
function qualified(t: ResourceType): string {
  return t.group === "" ? t.name : `${t.name}.${t.group}`;
}

function named(t: ResourceType, name: string): StatusDetails {
  return t.group === "" ? { name, kind: t.name } : { name, group: t.group, kind: t.name };
}

/** 404 for an object: `nodes "w-9" not found`. */
export function notFound(t: ResourceType, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualified(t)} "${name}" not found`, named(t, name));
}

/** 404 for a path the API does not serve. */
export function noSuchPath(): ApiError {
  return new ApiError(404, "NotFound", "the server could not find the requested resource", {});
}

/** 400. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

/** 405 for a verb the resource does not allow. */
export function methodNotAllowed(): ApiError {
  return new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {});
}

/** 401 without an accepted credential. */
export function unauthorized(): ApiError {
  return new ApiError(401, "Unauthorized", "Unauthorized");
}

/** 415 for a body type the verb does not take (e.g. an unknown patch type). */
export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${contentType})`);
}

/** 500 for what the lab double does not simulate (said plainly rather than answered wrongly). */
export function notSimulated(what: string): ApiError {
  return new ApiError(500, "InternalError", `Internal error occurred: the lab's API double does not simulate ${what}`, {
    causes: [{ message: `the lab's API double does not simulate ${what}` }],
  });
}
