import { z } from 'zod';
import { tagField } from '../vault/devices.schemas.js';

/** At most this many credential ids, and as many tags, granted to one client. */
export const GRANTS_MAX = 500;

const credentialIdField = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'A credential id is a lower-case UUID, as GET /api/v1/credentials lists it');

/** PUT /api/v1/clients/{id}/credential-grants: replaces both lists (a list left out is emptied); repeats are dropped and the rest sorted. */
export const putGrantsBody = z.strictObject({
  credentialIds: z.array(credentialIdField).max(GRANTS_MAX, `At most ${GRANTS_MAX} credential ids.`).overwrite((ids) => [...new Set(ids)].sort()).optional(),
  tags: z.array(tagField).max(GRANTS_MAX, `At most ${GRANTS_MAX} tags.`).overwrite((tags) => [...new Set(tags)].sort()).optional(),
});
export type PutGrantsInput = z.infer<typeof putGrantsBody>;

/** The credentials a client may reveal (with the scope vault.credentials.use): by id, or every credential carrying one of the tags. */
export const grantsView = z.object({ credentialIds: z.array(z.string()), tags: z.array(z.string()) });
export type GrantsView = z.infer<typeof grantsView>;
