/**
 * Engine emulation for lab runs: Pulumi mocks in which every `command:remote:Command` behaves as
 * the real engine + @pulumi/command 1.x provider would on `pulumi up` (see shared REFERENCE.md):
 *
 * - A command whose inputs are identical to those of its last successful run (persisted in a JSON
 *   state file, keyed by resource name) does not run: its recorded outputs are returned (no change).
 * - Otherwise it runs over SSH: `create` (new resource, a changed `triggers` = replacement, or a
 *   first run) or `update ?? create` (any other input changed, or the previous run failed: the
 *   engine always updates a resource that has initialisation errors). After a successful
 *   replacement the old copy's `delete` runs, if it had one (create-before-delete).
 * - Exit 0: the record is written (atomically) and the state is the inputs plus `stdout` and
 *   `stderr` (one trailing newline trimmed, as the provider does). Non-zero: the failure is
 *   recorded (`failed`, and in the state file so the next run re-runs it) and the registration
 *   fails with the provider's message, `Process exited with status N: running "<cmd>":\n<output>`
 *   (failureMode "reject"), or never settles (failureMode "hold", for Jest). Either way resources
 *   that `dependsOn` it are never registered, and no command starts after it (the engine starts
 *   no new step after an error; commands already running finish).
 * - During a preview (`pulumi.runtime.isDryRun()`) nothing runs, as with the real provider.
 * - `environment` is refused: the provider sends it with SSH Setenv, which sshd drops unless
 *   AcceptEnv allows it (the provider ignores that refusal), so on real nodes it would be lost.
 *
 * - At the end of an update in which nothing failed ({@link LabMocks.finish}), every resource of
 *   the state that this run did not register is deleted, dependents before their dependencies
 *   (as the engine deletes resources removed from the program): a command's `delete` runs over
 *   SSH with its stdin (the provider sends the one `stdin` to create, update and delete); other
 *   types go to `onDelete` (the lab terminates a simulated instance).
 *
 * Other resource types are recorded (with their dependencies) and get `<name>-id`; on their
 * first creation `onCreate` may act (the lab boots an EC2 instance). Provider function calls
 * are refused.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { RemoteConnection, RemoteResult } from "./ssh-lab";

export const REMOTE_COMMAND = "command:remote:Command";

/** Runs one command on a host (the lab passes ssh-lab's runRemote). */
export type RunRemote = (connection: RemoteConnection, command: string, stdin?: string) => Promise<RemoteResult>;

export interface LabMocksOptions {
  /** JSON file holding the last run of every command; persists across runs (the lab's "stack state"). */
  readonly stateFile: string;
  readonly runRemote: RunRemote;
  /**
   * What a failed command's registration does. "reject" (default): it fails with the provider's
   * error, as under the real engine; resources that depend on it are never registered, and the
   * Pulumi SDK then leaves unhandled promise rejections behind (which fail a Jest test: use it in a
   * child process that handles them). "hold": the failure is recorded in `failed` and the
   * registration never settles, so dependents are never registered either, without any rejection.
   */
  readonly failureMode?: "reject" | "hold";
  /**
   * After a failure, commands not yet started are not started (recorded in `cancelled`), as the
   * engine starts no new step after an error (no --continue-on-error). Default true.
   */
  readonly stopOnFailure?: boolean;
  /**
   * The SSH private key delete hooks run with at the end of a run (the state keeps only a hash
   * of each command's key; the lab has one key). @default the key of this run's last command
   */
  readonly privateKey?: string;
  /** Called when a resource other than a command is created (not yet in the state). */
  readonly onCreate?: (resource: LabResource, id: string) => Promise<void> | void;
  /** Called when a resource other than a command is deleted at the end of the run. */
  readonly onDelete?: (name: string, type: string) => Promise<void> | void;
}

export interface LabResource {
  readonly type: string;
  readonly name: string;
  /** The inputs as the provider receives them, secrets unwrapped. */
  readonly inputs: Record<string, any>;
  /** Top-level input names that arrived as Pulumi secrets (e.g. "connection"). */
  readonly secrets: readonly string[];
}

