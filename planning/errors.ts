/**
 * Errors raised for bad input. Every problem names the config key, the value it got and
 * how to fix it; several problems are collected and thrown once as an {@link InputErrors}.
 */

/** One problem with one input value. */
export interface InputProblem {
  /** Config key or path of the bad value, e.g. `pools[1].maxUnavailable`. */
  readonly key: string;
  /** The value as given (rendered with JSON.stringify in messages). */
  readonly value: unknown;
  /** What is wrong, e.g. `is not a Kubernetes version`. */
  readonly problem: string;
  /** How to fix it, e.g. `write it as "1.36.4" or "1.36"`. */
  readonly fix: string;
}

/** Longest value shown in a message: a bad value is never echoed back whole (it may be megabytes). */
export const SHOWN_MAX = 100;

/** `value` as JSON, cut to about {@link SHOWN_MAX} characters: `"abc...(5000000 chars)"`. */
export function shownValue(value: unknown): string {
  if (value === undefined) return "nothing";
  // A long string is cut before it is quoted, so that a huge value is never copied whole.
  const text = typeof value === "string" && value.length > SHOWN_MAX ? `${JSON.stringify(value.slice(0, SHOWN_MAX - 20))}...(${value.length} chars)` : JSON.stringify(value) ?? String(value);
  return text.length > SHOWN_MAX + 40 ? `${text.slice(0, SHOWN_MAX - 20)}...(${text.length} chars)` : text;
}

/** Renders one problem as `key: problem (got value). fix`, the value cut ({@link shownValue}). */
export function describeProblem(p: InputProblem): string {
  return `${cut(p.key, 200)}: ${cut(p.problem, 1000)} (got ${shownValue(p.value)}). ${cut(p.fix, 1000)}`;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 30)}...(${text.length} chars)` : text;
}

/** Most problems listed in one message; the rest are counted. */
export const LISTED_MAX = 100;

/**
 * Thrown when input is invalid: carries every problem found, so that one run reports them
 * all. Its message lists them one per line.
 */
export class InputErrors extends Error {
  constructor(
    readonly problems: readonly InputProblem[],
    readonly context = "invalid input",
  ) {
    super(
      problems.length === 1
        ? `${context}: ${describeProblem(problems[0]!)}`
        : `${context} (${problems.length} problems):\n${problems.slice(0, LISTED_MAX).map((p) => `  - ${describeProblem(p)}`).join("\n")}${
            problems.length > LISTED_MAX ? `\n  ... and ${problems.length - LISTED_MAX} more problems` : ""
          }`,
    );
    this.name = "InputErrors";
  }
}

/** Collects problems and throws them together. */
export class ProblemList {
  private readonly items: InputProblem[] = [];

  add(key: string, value: unknown, problem: string, fix: string): void {
    this.items.push({ key, value, problem, fix });
  }

  /** Records the problems of an {@link InputErrors}; rethrows anything else. */
  absorb(error: unknown): void {
    if (error instanceof InputErrors) this.items.push(...error.problems);
    else throw error;
  }

  get size(): number {
    return this.items.length;
  }

  /** @throws InputErrors when at least one problem was added. */
  throwIfAny(context: string): void {
    if (this.items.length > 0) throw new InputErrors(this.items, context);
  }
}

/** Shorthand: throws an InputErrors holding one problem. */
export function inputError(key: string, value: unknown, problem: string, fix: string): never {
  throw new InputErrors([{ key, value, problem, fix }]);
}

/**
 * Thrown when the cluster cannot be upgraded as asked (a downgrade, a state that already
 * breaks the version-skew policy, a node that cannot move in place). `reasons` lists each.
 */
export class PlanningError extends Error {
  constructor(
    readonly reasons: readonly string[],
    summary: string,
  ) {
    super(reasons.length === 1 ? `${summary}: ${reasons[0]}` : `${summary}:\n${reasons.map((r) => `  - ${r}`).join("\n")}`);
    this.name = "PlanningError";
  }
}
