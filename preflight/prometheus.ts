/**
 * The few lines of a kube-apiserver's /metrics that the go/no-go check reads
 * (`apiserver_requested_deprecated_apis`, `apiserver_storage_size_bytes`), parsed from the
 * Prometheus text exposition format.
 * Source: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 *
 * Only sample lines are parsed; `# HELP` / `# TYPE` and other comment lines, and blank lines,
 * are skipped. Lines of other metrics are not checked beyond their name.
 */

/** One sample: the labels of a line and its value. */
export interface MetricSample {
  /** Label name -> value, escapes resolved (`\"` -> `"`, `\\` -> `\`, `\n` -> newline). */
  readonly labels: Readonly<Record<string, string>>;
  /** The value as a float: `9.105408e+06` is 9105408; `+Inf`, `-Inf` and `NaN` are allowed. */
  readonly value: number;
  /** The optional timestamp, milliseconds since the Unix epoch, when the line has one. */
  readonly timestampMs?: number;
}

/** A sample line of the wanted metric that does not follow the text format. */
export class MetricsFormatError extends Error {
  constructor(
    /** 1-based line number in the text. */
    readonly line: number,
    message: string,
  ) {
    super(`metrics text, line ${line}: ${message}`);
    this.name = "MetricsFormatError";
  }
}

const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;
const LABEL_START = /[a-zA-Z_]/;
const LABEL_CHAR = /[a-zA-Z0-9_]/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INF = /^([+-]?)inf(?:inity)?$/i;
const TIMESTAMP = /^-?\d+$/;

/**
 * Every sample of the metric `name` in a /metrics text, in the order of the text.
 *
 * Follows the text format (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format):
 * `name{label="value",...} value [timestamp]`, tokens separated by spaces or tabs, the label
 * set optional and allowed a trailing comma; label values escape `\`, `"` and newline as
 * `\\`, `\"` and `\n`; the value is a Go float (`1`, `9.105408e+06`, `+Inf`, `-Inf`, `NaN`),
 * the timestamp an integer (ms). The name is matched exactly (`x` does not match `x_total`);
 * the quoted name of the UTF-8 form (`{"name",label="v"} 1`) is accepted too.
 *
 * @param text the body of a /metrics response (`text/plain; version=0.0.4`).
 * @param name the metric name, e.g. `apiserver_requested_deprecated_apis`.
 * @returns `{ labels, value, timestampMs? }` per sample line; empty when the metric is absent.
 * @throws MetricsFormatError (with the line number) for a line of `name` that is malformed:
 *   an unterminated or badly escaped label value, a repeated label, a value that is not a float.
 */
export function metricSamples(text: string, name: string): MetricSample[] {
  const samples: MetricSample[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    const trimmed = line.trimStart();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    // Cheap pre-check: a line of another metric is skipped without being parsed.
    if (!trimmed.startsWith(name) && !trimmed.startsWith("{")) continue;
    const sample = new LineParser(trimmed, i + 1).sample(name);
    if (sample !== undefined) samples.push(sample);
  }
  return samples;
}

/** Parses one sample line; `sample(name)` is undefined when the line is of another metric. */
class LineParser {
  private pos = 0;

  constructor(
    private readonly s: string,
    private readonly line: number,
  ) {}

  sample(wanted: string): MetricSample | undefined {
    let name: string | undefined;
    if (this.s[0] !== "{") {
      name = this.identifier(NAME_START, NAME_CHAR);
      if (name !== wanted) return undefined;
    }
    this.blanks();
    const labels: Record<string, string> = {};
    if (this.s[this.pos] === "{") {
      this.pos++;
      const quotedName = this.labels(labels, name === undefined ? wanted : undefined);
      if (name === undefined) {
        if (quotedName !== wanted) return undefined;
        name = quotedName;
      }
    } else if (name === undefined) {
      return undefined;
    }
    const rest = this.s.slice(this.pos).trim().split(/[ \t]+/);
    if (rest.length === 0 || rest[0] === "") this.fail("no value after the labels");
    if (rest.length > 2) this.fail(`more than a value and a timestamp: ${JSON.stringify(this.s.slice(this.pos).trim())}`);
    const value = parseFloatToken(rest[0]!);
    if (value === undefined) this.fail(`value ${JSON.stringify(rest[0])} is not a float`);
    if (rest.length === 2) {
      if (!TIMESTAMP.test(rest[1]!)) this.fail(`timestamp ${JSON.stringify(rest[1])} is not an integer`);
      return { labels, value, timestampMs: Number(rest[1]) };
    }
    return { labels, value };
  }

