/**
 * API discovery as kubectl asks for it, from the kept real answers
 * (../shared/data/kube-api/v1.31-kubeadm-ha: version.json, api.json, apis.json, discovery/):
 * /version; /api and /apis, aggregated (APIGroupDiscoveryList, apidiscovery.k8s.io/v2, what
 * kubectl 1.30+ asks for first: https://kubernetes.io/docs/concepts/overview/kubernetes-api/#aggregated-discovery)
 * or not (APIVersions, APIGroupList); /apis/GROUP (APIGroup); and one APIResourceList per group
 * version (/api/v1, /apis/GROUP/VERSION).
 */
import * as path from "node:path";
import { discoveryFile, RESOURCE_TYPES } from "./resources";
import { keptFile } from "./templates";
import type { CrdType } from "./crd-types";
import { crdAggregatedGroups, crdGroups, crdResourceList } from "./snapshots";

/** The media type of an aggregated discovery document (client-go's AcceptV2); the client checks it in the answer's Content-Type. */
export const AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/** Whether an Accept header asks for aggregated discovery v2 before plain JSON. */
export function wantsAggregated(accept: string | undefined): boolean {
  for (const type of (accept ?? "").split(",")) {
    const params = type.split(";").map((p) => p.trim());
    if (params.includes("as=APIGroupDiscoveryList")) {
      if (params.includes("v=v2") && params.includes("g=apidiscovery.k8s.io")) return true;
    } else if (params[0] === "application/json" || params[0] === "*/*") {
      return false;
    }
  }
  return false;
}

/** A discovery answer: body and its media type. */
export interface Document {
  readonly contentType: string;
  readonly body: unknown;
}

const json = (body: unknown): Document => ({ contentType: "application/json", body });

/**
 * /version: the kept one (v1.31.4), whatever version the lab's nodes run, as the discovery
 * served is v1.31's. (/usr/bin/kubectl, Google Cloud SDK's dispatcher, runs the kubectl of the
 * server's minor: kubectl 1.31 here.)
 */
export function versionDocument(): Document {
  return json(keptFile("version.json"));
}

/**
 * The discovery document at `urlPath`, or undefined when discovery has none there.
 * `serverAddress` (host:port) is what /api's APIVersions names as the server. `installed`: the
 * CRD-defined types whose CRD the cluster holds (snapshots.ts): their groups are added to /apis
 * (after the kept groups, as the aggregator lists CRD groups after the built-in ones) and served.
 */
export function discoveryDocument(urlPath: string, accept: string | undefined, serverAddress: string, installed: readonly CrdType[] = []): Document | undefined {
  const aggregated = wantsAggregated(accept);
  if (urlPath === "/api") {
    if (aggregated) return { contentType: AGGREGATED_V2, body: keptFile("discovery/aggregated-api.json") };
    const v = keptFile<{ serverAddressByClientCIDRs: { clientCIDR: string; serverAddress: string }[] }>("api.json");
    return json({ ...v, serverAddressByClientCIDRs: v.serverAddressByClientCIDRs.map((s) => ({ ...s, serverAddress })) });
  }
  if (urlPath === "/apis") {
    if (aggregated) {
      const kept = keptFile<{ items: unknown[] }>("discovery/aggregated-apis.json");
      return { contentType: AGGREGATED_V2, body: installed.length === 0 ? kept : { ...kept, items: [...kept.items, ...crdAggregatedGroups(installed)] } };
    }
    const kept = keptFile<{ groups: unknown[] }>("apis.json");
    return json(installed.length === 0 ? kept : { ...kept, groups: [...kept.groups, ...crdGroups(installed)] });
  }
  const gv = /^\/(?:api\/(v\w+)|apis\/([^/]+)\/(v\w+))$/.exec(urlPath);
  if (gv) {
    const [group, version] = gv[1] !== undefined ? ["", gv[1]] : [gv[2]!, gv[3]!];
    const crd = crdResourceList(group, version, installed);
    if (crd) return json(crd);
    if (!RESOURCE_TYPES.some((t) => t.group === group && t.version === version)) return undefined;
    return json(keptFile(`discovery/${path.basename(discoveryFile(group, version))}`));
  }
  const g = /^\/apis\/([^/]+)$/.exec(urlPath);
  if (g) {
    const group = [...keptFile<{ groups: { name: string }[] }>("apis.json").groups, ...crdGroups(installed)].find((x) => x.name === g[1]);
    return group && json({ kind: "APIGroup", apiVersion: "v1", ...group });
  }
  return undefined;
}
