import type { Actor } from '../../platform/actor.js';
import type { Db } from '../../platform/db/database.js';
import { forbidden } from '../../platform/errors.js';
import { isId } from '../../platform/ids.js';
import { credentialNotFound } from './credentials.service.js';
import { tagsOfCredential } from './credential-refs.store.js';
import type { RevealInput } from './reveal.schemas.js';

/** The credentials an API client was granted explicitly (access policies govern users only). */
export interface ClientCredentialGrants {
  credentialIds: readonly string[];
  tags: readonly string[];
}

/** What the client path asks of other features; main/ wires them. */
export interface ClientUseGovernance {
  /** The explicit credential grants of the calling client (the clients feature keeps them). */
  clientGrantsOf(actor: Actor): Promise<ClientCredentialGrants>;
  /** The permission check: a client holding vault.credentials.read is told why, not 404. */
  can(actor: Actor, permission: string): boolean | Promise<boolean>;
}

/** What a client's granted reveal carries into its audit event: which grant allowed it. */
export interface ClientGrant {
  mode: 'client-grant';
  /** 'id' when the credential's id is granted, else 'tag:<tag>' naming the first granted tag it carries. */
  grant: string;
  justification: string | null;
  emergency: false;
}

/** The grant covering a credential: its id, or the first of its (sorted) tags the client was granted; null when none. */
export function coveringGrant(grants: ClientCredentialGrants, credentialId: string, tags: readonly string[]): string | null {
  if (grants.credentialIds.includes(credentialId)) return 'id';
  const tag = tags.find((t) => grants.tags.includes(t));
  return tag === undefined ? null : `tag:${tag}`;
}

/**
 * The authorization of a reveal by an API client: its token's scopes already passed the route's permission
 * check, and an explicit grant (credential id or tag) must cover the credential. 2 indexed reads, no transaction.
 */
export function createClientUse(deps: { db: Db; governance: ClientUseGovernance }) {
  const { db, governance } = deps;

  /** Answers the grant the audit event records, or throws 404 (403 ACCESS_NOT_GRANTED to a client that may list credentials). */
  async function authorize(actor: Actor, id: string, input: RevealInput): Promise<ClientGrant> {
    const tags = isId(id) ? await tagsOfCredential(db, actor.tenantId!, id) : undefined;
    if (!tags) throw credentialNotFound(id);
    const grant = coveringGrant(await governance.clientGrantsOf(actor), id, tags);
    if (grant === null) {
      // A client that cannot list credentials learns nothing of one it was not granted.
      if (await governance.can(actor, 'vault.credentials.read')) {
        throw forbidden('ACCESS_NOT_GRANTED', `This API client holds no grant covering credential ${id}. A tenant administrator grants it by id or tag (PUT /api/v1/clients/{id}/credential-grants).`);
      }
      throw credentialNotFound(id);
    }
    return { mode: 'client-grant', grant, justification: input?.justification?.trim() || null, emergency: false };
  }

  return { authorize };
}
export type ClientUse = ReturnType<typeof createClientUse>;
