import { z } from 'zod';
import { accessActions, accessModes } from './access-engine.js';
import { patternProblem } from './access-patterns.js';
import { canonicalTimeZone, weekdays } from './access-time.js';

/** Credential types a filter can name (the vault's types). */
export const credentialTypes = ['password', 'ssh-key', 'api-key'] as const;

/** Approval validity bounds in minutes: one minute to seven days. */
export const MAX_APPROVAL_VALID_MINUTES = 10_080;
export const DEFAULT_APPROVAL_VALID_MINUTES = 60;

const ids = z.array(z.string().max(64)).max(1000);
const unique = (values: string[]) => [...new Set(values)];

/** Users and groups named by id; repeats are dropped. */
const subjectIds = z.strictObject({ users: ids.overwrite(unique).default([]), groups: ids.overwrite(unique).default([]) });

const pattern = (allowMask: boolean, field: string) =>
  z
    .string()
    .trim()
    .min(1)
    .max(200)
    .superRefine((value, ctx) => {
      const problem = patternProblem(value, allowMask);
      if (problem) ctx.addIssue({ code: 'custom', message: `${field}: ${problem}` });
    });
const values = z.string().trim().min(1).max(200);
const list = (item: z.ZodType<string>) => z.array(item).min(1).max(100).overwrite(unique).optional();

/** Which credentials a policy covers: every field present must match; any one listed name, site, type or pattern does, but every listed tag must be carried; * and ? are wildcards. */
export const filtersBody = z.strictObject({
  deviceNames: list(pattern(false, 'deviceNames')),
  deviceSites: list(values),
  deviceTypes: list(values),
  deviceTags: list(values),
  credentialUsernames: list(pattern(true, 'credentialUsernames')),
  credentialTags: list(values),
  credentialTypes: list(z.enum(credentialTypes, { error: `A credential type is one of: ${credentialTypes.join(', ')}.` })),
});

const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;
const hoursBody = z
  .strictObject({
    from: z.string().regex(hhmm, 'hours.from is a time of day "HH:MM" from 00:00 to 23:59'),
    to: z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'hours.to is a time of day "HH:MM" from 00:01 to 24:00'),
  })
  .refine((h) => h.from !== h.to, 'hours.from and hours.to must differ (leave hours out for the whole day; from after to crosses midnight).');

/** Days, hours and the IANA time zone they are read in; at least one of weekdays and hours. */
export const timeRestrictionBody = z
  .strictObject({
    timeZone: z
      .string()
      .max(64)
      .overwrite((zone) => canonicalTimeZone(zone) ?? zone)
      .refine((zone) => canonicalTimeZone(zone) !== null, 'timeZone must be an IANA time zone, such as Europe/Berlin, America/Sao_Paulo or UTC'),
    weekdays: z
      .array(z.enum(weekdays, { error: `A weekday is one of: ${weekdays.join(', ')}.` }))
      .min(1)
      .max(7)
      .overwrite((days) => weekdays.filter((d) => days.includes(d)))
      .optional(),
    hours: hoursBody.optional(),
  })
  .refine((r) => r.weekdays !== undefined || r.hours !== undefined, 'A time restriction names weekdays, hours or both.');

const levelBody = z.strictObject({
  approvers: subjectIds.refine((a) => a.users.length + a.groups.length > 0, 'An approval level names at least one approver: a user or a group.'),
  required: z.number().int().min(1, 'required is at least 1 approval').max(100),
});

/** How one action is granted: allow, justification, or approval by 1 to 3 levels; optionally only at times, after a fresh TOTP code; emergency access. */
export const actionBody = z
  .strictObject({
    mode: z.enum(accessModes, { error: `mode is one of: ${accessModes.join(', ')}.` }),
    levels: z.array(levelBody).min(1, 'An approval names 1 to 3 levels.').max(3, 'An approval names 1 to 3 levels.').optional(),
    approvalValidMinutes: z.number().int().min(1, `approvalValidMinutes is 1 to ${MAX_APPROVAL_VALID_MINUTES}`).max(MAX_APPROVAL_VALID_MINUTES, `approvalValidMinutes is 1 to ${MAX_APPROVAL_VALID_MINUTES} (seven days)`).optional(),
    timeRestriction: timeRestrictionBody.optional(),
    emergencyAllowed: z.boolean().optional(),
    totpStepUp: z.boolean().optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.mode === 'approval' && !rule.levels) ctx.addIssue({ code: 'custom', path: ['levels'], message: 'mode approval needs levels: 1 to 3 levels, each with approvers and required.' });
    if (rule.mode !== 'approval' && (rule.levels || rule.approvalValidMinutes !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['mode'], message: 'levels and approvalValidMinutes belong to mode approval only.' });
    }
  });
export type ActionInput = z.infer<typeof actionBody>;

