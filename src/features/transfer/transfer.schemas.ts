import { z } from 'zod';
import { createCredentialBody } from '../vault/credentials.schemas.js';
import { createDeviceBody } from '../vault/devices.schemas.js';

/** The most rows (devices plus credentials in JSON, data rows in CSV) one import takes. */
export const IMPORT_MAX_ROWS = 50_000;

export const importFormats = ['json', 'csv'] as const;
export type ImportFormat = (typeof importFormats)[number];

/** POST /api/v1/import: the file's content as a string, in either format (the app's body limit is 1 MiB). */
export const importBody = z.strictObject({
  format: z.enum(importFormats, { error: 'format is json or csv' }),
  data: z.string().min(1, 'data is the content of the file to import'),
  dryRun: z.boolean().optional(),
});
export type ImportBody = z.infer<typeof importBody>;

/** A device of an import file: the same fields and rules as POST /api/v1/devices. */
export const importDevice = createDeviceBody;
export type ImportDevice = z.infer<typeof importDevice>;

/**
 * A credential of an import file: the fields of POST /api/v1/credentials, but its device is named (device name, in
 * the file or already in the tenant) instead of an id, and it has no owner (users differ between installations).
 */
export const importCredential = createCredentialBody.omit({ deviceId: true, ownerId: true }).extend({
  device: z.string({ error: 'device is the name of the device the credential is on' }).trim().min(1, 'device is the name of the device the credential is on').max(200),
});
export type ImportCredential = z.infer<typeof importCredential>;

/** One problem of an import: the row (1-based; 0 for the whole file), the field, a stable code and a message. */
export const importRowError = z.object({
  row: z.number(),
  section: z.enum(['devices', 'credentials']).optional(),
  field: z.string(),
  code: z.string(),
  message: z.string(),
});
export type ImportRowError = z.infer<typeof importRowError>;

/** The answer to an import (or a dry run) that passed validation. */
export const importResult = z.object({
  ok: z.literal(true),
  dryRun: z.boolean(),
  format: z.enum(importFormats),
  rows: z.number(),
  created: z.object({ devices: z.number(), credentials: z.number() }),
  existingDevices: z.number(),
});
export type ImportResult = z.infer<typeof importResult>;

/** The 400 answer of an import with any bad row: nothing was written. */
export const importRefused = z.object({
  // Only IMPORT_INVALID carries ok and errors; other 400s (VALIDATION_FAILED) are the plain error shape.
  ok: z.literal(false).optional(),
  errors: z.array(importRowError).optional(),
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  requestId: z.string(),
});

/** GET /api/v1/export query. */
export const exportQuery = z.strictObject({
  format: z.enum(importFormats, { error: 'format is json or csv' }).default('json'),
  what: z.enum(['devices', 'credentials'], { error: 'what is devices or credentials' }),
});
export type ExportQuery = z.infer<typeof exportQuery>;
