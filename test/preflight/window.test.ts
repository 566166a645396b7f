/**
 * Whether a maintenance window is open (preflight/window.ts): across midnight, across DST
 * changes in Europe/Berlin and America/New_York, with a days filter, the next opening of a
 * closed window; and properties over random windows, zones and moments.
 */
import fc from "fast-check";
import { longestWindowMinutes, MaintenanceWindow, Weekday, WEEKDAYS } from "../../config/window-config";
import { describeWindow, describeWindowState, fitSeconds, fitsInWindow, formatInZone, windowState, WindowState } from "../../preflight/window";

function win(days: Weekday[], start: string, lengthMinutes: number, timeZone = "UTC"): MaintenanceWindow {
  const [h, m] = start.split(":").map(Number);
  return { days, start, startMinute: h! * 60 + m!, lengthMinutes, timeZone, fit: "bound" };
}

const at = (iso: string) => new Date(iso);
/** The state as ISO strings: `open until X` or `closed until X`. */
function state(window: MaintenanceWindow, iso: string): string {
  const s = windowState(window, at(iso));
  return s.open ? `open until ${s.closesAt.toISOString()}` : `closed until ${s.opensAt.toISOString()}`;
}

describe("a window that crosses midnight belongs to the day it opens on", () => {
  // Europe/Berlin in June is UTC+2: Saturday 13 June 2026, 22:00 local is 20:00 UTC.
  const weekend = win(["sat", "sun"], "22:00", 360, "Europe/Berlin");

  it("is open from Saturday 22:00 to Sunday 04:00 and from Sunday 22:00 to Monday 04:00", () => {
    expect(state(weekend, "2026-06-13T19:59:59Z")).toBe("closed until 2026-06-13T20:00:00.000Z");
    expect(state(weekend, "2026-06-13T20:00:00Z")).toBe("open until 2026-06-14T02:00:00.000Z");
    expect(state(weekend, "2026-06-13T23:00:00Z")).toBe("open until 2026-06-14T02:00:00.000Z"); // Sunday 01:00 local
    expect(state(weekend, "2026-06-14T02:00:00Z")).toBe("closed until 2026-06-14T20:00:00.000Z"); // closes at 04:00 sharp
    expect(state(weekend, "2026-06-14T23:30:00Z")).toBe("open until 2026-06-15T02:00:00.000Z"); // Monday 01:30, Sunday's window
  });

  it("is closed on Monday morning after 04:00 and on Friday night: the next opens on Saturday", () => {
    expect(state(weekend, "2026-06-15T03:00:00Z")).toBe("closed until 2026-06-20T20:00:00.000Z");
    expect(state(weekend, "2026-06-19T21:00:00Z")).toBe("closed until 2026-06-20T20:00:00.000Z"); // Friday 23:00 local
  });

  it("a window opening on the last day of the week runs into the first day of the next", () => {
    expect(state(win(["sun"], "23:00", 120), "2026-06-15T00:30:00Z")).toBe("open until 2026-06-15T01:00:00.000Z");
  });
});

describe("the days filter", () => {
  const wednesday = win(["wed"], "09:00", 60);
  it("opens only on the days listed", () => {
    expect(state(wednesday, "2026-06-16T09:30:00Z")).toBe("closed until 2026-06-17T09:00:00.000Z"); // a Tuesday
    expect(state(wednesday, "2026-06-17T09:30:00Z")).toBe("open until 2026-06-17T10:00:00.000Z");
    expect(state(wednesday, "2026-06-17T10:00:00Z")).toBe("closed until 2026-06-24T09:00:00.000Z");
  });

  it("every day when all are listed", () => {
    const nightly = win([...WEEKDAYS], "01:00", 240, "America/New_York");
    expect(state(nightly, "2026-06-16T04:00:00Z")).toBe("closed until 2026-06-16T05:00:00.000Z"); // 00:00 EDT
    expect(state(nightly, "2026-06-16T06:00:00Z")).toBe("open until 2026-06-16T09:00:00.000Z");
  });

  it("reads the day in the window's zone, not in UTC", () => {
    // Monday 01:00 in Tokyo (UTC+9) is Sunday 16:00 UTC.
    expect(state(win(["mon"], "01:00", 60, "Asia/Tokyo"), "2026-06-14T16:30:00Z")).toBe("open until 2026-06-14T17:00:00.000Z");
  });
});

