import { z } from 'zod';
import { cursorField, labelField, limitField, searchField, statusField, tagQuery, tagsField } from './devices.schemas.js';

/** What a credential's secret is: it decides how the secret is checked (and, later, how it is rotated). */
export const credentialTypes = ['password', 'ssh-key', 'api-key'] as const;
export type CredentialType = (typeof credentialTypes)[number];

/** Why a secret version exists. */
export const versionReasons = ['created', 'manual', 'generated', 'rotation', 'import'] as const;
export type VersionReason = (typeof versionReasons)[number];

const typeField = z.enum(credentialTypes, { error: `type is one of: ${credentialTypes.join(', ')}` });
const idRef = z.string().max(64);
/** The account name on the device, as the device spells it (case kept: many systems are case-sensitive). */
const usernameField = z
  .string()
  .trim()
  .min(1, 'username is the account on the device, such as root or sa')
  .max(256)
  .regex(/^[^\p{Cc}]+$/u, 'username cannot contain control characters');
/** Size bounds only: the type's own rules (key format, allowed characters) are checked by the service. */
const secretField = z.string().min(1, 'secret cannot be empty').max(16384, 'secret is at most 16384 characters');
const passphraseField = z.string().min(1, 'passphrase cannot be empty').max(1024, 'passphrase is at most 1024 characters');
/** A base32 TOTP seed as authenticator apps take it: spaces, dashes and = padding are dropped, letters upper-cased. */
const totpSeedField = z
  .string()
  .max(256)
  .overwrite((seed) => seed.replace(/[\s-]/g, '').replace(/=+$/, '').toUpperCase())
  .regex(/^[A-Z2-7]{16,128}$/, 'totpSeed must be base32 (letters A-Z and digits 2-7), 16 to 128 characters, as shown when the account set up its authenticator');
const notesField = z.string().trim().min(1).max(4000);

// additionalInfo holds facts about the account; a key naming a secret means a secret is about to be stored in clear.
const secretLikeKey = /(password|passphrase|secret|private.?key|token|totp)/i;
const additionalInfoField = z
  .record(z.string(), z.string().max(1000, 'an additionalInfo value is at most 1000 characters'))
  .refine((info) => Object.keys(info).length <= 50, 'additionalInfo holds at most 50 entries')
  .refine((info) => Object.keys(info).every((key) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(key)), 'an additionalInfo key is letters, digits and . _ - (at most 64), such as database')
  .refine((info) => !Object.keys(info).some((key) => secretLikeKey.test(key)), 'additionalInfo is stored in clear: put secrets in secret, passphrase or totpSeed, never in additionalInfo');

const credentialFields = {
  deviceId: idRef,
  username: usernameField,
  type: typeField,
  secret: secretField.optional(),
  passphrase: passphraseField.optional(),
  totpSeed: totpSeedField.optional(),
  tags: tagsField.optional(),
  ownerId: idRef.optional(),
  notes: notesField.optional(),
  additionalInfo: additionalInfoField.optional(),
  status: statusField.optional(),
};

/** POST /api/v1/credentials, and PUT /api/v1/credentials/{id} (omitted attributes take their defaults; omitted secrets are kept). */
export const createCredentialBody = z.strictObject(credentialFields);
export type CreateCredentialInput = z.infer<typeof createCredentialBody>;

/** PATCH /api/v1/credentials/{id}: at least one field; null removes the owner, notes or TOTP seed. */
export const patchCredentialBody = z
  .strictObject({
    deviceId: idRef.optional(),
    username: usernameField.optional(),
    type: typeField.optional(),
    secret: secretField.optional(),
    passphrase: passphraseField.optional(),
    totpSeed: totpSeedField.nullable().optional(),
    tags: tagsField.optional(),
    ownerId: idRef.nullable().optional(),
    notes: notesField.nullable().optional(),
    additionalInfo: additionalInfoField.optional(),
    status: statusField.optional(),
    needsRotation: z.boolean().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'Send at least one field to change, such as {"notes":"..."} or {"secret":"..."}.');
export type PatchCredentialInput = z.infer<typeof patchCredentialBody>;

/** POST /api/v1/credentials/{id}/secret: a new secret (and, for an encrypted ssh key, its passphrase). */
export const setSecretBody = z.strictObject({ secret: secretField, passphrase: passphraseField.optional() });
export type SetSecretInput = z.infer<typeof setSecretBody>;

/** POST /api/v1/credentials/{id}/history/{version}/reveal: the service requires the justification (JUSTIFICATION_REQUIRED). */
export const revealVersionBody = z.strictObject({ justification: z.string().max(1000).optional() }).nullish();

const booleanQuery = z.enum(['true', 'false'], { error: 'use true or false' }).transform((v) => v === 'true');

/** GET /api/v1/credentials query: search, filters on the credential and its device, cursor pagination. */
export const listCredentialsQuery = z.strictObject({
  q: searchField.optional(),
  deviceId: idRef.optional(),
  deviceName: z.string().trim().min(1).max(200).optional(),
  site: labelField.optional(),
  deviceType: labelField.optional(),
  deviceTag: tagQuery.optional(),
  username: usernameField.optional(),
  type: typeField.optional(),
  tag: tagQuery.optional(),
  status: statusField.optional(),
  ownerId: idRef.optional(),
  needsRotation: booleanQuery.optional(),
  cursor: cursorField.optional(),
  limit: limitField,
});
export type ListCredentialsQuery = z.infer<typeof listCredentialsQuery>;

export const credentialParams = z.strictObject({ id: z.string().max(64) });
export const versionParams = z.strictObject({ id: z.string().max(64), version: z.coerce.number().int().min(1).max(1_000_000_000) });
export const historyQuery = z.strictObject({ before: z.coerce.number().int().min(1).optional(), limit: limitField });

/** A credential as the tenant sees it: whether it has a secret, never the secret (nor passphrase, nor TOTP seed). */
export const credentialView = z.object({
  id: z.string(),
  device: z.object({ id: z.string(), name: z.string() }),
  username: z.string(),
  type: typeField,
  hasSecret: z.boolean(),
  hasPassphrase: z.boolean(),
  hasTotp: z.boolean(),
  version: z.number(),
  secretChangedAt: z.string().nullable(),
  needsRotation: z.boolean(),
  tags: z.array(z.string()),
  owner: z.object({ id: z.string(), username: z.string() }).nullable(),
  notes: z.string().nullable(),
  // catchall rather than record: the serializer needs no propertyNames rule to write string values.
  additionalInfo: z.object({}).catchall(z.string()),
  status: z.enum(['active', 'inactive']),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** For callers who see credentials through access policies: how they may reveal it (null: visible, reveal not granted). */
  access: z.object({ reveal: z.enum(['allow', 'justification', 'approval']).nullable() }).optional(),
});
export type CredentialView = z.infer<typeof credentialView>;

/** One entry of a credential's history: who set which version when and why; never the secret. */
export const versionView = z.object({ version: z.number(), reason: z.string(), createdBy: z.string(), createdAt: z.string(), current: z.boolean() });

/** An old version's secret, answered once per audited reveal. */
export const revealedVersionView = z.object({ credentialId: z.string(), version: z.number(), secret: z.string(), passphrase: z.string().nullable(), reason: z.string(), createdAt: z.string() });

/** The current TOTP code of a credential's seed. */
export const totpView = z.object({ code: z.string(), secondsRemaining: z.number(), period: z.number(), digits: z.number() });
