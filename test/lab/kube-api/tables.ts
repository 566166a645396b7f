/**
 * The Table answers `kubectl get` asks for when it prints for people (Accept
 * application/json;as=Table;v=v1;g=meta.k8s.io, https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables):
 * the server's columns for Nodes (NAME STATUS ROLES AGE VERSION, then the -o wide ones) and Pods
 * (NAME READY STATUS RESTARTS AGE, then the wide ones), and NAME and Created At for every other type.
 */
import type { KubeObject } from "./types";
import type { ResourceType } from "./resources";

/** Whether an Accept header asks for a Table (before plain JSON). */
export function wantsTable(accept: string | undefined): boolean {
  for (const type of (accept ?? "").split(",")) {
    const params = type.split(";").map((p) => p.trim());
    if (params.includes("as=Table")) return true;
    if (params[0] === "application/json" || params[0] === "*/*") return false;
  }
  return false;
}

interface Column {
  name: string;
  type: string;
  format: string;
  priority: number;
  cell: (o: KubeObject, now: number) => string | number;
}

/** "5m", "3h", "2d" as kubectl prints an age (k8s.io/apimachinery duration.HumanDuration, coarsely). */
function age(o: KubeObject, now: number): string {
  const s = Math.max(0, Math.floor((now - Date.parse(o.metadata.creationTimestamp ?? "")) / 1000));
  if (!Number.isFinite(s)) return "<unknown>";
  if (s < 120) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const name: Column = { name: "Name", type: "string", format: "name", priority: 0, cell: (o) => o.metadata.name };
const ageColumn: Column = { name: "Age", type: "string", format: "", priority: 0, cell: age };

type Any = Record<string, any>;
const NODE_COLUMNS: Column[] = [
  name,
  {
    name: "Status", type: "string", format: "", priority: 0,
    cell: (o) => {
      const ready = ((o.status as Any)?.conditions ?? []).find((c: Any) => c.type === "Ready");
      const status = ready === undefined ? ["Unknown"] : [ready.status === "True" ? "Ready" : "NotReady"];
      if ((o.spec as Any)?.unschedulable) status.push("SchedulingDisabled");
      return status.join(",");
    },
  },
  {
    name: "Roles", type: "string", format: "", priority: 0,
    cell: (o) => Object.keys(o.metadata.labels ?? {}).filter((k) => k.startsWith("node-role.kubernetes.io/")).map((k) => k.split("/")[1]).sort().join(",") || "<none>",
  },
  ageColumn,
  { name: "Version", type: "string", format: "", priority: 0, cell: (o) => (o.status as Any)?.nodeInfo?.kubeletVersion ?? "" },
  { name: "Internal-IP", type: "string", format: "", priority: 1, cell: (o) => ((o.status as Any)?.addresses ?? []).find((a: Any) => a.type === "InternalIP")?.address ?? "<none>" },
  { name: "External-IP", type: "string", format: "", priority: 1, cell: (o) => ((o.status as Any)?.addresses ?? []).find((a: Any) => a.type === "ExternalIP")?.address ?? "<none>" },
  { name: "OS-Image", type: "string", format: "", priority: 1, cell: (o) => (o.status as Any)?.nodeInfo?.osImage ?? "<unknown>" },
  { name: "Kernel-Version", type: "string", format: "", priority: 1, cell: (o) => (o.status as Any)?.nodeInfo?.kernelVersion ?? "<unknown>" },
  { name: "Container-Runtime", type: "string", format: "", priority: 1, cell: (o) => (o.status as Any)?.nodeInfo?.containerRuntimeVersion ?? "<unknown>" },
];
const POD_COLUMNS: Column[] = [
  name,
  {
    name: "Ready", type: "string", format: "", priority: 0,
    cell: (o) => {
      const cs = ((o.status as Any)?.containerStatuses ?? []) as Any[];
      return `${cs.filter((c) => c.ready).length}/${((o.spec as Any)?.containers ?? []).length}`;
    },
  },
  { name: "Status", type: "string", format: "", priority: 0, cell: (o) => (o.metadata.deletionTimestamp ? "Terminating" : ((o.status as Any)?.phase ?? "Unknown")) },
  { name: "Restarts", type: "string", format: "", priority: 0, cell: (o) => String(((o.status as Any)?.containerStatuses ?? []).reduce((n: number, c: Any) => n + (c.restartCount ?? 0), 0)) },
  ageColumn,
  { name: "IP", type: "string", format: "", priority: 1, cell: (o) => (o.status as Any)?.podIP ?? "<none>" },
  { name: "Node", type: "string", format: "", priority: 1, cell: (o) => (o.spec as Any)?.nodeName ?? "<none>" },
  { name: "Nominated Node", type: "string", format: "", priority: 1, cell: () => "<none>" },
  { name: "Readiness Gates", type: "string", format: "", priority: 1, cell: () => "<none>" },
];
const DEFAULT_COLUMNS: Column[] = [name, { name: "Created At", type: "date", format: "", priority: 0, cell: (o) => o.metadata.creationTimestamp ?? "" }];

/** The objects as a meta.k8s.io/v1 Table of their type's columns, each row with its object's metadata. */
export function asTable(t: ResourceType, objects: readonly KubeObject[], resourceVersion: string, now = Date.now()): Record<string, unknown> {
  const columns = t.group === "" && t.name === "nodes" ? NODE_COLUMNS : t.group === "" && t.name === "pods" ? POD_COLUMNS : DEFAULT_COLUMNS;
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion },
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.format, description: "", priority: c.priority })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o, now)),
      object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}
