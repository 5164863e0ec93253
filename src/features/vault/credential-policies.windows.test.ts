import { describe, expect, it } from 'vitest';
import { canonicalTimeZone, inRotationWindow, inWindow, localTime, type RotationWindow } from './credential-policies.windows.js';

// 2026-01-09 is a Friday; Paris is UTC+1 in January and UTC+2 in July.
const utc = (iso: string) => Date.parse(`${iso}Z`);
const window = (w: Partial<RotationWindow>): RotationWindow => ({ days: ['fri'], from: '22:00', to: '02:00', timeZone: 'UTC', ...w });

describe('rotation windows', () => {
  it('a same-day window includes from and excludes to', () => {
    const w = window({ days: ['mon', 'wed'], from: '09:00', to: '17:30' });
    expect(inWindow(w, utc('2026-01-05T09:00:00'))).toBe(true);
    expect(inWindow(w, utc('2026-01-07T17:29:59'))).toBe(true);
    expect(inWindow(w, utc('2026-01-07T17:30:00'))).toBe(false);
    expect(inWindow(w, utc('2026-01-05T08:59:59'))).toBe(false);
    expect(inWindow(w, utc('2026-01-06T12:00:00'))).toBe(false);
  });

  it('a window crossing midnight starts on the listed day and ends the next morning', () => {
    const w = window({ days: ['fri'], from: '22:00', to: '02:00' });
    expect(inWindow(w, utc('2026-01-09T22:00:00'))).toBe(true);
    expect(inWindow(w, utc('2026-01-09T23:59:00'))).toBe(true);
    expect(inWindow(w, utc('2026-01-10T01:59:00'))).toBe(true);
    expect(inWindow(w, utc('2026-01-10T02:00:00'))).toBe(false);
    expect(inWindow(w, utc('2026-01-09T21:59:00'))).toBe(false);
    // Friday's early morning belongs to Thursday's window, which this one is not.
    expect(inWindow(w, utc('2026-01-09T01:00:00'))).toBe(false);
    expect(inWindow(w, utc('2026-01-10T23:00:00'))).toBe(false);
  });

  it('a sunday night window runs into monday morning', () => {
    const w = window({ days: ['sun'], from: '23:00', to: '01:00' });
    expect(inWindow(w, utc('2026-01-11T23:30:00'))).toBe(true);
    expect(inWindow(w, utc('2026-01-12T00:30:00'))).toBe(true);
    expect(inWindow(w, utc('2026-01-05T00:30:00'))).toBe(true);
    expect(inWindow(w, utc('2026-01-06T00:30:00'))).toBe(false);
  });

  it('00:00 to 24:00 is the whole listed day', () => {
    const w = window({ days: ['sat'], from: '00:00', to: '24:00' });
    expect(inWindow(w, utc('2026-01-10T00:00:00'))).toBe(true);
    expect(inWindow(w, utc('2026-01-10T23:59:59'))).toBe(true);
    expect(inWindow(w, utc('2026-01-11T00:00:00'))).toBe(false);
  });

  it("times are the zone's wall clock, following daylight saving", () => {
    const w = window({ days: ['fri'], from: '22:00', to: '23:00', timeZone: 'Europe/Paris' });
    expect(inWindow(w, utc('2026-01-09T21:30:00'))).toBe(true);
    expect(inWindow(w, utc('2026-01-09T22:30:00'))).toBe(false);
    expect(inWindow(w, utc('2026-07-10T20:30:00'))).toBe(true);
    expect(inWindow(w, utc('2026-07-10T21:30:00'))).toBe(false);
    const tokyo = window({ days: ['sat'], from: '06:00', to: '07:00', timeZone: 'Asia/Tokyo' });
    expect(inWindow(tokyo, utc('2026-01-09T21:30:00'))).toBe(true);
    expect(localTime(utc('2026-01-09T21:30:00'), 'Asia/Tokyo')).toEqual({ day: 'sat', minute: 6 * 60 + 30 });
  });

  it('no windows means any time; several windows mean any of them', () => {
    expect(inRotationWindow([], utc('2026-01-06T03:00:00'))).toBe(true);
    const windows = [window({ days: ['mon'], from: '01:00', to: '02:00' }), window({ days: ['tue'], from: '03:00', to: '04:00' })];
    expect(inRotationWindow(windows, utc('2026-01-06T03:30:00'))).toBe(true);
    expect(inRotationWindow(windows, utc('2026-01-06T01:30:00'))).toBe(false);
  });

  it('knows IANA names in any case, canonicalises aliases, and refuses offsets and unknown names', () => {
    expect(canonicalTimeZone('europe/paris')).toBe('Europe/Paris');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    expect(canonicalTimeZone('US/Pacific')).toBe('America/Los_Angeles');
    for (const bad of ['+01:00', 'UTC+1', 'Mars/Olympus', '', 'Europe/Paris ', '../etc']) expect(canonicalTimeZone(bad), bad).toBeNull();
  });
});
