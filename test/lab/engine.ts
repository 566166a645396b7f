/**
 * Engine emulation for lab runs: Pulumi mocks in which every resource is handled as the real
 * engine (pulumi v3.248) and the @pulumi/command 1.2.1 provider would on `pulumi up`, rule by
 * rule, each with the source function it follows (shared REFERENCE.md, "Pulumi engine and
 * @pulumi/command, as the source decides"):
 *
 * - Goal inputs first go through `ignoreChanges`: each ignored property takes its old value, or
 *   is dropped when the old inputs lack it (pkg/resource/deploy/step_generator.go
 *   `processIgnoreChanges`, applied before the diff, so also to a replacement's inputs).
 * - Diff: the command provider has no custom diff; `triggers` is its only replace-on-change
 *   input (pulumi-command provider/pkg/provider/common/inputs.go `ResourceInputs.Triggers`,
 *   tagged `replaceOnChanges`), so a changed `triggers` replaces and any other changed input is
 *   an update. Other types replace on the properties of {@link REPLACE_ON_CHANGE}.
 * - Update runs `update`, or `create` when there is no `update` (pulumi-command
 *   provider/pkg/provider/remote/commandController.go `Update`); a create with no `create` runs
 *   nothing (`Create`); a replacement runs `create` for the new copy and the old copy's `delete` at the
 *   end of the update (create-before-delete; the old copy stays in the state marked `delete`
 *   until then: step_generator.go `GenerateDeletes`, "due to replacement").
 * - A failed create records nothing (step_executor.go: the step fails, the pending operation is
 *   cleared, nothing is added to the snapshot): its `delete` never runs and the next update
 *   creates it afresh. A failed update keeps the old state.
 * - A failed step answers no registration: step.go `CreateStep.Apply` (and `UpdateStep.Apply`)
 *   returns no completion callback when the provider errors, so the registration's done channel
 *   is never written; step_executor.go `executeChain` calls `cancelDueToError`, which cancels the
 *   deployment (only under `continueOnError` does it call `step.Fail()`, see below). The program's
 *   pending `RegisterResource` calls then get no answer either: source_eval.go `resmon.RegisterResource`
 *   waits on the done channel or `rm.cancel`, and `rm.cancel` is closed only by `resmon.Cancel`,
 *   which deployment_executor.go `Execute` calls in its deferred close only when the deployment
 *   had no error; registrations sent after the failure are not even read (nothing reads the
 *   source iterator's channel once the main loop has left). The engine then releases its plugins
 *   (pkg/engine/update.go `update` closes the deployment; pkg/host/host.go `ReleaseContext` calls
 *   the language plugin's `Cancel`; sdk/nodejs/cmd/pulumi-language-nodejs main.go `Cancel` ends
 *   its `Run`, whose command sends the program SIGINT, killed 5 s later), so the program ends
 *   with none of its registrations settled and no error of its own
 *   (the Node SDK's "Resource monitor is terminating", resource.ts `registerResource`, is for a
 *   monitor that shut down, which a failed step does not do). The lab holds every such
 *   registration for good (the program in the test process cannot be interrupted: it just never
 *   gets an answer). The failure's resource and reason reach the user only through the engine's
 *   diagnostics (update.go `updateActions.OnResourceStepPost`, diag.GetResourceOperationFailedError):
 *   {@link LabMocks.failed}; the update then fails (deployment_executor.go `Execute`: "step
 *   executor errored", summary result "failed"): {@link LabMocks.result}.
 * - Every create, update and delete is a step run by a fixed pool of `parallel` workers in
 *   arrival order (step_executor.go `newStepExecutor`; default 4 x CPUs: pkg/cmd/pulumi/operations
 *   up.go `defaultParallel`); a step that waits holds its worker.
 * - After a failure no new step starts and running ones finish (step_executor.go cancels its
 *   context on error; `executeChain` starts no step once it is done; `WaitForCompletion` waits
 *   for the running ones), unless `continueOnError`: then every step that does not depend on a
 *   failed one goes on (deployment_executor.go `handleSingleEvent`, `doesStepDependOn`). Not
 *   emulated: under `continueOnError` the real engine does answer the failed registration
 *   (`cancelDueToError` calls `step.Fail()`: a result FAIL, whose outputs the Node SDK keeps
 *   unknown) and a dependent's registration is answered SKIP without a step; the mocks' monitor
 *   can only answer success, so the lab holds the failed registration there too and its
 *   dependents are never registered.
 * - End of the update ({@link LabMocks.finish}): when nothing failed, or with `continueOnError`,
 *   every resource of the state this run did not register, and every old copy of a replacement,
 *   is deleted in the antichains of engine-graph.ts `scheduleDeletes`, each antichain in
 *   parallel; under `continueOnError` the transitive dependencies of a failed step that is in
 *   the state are spared (deployment_executor.go `performPostSteps`; a failed create spares
 *   nothing). A command's `delete` runs with the inputs in the state: its stored connection (old
 *   key, host, bastion) and stdin (the provider sends the one `stdin` to create, update and
 *   delete). Other types go to `onDelete` (the lab terminates a simulated instance).
 * - Each step is a pending operation in the state while it runs; an interrupted update
 *   ({@link LabMocks.interrupt}) leaves them there. The next update warns about them
 *   (deployment_executor.go `printPendingOperationsWarning`); a pending create is not a resource
 *   of the state, so its create runs again; `clearPendingOperations` is what `pulumi refresh`
 *   (interactive, for creates) does.
 * - A `command:local:Command` with no `create`, `update` or `delete` (a stage barrier) is created,
 *   updated and deleted without running anything (pulumi-command
 *   provider/pkg/provider/local/commandController.go: `Create` returns when `input.Create == nil`,
 *   `Update` when neither `update` nor `create` is set, `Delete` when `delete` is not); it is a
 *   command, not a resource for the create and delete hooks. A local command that runs something
 *   is refused: the lab has no local shell for it.
 * - Nothing runs during a preview (`pulumi.runtime.isDryRun()`): the provider's Create and
 *   Update return early on a dry run.
 * - `environment` fails the command: the provider sends it with SSH Setenv, which sshd refuses
 *   unless AcceptEnv allows it, and the provider then fails (REFERENCE.md).
 *
 * What the lab cannot emulate is refused, not failed as a step: a {@link LabRefusal} (a local
 * command that runs something, a bastion, a connection without host or key) rejects its
 * registration, so the test fails loudly instead of the run quietly stopping. Provider function
 * calls are refused.
 */