describe("DST in Europe/Berlin (2026: forward on 29 March at 02:00 CET, back on 25 October at 03:00 CEST)", () => {
  const night = win(["sat"], "22:00", 360, "Europe/Berlin");

  it("a 22:00 + 6 h window closes at 04:00 local on the short night, after 5 h", () => {
    // Saturday 28 March 22:00 CET = 21:00 UTC; Sunday 04:00 CEST = 02:00 UTC.
    expect(state(night, "2026-03-28T20:00:00Z")).toBe("closed until 2026-03-28T21:00:00.000Z");
    expect(state(night, "2026-03-28T21:00:00Z")).toBe("open until 2026-03-29T02:00:00.000Z");
  });

  it("and after 6 h on the long night, at 03:00 local: never longer than its length", () => {
    // Saturday 24 October 22:00 CEST = 20:00 UTC; 6 h later is 02:00 UTC = 03:00 CET.
    expect(state(night, "2026-10-24T20:00:00Z")).toBe("open until 2026-10-25T02:00:00.000Z");
    expect(formatInZone(at("2026-10-25T02:00:00Z"), "Europe/Berlin")).toBe("Sun 2026-10-25 03:00 Europe/Berlin (02:00 UTC)");
  });

  it("a start the clock skips (02:30 on 29 March) opens at the jump, 03:00 CEST", () => {
    const early = win(["sun"], "02:30", 120, "Europe/Berlin");
    expect(state(early, "2026-03-29T00:59:00Z")).toBe("closed until 2026-03-29T01:00:00.000Z");
    // It still closes at 04:30 local (02:30 UTC): 1 h 30 min that night.
    expect(state(early, "2026-03-29T01:00:00Z")).toBe("open until 2026-03-29T02:30:00.000Z");
  });

  it("a window wholly inside the skipped hour does not open that day", () => {
    const skipped = win(["sun"], "02:15", 15, "Europe/Berlin");
    expect(state(skipped, "2026-03-28T12:00:00Z")).toBe("closed until 2026-04-05T00:15:00.000Z"); // next Sunday, 02:15 CEST
  });

  it("a start the clock shows twice (02:30 on 25 October) is the first, 02:30 CEST", () => {
    const early = win(["sun"], "02:30", 120, "Europe/Berlin");
    expect(state(early, "2026-10-25T00:00:00Z")).toBe("closed until 2026-10-25T00:30:00.000Z");
    expect(state(early, "2026-10-25T00:30:00Z")).toBe("open until 2026-10-25T02:30:00.000Z"); // 2 h later: 03:30 CET
  });
});

describe("DST in America/New_York (2026: forward on 8 March at 02:00 EST, back on 1 November at 02:00 EDT)", () => {
  const sunday = win(["sun"], "01:00", 180, "America/New_York");

  it("01:00 + 3 h closes at 04:00 EDT on the short night, after 2 h", () => {
    expect(state(sunday, "2026-03-08T06:00:00Z")).toBe("open until 2026-03-08T08:00:00.000Z"); // 01:00 EST to 04:00 EDT
  });

  it("opens at the first 01:00 on the long night and closes 3 h later, at 03:00 EST", () => {
    expect(state(sunday, "2026-11-01T04:59:00Z")).toBe("closed until 2026-11-01T05:00:00.000Z"); // 01:00 EDT
    expect(state(sunday, "2026-11-01T05:00:00Z")).toBe("open until 2026-11-01T08:00:00.000Z");
  });

  it("a skipped 02:30 start opens at 03:00 EDT", () => {
    expect(state(win(["sun"], "02:30", 60, "America/New_York"), "2026-03-08T05:00:00Z")).toBe("closed until 2026-03-08T07:00:00.000Z");
  });
});

describe("fitsInWindow", () => {
  const w = win(["sat"], "22:00", 240);
  const open = windowState(w, at("2026-06-14T01:00:00Z")); // Sunday 01:00: 1 h left

  it("is true when the duration ends by the close, false after it, and false while closed", () => {
    expect(fitsInWindow(open, 3600)).toBe(true);
    expect(fitsInWindow(open, 3601)).toBe(false);
    expect(fitsInWindow(open, 0)).toBe(true);
    expect(fitsInWindow(windowState(w, at("2026-06-14T02:00:00Z")), 0)).toBe(false);
  });

  it("takes a wave's bound, or its expected time when the window's fit says so", () => {
    const estimate = { expectedSeconds: 1800, boundSeconds: 7200 };
    expect(fitsInWindow(open, fitSeconds(w, estimate))).toBe(false);
    expect(fitsInWindow(open, fitSeconds({ ...w, fit: "expected" }, estimate))).toBe(true);
  });

  it("refuses a negative or missing duration", () => {
    expect(() => fitsInWindow(open, -1)).toThrow(RangeError);
    expect(() => fitsInWindow(open, Number.NaN)).toThrow(RangeError);
  });
});

