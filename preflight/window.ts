/**
 * Whether a maintenance window (stack config `maintenanceWindow`, config/window-config.ts) is
 * open at a given moment, when it closes or when the next one opens, and whether a wave of a
 * given duration fits. Pure: the moment is an argument, never the clock; time zones through
 * Intl only (the zone data of the running Node.js).
 *
 * How a window is placed on the calendar, in its time zone:
 * - A window belongs to the day it opens on: `days: [sat]`, 22:00 for 6 h runs from Saturday
 *   22:00 to Sunday 04:00 local time.
 * - It closes at the local time `start + length` shows (04:00 above), but never after `length`
 *   has passed: on the night clocks go back (a 25-hour day) a 22:00 + 6 h window closes after 6 h,
 *   at 03:00 local; on the night they go forward (23 hours) it closes at 04:00 local, after 5 h.
 *   So a window never ends later than the local time it names nor lasts longer than its length.
 * - A start (or end) the clock skips on a spring-forward day (02:30 in Europe/Berlin on the last
 *   Sunday of March, when 02:00 jumps to 03:00) is taken as the moment of the jump: the window
 *   opens at 03:00 local, the first moment the clock reads 02:30 or later. A window that lies
 *   wholly inside the skipped hour (02:15 for 15 min) does not open that day.
 * - A start the clock shows twice on a fall-back day (02:30 in Europe/Berlin on the last Sunday
 *   of October) is the first of the two (02:30 summer time).
 * - Each listed day opens a window of its own; two windows never overlap (the config refuses
 *   that), and one that ends as the next opens (every day, 24 h) is two windows: a wave must
 *   fit in one.
 * A repeated local time is read as iCalendar (RFC 5545, 3.3.5) and Temporal's "compatible" read
 * it (the first); a skipped one differs: they shift it by the skip (02:30 -> 03:30), we open at
 * the jump (03:00), so the window loses no more than the hour the clock skipped.
 */
import { type MaintenanceWindow, type Weekday, WEEKDAYS } from "../config/window-config";
import { type DurationEstimate, formatDuration } from "../planning/duration";

/** The window at one moment: open until `closesAt`, or closed until `opensAt`; `at` is that moment. */
export type WindowState =
  | { readonly open: true; readonly closesAt: Date; readonly at: Date }
  | { readonly open: false; readonly opensAt: Date; readonly at: Date };

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** getUTCDay() (0 = Sunday) to the config's day names. */
const BY_UTC_DAY: readonly Weekday[] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Milliseconds since the epoch of a UTC calendar time (years below 100 kept as they are). */
function utc(y: number, month: number, d: number, h: number, mi: number, s: number): number {
  const t = new Date(0);
  t.setUTCFullYear(y, month - 1, d);
  t.setUTCHours(h, mi, s, 0);
  return t.getTime();
}

/**
 * The zone's offset from UTC at `instant`, milliseconds (Europe/Berlin in summer: +7,200,000):
 * the local wall clock, read as if it were UTC, minus the instant (to the second).
 */
function offsetAt(instant: number, timeZone: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(instant)) if (part.type !== "literal") p[part.type] = Number(part.value);
  const second = Math.floor(instant / 1000) * 1000;
  return utc(p.year!, p.month!, p.day!, p.hour! % 24, p.minute!, p.second!) - second;
}

/**
 * The instant the local clock reads `wall` (local time as milliseconds, read as if UTC): the
 * earlier of two when the clock shows it twice; the moment of the jump when the clock skips it.
 */
