import type { Actor } from '../../platform/actor.js';
import type { Db } from '../../platform/db/database.js';
import { isId } from '../../platform/ids.js';
import { credentialNotFound } from './credentials.service.js';
import * as store from './credential-refs.store.js';

/** How a route names a credential: by id, or by its account on a device (`username@device-name`). */
export type CredentialRef = { id: string } | { username: string; device: string };

/**
 * Reads a credential reference from a path segment (already URL-decoded). An id is taken as it is; otherwise the
 * last '@' splits username from device name, since account names such as svc@corp may hold one themselves.
 */
export function parseCredentialRef(raw: string): CredentialRef {
  const at = raw.lastIndexOf('@');
  if (isId(raw) || at <= 0 || at === raw.length - 1) return { id: raw };
  return { username: raw.slice(0, at), device: raw.slice(at + 1) };
}

/** The reference as a caller wrote it, for messages. */
export const refText = (ref: CredentialRef) => ('id' in ref ? ref.id : `${ref.username}@${ref.device}`);

/** Resolves references to credential ids within the caller's tenant, and tells which ids exist (for other features' checks). */
export function createCredentialRefs(deps: { db: Db }) {
  const { db } = deps;

  /** The credential id a reference names; an account no credential of the tenant has answers 404 CREDENTIAL_NOT_FOUND. */
  async function resolve(actor: Actor, ref: CredentialRef): Promise<string> {
    if ('id' in ref) return ref.id;
    const id = await store.findIdByAccount(db, actor.tenantId!, ref.username, ref.device);
    if (!id) throw credentialNotFound(refText(ref));
    return id;
  }

  /** Which of these ids name a credential of the tenant (malformed ids never do). */
  async function existing(tenantId: string, ids: readonly string[]): Promise<Set<string>> {
    return store.existingIds(db, tenantId, ids.filter(isId));
  }

  return { resolve, existing };
}
export type CredentialRefs = ReturnType<typeof createCredentialRefs>;
