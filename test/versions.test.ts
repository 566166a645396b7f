/** planning/versions.ts: parsing version specs from config, and KubeVersion itself. */
import { inputErrorOf } from "./helpers/errors";
import { KubeVersion, newest, parseFullVersion, parseVersionSpec } from "../planning/versions";

const KEY = "cluster.targetVersion";


describe("parseVersionSpec accepts", () => {
  it.each([
    ["v1.36.4", { major: 1, minor: 36, patch: 4 }],
    ["1.36.4", { major: 1, minor: 36, patch: 4 }],
    ["1.36.0", { major: 1, minor: 36, patch: 0 }],
    ["1.36.4-1.1", { major: 1, minor: 36, patch: 4 }],
    ["1.36.4-2", { major: 1, minor: 36, patch: 4 }],
    ["v1.30", { major: 1, minor: 30 }],
  ])("%s", (value, expected) => {
    expect(parseVersionSpec(value, KEY)).toEqual(expected);
  });

  it("a minor-only spec without any patch property (1.36)", () => {
    const spec = parseVersionSpec("1.36", KEY);
    expect(spec).toEqual({ major: 1, minor: 36 });
    expect("patch" in spec).toBe(false);
    expect(spec.patch).toBeUndefined();
  });
});

describe("parseVersionSpec rejects, naming the key and the value", () => {
  it("a YAML number (1.30 read as 1.3), telling the user to quote it", () => {
    const err = inputErrorOf(() => parseVersionSpec(1.3, KEY));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ key: KEY, value: 1.3 });
    expect(err.message).toContain(KEY);
    expect(err.message).toContain("(got 1.3)");
    expect(err.message).toMatch(/number/);
    expect(err.message).toMatch(/quoted/);
  });

  it("an integer number too (1 is not a version)", () => {
    const err = inputErrorOf(() => parseVersionSpec(1, KEY));
    expect(err.problems[0]).toMatchObject({ key: KEY, value: 1 });
    expect(err.message).toMatch(/quoted/);
  });

  it.each(["1.36.4-rc.1", "2.0.0", "1.036.1", "latest", "", "1.36.4.5", "1", "v", "1.36.", "1.36-1.1", "0.36.4"])(
    "%j",
    (value) => {
      const err = inputErrorOf(() => parseVersionSpec(value, KEY));
      expect(err.problems).toHaveLength(1);
      expect(err.problems[0]!.key).toBe(KEY);
      expect(err.problems[0]!.value).toBe(value);
      expect(err.message).toContain(`${KEY}: `);
      expect(err.message).toContain(`(got ${JSON.stringify(value)})`);
    },
  );

  it("a major other than 1 with its own explanation", () => {
    const err = inputErrorOf(() => parseVersionSpec("2.0.0", KEY));
    expect(err.problems[0]!.problem).toMatch(/major version other than 1/);
  });

  it("undefined, shown as nothing", () => {
    const err = inputErrorOf(() => parseVersionSpec(undefined, KEY));
    expect(err.problems[0]).toMatchObject({ key: KEY, value: undefined });
    expect(err.message).toContain(KEY);
    expect(err.message).toContain("(got nothing)");
  });

  it.each([[null], [{ version: "1.36.4" }], [["1.36.4"]], [true]])("a non-string value %j", (value) => {
    const err = inputErrorOf(() => parseVersionSpec(value, KEY));
    expect(err.problems[0]).toMatchObject({ key: KEY, value });
    expect(err.message).toContain(JSON.stringify(value));
  });
});

describe("parseFullVersion", () => {
  it("returns a KubeVersion for a full spec, including the package form", () => {
    const x = parseFullVersion("v1.36.4", KEY);
    expect(x).toBeInstanceOf(KubeVersion);
    expect([x.major, x.minor, x.patch]).toEqual([1, 36, 4]);
    expect(parseFullVersion("1.36.4-1.1", KEY).equals(x)).toBe(true);
  });

  it("refuses a minor-only spec, naming the key and value", () => {
    const err = inputErrorOf(() => parseFullVersion("1.36", KEY));
    expect(err.problems[0]).toMatchObject({ key: KEY, value: "1.36" });
    expect(err.message).toMatch(/needs a patch/);
    expect(err.message).toContain('(got "1.36")');
  });

  it("refuses what parseVersionSpec refuses, with the same key", () => {
    const err = inputErrorOf(() => parseFullVersion("latest", KEY));
    expect(err.problems[0]!.key).toBe(KEY);
  });

  // BUG (planning/versions.ts parseVersionSpec/parseFullVersion): a part beyond
  // Number.MAX_SAFE_INTEGER passes the pattern, then KubeVersion.of throws a RangeError that
  // names neither the config key nor the value, instead of the documented InputErrors.
  it("refuses a version part too large for a number with an InputErrors naming the key", () => {
    const value = "1.99999999999999999999.0";
    const err = inputErrorOf(() => parseFullVersion(value, KEY));
    expect(err.problems[0]).toMatchObject({ key: KEY, value });
  });
});

describe("KubeVersion", () => {
  const a = KubeVersion.of(1, 35, 9);
  const b = KubeVersion.of(1, 36, 4);

  it("compares by minor then patch, numerically", () => {
    expect(a.compare(b)).toBeLessThan(0);
    expect(b.compare(a)).toBeGreaterThan(0);
    expect(b.compare(KubeVersion.of(1, 36, 4))).toBe(0);
    expect(KubeVersion.of(1, 36, 10).compare(KubeVersion.of(1, 36, 9))).toBeGreaterThan(0);
    expect(KubeVersion.of(1, 9, 0).compare(KubeVersion.of(1, 10, 0))).toBeLessThan(0);
    expect(a.isBefore(b)).toBe(true);
    expect(b.isBefore(a)).toBe(false);
    expect(b.isBefore(b)).toBe(false);
    expect(b.equals(KubeVersion.of(1, 36, 4))).toBe(true);
    expect(b.equals(KubeVersion.of(1, 36, 5))).toBe(false);
  });

  it("sorts with compare", () => {
    const sorted = [b, KubeVersion.of(1, 36, 10), a, KubeVersion.of(1, 4, 0)].sort((x, y) => x.compare(y));
    expect(sorted.map(String)).toEqual(["1.4.0", "1.35.9", "1.36.4", "1.36.10"]);
  });

  it("counts minors with minorsAfter, ignoring patches, signed", () => {
    expect(b.minorsAfter(a)).toBe(1);
    expect(a.minorsAfter(b)).toBe(-1);
    expect(b.minorsAfter(KubeVersion.of(1, 36, 0))).toBe(0);
    expect(KubeVersion.of(1, 37, 0).minorsAfter(KubeVersion.of(1, 33, 99))).toBe(4);
  });

  it("renders tag, minorLine, toString and toJSON", () => {
    expect(b.tag).toBe("v1.36.4");
    expect(b.minorLine).toBe("1.36");
    expect(b.toString()).toBe("1.36.4");
    expect(`${b}`).toBe("1.36.4");
    expect(b.toJSON()).toBe("1.36.4");
    expect(JSON.stringify({ target: b })).toBe('{"target":"1.36.4"}');
  });

  it("of() refuses negative and non-integer parts", () => {
    expect(() => KubeVersion.of(1, -1, 0)).toThrow(RangeError);
    expect(() => KubeVersion.of(1, 36, 0.5)).toThrow(RangeError);
    expect(() => KubeVersion.of(1, Number.NaN, 0)).toThrow(RangeError);
  });

  it("newest() picks the newer of two, either order", () => {
    expect(newest(a, b)).toBe(b);
    expect(newest(b, a)).toBe(b);
  });
});
