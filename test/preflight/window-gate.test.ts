/** The maintenance window's gate: closed: nothing runs and the next opening is said; open: a wave runs only if it ends by the close. */
import type { MaintenanceWindow } from "../../config/window-config";
import { refuseOutsideWindow, WindowError } from "../../preflight/window-gate";
import { thrownBy } from "../helpers/errors";

const saturdayNights: MaintenanceWindow = { days: ["sat"], start: "22:00", startMinute: 22 * 60, lengthMinutes: 240, timeZone: "Europe/Berlin", fit: "expected" };
const wave = "wave 1: hop 1 v1.36.4, control plane: 3 node(s), 7 step(s)";
const estimate = { expectedSeconds: 33 * 60, boundSeconds: 5 * 3600 };

it("closed: refuses, saying when the next window opens", () => {
  // Friday 2026-11-27 12:00 UTC is 13:00 in Berlin: the next window opens Saturday 22:00 CET (21:00 UTC).
  const e = thrownBy(WindowError, () => refuseOutsideWindow(saturdayNights, new Date("2026-11-27T12:00:00Z"), wave, estimate));
  expect(e.message).toBe("outside the maintenance window Sat 22:00-02:00 Europe/Berlin is closed; the next opens Sat 2026-11-28 22:00 Europe/Berlin (21:00 UTC), in 33 h: nothing was run. Run pulumi up again then");
});

it("open: a wave that ends by the close runs; one that does not is refused with both durations and the fixes", () => {
  const at2230 = new Date("2026-11-28T21:30:00Z");
  expect(() => refuseOutsideWindow(saturdayNights, at2230, wave, estimate)).not.toThrow();
  const at0130 = new Date("2026-11-29T00:30:00Z");
  const e = thrownBy(WindowError, () => refuseOutsideWindow(saturdayNights, at0130, wave, estimate));
  expect(e.message).toContain(`${wave} needs 33 min (expected 33 min, at most 5 h; maintenanceWindow.fit: expected) but the maintenance window Sat 22:00-02:00 Europe/Berlin is open until`);
  expect(e.message).toContain("it was not started, nothing was run");
  // fit: bound needs the 5 h bound, which this 4 h window never holds.
  const strict = thrownBy(WindowError, () => refuseOutsideWindow({ ...saturdayNights, fit: "bound" }, at2230, wave, estimate));
  expect(strict.message).toContain("needs 5 h (expected 33 min, at most 5 h; maintenanceWindow.fit: bound)");
  expect(strict.message).toContain("or set maintenanceWindow.fit: expected");
});