import { createHash } from "node:crypto";
import * as os from "node:os";
import * as pulumi from "@pulumi/pulumi";
import { scheduleDeletes, transitiveDependenciesOf } from "./engine-graph";
import {
  addPending, dropRecord, LabState, liveRecord, PendingOperation, putRecord, readLabState, removePending, ResourceRecord, seal,
  SECRET_SIG, SECRET_SIG_KEY, unseal, updateState,
} from "./engine-state";
import type { RemoteConnection, RemoteResult } from "./ssh-lab";

export { readLabState } from "./engine-state";
export type { LabState, ResourceRecord } from "./engine-state";

export const REMOTE_COMMAND = "command:remote:Command";
export const LOCAL_COMMAND = "command:local:Command";

/**
 * Properties whose change replaces a resource of another provider (the provider's ForceNew).
 * aws.ec2.Instance: terraform-provider-aws internal/service/ec2/ec2_instance.go `ami`,
 * `subnet_id`, `availability_zone`, `key_name`, `private_ip` and the `launch_template` id are ForceNew.
 */
export const REPLACE_ON_CHANGE: Readonly<Record<string, readonly string[]>> = {
  [REMOTE_COMMAND]: ["triggers"],
  [LOCAL_COMMAND]: ["triggers"],
  "aws:ec2/instance:Instance": ["ami", "subnetId", "availabilityZone", "keyName", "privateIp", "launchTemplate"],
};

/** Something the lab does not emulate: rejects the registration (see the module doc), never a step failure. */
export class LabRefusal extends Error {
  override readonly name = "LabRefusal";
}

/** Runs one command on a host (the lab passes ssh-lab's runRemote). */
export type RunRemote = (connection: RemoteConnection, command: string, stdin?: string) => Promise<RemoteResult>;

