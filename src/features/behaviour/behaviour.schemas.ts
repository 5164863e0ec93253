import { z } from 'zod';
import { isTimeZone } from './behaviour.scoring.js';

/** The tenant's behaviour settings as stored and answered. */
export interface BehaviourSettings {
  alertThreshold: number;
  timeZone: string;
  warmUpEvents: number;
  warmUpDays: number;
}

/** What a tenant that never changed anything gets. */
export const defaultBehaviourSettings: BehaviourSettings = { alertThreshold: 70, timeZone: 'UTC', warmUpEvents: 20, warmUpDays: 3 };

/** PUT /api/v1/behaviour/settings: any of the fields; the others keep their values. */
export const behaviourSettingsBody = z
  .strictObject({
    alertThreshold: z.number({ error: 'alertThreshold is a whole number from 1 to 100' }).int().min(1).max(100).optional(),
    timeZone: z.string().max(64).refine(isTimeZone, 'timeZone is an IANA time zone, such as UTC or Europe/Paris').optional(),
    warmUpEvents: z.number({ error: 'warmUpEvents is a whole number from 0 to 10000' }).int().min(0).max(10_000).optional(),
    warmUpDays: z.number({ error: 'warmUpDays is a whole number from 0 to 365' }).int().min(0).max(365).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'Send at least one of alertThreshold, timeZone, warmUpEvents, warmUpDays.');
export type BehaviourSettingsInput = z.infer<typeof behaviourSettingsBody>;

export const behaviourSettingsView = z.object({ alertThreshold: z.number(), timeZone: z.string(), warmUpEvents: z.number(), warmUpDays: z.number() });

const isoTime = z.iso.datetime({ offset: true, error: 'use an ISO 8601 time, such as 2026-01-05T09:00:00Z' }).transform((v) => Date.parse(v));
const idField = z.string().max(64);
const limitField = z.coerce.number().int().min(1).max(200).default(50);
const scoreField = z.coerce.number().int().min(0).max(100);

/** GET /api/v1/behaviour/alerts */
export const listAlertsQuery = z.strictObject({
  userId: idField.optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  minScore: scoreField.optional(),
  status: z.enum(['open', 'acknowledged'], { error: 'status is open or acknowledged' }).optional(),
  cursor: idField.optional(),
  limit: limitField,
});
export type ListAlertsQuery = z.infer<typeof listAlertsQuery>;

/** GET /api/v1/behaviour/events */
export const listEventsQuery = z.strictObject({
  userId: idField,
  minScore: scoreField.optional(),
  cursor: z.coerce.number().int().min(1).optional(),
  limit: limitField,
});
export type ListEventsQuery = z.infer<typeof listEventsQuery>;

export const idParams = z.strictObject({ id: idField });

/** POST /api/v1/behaviour/alerts/{id}/acknowledge */
export const acknowledgeBody = z.strictObject({ comment: z.string().trim().min(1, 'comment says what was found').max(2000) });

const signalView = z.object({ name: z.string(), weight: z.number(), detail: z.string() });

/** An alert as reviewers see it. */
export const alertView = z.object({
  id: z.string(),
  userId: z.string(),
  seq: z.number(),
  lastSeq: z.number(),
  action: z.string(),
  score: z.number(),
  signals: z.array(signalView),
  eventCount: z.number(),
  occurredAt: z.string(),
  status: z.enum(['open', 'acknowledged']),
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  comment: z.string().nullable(),
  createdAt: z.string(),
});
export type AlertView = z.infer<typeof alertView>;

/** One scored event. */
export const scoredEventView = z.object({
  seq: z.number(),
  action: z.string(),
  occurredAt: z.string(),
  score: z.number(),
  signals: z.array(signalView),
  sourceIp: z.string().nullable(),
  targetId: z.string().nullable(),
});
export type ScoredEventView = z.infer<typeof scoredEventView>;

export const alertList = z.object({ alerts: z.array(alertView), nextCursor: z.string().nullable() });
export const alertAnswer = z.object({ alert: alertView });
export const eventList = z.object({ events: z.array(scoredEventView), nextCursor: z.string().nullable() });

/** GET /api/v1/behaviour/users/{id}: the user's posture. */
export const postureView = z.object({
  userId: z.string(),
  warm: z.boolean(),
  firstSeenAt: z.string().nullable(),
  lastSeenAt: z.string().nullable(),
  counts: z.object({ events: z.number(), logins: z.number(), failedLogins: z.number(), uses: z.number(), credentials: z.number(), devices: z.number() }),
  usualSources: z.array(z.object({ address: z.string(), count: z.number(), lastSeenAt: z.string() })),
  hours: z.array(z.number()),
  usualHours: z.array(z.number()),
  dailyAverage: z.number(),
  recentScores: z.array(scoredEventView),
  openAlerts: z.number(),
  currentRisk: z.number(),
});
export type PostureView = z.infer<typeof postureView>;