export interface LabFailure {
  readonly name: string;
  readonly message: string;
}

export interface LabMocks {
  readonly mocks: pulumi.runtime.Mocks;
  /** Every registration of this run, in registration order. */
  readonly resources: LabResource[];
  /** Commands executed over SSH this run, in the order they started (failed ones included). */
  readonly ran: string[];
  /** Commands left alone this run because their inputs had not changed. */
  readonly skipped: string[];
  /** Commands that failed this run, with the error the registration failed with. */
  readonly failed: LabFailure[];
  /** Commands not started because an earlier command of this run had failed (stopOnFailure). */
  readonly cancelled: string[];
  /**
   * Resolves once no command is running and no registration has arrived for `quietMs` (default
   * 250 ms): the run is over (held registrations never settle and do not count). Rejects after
   * `timeoutMs` (default 600 s) naming the commands still running.
   */
  settled(timeoutMs?: number, quietMs?: number): Promise<void>;
  /** Records what `name` depends on (resource names), as the engine learns it from the registration. */
  noteDependencies(name: string, dependsOn: readonly string[]): void;
  /**
   * Ends the update: when nothing failed, deletes the resources of the state this run did not
   * register (dependents first), running delete hooks. @returns their names, in order.
   */
  finish(): Promise<string[]>;
  /** Resources deleted by {@link finish}, in order (commands with a delete hook marked " (delete hook)"). */
  readonly deleted: string[];
}

/** One command's record in the state file. */
export interface CommandRecord {
  readonly status: "ok" | "failed";
  /** Normalised inputs (secrets unwrapped, private keys replaced by their sha256). */
  readonly inputs: Record<string, unknown>;
  readonly id: string;
  readonly stdout: string;
  readonly stderr: string;
  /** The copy's delete command, its stdin and where it runs (only kept when it has a delete; no key). */
  readonly deleteWith?: { readonly command: string; readonly stdin?: string; readonly host: string; readonly port: number; readonly user: string };
}

/** Every resource of the state: its type and the names of the resources it depends on. */
export interface ResourceRecord {
  readonly type: string;
  readonly dependsOn: readonly string[];
}

export interface LabState {
  readonly commands: Record<string, CommandRecord>;
  readonly resources: Record<string, ResourceRecord>;
}

