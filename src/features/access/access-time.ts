/** Days of the week as policies name them, Monday first. */
export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];

/** When an action may be used: on these days (default every day), between these local times (default all day), in one IANA time zone. */
export interface TimeRestriction {
  timeZone: string;
  weekdays?: Weekday[];
  /** "HH:MM" to "HH:MM" (to may be "24:00"), end excluded; from after to crosses midnight, and the day named is the day it starts. */
  hours?: { from: string; to: string };
}

/** A restriction compiled once: minutes of the day and a flag per weekday (Monday = 0). */
export interface CompiledWindow {
  timeZone: string;
  days: readonly boolean[];
  from: number;
  to: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const dayIndex: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

// Building an Intl formatter costs far more than using one; there are only a few hundred zones.
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The canonical name of an IANA time zone this runtime knows (such as Europe/Berlin or UTC), or null. */
export function canonicalTimeZone(name: string): string | null {
  // Offsets such as +02:00 are accepted by newer Intl versions but are not zones: a policy follows a place's rules.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** The weekday (Monday = 0) and minute of the day of an instant in a time zone, as its wall clock shows them. */
export function localTime(instant: number, timeZone: string): { day: number; minutes: number } {
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of formatterFor(timeZone).formatToParts(instant)) {
    if (part.type === 'weekday') day = dayIndex[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minutes: hour * 60 + minute };
}

/** "HH:MM" as minutes of the day; "24:00" is 1440 (the end of the day). */
export const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Compiles a restriction once per policy load. */
export function compileWindow(restriction: TimeRestriction): CompiledWindow {
  const named = restriction.weekdays ?? weekdays;
  return {
    timeZone: restriction.timeZone,
    days: weekdays.map((day) => named.includes(day)),
    from: restriction.hours ? minutesOf(restriction.hours.from) : 0,
    to: restriction.hours ? minutesOf(restriction.hours.to) : 1440,
  };
}

/** Whether an instant falls inside the window, read on the wall clock of the window's time zone. */
export function insideWindow(window: CompiledWindow, instant: number): boolean {
  const { day, minutes } = localTime(instant, window.timeZone);
  if (window.from < window.to) return window.days[day]! && minutes >= window.from && minutes < window.to;
  // Across midnight: the evening part belongs to today, the early-morning part to the day before.
  return (window.days[day]! && minutes >= window.from) || (window.days[(day + 6) % 7]! && minutes < window.to);
}
