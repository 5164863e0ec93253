// The pure part of behaviour analytics: a user's baseline, how one event changes it, and how unusual one event is
// against it. No I/O, no clock: everything an answer depends on is in the arguments (property-tested).

/** The audit actions that are scored; everything else (behaviour.* included) is skipped, so alerts never loop. */
export const scoredActions = ['auth.login.succeeded', 'auth.login.failed', 'credential.revealed', 'credential.checked_out'] as const;
export type ScoredAction = (typeof scoredActions)[number];

/** One scored event as the consumer sees it: the audit event plus the credential's device and local time. */
export interface ObservedEvent {
  seq: number;
  at: number;
  action: ScoredAction;
  ip: string | null;
  credentialId: string | null;
  deviceId: string | null;
  /** The credential's device has criticality high. */
  critical: boolean;
  /** The use went through emergency (break-glass) access. */
  emergency: boolean;
  /** Hour of day 0-23 and day (YYYY-MM-DD) in the tenant's time zone. */
  hour: number;
  day: string;
}

/** What is known of one user's normal behaviour; kept as one JSON row per user. */
export interface Baseline {
  firstSeenAt: number;
  lastSeenAt: number;
  events: number;
  logins: number;
  failedLogins: number;
  uses: number;
  /** Source address → times seen, first and last seen (successful logins and uses only: a failing attacker teaches nothing). */
  sources: Record<string, { n: number; first: number; last: number }>;
  /** Activity per local hour of day. */
  hours: number[];
  credentials: Record<string, number>;
  devices: Record<string, number>;
  /** Reveals and checkouts per local day, the last VOLUME_DAYS days. */
  days: Record<string, number>;
  /** Times of uses inside the burst window, and of failed logins inside the failure window. */
  recentUses: number[];
  recentFailures: number[];
}

/** Warm-up: before a user has this many events over this many days, novelty signals stay silent. */
export interface WarmUp {
  events: number;
  days: number;
}

/** The signals and their weights (points out of 100); the score is their sum, capped at 100. */
export const signalWeights = {
  emergency_access: 45,
  failed_login_burst: 40,
  reveal_burst: 35,
  first_use_critical: 35,
  new_source: 30,
  login_after_failures: 30,
  unusual_hour: 20,
  volume_spike: 20,
  first_use_credential: 15,
  first_use_device: 10,
} as const;
export type SignalName = keyof typeof signalWeights;

/** A signal that fired, with a short reason a reviewer can read (never a secret). */
export interface Signal {
  name: SignalName;
  weight: number;
  detail: string;
}

/** Signals that only mean something once the baseline is warm (new source, unusual hour...). */
export const warmOnlySignals: ReadonlySet<SignalName> = new Set(['new_source', 'unusual_hour', 'volume_spike', 'first_use_credential', 'first_use_device']);

export const BURST_WINDOW_MS = 10 * 60_000;
export const BURST_MIN = 10;
export const FAILURE_WINDOW_MS = 15 * 60_000;
export const FAILURE_BURST = 5;
export const FAILURES_BEFORE_LOGIN = 3;
/** An hour (with its two neighbours) holding less than this share of the user's activity is unusual. */
export const UNUSUAL_HOUR_SHARE = 0.05;
export const VOLUME_DAYS = 30;
/** An address first seen less than this long ago is still new: the reveals right after a login from it count too. */
export const NEW_SOURCE_MS = 60 * 60_000;
const MAX_SOURCES = 50;
const MAX_ITEMS = 500;
const MAX_RECENT = 200;
const DAY_MS = 86_400_000;

/** A baseline with nothing learnt yet. */
export function emptyBaseline(at: number): Baseline {
  return { firstSeenAt: at, lastSeenAt: at, events: 0, logins: 0, failedLogins: 0, uses: 0, sources: {}, hours: new Array<number>(24).fill(0), credentials: {}, devices: {}, days: {}, recentUses: [], recentFailures: [] };
}

/** Whether the baseline has seen enough (events and days) for novelty to mean anything. */
export function isWarm(baseline: Baseline | null, at: number, warmUp: WarmUp): boolean {
  return baseline !== null && baseline.events >= warmUp.events && at - baseline.firstSeenAt >= warmUp.days * DAY_MS;
}