  /**
   * Reads `label="value",...}` after the `{`. With `wanted` (the line began with `{`), a
   * leading bare quoted string is the metric name (UTF-8 form) and is returned; when it is not
   * `wanted`, at once, the rest of the line unread.
   */
  private labels(into: Record<string, string>, wanted: string | undefined): string | undefined {
    let metricName: string | undefined;
    let first = true;
    for (;;) {
      this.blanks();
      if (this.s[this.pos] === "}") {
        this.pos++;
        return metricName;
      }
      let label: string;
      if (this.s[this.pos] === '"') {
        const quoted = this.quoted();
        this.blanks();
        if (first && wanted !== undefined && (this.s[this.pos] === "," || this.s[this.pos] === "}")) {
          metricName = quoted;
          // Another metric's line: stop here, it is not checked further.
          if (metricName !== wanted) return metricName;
          first = false;
          if (this.s[this.pos] === ",") this.pos++;
          continue;
        }
        label = quoted;
      } else {
        label = this.identifier(LABEL_START, LABEL_CHAR);
      }
      first = false;
      this.blanks();
      if (this.s[this.pos] !== "=") this.fail(`expected "=" after label ${JSON.stringify(label)}`);
      this.pos++;
      this.blanks();
      if (this.s[this.pos] !== '"') this.fail(`the value of label ${JSON.stringify(label)} is not quoted`);
      const value = this.quoted();
      if (Object.prototype.hasOwnProperty.call(into, label)) this.fail(`label ${JSON.stringify(label)} appears twice`);
      into[label] = value;
      this.blanks();
      if (this.s[this.pos] === ",") this.pos++;
      else if (this.s[this.pos] !== "}") this.fail(`expected "," or "}" after label ${JSON.stringify(label)}`);
    }
  }

  /** A double-quoted string at `pos`, escapes resolved. */
  private quoted(): string {
    this.pos++; // opening quote
    let out = "";
    while (this.pos < this.s.length) {
      const c = this.s[this.pos++]!;
      if (c === '"') return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = this.s[this.pos++];
      if (e === "\\") out += "\\";
      else if (e === '"') out += '"';
      else if (e === "n") out += "\n";
      else this.fail(`unknown escape ${JSON.stringify(`\\${e ?? ""}`)} in a label value (only \\\\, \\" and \\n)`);
    }
    return this.fail("unterminated label value");
  }

  private identifier(start: RegExp, rest: RegExp): string {
    const from = this.pos;
    if (!start.test(this.s[this.pos] ?? "")) this.fail(`expected a name at column ${this.pos + 1}`);
    this.pos++;
    while (this.pos < this.s.length && rest.test(this.s[this.pos]!)) this.pos++;
    return this.s.slice(from, this.pos);
  }

  private blanks(): void {
    while (this.s[this.pos] === " " || this.s[this.pos] === "\t") this.pos++;
  }

  private fail(message: string): never {
    throw new MetricsFormatError(this.line, message);
  }
}

/** A Go `strconv.ParseFloat` decimal, `[+-]Inf`/`Infinity` or `NaN` (any case); undefined otherwise. */
function parseFloatToken(token: string): number | undefined {
  if (DECIMAL.test(token)) return Number(token);
  const inf = INF.exec(token);
  if (inf) return inf[1] === "-" ? -Infinity : Infinity;
  if (/^nan$/i.test(token)) return NaN;
  return undefined;
}
