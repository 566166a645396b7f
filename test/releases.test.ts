/** planning/releases.ts: the embedded release catalogue, resolve() and config overrides. */
import { InputErrors } from "../planning/errors";
import { inputErrorOf } from "./helpers/errors";
import { ReleaseCatalogue, SUPPORTED_MINORS } from "../planning/releases";
import { KubeVersion, parseVersionSpec } from "../planning/versions";

const catalogue = ReleaseCatalogue.embedded();
const KEY = "cluster.targetVersion";


const resolve = (cat: ReleaseCatalogue, value: string): KubeVersion => cat.resolve(parseVersionSpec(value, KEY), KEY, value);

describe("embedded catalogue", () => {
  // Values from data/kubernetes-releases.json (REFERENCE.md table).
  it.each([
    [24, "1.24.17", "2022-05-03", "2023-07-28"],
    [25, "1.25.16", "2022-08-23", "2023-10-28"],
    [32, "1.32.13", "2024-12-11", "2026-02-28"],
    [34, "1.34.9", "2025-08-27", "2026-10-27"],
    [36, "1.36.4", "2026-04-22", "2027-06-28"],
    [37, "1.37.1", "2026-08-26", "2027-10-28"],
  ])("1.%i: latest patch %s, released %s, end of life %s", (minor, latestPatch, released, endOfLife) => {
    const r = catalogue.get(minor)!;
    expect(r).toBeDefined();
    expect(r.minor).toBe(minor);
    expect(r.latestPatch.toString()).toBe(latestPatch);
    expect(r.released).toBe(released);
    expect(r.endOfLife).toBe(endOfLife);
  });

  it("covers 1.24 to 1.37, oldest first, and knows nothing else", () => {
    expect(catalogue.all().map((r) => r.minor)).toEqual([24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37]);
    expect(catalogue.newest().minor).toBe(37);
    expect(catalogue.get(23)).toBeUndefined();
    expect(catalogue.get(38)).toBeUndefined();
  });

  it("supportedMinors() is the three newest", () => {
    expect(SUPPORTED_MINORS).toBe(3);
    expect(catalogue.supportedMinors()).toEqual([35, 36, 37]);
  });
});

describe("isEndOfLife", () => {
  // 1.34 reaches end of life on 2026-10-27 (UTC): still supported that day, EOL the next.
  it.each([
    ["2026-10-26T12:00:00Z", false],
    ["2026-10-27T00:00:00Z", false],
    ["2026-10-27T23:59:59Z", false],
    ["2026-10-28T00:00:00Z", true],
    ["2027-01-01T00:00:00Z", true],
  ])("1.34 at %s -> %s", (now, expected) => {
    expect(catalogue.isEndOfLife(34, new Date(now))).toBe(expected);
  });

  it("is false for a minor the catalogue does not know", () => {
    expect(catalogue.isEndOfLife(99, new Date("2099-01-01T00:00:00Z"))).toBe(false);
  });
});

describe("resolve", () => {
  it("turns a minor-only spec into that minor's latest patch", () => {
    expect(resolve(catalogue, "1.36").toString()).toBe("1.36.4");
    expect(resolve(catalogue, "v1.37").toString()).toBe("1.37.1");
  });

  it("keeps a full version up to the latest known patch", () => {
    expect(resolve(catalogue, "1.36.4").toString()).toBe("1.36.4");
    expect(resolve(catalogue, "1.36.0").toString()).toBe("1.36.0");
  });

  it("refuses an unknown minor, naming key and value and pointing at the releases config key", () => {
    const err = inputErrorOf(() => resolve(catalogue, "1.38"));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ key: KEY, value: "1.38" });
    expect(err.message).toContain(KEY);
    expect(err.message).toContain('"1.38"');
    expect(err.message).toContain('"releases"');
    expect(err.message).toContain("1.24 to 1.37");
    expect(() => resolve(catalogue, "1.23.0")).toThrow(InputErrors);
  });

  it("refuses a patch newer than the latest known, naming the latest known", () => {
    const err = inputErrorOf(() => resolve(catalogue, "1.36.5"));
    expect(err.problems[0]).toMatchObject({ key: KEY, value: "1.36.5" });
    expect(err.message).toContain("1.36.4");
    expect(err.message).toContain('"releases"');
  });
});