/** The score of a set of signals: the sum of their weights, capped at 100 (more signals never lower it). */
export function combine(signals: readonly Pick<Signal, 'weight'>[]): number {
  const sum = signals.reduce((total, s) => total + Math.max(0, s.weight), 0);
  return Math.min(100, Math.round(sum));
}

const isUse = (action: ScoredAction) => action === 'credential.revealed' || action === 'credential.checked_out';
const within = (times: readonly number[], at: number, windowMs: number) => times.filter((t) => t > at - windowMs && t <= at);

/** Mean uses per active day before today (0 without history): the user's normal volume. */
export function dailyAverage(baseline: Baseline, today: string): number {
  const counts = Object.entries(baseline.days).filter(([day]) => day !== today).map(([, n]) => n);
  return counts.length === 0 ? 0 : counts.reduce((a, b) => a + b, 0) / counts.length;
}

/** Reveals in the burst window that count as a burst for this user: BURST_MIN, or half a normal day if more. */
export function burstLimit(baseline: Baseline | null, today: string): number {
  return Math.max(BURST_MIN, Math.ceil((baseline ? dailyAverage(baseline, today) : 0) / 2));
}

function hourShare(hours: readonly number[], hour: number): number {
  const total = hours.reduce((a, b) => a + b, 0);
  if (total === 0) return 1;
  const near = hours[(hour + 23) % 24]! + hours[hour]! + hours[(hour + 1) % 24]!;
  return near / total;
}

/** Scores one event 0-100 against the user's baseline as it was before the event; names every signal that fired. */
export function scoreEvent(baseline: Baseline | null, event: ObservedEvent, warmUp: WarmUp): { score: number; signals: Signal[] } {
  const signals: Signal[] = [];
  const fire = (name: SignalName, detail: string) => signals.push({ name, weight: signalWeights[name], detail });
  const warm = isWarm(baseline, event.at, warmUp);
  const use = isUse(event.action);
  if (use && event.emergency) fire('emergency_access', 'used through emergency (break-glass) access');
  const failures = baseline ? within(baseline.recentFailures, event.at, FAILURE_WINDOW_MS).length : 0;
  if (event.action === 'auth.login.failed' && failures + 1 >= FAILURE_BURST) fire('failed_login_burst', `${failures + 1} failed logins in ${FAILURE_WINDOW_MS / 60_000} minutes`);
  if (event.action === 'auth.login.succeeded' && failures >= FAILURES_BEFORE_LOGIN) fire('login_after_failures', `logged in after ${failures} failed logins in ${FAILURE_WINDOW_MS / 60_000} minutes`);
  if (use) {
    const recent = baseline ? within(baseline.recentUses, event.at, BURST_WINDOW_MS).length : 0;
    const limit = burstLimit(baseline, event.day);
    if (recent + 1 >= limit) fire('reveal_burst', `${recent + 1} reveals or checkouts in ${BURST_WINDOW_MS / 60_000} minutes (burst at ${limit})`);
    const known = baseline !== null && event.credentialId !== null && (baseline.credentials[event.credentialId] ?? 0) > 0;
    if (event.critical && !known) fire('first_use_critical', 'first use of a credential on a high-criticality device');
    if (warm && !known && !event.critical) fire('first_use_credential', 'first use of this credential');
    if (warm && event.deviceId !== null && !(baseline!.devices[event.deviceId] ?? 0)) fire('first_use_device', 'first use of a credential on this device');
    if (warm) {
      const average = dailyAverage(baseline!, event.day);
      const today = (baseline!.days[event.day] ?? 0) + 1;
      if (today >= 20 && today > 3 * average) fire('volume_spike', `${today} reveals or checkouts today, usually ${average.toFixed(1)} a day`);
    }
  }
  const source = event.ip === null ? undefined : baseline?.sources[event.ip];
  if (warm && event.ip !== null && (!source || source.first > event.at - NEW_SOURCE_MS)) fire('new_source', `new address ${event.ip}`);
  if (warm && event.action !== 'auth.login.failed' && hourShare(baseline!.hours, event.hour) < UNUSUAL_HOUR_SHARE) fire('unusual_hour', `active at ${String(event.hour).padStart(2, '0')}:00, rarely so before`);
  return { score: combine(signals), signals };
}

