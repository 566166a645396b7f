/**
 * The Pulumi CLI's event log (`pulumi up --event-log FILE`), read while it grows, and what an
 * update did, taken from it: the wave the program announced, the resources whose step failed with
 * the engine's own error message, and the summary's result.
 *
 * The format, as pulumi/pulumi v3.248 writes it:
 * - One JSON object per line: pkg/backend/display/display.go `startEventLogger` opens FILE with
 *   O_TRUNC|O_APPEND and writes every engine event through one `json.Encoder` (`Encode` ends each
 *   value with "\n"), `logJSONEvent` converting it with `ConvertEngineEvent`
 *   (pkg/backend/display/events.go) into an `apitype.EngineEvent`
 *   (sdk/go/common/apitype/events.go): `sequence`, `timestamp` (Unix seconds) and exactly one of
 *   `cancelEvent`, `stdoutEvent`, `diagnosticEvent`, `preludeEvent`, `summaryEvent`,
 *   `resourcePreEvent`, `resOutputsEvent`, `resOpFailedEvent`, `policyEvent`... The writer stops
 *   after the `cancelEvent`, the last event of an operation.
 * - The flag exists only with PULUMI_DEBUG_COMMANDS=true (pkg/cmd/pulumi/operations/up.go
 *   `NewUpCmd`: `if env.DebugCommands.Value()` registers `--event-log`); the Node Automation API
 *   sets the same variable for the same flag (sdk/nodejs/automation/stack.ts `runPulumiCmd`).
 * - A failed step: pkg/engine/update.go `updateActions.OnResourceStepPost` issues
 *   `diag.GetResourceOperationFailedError(urn)` (sdk/go/common/diag/errors.go: message "%v" of the
 *   provider's error) as an error diagnostic carrying the step's URN, then a `resOpFailedEvent`
 *   whose `metadata` names the URN, type and (`new.parent`) parent.
 * - Diagnostic messages keep Pulumi's color directives (`<{%fg 1%}>`, `<{%reset%}>`:
 *   sdk/go/common/diag/colors/colors.go `colorLeft`/`colorRight`) unless the CLI runs with
 *   `--color never` (display.go `logJSONEvent`); ANSI codes are already removed
 *   (`ConvertEngineEvent`). Config secrets are already "[secret]": pkg/engine/events.go
 *   `makeEventEmitter` adds every secure config value to the global filter that `diagEvent`
 *   applies to prefix and message.
 */
import * as fs from "node:fs";

/** The fields of `apitype.StepEventStateMetadata` read here. */
export interface StepStateMetadata {
  readonly type?: string;
  readonly urn?: string;
  readonly parent?: string;
}

/** The fields of `apitype.StepEventMetadata` read here. */
export interface StepMetadata {
  readonly op?: string;
  readonly urn: string;
  readonly type: string;
  readonly old?: StepStateMetadata | null;
  readonly new?: StepStateMetadata | null;
}

/** One line of the event log: `apitype.EngineEvent`, the members read here (others are kept but ignored). */
export interface EngineEvent {
  readonly sequence: number;
  /** Unix time, seconds. */
  readonly timestamp: number;
  readonly cancelEvent?: Record<string, never>;
  readonly diagnosticEvent?: { readonly urn?: string; readonly prefix?: string; readonly message: string; readonly color: string; readonly severity: string; readonly ephemeral?: boolean };
  readonly summaryEvent?: { readonly durationSeconds: number; readonly resourceChanges: Record<string, number>; readonly isPreview: boolean; readonly result?: string; readonly maybeCorrupt: boolean };
  readonly resourcePreEvent?: { readonly metadata: StepMetadata; readonly planning?: boolean };
  readonly resOutputsEvent?: { readonly metadata: StepMetadata; readonly planning?: boolean };
  readonly resOpFailedEvent?: { readonly metadata: StepMetadata; readonly status: number; readonly steps: number };
}

/**
 * Splits a growing event log into events: feed it the bytes as they arrive; a line is parsed once
 * its "\n" has arrived (the encoder writes whole lines, but a read may see half of one).
 * A line that is not JSON is skipped and counted in `skipped` (never thrown: the log only informs
 * the notifications, it never decides the update's result).
 */
export class EventLogParser {
  private rest = "";
  /** Lines that were not an event (not JSON). */
  skipped = 0;