describe("withOverrides", () => {
  it("takes a newer patch for a known minor, inheriting its dates, and leaves the original alone", () => {
    const updated = catalogue.withOverrides([{ minor: "1.36", latestPatch: "1.36.6" }]);
    expect(updated.get(36)).toMatchObject({ minor: 36, released: "2026-04-22", endOfLife: "2027-06-28" });
    expect(updated.get(36)!.latestPatch.toString()).toBe("1.36.6");
    expect(resolve(updated, "1.36").toString()).toBe("1.36.6");
    expect(resolve(updated, "1.36.5").toString()).toBe("1.36.5");
    expect(catalogue.get(36)!.latestPatch.toString()).toBe("1.36.4");
    expect(updated.get(35)).toBe(catalogue.get(35));
  });

  it("adds a new minor given every field, which becomes the newest and supported", () => {
    const updated = catalogue.withOverrides([
      { minor: "1.38", latestPatch: "1.38.0", released: "2026-12-16", endOfLife: "2028-02-28" },
    ]);
    expect(updated.newest()).toMatchObject({ minor: 38, released: "2026-12-16", endOfLife: "2028-02-28" });
    expect(updated.supportedMinors()).toEqual([36, 37, 38]);
    expect(resolve(updated, "1.38").toString()).toBe("1.38.0");
    expect(catalogue.get(38)).toBeUndefined();
  });

  it("refuses a new minor without dates, listing each missing field with its key", () => {
    const err = inputErrorOf(() => catalogue.withOverrides([{ minor: "1.38", latestPatch: "1.38.0" }]));
    expect(err.problems.map((p) => p.key)).toEqual(["releases[0].released", "releases[0].endOfLife"]);
    expect(err.message).toContain("releases[0].released");
    expect(err.message).toContain("releases[0].endOfLife");
    expect(err.message).toMatch(/YYYY-MM-DD/);
  });

  it("refuses a malformed date", () => {
    const err = inputErrorOf(() =>
      catalogue.withOverrides([{ minor: "1.38", latestPatch: "1.38.0", released: "16/12/2026", endOfLife: "2028-02-28" }]),
    );
    expect(err.problems).toEqual([expect.objectContaining({ key: "releases[0].released", value: "16/12/2026" })]);
  });

  // BUG (planning/releases.ts toRelease): the date check relies on Date.parse, which V8
  // rolls over ("2026-02-30" -> 2026-03-02), so an impossible calendar date is accepted.
  it("refuses an impossible calendar date such as 2026-02-30", () => {
    const err = inputErrorOf(() =>
      catalogue.withOverrides([{ minor: "1.38", latestPatch: "1.38.0", released: "2026-12-16", endOfLife: "2028-02-30" }]),
    );
    expect(err.problems.map((p) => p.key)).toEqual(["releases[0].endOfLife"]);
  });

  it("refuses a latestPatch of another minor", () => {
    const err = inputErrorOf(() => catalogue.withOverrides([{ minor: "1.36", latestPatch: "1.37.2" }]));
    expect(err.problems).toEqual([expect.objectContaining({ key: "releases[0].latestPatch", value: "1.37.2" })]);
    expect(err.message).toMatch(/not a patch of 1\.36/);
  });

  it("refuses a minor-only latestPatch", () => {
    const err = inputErrorOf(() => catalogue.withOverrides([{ minor: "1.36", latestPatch: "1.36" }]));
    expect(err.problems.map((p) => p.key)).toEqual(["releases[0].latestPatch"]);
  });

  it.each([["1.38.0"], [null], [["1.38", "1.38.0"]], [38]])("refuses a non-object entry %j", (entry) => {
    const err = inputErrorOf(() => catalogue.withOverrides([entry]));
    expect(err.problems).toEqual([expect.objectContaining({ key: "releases[0]", value: entry })]);
    expect(err.message).toMatch(/not a release entry/);
  });

  it("refuses a bad minor", () => {
    const err = inputErrorOf(() => catalogue.withOverrides([{ minor: 1.38, latestPatch: "1.38.0" }]));
    expect(err.problems).toEqual([expect.objectContaining({ key: "releases[0].minor", value: 1.38 })]);
  });

  it("reports several bad entries together in one error, and uses the key it is given", () => {
    const good = { minor: "1.36", latestPatch: "1.36.5" };
    const err = inputErrorOf(() =>
      catalogue.withOverrides(
        [good, "nope", { minor: "1.38", latestPatch: "1.38.0" }, { minor: "1.35", latestPatch: "1.34.1" }],
        "stack.releases",
      ),
    );
    expect(err.problems.map((p) => p.key)).toEqual([
      "stack.releases[1]",
      "stack.releases[2].released",
      "stack.releases[2].endOfLife",
      "stack.releases[3].latestPatch",
    ]);
    expect(err.message).toContain("4 problems");
    for (const p of err.problems) expect(err.message).toContain(p.key);
  });
});
