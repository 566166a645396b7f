/**
 * Small typed readers for raw config values: each returns the value or records a problem
 * that names the key, the value and the fix. Patterns for everything that may later reach
 * a shell (names, hosts, users) are strict, so no raw config ever does.
 */
import { ProblemList } from "../planning/errors";

/** A raw config object: plain keys to untyped values, as read from YAML or Pulumi config. */
export type RawObject = Readonly<Record<string, unknown>>;

/** DNS-1123 label: Kubernetes node-pool and cluster names, used in Pulumi resource names. */
export const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** DNS-1123 subdomain: Kubernetes node names. */
export const SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A POSIX user name. */
export const USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * `value`'s own enumerable keys in an object without a prototype: `obj.toString` or a key
 * `__proto__` is then plain data (read as undefined, or listed by Object.keys and refused as an
 * unknown key), never something inherited.
 */
export function plainData(value: object): RawObject {
  const copy = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(value)) copy[k] = v;
  return copy;
}

export class FieldReader {
  constructor(readonly problems: ProblemList) {}

  /** A mapping, copied into an object without a prototype: only its own keys are ever read. */
  object(value: unknown, key: string, example: string): RawObject | undefined {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return plainData(value);
    this.problems.add(key, value, "is not a mapping", `write it as ${example}`);
    return undefined;
  }

  array(value: unknown, key: string, example: string): readonly unknown[] | undefined {
    if (Array.isArray(value)) return value;
    this.problems.add(key, value, "is not a list", `write it as ${example}`);
    return undefined;
  }

  /** A string matching `pattern`; `what` describes the pattern in the error. */
  string(value: unknown, key: string, pattern: RegExp, what: string): string | undefined {
    if (typeof value === "string" && pattern.test(value)) return value;
    this.problems.add(key, value, `is not ${what}`, `give ${what}`);
    return undefined;
  }

  /**
   * A string that `check` (one of config/values.ts, mirrored by the node scripts) finds good.
   * The problem reads `is not <what> (<what check found>)`; the fix `give <fix>`.
   */
  checked(value: unknown, key: string, check: (value: string) => string | undefined, what: string, fix: string = what): string | undefined {
    const found = typeof value === "string" ? check(value) : "is not text";
    if (found === undefined) return value as string;
    this.problems.add(key, value, `is not ${what} (${found})`, `give ${fix}`);
    return undefined;
  }

  /**
   * A whole number in [min, max]; `fallback` when absent. Digits in a string count too:
   * Pulumi hands top-level config values to the program as text (`"60"`).
   */
  integer(value: unknown, key: string, min: number, max: number, fallback: number): number | undefined {
    if (value === undefined) return fallback;
    const n = typeof value === "string" && /^[0-9]{1,9}$/.test(value) ? Number(value) : value;
    if (typeof n === "number" && Number.isInteger(n) && n >= min && n <= max) return n;
    this.problems.add(key, value, `is not a whole number from ${min} to ${max}`, `give a whole number from ${min} to ${max}, or leave it out for ${fallback}`);
    return undefined;
  }

  /** One of `choices`; `fallback` when absent. */
  choice<T extends string>(value: unknown, key: string, choices: readonly T[], fallback: T): T | undefined {
    if (value === undefined) return fallback;
    if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T;
    this.problems.add(key, value, "is not a known choice", `use one of: ${choices.join(", ")}`);
    return undefined;
  }

  /** Records keys of `obj` that are not in `known` (typos must not pass silently). */
  noUnknownKeys(obj: RawObject, key: string, known: readonly string[]): void {
    for (const k of Object.keys(obj)) {
      if (!known.includes(k)) this.problems.add(`${key}.${k}`, obj[k], "is not a known key", `remove it, or use one of: ${known.join(", ")}`);
    }
  }

  /** Runs `read`, turning an InputErrors it throws into recorded problems. */
  attempt<T>(read: () => T): T | undefined {
    try {
      return read();
    } catch (e) {
      this.problems.absorb(e);
      return undefined;
    }
  }
}