/** Drops the lowest-ranked entry but `keep` (the one just learnt) when a map is over its bound: one per event, a scan. */
function bound<T>(map: Record<string, T>, max: number, keep: string, rank: (key: string, value: T) => number): void {
  const keys = Object.keys(map);
  if (keys.length <= max) return;
  let lowest: string | null = null;
  for (const key of keys) if (key !== keep && (lowest === null || rank(key, map[key]!) < rank(lowest, map[lowest]!))) lowest = key;
  if (lowest !== null) delete map[lowest];
}

// Entry counts of the credential and device maps, kept beside the maps the consumer parsed for a page: a known
// key costs nothing, and pruning (a scan and a sort) runs once per ITEM_SLACK new keys instead of on every event
// of a user who touches more than MAX_ITEMS credentials.
const itemCounts = new WeakMap<object, number>();
const ITEM_SLACK = 100;

/** Counts a use of `key`; past MAX_ITEMS + ITEM_SLACK entries the least used (never `key`) go, down to MAX_ITEMS. */
function countItem(map: Record<string, number>, key: string): void {
  const seen = map[key];
  map[key] = (seen ?? 0) + 1;
  if (seen !== undefined) return;
  const size = itemCounts.has(map) ? itemCounts.get(map)! + 1 : Object.keys(map).length;
  if (size <= MAX_ITEMS + ITEM_SLACK) {
    itemCounts.set(map, size);
    return;
  }
  const drop = Object.keys(map).filter((k) => k !== key).sort((a, b) => map[a]! - map[b]!).slice(0, size - MAX_ITEMS);
  for (const k of drop) delete map[k];
  itemCounts.set(map, MAX_ITEMS);
}

/**
 * Teaches the baseline one event, in place (the consumer owns the baselines it parsed for a page): counts, the
 * hour, the address, credential and device, the day's volume, and the bounded burst and failure windows.
 */
export function applyEvent(baseline: Baseline, event: ObservedEvent): Baseline {
  baseline.lastSeenAt = Math.max(baseline.lastSeenAt, event.at);
  baseline.events += 1;
  baseline.recentFailures = within(baseline.recentFailures, event.at, FAILURE_WINDOW_MS);
  baseline.recentUses = within(baseline.recentUses, event.at, BURST_WINDOW_MS);
  if (event.action === 'auth.login.failed') {
    baseline.failedLogins += 1;
    baseline.recentFailures.push(event.at);
    if (baseline.recentFailures.length > MAX_RECENT) baseline.recentFailures.shift();
    return baseline;
  }
  baseline.hours[event.hour] = (baseline.hours[event.hour] ?? 0) + 1;
  if (event.ip !== null) {
    const seen = baseline.sources[event.ip];
    baseline.sources[event.ip] = { n: (seen?.n ?? 0) + 1, first: seen?.first ?? event.at, last: event.at };
    bound(baseline.sources, MAX_SOURCES, event.ip, (_, s) => s.last);
  }
  if (event.action === 'auth.login.succeeded') {
    baseline.logins += 1;
    // A successful login ends the run of failures before it.
    baseline.recentFailures = [];
    return baseline;
  }
  baseline.uses += 1;
  baseline.recentUses.push(event.at);
  if (baseline.recentUses.length > MAX_RECENT) baseline.recentUses.shift();
  if (event.credentialId !== null) countItem(baseline.credentials, event.credentialId);
  if (event.deviceId !== null) countItem(baseline.devices, event.deviceId);
  baseline.days[event.day] = (baseline.days[event.day] ?? 0) + 1;
  // Day keys (YYYY-MM-DD) rank by their date: the oldest day goes.
  bound(baseline.days, VOLUME_DAYS, event.day, (day) => Date.parse(day));
  return baseline;
}

/** The baseline after the event as a new object; the input is left as it was. */
export function learn(previous: Baseline | null, event: ObservedEvent): Baseline {
  return applyEvent(previous ? structuredClone(previous) : emptyBaseline(event.at), event);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The hour of day and the day (YYYY-MM-DD) of a moment in an IANA time zone. */
export function localTime(at: number, timeZone: string): { hour: number; day: string } {
  if (timeZone === 'UTC') {
    const iso = new Date(at).toISOString();
    return { hour: Number(iso.slice(11, 13)), day: iso.slice(0, 10) };
  }
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
  return { hour: Number(parts.hour) % 24, day: `${parts.year}-${parts.month}-${parts.day}` };
}

/** Whether a name is an IANA time zone this runtime knows. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
