import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import type { ClientCredentialGrantTable } from '../../platform/db/schema.clients.js';
import { forbidden, invalid, notFound } from '../../platform/errors.js';
import { isId } from '../../platform/ids.js';
import type { GrantsView, PutGrantsInput } from './client-grants.schemas.js';
import * as grantStore from './client-grants.store.js';
import * as store from './clients.store.js';

// Whoever widens what an application may reveal must be allowed to use credentials themselves.
const WIDEN_PERMISSION = 'vault.credentials.use';

const clientNotFound = (id: string) => notFound('CLIENT_NOT_FOUND', `No API client ${id} in this tenant.`);

function viewOf(rows: { kind: ClientCredentialGrantTable['kind']; value: string }[]): GrantsView {
  return { credentialIds: rows.filter((r) => r.kind === 'credential').map((r) => r.value), tags: rows.filter((r) => r.kind === 'tag').map((r) => r.value) };
}

/**
 * The explicit credential grants of API clients (by credential id or tag): what an application may reveal when
 * its scopes include vault.credentials.use. Access policies govern users only; these govern clients.
 */
export function createClientGrantService(deps: {
  db: Db;
  audit: AuditLog;
  clock: Clock;
  /** The permission check for any caller (a user's roles, a client's scopes). */
  can: (actor: Actor, permission: string) => boolean | Promise<boolean>;
  /** Which of these ids name a credential of the tenant (the vault's answer). */
  existingCredentials: (tenantId: string, ids: readonly string[]) => Promise<ReadonlySet<string>>;
}) {
  const { db, audit, clock } = deps;

  async function load(trx: DbOrTx, actor: Actor, id: string) {
    const row = isId(id) ? await store.findClient(trx, actor.tenantId!, id) : undefined;
    if (!row) throw clientNotFound(id);
    return row;
  }

  /** A grant of a deleted credential is not listed: its id is never reused, so it matches nothing any more. */
  async function live(tenantId: string, view: GrantsView): Promise<GrantsView> {
    const existing = await deps.existingCredentials(tenantId, view.credentialIds);
    return { credentialIds: view.credentialIds.filter((id) => existing.has(id)), tags: view.tags };
  }

  /** A client's grants; another tenant's client answers 404 CLIENT_NOT_FOUND. */
  async function get(actor: Actor, id: string): Promise<GrantsView> {
    const client = await load(db, actor, id);
    return live(client.tenant_id, viewOf(await grantStore.listGrants(db, client.tenant_id, client.id)));
  }

  /** Replaces a client's grants (audited); every credential id must exist in the tenant, and only a caller who may use credentials adds any. */
  async function replace(actor: Actor, id: string, input: PutGrantsInput): Promise<GrantsView> {
    const tenantId = actor.tenantId!;
    const next: GrantsView = { credentialIds: input.credentialIds ?? [], tags: input.tags ?? [] };
    await load(db, actor, id);
    // Asked before the transaction: SQLite has one connection, and the checks read.
    const existing = await deps.existingCredentials(tenantId, next.credentialIds);
    const unknown = next.credentialIds.filter((c) => !existing.has(c));
    if (unknown.length > 0) throw invalid('UNKNOWN_CREDENTIAL', `No credential ${unknown.join(', ')} in this tenant; GET /api/v1/credentials lists them.`);
    const before = await live(tenantId, viewOf(await grantStore.listGrants(db, tenantId, id)));
    const widens = next.credentialIds.some((c) => !before.credentialIds.includes(c)) || next.tags.some((t) => !before.tags.includes(t));
    if (widens && !(await deps.can(actor, WIDEN_PERMISSION))) {
      throw forbidden('SCOPE_NOT_HELD', `You cannot grant credentials to a client without ${WIDEN_PERMISSION}: your own roles do not grant it. Removing grants is always allowed.`);
    }
    return db.transaction().execute(async (trx) => {
      const client = await load(trx, actor, id);
      const current = viewOf(await grantStore.listGrants(trx, tenantId, client.id));
      const same = JSON.stringify(current) === JSON.stringify(next);
      if (same) return next;
      const now = clock.now();
      const rows: ClientCredentialGrantTable[] = [
        ...next.credentialIds.map((value) => ({ kind: 'credential' as const, value })),
        ...next.tags.map((value) => ({ kind: 'tag' as const, value })),
      ].map((grant) => ({ tenant_id: tenantId, client_id: client.id, ...grant, created_at: now, created_by: actor.id }));
      await grantStore.replaceGrants(trx, tenantId, client.id, rows);
      await audit.append(trx, tenantId, {
        action: 'client.credential_grants_changed', actor, target: { type: 'client', id: client.id },
        details: { clientId: client.client_id, credentialIds: next.credentialIds, tags: next.tags, previousCredentialIds: current.credentialIds, previousTags: current.tags },
      });
      return next;
    });
  }

  /** The calling client's own grants, as the vault reads them on each reveal. */
  async function grantsOf(actor: Actor): Promise<GrantsView> {
    return viewOf(await grantStore.listGrants(db, actor.tenantId!, actor.id));
  }

  return { get, replace, grantsOf };
}
export type ClientGrantService = ReturnType<typeof createClientGrantService>;
