import type { DbOrTx } from '../../platform/db/database.js';
import type { SsoLinkTable, SsoLoginTable } from '../../platform/db/schema.js';
import { readSetting, writeSetting } from '../identity/tenant-settings.store.js';

/** The tenant_settings key of the SSO settings. */
const SSO_KEY = 'sso';

/** The SSO settings as stored: the client secret only sealed, group mappings by group id. */
export interface StoredSsoSettings {
  enabled: boolean;
  issuer: string;
  clientId: string;
  /** The client secret sealed with the tenant key (entity sso_settings, id = tenant id, field client_secret). */
  clientSecretSealed: string;
  scopes: string[];
  groupClaim: string;
  groupMapping: { claim: string; groupId: string }[];
  jitProvisioning: boolean;
  ssoOnly: boolean;
  breakGlassUsers: string[];
  /** The IdP's discovery document as fetched when the settings were saved; logins need no discovery. */
  metadata: Record<string, unknown> | null;
}

/** The tenant's SSO settings, or null when never saved. */
export async function readSsoSettings(db: DbOrTx, tenantId: string): Promise<StoredSsoSettings | null> {
  const text = await readSetting(db, tenantId, SSO_KEY);
  return text ? (JSON.parse(text) as StoredSsoSettings) : null;
}

/** Replaces the tenant's SSO settings. */
export async function writeSsoSettings(db: DbOrTx, tenantId: string, settings: StoredSsoSettings, now: number): Promise<void> {
  await writeSetting(db, tenantId, SSO_KEY, settings, now);
}

/** Records a login in flight. */
export async function insertLogin(db: DbOrTx, row: SsoLoginTable): Promise<void> {
  await db.insertInto('sso_logins').values(row).execute();
}

/** A login in flight by the hash of its state, in whichever tenant started it (the callback names none). */
export async function findLoginByState(db: DbOrTx, stateHash: string) {
  return db.selectFrom('sso_logins').selectAll().where('state_hash', '=', stateHash).executeTakeFirst();
}

/** Marks a login used; false when it already was (a replay, or a concurrent callback that won). */
export async function consumeLogin(db: DbOrTx, tenantId: string, id: string, now: number): Promise<boolean> {
  const result = await db.updateTable('sso_logins').set({ used_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).where('used_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Deletes a tenant's logins that expired before the cutoff (used ones included): nothing keeps them useful. */
export async function purgeLogins(db: DbOrTx, tenantId: string, cutoff: number): Promise<void> {
  await db.deleteFrom('sso_logins').where('tenant_id', '=', tenantId).where('expires_at', '<', cutoff).execute();
}

/** The link of an IdP subject in a tenant. */
export async function findLink(db: DbOrTx, tenantId: string, issuer: string, subject: string) {
  return db.selectFrom('sso_links').selectAll().where('tenant_id', '=', tenantId).where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
}

/** The links a user already has with an issuer. */
export async function linksOfUser(db: DbOrTx, tenantId: string, issuer: string, userId: string) {
  return db.selectFrom('sso_links').selectAll().where('tenant_id', '=', tenantId).where('issuer', '=', issuer).where('user_id', '=', userId).execute();
}

/** Stores a new link. */
export async function insertLink(db: DbOrTx, row: SsoLinkTable): Promise<void> {
  await db.insertInto('sso_links').values(row).execute();
}

/** Removes a link (its user no longer exists). */
export async function deleteLink(db: DbOrTx, tenantId: string, issuer: string, subject: string): Promise<void> {
  await db.deleteFrom('sso_links').where('tenant_id', '=', tenantId).where('issuer', '=', issuer).where('subject', '=', subject).execute();
}

/** Records a login through a link. */
export async function touchLink(db: DbOrTx, tenantId: string, issuer: string, subject: string, now: number): Promise<void> {
  await db.updateTable('sso_links').set({ last_login_at: now }).where('tenant_id', '=', tenantId).where('issuer', '=', issuer).where('subject', '=', subject).execute();
}

/** A tenant's users whose email is this one (case-insensitive). */
export async function usersByEmail(db: DbOrTx, tenantId: string, email: string) {
  return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase())).execute();
}

/** A tenant's id, slug and status by id (a login in flight names its tenant by id). */
export async function tenantById(db: DbOrTx, id: string) {
  return db.selectFrom('tenants').select(['id', 'slug', 'status']).where('id', '=', id).executeTakeFirst();
}