function instantOfWall(wall: number, timeZone: string): number {
  const before = offsetAt(wall - DAY, timeZone);
  const after = offsetAt(wall + DAY, timeZone);
  const found = [wall - before, wall - after].filter((t) => t + offsetAt(t, timeZone) === wall);
  if (found.length > 0) return Math.min(...found);
  if (before === after) return wall - before; // no transition nearby: cannot happen for a real zone
  // Skipped: the first second with the offset after the jump, between the two readings.
  let lo = Math.min(wall - before, wall - after);
  let hi = Math.max(wall - before, wall - after);
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (offsetAt(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Local midnight (as if UTC) of the local date at `instant`. */
function localDay(instant: number, timeZone: string): number {
  const wall = instant + offsetAt(instant, timeZone);
  return Math.floor(wall / DAY) * DAY;
}

/** The window that opens on the local date `day` (local midnight as if UTC), or undefined when it is empty. */
function occurrence(window: MaintenanceWindow, day: number): { open: number; close: number } | undefined {
  const startWall = day + window.startMinute * MINUTE;
  const open = instantOfWall(startWall, window.timeZone);
  const close = Math.min(instantOfWall(startWall + window.lengthMinutes * MINUTE, window.timeZone), open + window.lengthMinutes * MINUTE);
  return close > open ? { open, close } : undefined;
}

/** Days looked ahead for the next opening: a week, and another for a window a DST jump swallowed. */
const LOOK_AHEAD_DAYS = 15;

/**
 * The window at `now`: `{ open: true, closesAt }` while a window is open (now >= its opening,
 * now < closesAt), else `{ open: false, opensAt }`, the next opening after `now`; both carry
 * `at: now`. Computed in the window's time zone, by the rules in this file's comment (a window
 * crossing midnight belongs to the day it opens on; DST: never past the local end time nor
 * longer than its length; a skipped start opens at the jump).
 * Guarantees: when open, now < closesAt <= now + lengthMinutes; when closed, opensAt > now
 * and windowState(window, opensAt) is open.
 * @throws Error when `window.days` is empty (the config never gives that), or RangeError for a
 *   time zone Intl does not know (the config refuses those).
 */
export function windowState(window: MaintenanceWindow, now: Date): WindowState {
  if (window.days.length === 0) throw new Error("a maintenance window needs at least one day");
  const t = now.getTime();
  const today = localDay(t, window.timeZone);
  const back = Math.ceil(window.lengthMinutes / (24 * 60)) + 1;
  let closesAt: number | undefined;
  let opensAt: number | undefined;
  for (let k = -back; k <= LOOK_AHEAD_DAYS; k++) {
    const day = today + k * DAY;
    if (!window.days.includes(BY_UTC_DAY[new Date(day).getUTCDay()]!)) continue;
    const o = occurrence(window, day);
    if (!o) continue;
    if (o.open <= t && t < o.close) closesAt = Math.max(closesAt ?? o.close, o.close);
    else if (o.open > t && (opensAt === undefined || o.open < opensAt)) opensAt = o.open;
  }
  if (closesAt !== undefined) return { open: true, closesAt: new Date(closesAt), at: now };
  if (opensAt === undefined) throw new Error(`no maintenance window opens within ${LOOK_AHEAD_DAYS} days of ${now.toISOString()}`);
  return { open: false, opensAt: new Date(opensAt), at: now };
}

/**
 * Whether something lasting `seconds` and started at the state's moment ends inside the open
 * window: `state.open` and `at + seconds <= closesAt`. False whenever the window is closed.
 * @param seconds the duration, seconds (a wave's estimate: planning/duration.ts estimateWave, boundSeconds).
 * @throws RangeError when seconds is negative or not a number.
 */
export function fitsInWindow(state: WindowState, seconds: number): boolean {
  if (!(seconds >= 0)) throw new RangeError(`a duration must be a number of seconds >= 0, got ${seconds}`);
  return state.open && state.at.getTime() + seconds * 1000 <= state.closesAt.getTime();
}

/**
 * The seconds of a wave that must end inside the window, by the window's `fit`: the estimate's
 * `expectedSeconds` (default) or its `boundSeconds`. Use with {@link fitsInWindow}.
 */
export function fitSeconds(window: MaintenanceWindow, estimate: DurationEstimate): number {
  return window.fit === "expected" ? estimate.expectedSeconds : estimate.boundSeconds;
}

function hhmm(minute: number): string {
  const m = ((minute % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

function dayName(d: Weekday): string {
  return d[0]!.toUpperCase() + d.slice(1);
}

/**
 * One line for messages: `Sat, Sun 22:00-02:00 Europe/Berlin`, `every day 01:00-05:00 UTC`; a
 * window of 24 h or more by its length: `Fri 18:00 for 60 h Europe/Berlin`. Times are local
 * wall-clock times in the window's zone; the end may cross midnight.
 */
export function describeWindow(window: MaintenanceWindow): string {
  const days = window.days.length === WEEKDAYS.length ? "every day" : WEEKDAYS.filter((d) => window.days.includes(d)).map(dayName).join(", ");
  const when = window.lengthMinutes < 24 * 60 ? `${hhmm(window.startMinute)}-${hhmm(window.startMinute + window.lengthMinutes)}` : `${hhmm(window.startMinute)} for ${formatDuration(window.lengthMinutes * 60)}`;
  return `${days} ${when} ${window.timeZone}`;
}

/**
 * A moment as local time in `timeZone` and as UTC, for messages:
 * `Sat 2026-03-28 22:00 Europe/Berlin (21:00 UTC)`.
 * @throws RangeError for a time zone Intl does not know.
 */
export function formatInZone(at: Date, timeZone: string): string {
  const t = at.getTime();
  const wall = new Date(t + offsetAt(t, timeZone));
  const date = wall.toISOString().slice(0, 10);
  const local = `${dayName(BY_UTC_DAY[wall.getUTCDay()]!)} ${date} ${wall.toISOString().slice(11, 16)} ${timeZone}`;
  return timeZone === "UTC" ? local : `${local} (${at.toISOString().slice(11, 16)} UTC)`;
}

/**
 * What `pulumi up` says about the window: `maintenance window Sat, Sun 22:00-02:00 Europe/Berlin
 * is open until Sun 2026-03-29 02:00 Europe/Berlin (00:00 UTC), 3 h 10 min left` or `... is
 * closed; the next opens Sat 2026-04-04 22:00 Europe/Berlin (20:00 UTC), in 5 h 20 min`.
 */
export function describeWindowState(window: MaintenanceWindow, state: WindowState): string {
  const name = `maintenance window ${describeWindow(window)}`;
  const seconds = (d: Date) => Math.max(0, Math.round((d.getTime() - state.at.getTime()) / 1000));
  // Time left rounds down to the minute (formatDuration rounds up); the wait for the opening rounds up.
  const left = (d: Date) => (seconds(d) < 60 ? seconds(d) : Math.floor(seconds(d) / 60) * 60);
  return state.open
    ? `${name} is open until ${formatInZone(state.closesAt, window.timeZone)}, ${formatDuration(left(state.closesAt))} left`
    : `${name} is closed; the next opens ${formatInZone(state.opensAt, window.timeZone)}, in ${formatDuration(seconds(state.opensAt))}`;
}
