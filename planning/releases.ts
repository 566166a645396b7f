/**
 * The release catalogue: for each Kubernetes minor, its release date, end of life and the
 * latest patch known. Embedded from the project's copy of the upstream data
 * (planning/data/kubernetes-releases.json, from https://kubernetes.io/releases/) and
 * overridable from stack config (`releases`), so a newer patch or minor needs no new
 * release of this program.
 */
import embedded from "./data/kubernetes-releases.json";
import { inputError, ProblemList } from "./errors";
import { KubeVersion, parseFullVersion, VersionSpec } from "./versions";

/** One minor release line. Dates are ISO `YYYY-MM-DD` (UTC). */
export interface Release {
  /** The minor's number (36 for 1.36). */
  readonly minor: number;
  readonly released: string;
  readonly endOfLife: string;
  readonly latestPatch: KubeVersion;
}

/** A catalogue entry as written in config; `released`/`endOfLife` may be omitted for a known minor. */
export interface ReleaseOverride {
  readonly minor: string;
  readonly latestPatch: string;
  readonly released?: string;
  readonly endOfLife?: string;
}

/** Upstream supports the three newest minors. Source: https://kubernetes.io/releases/version-skew-policy/#supported-versions */
export const SUPPORTED_MINORS = 3;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `YYYY-MM-DD` naming a real day (Date.parse would roll 2026-02-30 over to March). */
function isCalendarDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const day = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === value;
}

/** Immutable map minor -> Release. */
export class ReleaseCatalogue {
  private readonly byMinor: ReadonlyMap<number, Release>;

  private constructor(releases: readonly Release[]) {
    this.byMinor = new Map([...releases].sort((a, b) => a.minor - b.minor).map((r) => [r.minor, r]));
  }

  /** The catalogue shipped with this program. */
  static embedded(): ReleaseCatalogue {
    return new ReleaseCatalogue(
      embedded.releases.map((r, i) =>
        toRelease({ ...r }, `planning/data/kubernetes-releases.json releases[${i}]`, undefined),
      ),
    );
  }

  /**
   * A catalogue with `overrides` applied: an entry for a known minor replaces its fields
   * (usually `latestPatch`); an entry for a new minor must give every field.
   * @param key config key named in errors (`releases`).
   * @throws InputErrors listing every bad entry.
   */
  withOverrides(overrides: readonly unknown[], key = "releases"): ReleaseCatalogue {
    const merged = new Map(this.byMinor);
    const problems = new ProblemList();
    overrides.forEach((raw, i) => {
      try {
        const entry = asOverride(raw, `${key}[${i}]`);
        const minorSpec = parseMinor(entry.minor, `${key}[${i}].minor`);
        const release = toRelease(entry, `${key}[${i}]`, merged.get(minorSpec));
        merged.set(release.minor, release);
      } catch (e) {
        problems.absorb(e);
      }
    });
    problems.throwIfAny("invalid release catalogue override");
    return new ReleaseCatalogue([...merged.values()]);
  }

  /** Every release, oldest first. */
  all(): readonly Release[] {
    return [...this.byMinor.values()];
  }

  get(minor: number): Release | undefined {
    return this.byMinor.get(minor);
  }

  /** The newest minor in the catalogue. */
  newest(): Release {
    const all = this.all();
    return all[all.length - 1]!;
  }

  /** The minors upstream supports: the {@link SUPPORTED_MINORS} newest in the catalogue. */
  supportedMinors(): number[] {
    return this.all().slice(-SUPPORTED_MINORS).map((r) => r.minor);
  }

  /** True when `minor`'s end of life is before `now` (a day's date, UTC). */
  isEndOfLife(minor: number, now: Date): boolean {
    const r = this.byMinor.get(minor);
    return r !== undefined && r.endOfLife < now.toISOString().slice(0, 10);
  }

  /**
   * Turns a spec into a released version: a minor-only spec becomes that minor's latest
   * patch; a full version must not be newer than the latest patch known.
   * @throws InputErrors naming `key` when the minor is unknown or the patch is newer than known.
   */
  resolve(spec: VersionSpec, key: string, value: unknown): KubeVersion {
    const release = this.byMinor.get(spec.minor);
    const declare = `if it has been released, declare it under the config key "releases" (minor, latestPatch, released, endOfLife)`;
    if (spec.major !== 1 || release === undefined) {
      inputError(key, value, `names a minor the release catalogue does not know (it knows 1.${this.all()[0]!.minor} to 1.${this.newest().minor})`, declare);
    }
    if (spec.patch === undefined) return release.latestPatch;
    const v = KubeVersion.of(spec.major, spec.minor, spec.patch);
    if (release.latestPatch.isBefore(v)) {
      inputError(key, value, `is newer than the latest ${v.minorLine} patch the catalogue knows (${release.latestPatch})`, declare);
    }
    return v;
  }
}

function asOverride(raw: unknown, key: string): ReleaseOverride {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    inputError(key, raw, "is not a release entry", 'write { minor: "1.38", latestPatch: "1.38.0", released: "2026-12-16", endOfLife: "2028-02-28" }');
  }
  return raw as ReleaseOverride;
}

function parseMinor(value: unknown, key: string): number {
  if (typeof value !== "string" || !/^1\.(0|[1-9][0-9]*)$/.test(value)) {
    inputError(key, value, "is not a minor release line", 'write it as a quoted string such as "1.38"');
  }
  return Number(value.split(".")[1]);
}

function toRelease(entry: ReleaseOverride, key: string, known: Release | undefined): Release {
  const problems = new ProblemList();
  const minor = parseMinor(entry.minor, `${key}.minor`);
  let latestPatch: KubeVersion | undefined;
  try {
    latestPatch = parseFullVersion(entry.latestPatch, `${key}.latestPatch`);
    if (latestPatch.minor !== minor) {
      problems.add(`${key}.latestPatch`, entry.latestPatch, `is not a patch of 1.${minor}`, `give a 1.${minor}.N version`);
    }
  } catch (e) {
    problems.absorb(e);
  }
  const dates: Record<"released" | "endOfLife", string> = { released: "", endOfLife: "" };
  for (const field of ["released", "endOfLife"] as const) {
    const value = entry[field] ?? known?.[field];
    if (typeof value !== "string" || !isCalendarDate(value)) {
      problems.add(`${key}.${field}`, entry[field], "is not a date", 'write it as "YYYY-MM-DD" (required for a minor the catalogue does not know)');
    } else dates[field] = value;
  }
  problems.throwIfAny("invalid release entry");
  return { minor, released: dates.released, endOfLife: dates.endOfLife, latestPatch: latestPatch! };
}
