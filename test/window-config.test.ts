/**
 * The stack config key `maintenanceWindow` (config/window-config.ts): what it accepts, and
 * that every problem names the key, the value and the fix.
 */
import { FieldReader } from "../config/fields";
import { longestWindowMinutes, MaintenanceWindow, parseMaintenanceWindow } from "../config/window-config";
import { InputProblem, ProblemList } from "../planning/errors";

function parse(value: unknown): { window: MaintenanceWindow | undefined; problems: InputProblem[] } {
  const list = new ProblemList();
  const window = parseMaintenanceWindow(new FieldReader(list), value);
  try {
    list.throwIfAny("test");
    return { window, problems: [] };
  } catch (e) {
    return { window, problems: [...(e as { problems: InputProblem[] }).problems] };
  }
}

/** The one problem `value` has. */
function problemOf(value: unknown): InputProblem {
  const { window, problems } = parse(value);
  expect(window).toBeUndefined();
  expect(problems).toHaveLength(1);
  return problems[0]!;
}

const good = { days: ["sat", "sun"], start: "22:00", lengthMinutes: 240, timeZone: "Europe/Berlin" };

describe("maintenanceWindow", () => {
  it("reads days, start, length and time zone", () => {
    expect(parse(good)).toEqual({ window: { days: ["sat", "sun"], start: "22:00", startMinute: 1320, lengthMinutes: 240, timeZone: "Europe/Berlin", fit: "expected" }, problems: [] });
  });

  it("is absent when the key is: no window, no problem", () => {
    expect(parse(undefined)).toEqual({ window: undefined, problems: [] });
  });

  it("defaults to every day, UTC and fitting by the expected time; takes the length in hours; puts days in week order; canonical zone names", () => {
    expect(parse({ start: "01:00", lengthHours: 4 }).window).toEqual({ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "01:00", startMinute: 60, lengthMinutes: 240, timeZone: "UTC", fit: "expected" });
    expect(parse({ days: ["Sun", "sat"], start: "00:00", lengthMinutes: "90", timeZone: "america/new_york", fit: "expected" }).window).toEqual({ days: ["sat", "sun"], start: "00:00", startMinute: 0, lengthMinutes: 90, timeZone: "America/New_York", fit: "expected" });
  });

  it("allows a window up to the next listed day: 7 days with one day, 24 h with consecutive days", () => {
    expect(longestWindowMinutes(["mon"])).toBe(7 * 1440);
    expect(longestWindowMinutes(["sat", "sun"])).toBe(1440);
    expect(longestWindowMinutes(["mon", "thu"])).toBe(3 * 1440);
    expect(parse({ days: ["fri"], start: "18:00", lengthHours: 168 }).window?.lengthMinutes).toBe(10080);
    expect(parse({ days: ["mon", "thu"], start: "18:00", lengthHours: 72 }).window?.lengthMinutes).toBe(4320);
  });

  it.each<[string, unknown, Partial<InputProblem>, RegExp]>([
    ["not a mapping", "sat 22:00", { key: "maintenanceWindow", value: "sat 22:00" }, /write it as \{ days/],
    ["an unknown key", { ...good, zone: "UTC" }, { key: "maintenanceWindow.zone", value: "UTC" }, /use one of: days, start, lengthMinutes, lengthHours, timeZone, fit/],
    ["an unknown fit", { ...good, fit: "typical" }, { key: "maintenanceWindow.fit", value: "typical" }, /use one of: bound, expected/],
    ["an unknown day", { ...good, days: ["sat", "sunday"] }, { key: "maintenanceWindow.days[1]", value: "sunday" }, /list days from mon, tue, wed, thu, fri, sat, sun/],
    ["a repeated day", { ...good, days: ["sat", "sat"] }, { key: "maintenanceWindow.days[1]", value: "sat" }, /list each day once/],
    ["no day", { ...good, days: [] }, { key: "maintenanceWindow.days", value: [] }, /leave days out for every day/],
    ["days not a list", { ...good, days: "sat" }, { key: "maintenanceWindow.days", value: "sat" }, /write it as \["sat", "sun"\]/],
    ["no start", { lengthMinutes: 60 }, { key: "maintenanceWindow.start", value: undefined }, /"HH:MM".*start: "22:00"/],
    ["a start past 23:59", { ...good, start: "24:00" }, { key: "maintenanceWindow.start", value: "24:00" }, /"HH:MM" \(24 h, quoted\)/],
    ["a start in 12-hour form", { ...good, start: "10pm" }, { key: "maintenanceWindow.start", value: "10pm" }, /"HH:MM"/],
    ["an unquoted start YAML 1.1 read as base 60", { ...good, start: 1320 }, { key: "maintenanceWindow.start", value: 1320 }, /quoted/],
    ["no length", { start: "22:00" }, { key: "maintenanceWindow.lengthMinutes", value: undefined }, /lengthMinutes: 240 or lengthHours: 4/],
    ["both lengths", { ...good, lengthHours: 4 }, { key: "maintenanceWindow.lengthHours", value: 4 }, /lengthMinutes or lengthHours/],
    ["a length too short", { ...good, lengthMinutes: 5 }, { key: "maintenanceWindow.lengthMinutes", value: 5 }, /from 15 to 10080/],
    ["a length over 7 days", { start: "22:00", days: ["mon"], lengthHours: 169 }, { key: "maintenanceWindow.lengthHours", value: 169 }, /from 1 to 168/],
    ["a fractional length", { ...good, lengthMinutes: 90.5 }, { key: "maintenanceWindow.lengthMinutes", value: 90.5 }, /whole number of minutes/],
    ["windows that overlap", { ...good, lengthMinutes: 1441 }, { key: "maintenanceWindow.lengthMinutes", value: 1441 }, /at most 1440 minutes, or list fewer days/],
    ["windows that overlap, in hours", { start: "22:00", days: ["mon", "thu"], lengthHours: 73 }, { key: "maintenanceWindow.lengthHours", value: 73 }, /at most 72 hours, or list fewer days/],
    ["an unknown time zone", { ...good, timeZone: "Mars/Olympus" }, { key: "maintenanceWindow.timeZone", value: "Mars/Olympus" }, /"Europe\/Berlin".*or leave it out for UTC/],
    ["a time zone not text", { ...good, timeZone: 1 }, { key: "maintenanceWindow.timeZone", value: 1 }, /zone name/],
  ])("refuses %s, naming the key, the value and the fix", (_, value, expected, fix) => {
    const p = problemOf(value);
    expect(p).toMatchObject(expected);
    expect(p.problem.length).toBeGreaterThan(0);
    expect(p.fix).toMatch(fix);
  });

  it("reports every problem at once", () => {
    const { window, problems } = parse({ days: ["someday"], start: "25:00", lengthMinutes: 0, timeZone: "Nowhere" });
    expect(window).toBeUndefined();
    expect(problems.map((p) => p.key)).toEqual(["maintenanceWindow.days[0]", "maintenanceWindow.start", "maintenanceWindow.lengthMinutes", "maintenanceWindow.timeZone"]);
  });

  it("names the key it is given", () => {
    const list = new ProblemList();
    parseMaintenanceWindow(new FieldReader(list), { start: "x", lengthMinutes: 60 }, "pools[0].maintenanceWindow");
    expect(() => list.throwIfAny("test")).toThrow('pools[0].maintenanceWindow.start: is not a time HH:MM from 00:00 to 23:59 (got "x")');
  });
});