const SETTLE_TIMEOUT_MS = 600_000;
const SETTLE_QUIET_MS = 250;
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecret(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** Removes Pulumi's secret wrappers at any depth. */
export function unwrapSecrets(value: unknown): any {
  if (isSecret(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** Key order fixed, undefined dropped, credentials hashed: what the no-change comparison sees. */
function normalise(value: unknown, key = ""): unknown {
  if ((key === "privateKey" || key === "password") && typeof value === "string") {
    return `sha256:${createHash("sha256").update(value).digest("hex")}`;
  }
  if (Array.isArray(value)) return value.map((v) => normalise(v));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = normalise(v, k);
    }
    return out;
  }
  return value;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function readLabState(stateFile: string): LabState {
  if (!fs.existsSync(stateFile)) return { commands: {}, resources: {} };
  const parsed = JSON.parse(fs.readFileSync(stateFile, "utf8")) as Partial<LabState>;
  return { commands: { ...parsed.commands }, resources: { ...parsed.resources } };
}

/** Read-modify-write in one synchronous step (no interleaving in this process), replaced atomically. */
function writeRecord(stateFile: string, name: string, record: CommandRecord): void {
  const state = readLabState(stateFile);
  writeState(stateFile, { ...state, commands: { ...state.commands, [name]: record } });
}

function updateState(stateFile: string, change: (state: LabState) => LabState): void {
  writeState(stateFile, change(readLabState(stateFile)));
}

function writeState(stateFile: string, next: LabState): void {
  fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  const tmp = `${stateFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
  fs.renameSync(tmp, stateFile);
}

function trimNewline(text: string): string {
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

function toConnection(raw: unknown, name: string): RemoteConnection {
  const c = raw as Record<string, unknown> | undefined;
  if (!c || typeof c.host !== "string" || typeof c.privateKey !== "string") {
    throw new Error(`lab: ${name}: connection needs host and privateKey (got ${JSON.stringify(Object.keys(c ?? {}))})`);
  }
  if (c.proxy !== undefined) throw new Error(`lab: ${name}: connection.proxy (bastion) is not supported by the lab`);
  return { host: c.host, port: typeof c.port === "number" ? c.port : 22, user: typeof c.user === "string" ? c.user : "root", privateKey: c.privateKey };
}

/** Mocks for `pulumi.runtime.setMocks(mocks, project, stack, false)` that run remote commands in the lab. */
export function labMocks(options: LabMocksOptions): LabMocks {
  const { stateFile, runRemote } = options;
  const failureMode = options.failureMode ?? "reject";
  const stopOnFailure = options.stopOnFailure ?? true;
  const resources: LabResource[] = [];
  const ran: string[] = [];
  const skipped: string[] = [];
  const failed: LabFailure[] = [];
  const cancelled: string[] = [];
  const inFlight = new Set<string>();
  const deleted: string[] = [];
  const dependencies = new Map<string, readonly string[]>();
  const registered = new Set<string>();
  let privateKey = options.privateKey;
  let lastActivity = Date.now();

  async function execute(connection: RemoteConnection, command: string, stdin: string | undefined) {
    const result = await runRemote(connection, command, stdin);
    if (result.code !== 0) {
      const output = [result.stdout, result.stderr].filter((s) => s !== "").join(result.stdout.endsWith("\n") ? "" : "\n");
      throw new Error(`Process exited with status ${result.code}: running ${JSON.stringify(command)}:\n${output}`);
    }
    return result;
  }

  async function remoteCommand(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string; state: Record<string, any> }> {
    const { name } = args;
    const inputs = unwrapSecrets(args.inputs) as Record<string, any>;
    if (inputs.environment !== undefined && Object.keys(inputs.environment).length > 0) {
      throw new Error(
        `lab: ${name}: environment needs sshd AcceptEnv (the provider's Setenv is silently refused otherwise); use VAR='v' prefixes`,
      );
    }
    const normalised = normalise(inputs) as Record<string, unknown>;
    const previous = readLabState(stateFile).commands[name];
    if (previous?.status === "ok" && sameJson(previous.inputs, normalised)) {
      skipped.push(name);
      return { id: previous.id, state: { ...args.inputs, stdout: previous.stdout, stderr: previous.stderr } };
    }

    const replace = previous !== undefined && !sameJson(previous.inputs.triggers, normalised.triggers);
    const command: string | undefined = previous && !replace ? (inputs.update ?? inputs.create) : inputs.create;
    const id = previous && !replace ? previous.id : `${name}-${createHash("sha256").update(`${name}${Date.now()}${Math.random()}`).digest("hex").slice(0, 8)}`;
    const connection = toConnection(inputs.connection, name);
    privateKey ??= connection.privateKey;
    const deleteWith =
      typeof inputs.delete === "string"
        ? { command: inputs.delete as string, ...(typeof inputs.stdin === "string" ? { stdin: inputs.stdin } : {}), host: connection.host, port: connection.port, user: connection.user }
        : undefined;

    let stdout = "";
    let stderr = "";
    if (command !== undefined) {
      ran.push(name);
      try {
        const result = await execute(connection, command, inputs.stdin);
        stdout = trimNewline(result.stdout);
        stderr = trimNewline(result.stderr);
      } catch (err) {
        writeRecord(stateFile, name, { status: "failed", inputs: normalised, id, stdout: "", stderr: "", ...(deleteWith && { deleteWith }) });
        throw err;
      }
    }
    writeRecord(stateFile, name, { status: "ok", inputs: normalised, id, stdout, stderr, ...(deleteWith && { deleteWith }) });
    if (replace && previous?.deleteWith) {
      const { command: del, stdin, ...where } = previous.deleteWith;
      ran.push(`${name} (delete of the replaced copy)`);
      await execute({ ...where, privateKey: connection.privateKey }, del, stdin);
    }
    return { id, state: { ...args.inputs, stdout, stderr } };
  }

  /** What a failed (or cancelled) registration does: reject like the provider, or never settle. */
  function fail(error: Error): Promise<never> {
    return failureMode === "hold" ? new Promise<never>(() => undefined) : Promise.reject(error);
  }

  async function commandResource(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string; state: Record<string, any> }> {
    const { name } = args;
    if (pulumi.runtime.isDryRun()) return { id: "", state: args.inputs }; // nothing runs during preview
    if (stopOnFailure && failed.length > 0) {
      cancelled.push(name);
      return fail(new Error(`lab: ${name} not started: the update already failed (${failed[0]!.name})`));
    }
    inFlight.add(name);
    lastActivity = Date.now();
    let error: Error;
    try {
      return await remoteCommand(args);
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
      failed.push({ name, message: error.message });
    } finally {
      inFlight.delete(name);
      lastActivity = Date.now();
    }
    return fail(error);
  }

  const mocks: pulumi.runtime.Mocks = {
    newResource: async (args) => {
      lastActivity = Date.now();
      const resource: LabResource = {
        type: args.type,
        name: args.name,
        inputs: unwrapSecrets(args.inputs),
        secrets: Object.keys(args.inputs).filter((k) => isSecret(args.inputs[k])),
      };
      resources.push(resource);
      registered.add(args.name);
      if (!pulumi.runtime.isDryRun()) {
        const known = readLabState(stateFile).resources[args.name] !== undefined;
        updateState(stateFile, (st) => ({ ...st, resources: { ...st.resources, [args.name]: { type: args.type, dependsOn: dependencies.get(args.name) ?? [] } } }));
        if (!known && args.type !== REMOTE_COMMAND) await options.onCreate?.(resource, `${args.name}-id`);
      }
      if (args.type === REMOTE_COMMAND) return commandResource(args);
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call: (args) => {
      throw new Error(`lab: unexpected provider function call ${args.token}`);
    },
  };

  async function settled(timeoutMs = SETTLE_TIMEOUT_MS, quietMs = SETTLE_QUIET_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (inFlight.size === 0 && Date.now() - lastActivity >= quietMs) return;
      if (Date.now() > deadline) {
        throw new Error(`lab: the run did not settle within ${timeoutMs / 1000} s; still running: ${[...inFlight].join(", ") || "(none)"}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  function noteDependencies(name: string, dependsOn: readonly string[]): void {
    dependencies.set(name, dependsOn);
  }

  async function finish(): Promise<string[]> {
    if (pulumi.runtime.isDryRun() || failed.length > 0 || cancelled.length > 0) return [];
    const state = readLabState(stateFile);
    const gone = new Set(Object.keys(state.resources).filter((name) => !registered.has(name)));
    while (gone.size > 0) {
      // Dependents first: delete a resource once nothing left to delete depends on it.
      const name = [...gone].find((n) => ![...gone].some((other) => state.resources[other]!.dependsOn.includes(n)))!;
      gone.delete(name);
      const type = state.resources[name]!.type;
      const del = state.commands[name]?.deleteWith;
      if (type === REMOTE_COMMAND && del) {
        const { command, stdin, ...where } = del;
        deleted.push(`${name} (delete hook)`);
        if (privateKey === undefined) throw new Error(`lab: ${name}: no private key for its delete hook (give labMocks a privateKey)`);
        await execute({ ...where, privateKey }, command, stdin);
      } else {
        deleted.push(name);
        if (type !== REMOTE_COMMAND) await options.onDelete?.(name, type);
      }
      updateState(stateFile, (st) => {
        const { [name]: _c, ...commands } = st.commands;
        const { [name]: _r, ...rest } = st.resources;
        return { commands, resources: rest };
      });
    }
    return deleted;
  }

  return { mocks, resources, ran, skipped, failed, cancelled, settled, noteDependencies, finish, deleted };
}
