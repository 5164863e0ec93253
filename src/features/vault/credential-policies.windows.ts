/**
 * Rotation windows: when a policy lets Custos change a credential's secret on its target. Times are the wall
 * clock of the window's IANA time zone. A window with from < to runs that day from `from` until `to`; a window
 * with from > to crosses midnight: it starts on each listed day at `from` and ends the next day at `to`
 * (fri 22:00-02:00 is Friday 22:00 to Saturday 02:00). `to` may be 24:00, the end of the day. On a day the
 * clocks jump forward, wall-clock times that do not exist are never inside a window; when they fall back, the
 * repeated hour is inside a window both times.
 */

/** Days of the week as windows name them, Monday first. */
export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];

/** One rotation window, already validated (see credential-policies.schemas.ts). */
export interface RotationWindow {
  days: Weekday[];
  from: string;
  to: string;
  timeZone: string;
}

/** Minutes since midnight of "HH:MM" (00:00 to 24:00). */
export const minutesOf = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/** The canonical IANA name for a time zone (Europe/Paris for europe/paris), or null when Intl does not know it. */
export function canonicalTimeZone(name: string): string | null {
  // Offsets such as +01:00 are accepted by newer Intl versions but are not zones: they ignore daylight saving.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The weekday and minute of the day at an instant, on the wall clock of a time zone. */
export function localTime(at: number, timeZone: string): { day: Weekday; minute: number } {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((part) => [part.type, part.value]));
  return { day: parts.weekday!.toLowerCase() as Weekday, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

const dayBefore = (day: Weekday) => weekdays[(weekdays.indexOf(day) + 6) % 7]!;

/** Whether an instant falls inside one window. */
export function inWindow(window: RotationWindow, at: number): boolean {
  const { day, minute } = localTime(at, window.timeZone);
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  if (from < to) return window.days.includes(day) && minute >= from && minute < to;
  // Crossing midnight: the evening part belongs to a listed day, the morning part to the day after one.
  return (window.days.includes(day) && minute >= from) || (window.days.includes(dayBefore(day)) && minute < to);
}

/** Whether a rotation may run at an instant: inside any window, or at any time when the policy has none. */
export function inRotationWindow(windows: readonly RotationWindow[], at: number): boolean {
  return windows.length === 0 || windows.some((window) => inWindow(window, at));
}
