/**
 * The stack config key `maintenanceWindow`: when `pulumi up` may carry out a wave. Read into a
 * {@link MaintenanceWindow}; whether it is open at a given moment is preflight/window.ts.
 *
 *   maintenanceWindow:
 *     days: [sat, sun]        # the days a window OPENS on, mon..sun; absent: every day
 *     start: "22:00"          # local time it opens, HH:MM, 24 h (quote it in YAML)
 *     lengthMinutes: 240      # or lengthHours: 4; at most 7 days
 *     timeZone: Europe/Berlin # an IANA time zone; absent: UTC
 *     fit: expected           # a wave starts only if it ends in the window by its expected
 *                             # time (the default) or, with `bound`, even if every timeout runs
 *                             # out (a control-plane wave's bound is hours: see planning/duration.ts)
 *
 * Each listed day opens a window of its own; a window that crosses midnight belongs to the day
 * it opens on (`days: [sat]`, 22:00 for 6 h is Saturday 22:00 to Sunday 04:00). Windows may
 * not overlap: the length is at most the time from one listed day to the next (24 h when two
 * consecutive days are listed, 7 days when one day is).
 */
import { FieldReader } from "./fields";

/** A day of the week, as written in the config. */
export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

/** The days in week order, Monday first (ISO 8601). */
export const WEEKDAYS: readonly Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** Shortest window, minutes: a typo (`lengthMinutes: 4` meant as hours) rather than a plan. */
export const MIN_WINDOW_MINUTES = 15;
/** Longest window, minutes: 7 days (one listed day; a window a week long opens as the last closes). */
export const MAX_WINDOW_MINUTES = 7 * 24 * 60;
/** The time zone when none is given. */
export const DEFAULT_TIME_ZONE = "UTC";

/** When `pulumi up` may carry out a wave (stack config `maintenanceWindow`). */
export interface MaintenanceWindow {
  /** The days a window opens on, in week order, each once; all seven when the config lists none. */
  readonly days: readonly Weekday[];
  /** Local time the window opens, `HH:MM` (24 h), as written. */
  readonly start: string;
  /** The same, minutes after local midnight (0..1439). */
  readonly startMinute: number;
  /** How long each window lasts, minutes ({@link MIN_WINDOW_MINUTES}..{@link MAX_WINDOW_MINUTES}). */
  readonly lengthMinutes: number;
  /** IANA time zone the days and start are read in, canonical spelling (`Europe/Berlin`). @default "UTC" */
  readonly timeZone: string;
  /**
   * Which duration of a wave (planning/duration.ts estimateWave) must end inside the open window
   * for the wave to start: `expected`, its typical time (a window of a few hours holds a
   * control-plane wave, at the risk of running past the close when something is slow), or
   * `bound`, what the timeouts allow (it cannot overrun, but a control-plane wave's bound is
   * several hours). @default "expected"
   */
  readonly fit: WindowFit;
}

/** What must fit in the window: a wave's bound or its expected duration. */
export type WindowFit = "bound" | "expected";
export const WINDOW_FITS: readonly WindowFit[] = ["bound", "expected"];

const KEYS = ["days", "start", "lengthMinutes", "lengthHours", "timeZone", "fit"] as const;
const EXAMPLE = '{ days: ["sat", "sun"], start: "22:00", lengthMinutes: 240, timeZone: "Europe/Berlin" }';
const HHMM = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

/**
 * The canonical name of an IANA time zone (`europe/berlin` -> `Europe/Berlin`), or undefined
 * when Intl does not know it (`new Intl.DateTimeFormat` throws a RangeError for those).
 */
export function canonicalTimeZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

/**
 * Most minutes a window may last with these days without overlapping the next one: the
 * shortest distance, in days, from a listed day to the next listed day (a week after itself).
 */
export function longestWindowMinutes(days: readonly Weekday[]): number {
  const at = [...new Set(days)].map((d) => WEEKDAYS.indexOf(d)).sort((a, b) => a - b);
  if (at.length === 0) return MAX_WINDOW_MINUTES;
  let gap = 7;
  for (let i = 0; i < at.length; i++) gap = Math.min(gap, (at[(i + 1) % at.length]! - at[i]! + 7) % 7 || 7);
  return gap * 24 * 60;
}

/**
 * Reads the stack config value `maintenanceWindow` (see the file comment for its shape).
 * Each problem is recorded on `r.problems` naming the key (`maintenanceWindow.start`), the
 * value and the fix; nothing is thrown.
 * @param value the raw value; undefined when the key is absent.
 * @param key the key named in problems. @default "maintenanceWindow"
 * @returns the window; undefined when the key is absent (no window: any time will do) and also
 *   when it has a problem, so tell the two apart by `r.problems.size`.
 */
