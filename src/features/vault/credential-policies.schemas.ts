import { z } from 'zod';
import { ASCII_SYMBOLS, SAFE_SYMBOLS, characterClasses } from './password-generator.js';
import { canonicalTimeZone, minutesOf, weekdays } from './credential-policies.windows.js';
import { credentialTypes } from './credentials.schemas.js';
import { tagField } from './devices.schemas.js';


/** At most this many policies per tenant: every match reads them all. */
export const CREDENTIAL_POLICY_LIMIT = 200;

const dedupe = (items: string[]) => items.filter((item, i) => items.findIndex((other) => other.toLowerCase() === item.toLowerCase()) === i);
const value = z.string().trim().min(1).max(200);
const list = (field: string, item: z.ZodType<string> = value) =>
  z.array(item).min(1, `${field}: list at least one value, or leave the filter out to match any`).max(50, `${field}: at most 50 values`).overwrite(dedupe);

const required = (message: string) => ({ error: (issue: { code?: string; input?: unknown }) => (issue.code === 'invalid_type' && issue.input === undefined ? message : undefined) });

/** Filters: each one present must match (lists: any value; tags: every tag). No filter at all matches every credential. */
export const policyFilters = z.strictObject({
  deviceName: value.describe('A device name pattern: * is any run of characters, ? exactly one (case-insensitive).').optional(),
  sites: list('sites').optional(),
  deviceTypes: list('deviceTypes').optional(),
  deviceTags: list('deviceTags', tagField).describe('Every listed tag must be on the device.').optional(),
  credentialTypes: list('credentialTypes', z.enum(credentialTypes, `credentialTypes: each is one of ${credentialTypes.join(', ')}`)).optional(),
  usernames: list('usernames').describe('Username patterns with * and ?; any one may match.').optional(),
  credentialTags: list('credentialTags', tagField).describe('Every listed tag must be on the credential.').optional(),
}, required('filters is required: send {} to match every credential'));
export type PolicyFiltersInput = z.infer<typeof policyFilters>;

const clock = (field: string, endOfDay: boolean) =>
  z.string().regex(endOfDay ? /^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/ : /^([01][0-9]|2[0-3]):[0-5][0-9]$/, `${field} is a time HH:MM from 00:00 to ${endOfDay ? '24:00' : '23:59'}`);

const timeZone = z
  .string()
  .max(64)
  .refine((name) => canonicalTimeZone(name) !== null, 'timeZone must be an IANA time zone name, such as Europe/Paris or America/New_York (not an offset)')
  .overwrite((name) => canonicalTimeZone(name) ?? name);

/** A rotation window: from < to is within a day; from > to crosses midnight into the next day; to may be 24:00. */
export const rotationWindow = z
  .strictObject({
    days: z.array(z.enum(weekdays, `days: each is one of ${weekdays.join(', ')}`)).min(1, 'days: list at least one day').max(7).overwrite((days) => weekdays.filter((day) => days.includes(day))),
    from: clock('from', false),
    to: clock('to', true),
    timeZone,
  })
  .refine((w) => minutesOf(w.from) !== minutesOf(w.to), { message: 'from and to are the same time; for a whole day use from 00:00 to 24:00', path: ['to'] });

const symbols = z
  .string()
  .max(64)
  .refine((s) => [...s].every((char) => ASCII_SYMBOLS.includes(char)), `allowedSymbols may list only printable ASCII symbols (no letters, digits or spaces): ${ASCII_SYMBOLS}`)
  .overwrite((s) => [...new Set(s)].join(''));

/** The rules a policy sets. Omitted fields take their defaults: the safe symbol set, no maximum, no age, no rotation triggers, any time. */
export const policyRules = z
  .strictObject({
    minLength: z.number(required('minLength is required: 8 to 256 characters')).int().min(8, 'minLength is 8 to 256 characters').max(256, 'minLength is 8 to 256 characters'),
    maxLength: z.number().int().min(8, 'maxLength is 8 to 1024 characters').max(1024, 'maxLength is 8 to 1024 characters').nullable().default(null),
    requireClasses: z
      .array(z.enum(characterClasses, `requireClasses: each is one of ${characterClasses.join(', ')}`), required('requireClasses is required: a list of lower, upper, digit, symbol (may be empty)'))
      .max(4)
      .overwrite((classes) => characterClasses.filter((c) => classes.includes(c))),
    allowedSymbols: symbols.default(SAFE_SYMBOLS),
    maxAgeDays: z.number().int().min(0, 'maxAgeDays is 0 (no maximum age) to 3650 days').max(3650, 'maxAgeDays is 0 (no maximum age) to 3650 days').default(0),
    rotateAfterReveal: z.boolean().default(false),
    rotateAfterCheckin: z.boolean().default(false),
    rotationWindows: z.array(rotationWindow).max(20, 'rotationWindows: at most 20 windows').default([]),
  }, required('rules is required, with at least minLength and requireClasses'))
  .refine((r) => r.maxLength === null || r.maxLength >= r.minLength, { message: 'maxLength must be at least minLength', path: ['maxLength'] })
  .refine((r) => !r.requireClasses.includes('symbol') || r.allowedSymbols.length > 0, { message: 'requireClasses has symbol but allowedSymbols is empty: allow some symbols or drop the requirement', path: ['allowedSymbols'] });
