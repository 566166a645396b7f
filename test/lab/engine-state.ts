/**
 * The lab engine's stack state: a JSON file shaped like a Pulumi checkpoint's essentials.
 * Resources in state order (a resource registered again keeps its place, a new one is appended,
 * as the engine's snapshot does), each with its type, parent, dependencies, inputs and outputs;
 * secrets sealed as the checkpoint seals them (the secret signature and a ciphertext, here
 * base64: the lab has no key to encrypt with, and a private key never appears in clear text);
 * and the pending operations of an interrupted update (pkg/resource/deploy/snapshot.go
 * `PendingOperations`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { GraphNode } from "./engine-graph";

/** Pulumi's secret signature (sdk/go/common/resource/properties.go `SecretSig`). */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** One resource of the state. */
export interface ResourceRecord extends GraphNode {
  readonly type: string;
  readonly id: string;
  /** Inputs as the provider received them, top-level secrets sealed ({@link seal}). */
  readonly inputs: Record<string, unknown>;
  /** Outputs the provider added (a command's stdout and stderr). */
  readonly outputs: Record<string, unknown>;
  /** An old copy left by a replacement, deleted at the end of an update (`Delete: true`). */
  readonly delete?: true;
}

/** An operation that started and never finished (the update was interrupted). */
export interface PendingOperation {
  readonly name: string;
  readonly type: string;
  readonly operation: "creating" | "updating" | "deleting";
}

export interface LabState {
  readonly resources: ResourceRecord[];
  readonly pendingOperations: PendingOperation[];
}

/** A sealed secret, as in a checkpoint: `{ <sig key>: <sig>, ciphertext }`. */
export function seal(value: unknown): Record<string, string> {
  return { [SECRET_SIG_KEY]: SECRET_SIG, ciphertext: Buffer.from(JSON.stringify(value), "utf8").toString("base64") };
}

function isSealed(value: unknown): value is { ciphertext: string } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG && typeof (value as Record<string, unknown>).ciphertext === "string";
}

/** The inputs with sealed secrets opened. */
export function unseal(inputs: Record<string, unknown>): Record<string, any> {
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, isSealed(v) ? JSON.parse(Buffer.from(v.ciphertext, "base64").toString("utf8")) : v]));
}

export function readLabState(stateFile: string): LabState {
  if (!fs.existsSync(stateFile)) return { resources: [], pendingOperations: [] };
  const parsed = JSON.parse(fs.readFileSync(stateFile, "utf8")) as Partial<LabState>;
  return { resources: parsed.resources ?? [], pendingOperations: parsed.pendingOperations ?? [] };
}

/** Read-modify-write in one synchronous step (no interleaving in this process), replaced atomically. */
export function updateState(stateFile: string, change: (state: LabState) => LabState): void {
  const next = change(readLabState(stateFile));
  fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  const tmp = `${stateFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
  fs.renameSync(tmp, stateFile);
}

/** The live (not pending-delete) record of `name`. */
export function liveRecord(state: LabState, name: string): ResourceRecord | undefined {
  return state.resources.find((r) => r.name === name && !r.delete);
}

/** Puts `record` in the place of the live record of the same name, or appends it. */
export function putRecord(state: LabState, record: ResourceRecord): LabState {
  const i = state.resources.findIndex((r) => r.name === record.name && !r.delete);
  const resources = [...state.resources];
  if (i >= 0) resources[i] = record;
  else resources.push(record);
  return { ...state, resources };
}

/** Removes exactly `record` (compared by identity of name, id and delete mark). */
export function dropRecord(state: LabState, record: Pick<ResourceRecord, "name" | "id" | "delete">): LabState {
  return { ...state, resources: state.resources.filter((r) => !(r.name === record.name && r.id === record.id && r.delete === record.delete)) };
}

export function addPending(state: LabState, op: PendingOperation): LabState {
  return { ...state, pendingOperations: [...state.pendingOperations, op] };
}

export function removePending(state: LabState, op: PendingOperation): LabState {
  const i = state.pendingOperations.findIndex((p) => p.name === op.name && p.operation === op.operation);
  return i < 0 ? state : { ...state, pendingOperations: state.pendingOperations.filter((_, j) => j !== i) };
}