describe("messages", () => {
  it("describe a window in one line", () => {
    expect(describeWindow(win(["sun", "sat"], "22:00", 240, "Europe/Berlin"))).toBe("Sat, Sun 22:00-02:00 Europe/Berlin");
    expect(describeWindow(win([...WEEKDAYS], "01:00", 240))).toBe("every day 01:00-05:00 UTC");
    expect(describeWindow(win(["fri"], "18:00", 3600, "Europe/Berlin"))).toBe("Fri 18:00 for 60 h Europe/Berlin");
    expect(describeWindow(win(["mon", "wed"], "09:30", 45))).toBe("Mon, Wed 09:30-10:15 UTC");
  });

  it("say when an open window closes and when a closed one opens, in local time and UTC", () => {
    const w = win(["sat", "sun"], "22:00", 240, "Europe/Berlin");
    expect(describeWindowState(w, windowState(w, at("2026-06-13T20:50:30Z")))).toBe("maintenance window Sat, Sun 22:00-02:00 Europe/Berlin is open until Sun 2026-06-14 02:00 Europe/Berlin (00:00 UTC), 3 h 9 min left");
    expect(describeWindowState(w, windowState(w, at("2026-06-15T10:00:00Z")))).toBe("maintenance window Sat, Sun 22:00-02:00 Europe/Berlin is closed; the next opens Sat 2026-06-20 22:00 Europe/Berlin (20:00 UTC), in 130 h");
  });
});

describe("properties", () => {
  const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "America/Santiago"];
  const windows: fc.Arbitrary<MaintenanceWindow> = fc
    .record({
      days: fc.subarray([...WEEKDAYS], { minLength: 1 }),
      startMinute: fc.integer({ min: 0, max: 1439 }),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
      timeZone: fc.constantFrom(...ZONES),
    })
    .map(({ days, startMinute, fraction, timeZone }) => {
      const longest = longestWindowMinutes(days);
      const lengthMinutes = 15 + Math.floor(fraction * (longest - 15));
      const start = `${String(Math.floor(startMinute / 60)).padStart(2, "0")}:${String(startMinute % 60).padStart(2, "0")}`;
      return { days, start, startMinute, lengthMinutes, timeZone, fit: "bound" as const };
    });
  // Moments from 2000 to 2040, often near a DST change (March, October, November, April).
  const moments = fc.oneof(
    fc.date({ min: at("2000-01-01T00:00:00Z"), max: at("2040-01-01T00:00:00Z"), noInvalidDate: true }),
    fc.record({ year: fc.integer({ min: 2000, max: 2039 }), month: fc.constantFrom(2, 3, 9, 10), day: fc.integer({ min: 0, max: 30 }), minute: fc.integer({ min: 0, max: 1439 }) })
      .map(({ year, month, day, minute }) => new Date(Date.UTC(year, month, 1 + day, 0, minute))),
  );

  it("when open: now < closesAt <= now + length, and it stays open with the same close until then", () => {
    fc.assert(
      fc.property(windows, moments, (w, now) => {
        const s: WindowState = windowState(w, now);
        if (!s.open) return;
        expect(now.getTime()).toBeLessThan(s.closesAt.getTime());
        expect(s.closesAt.getTime() - now.getTime()).toBeLessThanOrEqual(w.lengthMinutes * 60_000);
        const later = windowState(w, new Date(s.closesAt.getTime() - 1));
        expect(later).toMatchObject({ open: true, closesAt: s.closesAt });
      }),
      { numRuns: 300 },
    );
  });

  it("when closed: opensAt > now, the window is open at opensAt, and closed just before it", () => {
    fc.assert(
      fc.property(windows, moments, (w, now) => {
        const s = windowState(w, now);
        if (s.open) return;
        expect(s.opensAt.getTime()).toBeGreaterThan(now.getTime());
        expect(windowState(w, s.opensAt).open).toBe(true);
        expect(windowState(w, new Date(s.opensAt.getTime() - 1))).toMatchObject({ open: false, opensAt: s.opensAt });
      }),
      { numRuns: 300 },
    );
  });

  it("fitsInWindow is exactly: open and the duration ends by the close", () => {
    fc.assert(
      fc.property(windows, moments, fc.integer({ min: 0, max: 8 * 86400 }), (w, now, seconds) => {
        const s = windowState(w, now);
        expect(fitsInWindow(s, seconds)).toBe(s.open && now.getTime() + seconds * 1000 <= s.closesAt.getTime());
      }),
      { numRuns: 200 },
    );
  });
});