export type PolicyRules = z.infer<typeof policyRules>;

/**
 * The rules when no policy matches: 20 characters, all four classes, the safe symbols. No maximum age and no
 * rotation triggers: the default covers every credential, also those on targets Custos cannot rotate, and an
 * age rule there would only mark everything overdue. Write a policy to add them where rotation works.
 */
export const DEFAULT_POLICY_RULES: PolicyRules = policyRules.parse({ minLength: 20, requireClasses: [...characterClasses] });

const name = z.string().trim().min(1, 'name must not be empty').max(200, 'name is at most 200 characters');
const priority = z.number().int().min(0, 'priority is 0 to 10000 (higher wins)').max(10000, 'priority is 0 to 10000 (higher wins)');

/** POST /api/v1/credential-policies */
export const createPolicyBody = z.strictObject({ name, priority: priority.default(0), filters: policyFilters, rules: policyRules });
export type CreatePolicyInput = z.infer<typeof createPolicyBody>;

/** PATCH /api/v1/credential-policies/{id}: filters and rules, when sent, replace the previous ones whole. */
export const patchPolicyBody = z
  .strictObject({ name: name.optional(), priority: priority.optional(), filters: policyFilters.optional(), rules: policyRules.optional() })
  .refine((patch) => Object.keys(patch).length > 0, 'Send at least one of name, priority, filters, rules.');
export type PatchPolicyInput = z.infer<typeof patchPolicyBody>;

export const policyParams = z.strictObject({ id: z.string().max(64) });

const tagList = z.string().max(2000).transform((s) => s.split(',')).pipe(z.array(tagField).max(50));

/** GET /api/v1/credential-policies/match: an existing credential, or the attributes of one (tags comma-separated). */
export const matchQuery = z
  .strictObject({
    credentialId: z.string().max(64).optional(),
    deviceName: value.optional(),
    site: value.optional(),
    deviceType: value.optional(),
    deviceTags: tagList.optional(),
    credentialType: z.enum(credentialTypes, `credentialType is one of ${credentialTypes.join(', ')}`).optional(),
    username: value.optional(),
    credentialTags: tagList.optional(),
  })
  .refine((q) => !q.credentialId || Object.keys(q).length === 1, 'Send either credentialId alone, or the attributes (deviceName, site, deviceType, deviceTags, credentialType, username, credentialTags).');
export type MatchQuery = z.infer<typeof matchQuery>;

/** POST /api/v1/credential-policies/generate: for an existing credential, or for one about to be created on a device. */
export const generateBody = z
  .strictObject({
    credentialId: z.string().max(64).optional(),
    deviceId: z.string().max(64).optional(),
    credentialType: z.enum(credentialTypes, `credentialType is one of ${credentialTypes.join(', ')}`).optional(),
    username: value.optional(),
    credentialTags: z.array(tagField).max(50).optional(),
  })
  .refine((b) => (b.credentialId ? Object.keys(b).length === 1 : Boolean(b.deviceId && b.credentialType)), 'Send either credentialId alone, or deviceId and credentialType (and optionally username, credentialTags).');
export type GenerateInput = z.infer<typeof generateBody>;

const rulesView = z.object({
  minLength: z.number(),
  maxLength: z.number().nullable(),
  requireClasses: z.array(z.string()),
  allowedSymbols: z.string(),
  maxAgeDays: z.number(),
  rotateAfterReveal: z.boolean(),
  rotateAfterCheckin: z.boolean(),
  rotationWindows: z.array(z.object({ days: z.array(z.string()), from: z.string(), to: z.string(), timeZone: z.string() })),
});
const filtersView = z.object({
  deviceName: z.string().optional(),
  sites: z.array(z.string()).optional(),
  deviceTypes: z.array(z.string()).optional(),
  deviceTags: z.array(z.string()).optional(),
  credentialTypes: z.array(z.string()).optional(),
  usernames: z.array(z.string()).optional(),
  credentialTags: z.array(z.string()).optional(),
});

/** A credential policy as the tenant sees it. */
export const policyView = z.object({ id: z.string(), name: z.string(), priority: z.number(), filters: filtersView, rules: rulesView, createdAt: z.string(), updatedAt: z.string() });

/** Which policy applies (null: the built-in default), its rules, and every matching policy in evaluation order. */
export const matchView = z.object({
  policy: z.object({ id: z.string(), name: z.string() }).nullable(),
  rules: rulesView,
  matching: z.array(z.object({ id: z.string(), name: z.string(), priority: z.number() })),
});

/** A generated password, shown once (it is not stored), and the policy it follows (null: the built-in default). */
export const generatedView = z.object({ password: z.string(), policy: z.object({ id: z.string(), name: z.string() }).nullable() });