  /** @returns the events completed by `chunk` (UTF-8 text), in order. */
  push(chunk: string): EngineEvent[] {
    const lines = (this.rest + chunk).split("\n");
    this.rest = lines.pop() ?? "";
    const events: EngineEvent[] = [];
    for (const line of lines) {
      if (line.trim() === "") continue;
      try {
        events.push(JSON.parse(line) as EngineEvent);
      } catch {
        this.skipped++;
      }
    }
    return events;
  }

  /** The events of a last line with no "\n" (the log's end). */
  end(): EngineEvent[] {
    const last = this.rest;
    this.rest = "";
    return this.push(last + "\n");
  }
}

/**
 * Follows the event log at `path` while the CLI writes it: each `poll()` reads what was appended
 * since the last (the file may not exist yet: the CLI creates it once the update starts).
 * Reads at most 1 MiB per poll; the caller polls until the CLI has exited, then calls `finish()`.
 */
export class EventLogFollower {
  private offset = 0;
  private readonly parser = new EventLogParser();

  constructor(private readonly path: string) {}

  /** @returns the new complete events. */
  poll(): EngineEvent[] {
    let fd: number;
    try {
      fd = fs.openSync(this.path, "r");
    } catch {
      return [];
    }
    try {
      const events: EngineEvent[] = [];
      const buf = Buffer.alloc(1024 * 1024);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
        if (n === 0) break;
        this.offset += n;
        events.push(...this.parser.push(buf.subarray(0, n).toString("utf8")));
        if (n < buf.length) break;
      }
      return events;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Everything left, the last line included even without its "\n". */
  finish(): EngineEvent[] {
    return [...this.poll(), ...this.parser.end()];
  }

  /** Lines skipped as not JSON. */
  get skipped(): number {
    return this.parser.skipped;
  }
}

/** Pulumi's color directives, `<{%...%}>` (sdk/go/common/diag/colors/colors.go). */
const COLOR_DIRECTIVE = /<\{%[^%]*%\}>/g;

/** A diagnostic's text without color directives or trailing newlines. */
export function plainText(message: string): string {
  return message.replace(COLOR_DIRECTIVE, "").replace(/\s+$/, "");
}

/** The name at the end of a URN (`urn:pulumi:STACK::PROJECT::TYPE::NAME`). */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** The type at the end of a URN's type chain (`parent$child` types). */
export function urnType(urn: string): string {
  const parts = urn.split("::");
  const chain = parts.length >= 4 ? parts[parts.length - 2]! : "";
  return chain.slice(chain.lastIndexOf("$") + 1);
}

/** What `ClusterUpgrade` logs for the wave it registered (components/cluster-upgrade.ts, with maxNodesPerUpdate). */
export const WAVE_LOG_PREFIX = "this update: ";
const WAVE_LOG = /^this update: ([\s\S]*?)(?:; (\d+) more wave\(s\) after it: run pulumi up again)?$/;

/** The wave an update carries out, as the program announced it. */
export interface AnnouncedWave {
  /** `describeWave`'s line, e.g. "wave 1 (next pulumi up): hop 1 v1.31.14 -> v1.32.13, control plane: 3 node(s), 9 step(s)", or "nothing left: ...". */
  readonly label: string;
  /** Waves after this one (0: the last). */
  readonly wavesAfter: number;
  /** True when the label says nothing is left (no command registered). */
  readonly nothingLeft: boolean;
}

/** The wave in one info diagnostic's message, or undefined when it is not the wave announcement. */
export function announcedWave(message: string): AnnouncedWave | undefined {
  const m = WAVE_LOG.exec(plainText(message));
  if (!m) return undefined;
  const label = m[1]!.trim();
  return { label, wavesAfter: m[2] ? Number(m[2]) : 0, nothingLeft: label.startsWith("nothing left") };
}

/** The program's components a command sits under: the node is the NodeUpgrade's name after the cluster's. */
const NODE_UPGRADE = "cluster-maintenance:upgrade:NodeUpgrade";
const CLUSTER_UPGRADE = "cluster-maintenance:upgrade:ClusterUpgrade";

/** A step that failed. */
export interface FailedStep {
  readonly urn: string;
  /** The resource name, e.g. "dev-general-1-v1.35.9-drain". */
  readonly resource: string;
  readonly type: string;
  /** The step's operation (create, update, delete...). */
  readonly op: string;
  /**
   * The node, when the resource sits under a NodeUpgrade (`<cluster>-<node>`, under the
   * ClusterUpgrade `<cluster>`: components/cluster-upgrade.ts names them so).
   */
  readonly node?: string;
  /** The engine's error message for it (color directives removed), or "" when none was logged. */
  readonly message: string;
}

/** What one update did, from its events. */
export interface UpdateRecord {
  readonly wave?: AnnouncedWave;
  readonly failed: readonly FailedStep[];
  /** Error diagnostics not tied to a failed step (the program's own failure, the engine's), plain text, in order. */
  readonly errors: readonly string[];
  /** The summary's `result` ("succeeded", "failed", "canceled"), when the summary arrived. */
  readonly result?: string;
  readonly durationSeconds?: number;
  readonly resourceChanges?: Readonly<Record<string, number>>;
  /** True once the `cancelEvent` (the end of the log) arrived. */
  readonly complete: boolean;
}

/** Collects an {@link UpdateRecord} from events as they arrive. */
export class UpdateRecorder {
  private readonly parents = new Map<string, string>();
  private readonly stepErrors = new Map<string, string>();
  private readonly failedSteps: { urn: string; type: string; op: string }[] = [];
  private readonly otherErrors: { urn: string; text: string }[] = [];
  private wave: AnnouncedWave | undefined;
  private summary: EngineEvent["summaryEvent"];
  private complete = false;

