/**
 * Kubernetes versions: `major.minor.patch`, parsed strictly and compared with semver.
 * Accepted spellings: `v1.36.4`, `1.36.4`, `1.36` (a minor: resolved to its latest known
 * patch by the release catalogue) and the Debian package form `1.36.4-1.1`.
 * Source: https://kubernetes.io/releases/version-skew-policy/#supported-versions
 */
import semver from "semver";
import { inputError } from "./errors";

/** A full Kubernetes version. Immutable; compare with {@link KubeVersion.compare}. */
export class KubeVersion {
  private constructor(private readonly sem: semver.SemVer) {}

  /** @throws RangeError for negative or non-integer parts. */
  static of(major: number, minor: number, patch: number): KubeVersion {
    for (const n of [major, minor, patch]) {
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a version part: ${n}`);
    }
    return new KubeVersion(new semver.SemVer(`${major}.${minor}.${patch}`));
  }

  get major(): number {
    return this.sem.major;
  }
  get minor(): number {
    return this.sem.minor;
  }
  get patch(): number {
    return this.sem.patch;
  }
  /** `1.36`: the minor release line, as used in repository URLs and the catalogue. */
  get minorLine(): string {
    return `${this.major}.${this.minor}`;
  }
  /** `v1.36.4`: the form kubeadm and `kubectl version` use. */
  get tag(): string {
    return `v${this.sem.version}`;
  }
  /** `1.36.4` */
  toString(): string {
    return this.sem.version;
  }
  toJSON(): string {
    return this.sem.version;
  }

  /** Negative, zero or positive, like `semver.compare`. */
  compare(other: KubeVersion): number {
    return semver.compare(this.sem, other.sem);
  }
  isBefore(other: KubeVersion): boolean {
    return this.compare(other) < 0;
  }
  equals(other: KubeVersion): boolean {
    return this.compare(other) === 0;
  }
  /** Minors from `other` to this (positive when this is newer). Majors are always 1. */
  minorsAfter(other: KubeVersion): number {
    return (this.major - other.major) * 1000 + (this.minor - other.minor);
  }
}

/** The newer of two versions. */
export function newest(a: KubeVersion, b: KubeVersion): KubeVersion {
  return a.compare(b) >= 0 ? a : b;
}

/** A parsed version that may lack its patch (`1.36` means "the latest 1.36 patch"). */
export interface VersionSpec {
  readonly major: number;
  readonly minor: number;
  /** Absent for a minor-only spec. */
  readonly patch?: number;
}

/** A version part: at most 6 digits, so every part is an exact number. */
const NUM = "(0|[1-9][0-9]{0,5})";
/** `v?MAJOR.MINOR[.PATCH[-DEBIAN_REVISION]]`; the Debian revision is digits and dots. */
const VERSION_PATTERN = new RegExp(`^v?${NUM}\\.${NUM}(?:\\.${NUM}(?:-[0-9]+(?:\\.[0-9]+)*)?)?$`);

const VERSION_FIX = 'write it as a quoted string such as "1.36.4", "v1.36.4", "1.36" or the package form "1.36.4-1.1"';

/**
 * Parses a version as written in config.
 * @param value the raw config value (must be a string).
 * @param key the config key, named in the error.
 * @throws InputErrors naming `key` when the value is not a string in an accepted form,
 *   or names a major other than 1.
 */
export function parseVersionSpec(value: unknown, key: string): VersionSpec {
  if (typeof value === "number") {
    inputError(key, value, "is a number, not a version (YAML reads 1.30 as 1.3)", VERSION_FIX);
  }
  if (typeof value !== "string") inputError(key, value, "is not a Kubernetes version", VERSION_FIX);
  const m = VERSION_PATTERN.exec(value.trim());
  if (!m) inputError(key, value, "is not a Kubernetes version", VERSION_FIX);
  const major = Number(m[1]);
  if (major !== 1) inputError(key, value, "has a major version other than 1", "Kubernetes releases are 1.x; check the value");
  const spec: VersionSpec = { major, minor: Number(m[2]) };
  return m[3] === undefined ? spec : { ...spec, patch: Number(m[3]) };
}

/**
 * Parses the version something runs now (a node's or a blue-green pool's `version`): it must be an
 * exact patch, since a minor would be resolved to its latest patch, which the nodes may not run.
 * @throws InputErrors naming `key` for anything {@link parseVersionSpec} refuses or a minor without a patch.
 */
export function parseCurrentVersionSpec(value: unknown, key: string): VersionSpec {
  const spec = parseVersionSpec(value, key);
  if (spec.patch === undefined) {
    inputError(key, value, "is a minor, not the exact version that runs now", 'write the exact patch version, e.g. "1.36.4" (kubectl get nodes shows each kubelet\'s)');
  }
  return spec;
}

/**
 * Parses a full version (patch required).
 * @throws InputErrors naming `key` for anything {@link parseVersionSpec} refuses or a missing patch.
 */
export function parseFullVersion(value: unknown, key: string): KubeVersion {
  const spec = parseVersionSpec(value, key);
  if (spec.patch === undefined) {
    inputError(key, value, "needs a patch number here", 'write the exact version, e.g. "1.36.4"');
  }
  return KubeVersion.of(spec.major, spec.minor, spec.patch);
}
