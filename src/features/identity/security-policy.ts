import { z } from 'zod';

/**
 * The tenant's security policy, with what a careful PAM vendor ships: length over composition (NIST 800-63B),
 * the last 5 passwords refused again and passwords changed every 90 days (PCI DSS 8.3.7, 8.3.9), lockout
 * after 5 failures for 30 minutes (PCI DSS 8.3.4), sessions idle 30 minutes and at most 12 hours (NIST AAL2),
 * users unused for 90 days disabled (PCI DSS 8.2.6), and a second factor for everyone who administers the
 * tenant (PCI DSS 8.4.1). Every field is enforced; nothing is accepted and ignored. Reasoning per field:
 * docs/user-guide.md section 11.
 */
const fields = {
  passwordMinLength: z.number().int().min(8).max(128),
  passwordRequireClasses: z.number().int().min(0).max(4),
  lockoutThreshold: z.number().int().min(0).max(50),
  lockoutMinutes: z.number().int().min(1).max(1440),
  sessionIdleMinutes: z.number().int().min(5).max(720),
  sessionMaxHours: z.number().int().min(1).max(24),
  singleSession: z.boolean(),
  inactivityDisableDays: z.number().int().min(0).max(3650),
  passwordHistory: z.number().int().min(0, 'passwordHistory is 0 (no history) to 24 passwords').max(24, 'passwordHistory is 0 (no history) to 24 passwords'),
  passwordMaxAgeDays: z.number().int().min(0, 'passwordMaxAgeDays is 0 (never expires) or 1 to 3650 days').max(3650, 'passwordMaxAgeDays is 0 (never expires) or 1 to 3650 days'),
  mfaRequired: z.enum(['none', 'admins', 'all'], 'mfaRequired is "none", "admins" (users whose roles change or deactivate anything) or "all"'),
  /** Four-eyes: a change granting an administrative role waits for a second administrator's approval. */
  fourEyesRoleGrants: z.boolean(),
};

export const securityPolicySchema = z.strictObject({
  passwordMinLength: fields.passwordMinLength.default(12),
  passwordRequireClasses: fields.passwordRequireClasses.default(0),
  lockoutThreshold: fields.lockoutThreshold.default(5),
  lockoutMinutes: fields.lockoutMinutes.default(30),
  sessionIdleMinutes: fields.sessionIdleMinutes.default(30),
  sessionMaxHours: fields.sessionMaxHours.default(12),
  singleSession: fields.singleSession.default(false),
  inactivityDisableDays: fields.inactivityDisableDays.default(90),
  passwordHistory: fields.passwordHistory.default(5),
  passwordMaxAgeDays: fields.passwordMaxAgeDays.default(90),
  mfaRequired: fields.mfaRequired.default('admins'),
  fourEyesRoleGrants: fields.fourEyesRoleGrants.default(false),
});
export type SecurityPolicy = z.infer<typeof securityPolicySchema>;

/** The defaults, for tenants that never changed their policy. */
export const defaultSecurityPolicy: SecurityPolicy = securityPolicySchema.parse({});

/** PUT /api/v1/settings/security: any subset of the fields; the rest keep their current values. */
// Built from the bare fields: a partial of the defaulted schema would fill every omitted field with its default.
export const securityPolicyPatch = z
  .strictObject(fields)
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, 'Send at least one setting.');

/** Cross-field rules checked on the merged policy. */
export const mergedPolicyRules = securityPolicySchema.refine(
  (policy) => policy.sessionIdleMinutes <= policy.sessionMaxHours * 60,
  { message: 'sessionIdleMinutes cannot exceed sessionMaxHours', path: ['sessionIdleMinutes'] },
);

const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/];

/** What is wrong with a password under the policy, or null when it is acceptable. */
export function passwordProblem(password: string, policy: SecurityPolicy): string | null {
  if (password.length < policy.passwordMinLength) return `The password must be at least ${policy.passwordMinLength} characters long.`;
  if (password.length > 1024) return 'The password must be at most 1024 characters long.';
  const present = classes.filter((pattern) => pattern.test(password)).length;
  if (present < policy.passwordRequireClasses) {
    return `The password must mix at least ${policy.passwordRequireClasses} of: lower-case letters, upper-case letters, digits, symbols.`;
  }
  return null;
}