const actionsBody = z
  .strictObject(Object.fromEntries(accessActions.map((a) => [a, actionBody.optional()])) as Record<(typeof accessActions)[number], z.ZodOptional<typeof actionBody>>)
  .refine((actions) => accessActions.some((a) => actions[a]), `Grant at least one action: ${accessActions.join(', ')}.`);

const membersBody = subjectIds.refine((m) => m.users.length + m.groups.length > 0, 'A policy grants to someone: name at least one user or group in members.');
const nameField = z.string().trim().min(1).max(200);
const descriptionField = z.string().trim().min(1).max(1000);

/** POST /api/v1/access-policies */
export const createAccessPolicyBody = z.strictObject({
  name: nameField,
  description: descriptionField.optional(),
  enabled: z.boolean().default(true),
  members: membersBody,
  filters: filtersBody.default({}),
  actions: actionsBody,
});
export type CreateAccessPolicyInput = z.infer<typeof createAccessPolicyBody>;

/** PATCH /api/v1/access-policies/{id}: members, filters and actions each replace the stored value. */
export const patchAccessPolicyBody = z
  .strictObject({
    name: nameField.optional(),
    description: descriptionField.nullable().optional(),
    enabled: z.boolean().optional(),
    members: membersBody.optional(),
    filters: filtersBody.optional(),
    actions: actionsBody.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'Send at least one of name, description, enabled, members, filters, actions.');
export type PatchAccessPolicyInput = z.infer<typeof patchAccessPolicyBody>;

export const accessPolicyParams = z.strictObject({ id: z.string().max(64) });

/** GET /api/v1/access-policies: filter by a member user or group (named directly), a name fragment, enabled. */
export const listAccessPoliciesQuery = z.strictObject({
  userId: z.string().max(64).optional(),
  groupId: z.string().max(64).optional(),
  q: z.string().trim().min(1).max(200).optional(),
  enabled: z.enum(['true', 'false']).optional(),
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export type ListAccessPoliciesQuery = z.infer<typeof listAccessPoliciesQuery>;

/** GET /api/v1/access-policies/evaluate */
export const evaluateQuery = z.strictObject({
  userId: z.string().max(64),
  credentialId: z.string().max(64),
  action: z.enum(accessActions, { error: `action is one of: ${accessActions.join(', ')}.` }),
});
export type EvaluateQuery = z.infer<typeof evaluateQuery>;

const strings = z.array(z.string()).optional();
const subjectIdsView = z.object({ users: z.array(z.string()), groups: z.array(z.string()) });
const actionView = z.object({
  mode: z.enum(accessModes),
  levels: z.array(z.object({ approvers: subjectIdsView, required: z.number() })).optional(),
  approvalValidMinutes: z.number().optional(),
  timeRestriction: z.object({ timeZone: z.string(), weekdays: z.array(z.string()).optional(), hours: z.object({ from: z.string(), to: z.string() }).optional() }).optional(),
  emergencyAllowed: z.boolean(),
  totpStepUp: z.boolean().optional(),
});

/** An access policy as administrators see it; the same shape is accepted back by PATCH. */
export const accessPolicyView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  enabled: z.boolean(),
  members: subjectIdsView,
  filters: z.object({
    deviceNames: strings,
    deviceSites: strings,
    deviceTypes: strings,
    deviceTags: strings,
    credentialUsernames: strings,
    credentialTags: strings,
    credentialTypes: strings,
  }),
  actions: z.object({ reveal: actionView.optional(), session: actionView.optional(), history: actionView.optional() }),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const constraintView = z.object({ approvers: subjectIdsView, required: z.number(), policyIds: z.array(z.string()) });

/** A decision as the evaluation preview shows it. */
export const decisionView = z.object({
  granted: z.boolean(),
  reason: z.string().optional(),
  visible: z.boolean().optional(),
  mode: z.enum(accessModes).optional(),
  requirements: z
    .object({
      justification: z.boolean(),
      approval: z.object({ levels: z.array(z.object({ level: z.number(), constraints: z.array(constraintView) })), validMinutes: z.number() }).nullable(),
      timeWindow: z.object({ ok: z.boolean(), restrictedBy: z.array(z.string()), outsideOf: z.array(z.string()) }),
      emergencyAllowed: z.boolean(),
      totpStepUp: z.boolean(),
    })
    .optional(),
  denial: z.string().nullable().optional(),
  matchedPolicyIds: z.array(z.string()),
});

/** GET /api/v1/access-policies/evaluate answer: the decision, the matched policies by name, what was evaluated. */
export const evaluationView = z.object({
  decision: decisionView,
  policies: z.array(z.object({ id: z.string(), name: z.string() })),
  subject: z.object({ userId: z.string(), username: z.string(), groupIds: z.array(z.string()) }),
  target: z.object({
    credentialId: z.string(),
    device: z.object({ id: z.string(), name: z.string(), site: z.string().nullable(), type: z.string().nullable(), tags: z.array(z.string()) }),
    credential: z.object({ username: z.string(), type: z.string(), tags: z.array(z.string()) }),
  }),
  evaluatedAt: z.string(),
});