  /**
   * Takes one event.
   * @returns the wave when this event announced it (the first announcement only), else undefined.
   */
  add(e: EngineEvent): AnnouncedWave | undefined {
    for (const md of [e.resourcePreEvent?.metadata, e.resOutputsEvent?.metadata, e.resOpFailedEvent?.metadata]) {
      const parent = md?.new?.parent || md?.old?.parent;
      if (md && parent) this.parents.set(md.urn, parent);
    }
    if (e.resOpFailedEvent) {
      const md = e.resOpFailedEvent.metadata;
      this.failedSteps.push({ urn: md.urn, type: md.type, op: md.op ?? "" });
    }
    if (e.summaryEvent) this.summary = e.summaryEvent;
    if (e.cancelEvent) this.complete = true;
    const d = e.diagnosticEvent;
    if (d?.severity === "error") {
      const text = plainText(d.message);
      if (d.urn && !this.stepErrors.has(d.urn)) this.stepErrors.set(d.urn, text);
      this.otherErrors.push({ urn: d.urn ?? "", text });
    } else if (d?.severity === "info" && !this.wave) {
      const wave = announcedWave(d.message);
      if (wave && (!d.urn || urnType(d.urn) === CLUSTER_UPGRADE)) {
        this.wave = wave;
        return wave;
      }
    }
    return undefined;
  }

  /** The node a resource runs on, from its parents, or undefined. */
  private nodeOf(urn: string): string | undefined {
    const parent = this.parents.get(urn);
    if (!parent || urnType(parent) !== NODE_UPGRADE) return undefined;
    const nodeUpgrade = urnName(parent);
    const cluster = this.parents.get(parent);
    if (cluster && urnType(cluster) === CLUSTER_UPGRADE && nodeUpgrade.startsWith(`${urnName(cluster)}-`)) return nodeUpgrade.slice(urnName(cluster).length + 1);
    return nodeUpgrade;
  }

  /** The record so far. */
  record(): UpdateRecord {
    const failedUrns = new Set(this.failedSteps.map((f) => f.urn));
    const failed = this.failedSteps.map((f): FailedStep => {
      const node = this.nodeOf(f.urn);
      return { urn: f.urn, resource: urnName(f.urn), type: f.type, op: f.op, ...(node ? { node } : {}), message: this.stepErrors.get(f.urn) ?? "" };
    });
    const s = this.summary;
    return {
      ...(this.wave ? { wave: this.wave } : {}),
      failed,
      errors: this.otherErrors.filter((e) => !failedUrns.has(e.urn)).map((e) => e.text),
      ...(s ? { result: s.result, durationSeconds: s.durationSeconds, resourceChanges: s.resourceChanges } : {}),
      complete: this.complete,
    };
  }
}