export function parseMaintenanceWindow(r: FieldReader, value: unknown, key = "maintenanceWindow"): MaintenanceWindow | undefined {
  if (value === undefined) return undefined;
  const w = r.object(value, key, EXAMPLE);
  if (!w) return undefined;
  const before = r.problems.size;
  r.noUnknownKeys(w, key, KEYS);

  const days = parseDays(r, w.days, `${key}.days`);
  const start = parseStart(r, w.start, `${key}.start`);
  const length = parseLength(r, w.lengthMinutes, w.lengthHours, key, days);
  let timeZone: string | undefined = DEFAULT_TIME_ZONE;
  if (w.timeZone !== undefined) {
    timeZone = typeof w.timeZone === "string" && w.timeZone.length <= 64 ? canonicalTimeZone(w.timeZone) : undefined;
    if (timeZone === undefined) {
      r.problems.add(`${key}.timeZone`, w.timeZone, "is not an IANA time zone this Node.js knows", `give a zone name such as "Europe/Berlin", "America/New_York" or "UTC", or leave it out for ${DEFAULT_TIME_ZONE}`);
    }
  }
  const fit = r.choice(w.fit, `${key}.fit`, WINDOW_FITS, "expected");
  if (r.problems.size > before || !days || !start || length === undefined || !timeZone || !fit) return undefined;
  return { days, start: start.text, startMinute: start.minute, lengthMinutes: length, timeZone, fit };
}

function parseDays(r: FieldReader, value: unknown, key: string): Weekday[] | undefined {
  if (value === undefined) return [...WEEKDAYS];
  const fix = `list days from ${WEEKDAYS.join(", ")}, e.g. days: ["sat", "sun"], or leave days out for every day`;
  const list = r.array(value, key, '["sat", "sun"]');
  if (!list) return undefined;
  if (list.length === 0) {
    r.problems.add(key, value, "lists no day", fix);
    return undefined;
  }
  const seen = new Set<Weekday>();
  let ok = true;
  list.forEach((item, i) => {
    const day = typeof item === "string" ? (item.toLowerCase() as Weekday) : undefined;
    if (!day || !WEEKDAYS.includes(day)) {
      r.problems.add(`${key}[${i}]`, item, "is not a day of the week", fix);
      ok = false;
    } else if (seen.has(day)) {
      r.problems.add(`${key}[${i}]`, item, "repeats a day listed before", "list each day once");
      ok = false;
    } else seen.add(day);
  });
  return ok ? WEEKDAYS.filter((d) => seen.has(d)) : undefined;
}

function parseStart(r: FieldReader, value: unknown, key: string): { text: string; minute: number } | undefined {
  const fix = 'give the local time the window opens as "HH:MM" (24 h, quoted), e.g. start: "22:00"';
  if (value === undefined) {
    r.problems.add(key, value, "is required", fix);
    return undefined;
  }
  if (typeof value === "number") {
    // YAML 1.1 reads an unquoted 22:00 as the base-60 number 1320.
    r.problems.add(key, value, "is a number, not a time (an unquoted 22:00 reads as 1320 in YAML 1.1)", fix);
    return undefined;
  }
  const m = typeof value === "string" ? HHMM.exec(value) : null;
  if (!m) {
    r.problems.add(key, value, "is not a time HH:MM from 00:00 to 23:59", fix);
    return undefined;
  }
  return { text: value as string, minute: Number(m[1]) * 60 + Number(m[2]) };
}

function parseLength(r: FieldReader, minutes: unknown, hours: unknown, key: string, days: readonly Weekday[] | undefined): number | undefined {
  if (minutes !== undefined && hours !== undefined) {
    r.problems.add(`${key}.lengthHours`, hours, `is given together with ${key}.lengthMinutes`, "give the length once: lengthMinutes or lengthHours");
    return undefined;
  }
  if (minutes === undefined && hours === undefined) {
    r.problems.add(`${key}.lengthMinutes`, undefined, "is required", "give how long each window lasts, e.g. lengthMinutes: 240 or lengthHours: 4");
    return undefined;
  }
  const inHours = minutes === undefined;
  const lengthKey = `${key}.${inHours ? "lengthHours" : "lengthMinutes"}`;
  const value = inHours ? hours : minutes;
  const [min, max] = inHours ? [Math.ceil(MIN_WINDOW_MINUTES / 60), MAX_WINDOW_MINUTES / 60] : [MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES];
  // Digits in a string count too, as FieldReader.integer reads them (Pulumi may hand values over as text).
  const n = typeof value === "string" && /^[0-9]{1,9}$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    const unit = inHours ? "hours" : "minutes";
    r.problems.add(lengthKey, value, `is not a whole number of ${unit} from ${min} to ${max} (at most 7 days)`, `give a whole number of ${unit} from ${min} to ${max}`);
    return undefined;
  }
  const length = inHours ? n * 60 : n;
  if (days) {
    const longest = longestWindowMinutes(days);
    if (length > longest) {
      const most = inHours ? `${longest / 60} hours` : `${longest} minutes`;
      r.problems.add(lengthKey, value, `makes a window last past the opening of the next (days: ${days.join(", ")})`, `give at most ${most}, or list fewer days: each listed day opens a window of its own and windows may not overlap`);
      return undefined;
    }
  }
  return length;
}