export interface LabMocksOptions {
  /** JSON file holding the stack's state (engine-state.ts); persists across runs. */
  readonly stateFile: string;
  readonly runRemote: RunRemote;
  /** `pulumi up --continue-on-error` (or PULUMI_CONTINUE_ON_ERROR). @default false */
  readonly continueOnError?: boolean;
  /** `pulumi up --parallel`: workers running steps. @default 4 x CPUs */
  readonly parallel?: number;
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

/** What the engine learns from a registration request beyond the mock's args. */
export interface RegistrationOptions {
  /** The parent's name ("" for none). */
  readonly parent?: string;
  /** Names of the resources it depends on. */
  readonly dependsOn?: readonly string[];
  readonly ignoreChanges?: readonly string[];
}

export interface LabFailure {
  readonly name: string;
  readonly message: string;
}

export interface LabMocks {
  readonly mocks: pulumi.runtime.Mocks;
  /** Every registration of this run, in registration order. */
  readonly resources: LabResource[];
  /** Commands executed over SSH this run (create or update), in the order they started. */
  readonly ran: string[];
  /** Commands left alone this run because their inputs (after ignoreChanges) had not changed. */
  readonly skipped: string[];
  /** Resources replaced this run (a new copy created; the old one deleted at the end). */
  readonly replaced: string[];
  /**
   * The engine's error diagnostics for the steps that failed this run (creates, updates, and the
   * deletes of {@link finish}), in order: the resource and the provider's error, which is where the
   * real engine reports a failed step (update.go `updateActions.OnResourceStepPost`,
   * diag.GetResourceOperationFailedError) and the only place its reason reaches anyone: the
   * failed step's registration is never answered (see the module doc).
   */
  readonly failed: LabFailure[];
  /**
   * Registrations whose step never started because an earlier step of this run had failed (or
   * the run was interrupted); the engine answers none of them.
   */
  readonly cancelled: string[];
  /** The engine's warnings (pending operations of an interrupted update). */
  readonly warnings: string[];
  /** Resources deleted by {@link finish}, in order (commands with a delete hook marked " (delete hook)"). */
  readonly deleted: string[];
  /** The deletes of {@link finish}, antichain by antichain (each ran in parallel). */
  readonly deleteAntichains: string[][];
  /** The most steps that ran at once. */
  readonly peakParallel: () => number;
  /**
   * The update's result once {@link finish} has run, as the engine's summary event gives it
   * (deployment_executor.go `Execute` / `reportExecResult`): "failed" when any step failed
   * (continueOnError included: `cancelDueToError` still records the error), else "succeeded"
   * (a preview too). undefined before {@link finish}, or after {@link interrupt} (the CLI is gone).
   */
  readonly result: () => "succeeded" | "failed" | undefined;
  /**
   * Resolves once no step is running and the program has registered nothing new for a number
   * of event-loop turns (registrations follow a finished step within microtasks; registrations
   * the engine never answers, after a failure or an interrupt, do not count). Rejects after
   * `timeoutMs` (default 600 s).
   */
  settled(timeoutMs?: number): Promise<void>;
  /** Records what the registration request of `name` said beyond the mock's args. */
  noteRegistration(name: string, options: RegistrationOptions): void;
  /**
   * Ends the update: deletes what the engine deletes at its end (see the module doc), then gives
   * the update its {@link result}. @returns the names deleted, in order.
   */
  finish(): Promise<string[]>;
  /** Ctrl-C twice: no step starts any more, and running ones are never recorded (their pending operations stay). */
  interrupt(): void;
}

const SETTLE_TIMEOUT_MS = 600_000;
/** Event-loop turns without a registration or a running step that end a run. */
const SETTLE_TURNS = 50;

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

/** Key order fixed, undefined dropped: what the diff compares. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v);
    }
    return out;
  }
  return value;
}

const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

/** step_generator.go `processIgnoreChanges` for top-level and dotted property paths. */
export function processIgnoreChanges(inputs: Record<string, unknown>, old: Record<string, unknown>, ignoreChanges: readonly string[]): Record<string, unknown> {
  const out = structuredClone(inputs);
  for (const pathText of ignoreChanges) {
    const keys = pathText.split(".");
    let from: any = old;
    let to: any = out;
    for (const key of keys.slice(0, -1)) {
      from = from?.[key];
      if (typeof to[key] !== "object" || to[key] === null) to = undefined;
      else to = to[key];
      if (to === undefined) break;
    }
    if (to === undefined) continue;
    const last = keys[keys.length - 1]!;
    if (from !== undefined && from !== null && last in from) to[last] = structuredClone(from[last]);
    else delete to[last];
  }
  return out;
}

function trimNewline(text: string): string {
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

function toConnection(raw: unknown, name: string): RemoteConnection {
  const c = raw as Record<string, unknown> | undefined;
  if (!c || typeof c.host !== "string" || typeof c.privateKey !== "string") {
    throw new LabRefusal(`lab: ${name}: connection needs host and privateKey (got ${JSON.stringify(Object.keys(c ?? {}))})`);
  }
  if (c.proxy !== undefined) throw new LabRefusal(`lab: ${name}: connection.proxy (bastion) is not supported by the lab`);
  return {
    host: c.host, port: typeof c.port === "number" ? c.port : 22, user: typeof c.user === "string" ? c.user : "root", privateKey: c.privateKey,
    ...(typeof c.hostKey === "string" ? { hostKey: c.hostKey } : {}),
  };
}

/** Top-level inputs sealed where they arrived as secrets (what the checkpoint keeps). */
function sealed(inputs: Record<string, unknown>, secrets: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, secrets.includes(k) ? seal(v) : v]));
}

