import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import { conflict, invalid } from '../../platform/errors.js';
import { isId } from '../../platform/ids.js';
import * as groups from '../identity/groups.store.js';
import { roleSourcesOf } from '../identity/roles.store.js';
import * as users from '../identity/users.store.js';
import type { SsoOidc } from './sso-oidc.js';
import type { SsoSettingsInput, SsoSettingsView } from './sso.schemas.js';
import { readSsoSettings, writeSsoSettings, type StoredSsoSettings } from './sso.store.js';

/** Scopes asked for when the settings name none: the ID token then carries email and name. */
export const DEFAULT_SCOPES = ['openid', 'email', 'profile'];
/** The claim that lists the person's groups at the IdP, unless the settings name another. */
export const DEFAULT_GROUP_CLAIM = 'groups';
/** The path of the callback; the redirect URI registered at the IdP is the public URL plus this. */
export const CALLBACK_PATH = '/api/v1/auth/sso/callback';

/** Where the tenant's client secret is sealed: bound to the tenant, this entity and field. */
export const secretContext = (tenantId: string) => ({ tenantId, entity: 'sso_settings', id: tenantId, field: 'client_secret' });

/** The tenant's single sign-on settings: read (never the secret) and replaced (discovered, sealed, audited). */
export function createSsoSettingsService(deps: {
  db: Db;
  audit: AuditLog;
  clock: Clock;
  keyring: Keyring;
  oidc: Pick<SsoOidc, 'discover'>;
  publicUrl: string;
  /** The identity provider can log in as anyone: only a caller holding every permission may point Custos at one. */
  assertHoldsEverything: (actor: Actor, doing: string) => Promise<void>;
}) {
  const { db, audit, clock, keyring } = deps;
  const redirectUri = `${deps.publicUrl}${CALLBACK_PATH}`;

  async function toView(trx: DbOrTx, tenantId: string, stored: StoredSsoSettings | null): Promise<SsoSettingsView> {
    if (!stored) {
      return { enabled: false, issuer: null, clientId: null, clientSecretSet: false, scopes: DEFAULT_SCOPES, groupClaim: DEFAULT_GROUP_CLAIM, groupMapping: [], jitProvisioning: false, ssoOnly: false, breakGlassUsers: [], redirectUri };
    }
    const groupMapping = await Promise.all(stored.groupMapping.map(async (m) => ({ claim: m.claim, group: m.groupId, groupName: (await groups.findGroup(trx, tenantId, m.groupId))?.name ?? null })));
    return { enabled: stored.enabled, issuer: stored.issuer, clientId: stored.clientId, clientSecretSet: Boolean(stored.clientSecretSealed), scopes: stored.scopes, groupClaim: stored.groupClaim, groupMapping, jitProvisioning: stored.jitProvisioning, ssoOnly: stored.ssoOnly, breakGlassUsers: stored.breakGlassUsers, redirectUri };
  }

  /** Group names or ids to group ids; an unknown group (another tenant's included) is refused. */
  async function resolveMapping(trx: DbOrTx, tenantId: string, mapping: NonNullable<SsoSettingsInput['groupMapping']>) {
    const resolved: StoredSsoSettings['groupMapping'] = [];
    for (const entry of mapping) {
      const group = (isId(entry.group) ? await groups.findGroup(trx, tenantId, entry.group) : undefined) ?? (await groups.findGroupByName(trx, tenantId, entry.group));
      if (!group) throw invalid('SSO_GROUP_UNKNOWN', `No group "${entry.group}" in this tenant (mapping of claim "${entry.claim}"). Create the group first, or name an existing group by its name or id.`);
      if (!resolved.some((r) => r.claim === entry.claim && r.groupId === group.id)) resolved.push({ claim: entry.claim, groupId: group.id });
    }
    return resolved;
  }

  /**
   * Break-glass accounts keep password login when SSO is required, so each must be a tenant-admin with a
   * local password; with ssoOnly at least one must be active, or nobody could repair a broken IdP setup.
   */
  async function checkBreakGlass(trx: DbOrTx, tenantId: string, ids: string[], ssoOnly: boolean) {
    const rows = await Promise.all(ids.map(async (id) => ({ id, row: isId(id) ? await users.findUserById(trx, tenantId, id) : undefined })));
    const unknown = rows.filter((r) => !r.row).map((r) => r.id);
    if (unknown.length > 0) throw invalid('UNKNOWN_USER', `No user ${unknown.join(', ')} in this tenant.`);
    const unfit: string[] = [];
    for (const { id, row } of rows) {
      // Direct or through a group, read in this transaction (a second connection would deadlock SQLite).
      const roles = (await roleSourcesOf(trx, tenantId, id)).map((r) => r.role);
      if (!row!.password_hash || !roles.includes('tenant-admin')) unfit.push(id);
    }
    if (unfit.length > 0) throw conflict('BREAK_GLASS_INVALID', `A break-glass account must be a tenant-admin with a local password; ${unfit.join(', ')} is not. Remove it from breakGlassUsers, or give it the role and let it activate first.`);
    if (ssoOnly && !rows.some((r) => r.row!.status === 'active')) {
      throw conflict('BREAK_GLASS_REQUIRED', 'ssoOnly needs at least one break-glass account (breakGlassUsers): an active tenant-admin with a local password, who can still log in if the identity provider fails.');
    }
  }

  /** The settings as stored, without the client secret. */
  async function get(actor: Actor): Promise<SsoSettingsView> {
    const tenantId = actor.tenantId!;
    return toView(db, tenantId, await readSsoSettings(db, tenantId));
  }

  /** Replaces the settings; with `enabled`, the issuer is discovered now, so a typo fails here, not at login. */
  async function update(actor: Actor, input: SsoSettingsInput): Promise<SsoSettingsView> {
    const tenantId = actor.tenantId!;
    await deps.assertHoldsEverything(actor, 'configure single sign-on');
    const existing = await readSsoSettings(db, tenantId);
    if (!input.clientSecret && !existing?.clientSecretSealed) throw invalid('SSO_CLIENT_SECRET_REQUIRED', 'Send the clientSecret the identity provider issued for this client; later saves may leave it out to keep it.');
    if (input.ssoOnly && !input.enabled) throw invalid('SSO_ONLY_REQUIRES_ENABLED', 'ssoOnly turns password login off, so single sign-on must be enabled with it.');
    const issuer = input.issuer.replace(/\/+$/, '');
    // Outside any transaction: a slow IdP must not hold database locks.
    const metadata = input.enabled ? await deps.oidc.discover(issuer, input.clientId) : (existing?.issuer === issuer ? existing.metadata : null);
    const scopes = ['openid', ...new Set((input.scopes ?? DEFAULT_SCOPES).filter((s) => s !== 'openid'))];
    const breakGlassUsers = [...new Set(input.breakGlassUsers)];
    return db.transaction().execute(async (trx) => {
      const groupMapping = await resolveMapping(trx, tenantId, input.groupMapping ?? []);
      await checkBreakGlass(trx, tenantId, breakGlassUsers, input.ssoOnly);
      const clientSecretSealed = input.clientSecret ? await keyring.seal(trx, secretContext(tenantId), input.clientSecret) : existing!.clientSecretSealed;
      const stored: StoredSsoSettings = { enabled: input.enabled, issuer, clientId: input.clientId, clientSecretSealed, scopes, groupClaim: input.groupClaim ?? DEFAULT_GROUP_CLAIM, groupMapping, jitProvisioning: input.jitProvisioning, ssoOnly: input.ssoOnly, breakGlassUsers, metadata };
      await writeSsoSettings(trx, tenantId, stored, clock.now());
      // Never the secret, sealed or not: only whether it was replaced ("credential", as secret-like keys are refused).
      const details = { enabled: stored.enabled, issuer, clientId: stored.clientId, credentialReplaced: Boolean(input.clientSecret), scopes, groupClaim: stored.groupClaim, groupMapping: groupMapping.map((m) => `${m.claim} -> ${m.groupId}`), jitProvisioning: stored.jitProvisioning, ssoOnly: stored.ssoOnly, breakGlassUsers };
      await audit.append(trx, tenantId, { action: 'settings.sso.updated', actor, target: { type: 'settings', id: 'sso' }, details });
      return toView(trx, tenantId, stored);
    });
  }

  return { get, update };
}
export type SsoSettingsService = ReturnType<typeof createSsoSettingsService>;