/** A fixed pool of workers fed in arrival order (the engine's step executor). */
function workerPool(size: number) {
  let running = 0;
  let peak = 0;
  const queue: (() => void)[] = [];
  return {
    peak: () => peak,
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (running >= size) await new Promise<void>((resolve) => queue.push(resolve));
      running++;
      peak = Math.max(peak, running);
      try {
        return await work();
      } finally {
        running--;
        queue.shift()?.();
      }
    },
  };
}

/** Mocks for `pulumi.runtime.setMocks(mocks, project, stack, false)` that carry out an update in the lab. */
export function labMocks(options: LabMocksOptions): LabMocks {
  const { stateFile, runRemote } = options;
  const continueOnError = options.continueOnError ?? false;
  const pool = workerPool(options.parallel ?? 4 * os.cpus().length);
  const resources: LabResource[] = [];
  const ran: string[] = [];
  const skipped: string[] = [];
  const replaced: string[] = [];
  const failed: LabFailure[] = [];
  const cancelled: string[] = [];
  const warnings: string[] = [];
  const deleted: string[] = [];
  const deleteAntichains: string[][] = [];
  const registration = new Map<string, RegistrationOptions>();
  const registered = new Set<string>();
  /** Names whose failed step was an update (they are in the state's graph). */
  const failedInState = new Set<string>();
  let inFlight = 0;
  let activity = 0;
  let interrupted = false;
  let outcome: "succeeded" | "failed" | undefined;
  let idle: (() => void) | undefined;

  const pending = readLabState(stateFile).pendingOperations;
  if (pending.length > 0 && !pulumi.runtime.isDryRun()) {
    warnings.push(
      `Attempting to deploy or update resources with ${pending.length} pending operations from previous deployment.\n` +
        pending.map((p) => `  * ${p.name}, interrupted while ${p.operation}\n`).join(""),
    );
  }

  async function execute(connection: RemoteConnection, command: string, stdin: string | undefined) {
    const result = await runRemote(connection, command, stdin);
    if (result.code !== 0) {
      const output = [result.stdout, result.stderr].filter((s) => s !== "").join(result.stdout.endsWith("\n") ? "" : "\n");
      throw new Error(`Process exited with status ${result.code}: running ${JSON.stringify(command)}:\n${output}`);
    }
    return result;
  }

  const stopped = () => interrupted || (!continueOnError && failed.length > 0);

  /** Records `name` as not started (the engine answers nothing after an error or an interrupt) and says why. */
  function notStarted(name: string): Error {
    cancelled.push(name);
    return new Error(`lab: ${name} not started: the update already ${interrupted ? "was interrupted" : `failed (${failed[0]!.name})`}`);
  }

  /** One step through the worker pool, as a pending operation in the state while it runs. */
  async function step<T>(name: string, type: string, operation: PendingOperation["operation"], work: () => Promise<T>, record: (result: T) => void): Promise<T> {
    return pool.run(async () => {
      if (stopped()) throw notStarted(name);
      const op: PendingOperation = { name, type, operation };
      updateState(stateFile, (st) => addPending(st, op));
      let result: T;
      try {
        result = await work();
      } catch (err) {
        if (!interrupted) updateState(stateFile, (st) => removePending(st, op));
        throw err;
      }
      if (interrupted) throw new Error(`lab: ${name}: interrupted`); // never recorded: the process is gone
      updateState(stateFile, (st) => removePending(st, op));
      record(result);
      return result;
    });
  }

  function recordOf(args: pulumi.runtime.MockResourceArgs, inputs: Record<string, unknown>, secrets: readonly string[], id: string, outputs: Record<string, unknown>): ResourceRecord {
    const reg = registration.get(args.name) ?? {};
    return { name: args.name, type: args.type, custom: args.custom ?? true, parent: reg.parent ?? "", dependsOn: [...(reg.dependsOn ?? [])], id, inputs: sealed(inputs, secrets), outputs };
  }

  const newId = (name: string) => `${name}-${createHash("sha256").update(`${name}${Date.now()}${Math.random()}`).digest("hex").slice(0, 8)}`;

  async function register(args: pulumi.runtime.MockResourceArgs, resource: LabResource): Promise<{ id: string; state: Record<string, any> }> {
    const { name, type } = args;
    const state = readLabState(stateFile);
    const old = liveRecord(state, name);
    const oldInputs = old ? unseal(old.inputs) : undefined;
    const ignore = registration.get(name)?.ignoreChanges ?? [];
    const inputs = oldInputs ? processIgnoreChanges(resource.inputs, oldInputs, ignore) : resource.inputs;
    const isCommand = type === REMOTE_COMMAND;
    const component = args.custom === false;

    const isLocal = type === LOCAL_COMMAND;
    if (isLocal && ["create", "update", "delete"].some((k) => inputs[k] !== undefined)) {
      throw new LabRefusal(`lab: ${name}: a local command that runs something is not emulated`);
    }

    if (!isCommand) {
      if (component || (old && !(REPLACE_ON_CHANGE[type] ?? []).some((p) => !same(inputs[p], oldInputs![p])))) {
        updateState(stateFile, (st) => putRecord(st, recordOf(args, inputs, resource.secrets, old?.id ?? `${name}-id`, {})));
        return { id: old?.id ?? `${name}-id`, state: args.inputs };
      }
      const id = old ? newId(name) : `${name}-id`;
      await step(name, type, "creating", async () => (isLocal ? undefined : options.onCreate?.(resource, id)), () => {
        updateState(stateFile, (st) => {
          const withOld = old ? putRecord(dropRecord(st, old), { ...old, delete: true }) : st;
          return putRecord(withOld, recordOf(args, inputs, resource.secrets, id, {}));
        });
        if (old) replaced.push(name);
      });
      return { id, state: args.inputs };
    }

    if (inputs.environment !== undefined && Object.keys(inputs.environment as object).length > 0) {
      throw new Error(`lab: ${name}: environment is sent with SSH Setenv, which sshd refuses without AcceptEnv, and the provider then fails the command; use VAR='v' prefixes`);
    }
    if (old && same(inputs, oldInputs)) {
      skipped.push(name);
      updateState(stateFile, (st) => putRecord(st, { ...recordOf(args, inputs, resource.secrets, old.id, old.outputs) }));
      return { id: old.id, state: { ...args.inputs, ...old.outputs } };
    }
    const replace = old !== undefined && !same(inputs.triggers, oldInputs!.triggers);
    const updating = old !== undefined && !replace;
    const command = (updating ? (inputs.update ?? inputs.create) : inputs.create) as string | undefined;
    const connection = toConnection(inputs.connection, name);
    const id = updating ? old.id : newId(name);
    const outputs = await step(name, type, updating ? "updating" : "creating", async () => {
      if (command === undefined) return { stdout: "", stderr: "" };
      ran.push(name);
      const result = await execute(connection, command, inputs.stdin as string | undefined);
      return { stdout: trimNewline(result.stdout), stderr: trimNewline(result.stderr) };
    }, (out) => {
      updateState(stateFile, (st) => {
        const withOld = replace ? putRecord(dropRecord(st, old), { ...old, delete: true }) : st;
        return putRecord(withOld, recordOf(args, inputs, resource.secrets, id, out));
      });
      if (replace) replaced.push(name);
    }).catch((err: unknown) => {
      if (updating) failedInState.add(name);
      throw err;
    });
    return { id, state: { ...args.inputs, ...outputs } };
  }

  function settle() {
    if (inFlight === 0) idle?.();
  }

  const mocks: pulumi.runtime.Mocks = {
    newResource: async (args) => {
      activity++;
      const resource: LabResource = {
        type: args.type,
        name: args.name,
        inputs: unwrapSecrets(args.inputs),
        secrets: Object.keys(args.inputs).filter((k) => isSecret(args.inputs[k])),
      };
      resources.push(resource);
      registered.add(args.name);
      if (pulumi.runtime.isDryRun()) return { id: args.type === REMOTE_COMMAND ? "" : `${args.name}-id`, state: args.inputs };
      inFlight++;
      try {
        // After an error the engine answers no registration any more (the executor's context is cancelled).
        if (stopped()) throw notStarted(args.name);
        return await register(args, resource);
      } catch (err) {
        if (err instanceof LabRefusal) throw err;
        // A failed step, or one never started: the engine reports the failure in its diagnostics
        // and answers nothing (see the module doc). After an interrupt the CLI is gone: nothing answers.
        if (!interrupted && !cancelled.includes(args.name)) failed.push({ name: args.name, message: err instanceof Error ? err.message : String(err) });
        return new Promise<never>(() => undefined);
      } finally {
        inFlight--;
        activity++;
        settle();
      }
    },
    call: (args) => {
      throw new Error(`lab: unexpected provider function call ${args.token}`);
    },
  };

  async function settled(timeoutMs = SETTLE_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`lab: the run did not settle within ${timeoutMs / 1000} s (${inFlight} steps running)`)), timeoutMs);
    });
    expired.catch(() => undefined); // raced below; never an unhandled rejection
    try {
      for (;;) {
        if (inFlight > 0) await Promise.race([new Promise<void>((resolve) => (idle = resolve)), expired]);
        const seen = activity;
        let turns = 0;
        while (turns < SETTLE_TURNS && inFlight === 0 && activity === seen && Date.now() <= deadline) {
          await new Promise((resolve) => setImmediate(resolve));
          turns++;
        }
        if (turns === SETTLE_TURNS && inFlight === 0 && activity === seen) return;
        if (Date.now() > deadline) await expired;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  function noteRegistration(name: string, reg: RegistrationOptions): void {
    registration.set(name, reg);
  }

  async function deleteOne(record: ResourceRecord): Promise<void> {
    const inputs = unseal(record.inputs);
    const hook = record.type === REMOTE_COMMAND && typeof inputs.delete === "string";
    await step(record.name, record.type, "deleting", async () => {
      if (hook) await execute(toConnection(inputs.connection, record.name), inputs.delete as string, inputs.stdin as string | undefined);
      else if (record.type !== REMOTE_COMMAND && record.type !== LOCAL_COMMAND) await options.onDelete?.(record.name, record.type);
    }, () => {
      deleted.push(hook ? `${record.name} (delete hook)` : record.name);
      updateState(stateFile, (st) => dropRecord(st, record));
    });
  }

  async function finish(): Promise<string[]> {
    if (interrupted) return [];
    if (!pulumi.runtime.isDryRun() && (failed.length === 0 || continueOnError)) await deleteAtEnd();
    outcome = failed.length > 0 ? "failed" : "succeeded";
    return deleted;
  }

  async function deleteAtEnd(): Promise<void> {
    const state: LabState = readLabState(stateFile);
    const condemned = state.resources.filter((r) => r.delete || !registered.has(r.name));
    const key = (r: ResourceRecord) => (r.delete ? `${r.name}#old` : r.name);
    const graph = state.resources.map((r) => ({ ...r, name: key(r) }));
    const spared = new Set<string>();
    for (const name of failedInState) for (const d of transitiveDependenciesOf(name, graph)) spared.add(d);
    const byKey = new Map(condemned.map((r) => [key(r), r]));
    for (const chain of scheduleDeletes([...byKey.keys()], graph)) {
      const now = chain.filter((k) => !spared.has(k));
      if (now.length === 0) continue;
      deleteAntichains.push(now);
      const results = await Promise.allSettled(now.map((k) => deleteOne(byKey.get(k)!)));
      results.forEach((result, i) => {
        if (result.status === "rejected") {
          failed.push({ name: now[i]!, message: result.reason instanceof Error ? result.reason.message : String(result.reason) });
          for (const d of transitiveDependenciesOf(now[i]!, graph)) spared.add(d);
        }
      });
      if (failed.length > 0 && !continueOnError) break;
    }
  }

  function interrupt(): void {
    interrupted = true;
  }

  return {
    mocks, resources, ran, skipped, replaced, failed, cancelled, warnings, deleted, deleteAntichains,
    peakParallel: () => pool.peak(), result: () => outcome, settled, noteRegistration, finish, interrupt,
  };
}

/** What an interactive `pulumi refresh` does to pending operations: clears them. */
export function clearPendingOperations(stateFile: string): void {
  updateState(stateFile, (st) => ({ ...st, pendingOperations: [] }));
}
