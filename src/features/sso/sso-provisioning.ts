import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { DbOrTx } from '../../platform/db/database.js';
import type { UserTable } from '../../platform/db/schema.js';
import { DomainError, conflict, forbidden } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import * as groups from '../identity/groups.store.js';
import * as users from '../identity/users.store.js';
import type { IdpClaims } from './sso-oidc.js';
import * as store from './sso.store.js';
import type { StoredSsoSettings } from './sso.store.js';

/** A refusal of the callback, with the reason the audit event records (the code is what the browser sees). */
export class SsoRefusal extends DomainError {
  constructor(readonly reason: string, error: DomainError) {
    super(error.code, error.message, error.kind);
  }
}
/** Wraps a domain error as a refusal with an audit reason. */
export const refuse = (reason: string, error: DomainError) => new SsoRefusal(reason, error);

/** The IdP's verified email, or null: an unverified address must never select an account. */
export function verifiedEmail(claims: IdpClaims): string | null {
  return typeof claims.email === 'string' && claims.email.includes('@') && claims.email_verified === true ? claims.email : null;
}

/** The groups claim as a list of strings (an IdP may send one group as a plain string). */
export function claimedGroups(claims: IdpClaims, claim: string): string[] {
  const value = claims[claim];
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * The tenant user this IdP identity is, in the caller's transaction: by its link (issuer + subject); the first
 * time by verified email (then linked); or, with just-in-time provisioning, a new active user without a local
 * password and with the role 'user'. Anything else is refused.
 */
export async function findOrProvisionUser(trx: DbOrTx, audit: AuditLog, input: { tenantId: string; settings: StoredSsoSettings; claims: IdpClaims; actor: Actor; now: number }): Promise<UserTable> {
  const { tenantId, claims, actor, now } = input;
  const link = await store.findLink(trx, tenantId, claims.iss, claims.sub);
  if (link) {
    const linked = await users.findUserById(trx, tenantId, link.user_id);
    if (linked) {
      await store.touchLink(trx, tenantId, claims.iss, claims.sub, now);
      return linked;
    }
    // The user was deleted: the link is stale, and this person is treated as seen for the first time.
    await store.deleteLink(trx, tenantId, claims.iss, claims.sub);
  }
  const email = verifiedEmail(claims);
  const unknown = () => refuse('unknown_user', forbidden('SSO_USER_UNKNOWN', `Your identity provider vouched for you${email ? ` (${email})` : ''}, but there is no Custos user for you in this tenant${email ? '' : ' and it sent no verified email to match one by'}. Ask your tenant administrator to create your user (with your email address) or to turn on just-in-time provisioning.`));
  if (!email) throw unknown();
  const matches = await store.usersByEmail(trx, tenantId, email);
  if (matches.length > 1) throw refuse('email_ambiguous', conflict('SSO_ACCOUNT_CONFLICT', `Several users of this tenant have the email ${email}, so single sign-on cannot tell which one you are. Ask your tenant administrator to make the addresses unique.`));
  let user: UserTable | undefined = matches[0];
  let via: 'email' | 'jit' = 'email';
  if (user) {
    // Break-glass accounts stay local: they are what still works when the identity provider is wrong or hostile.
    if (input.settings.breakGlassUsers.includes(user.id)) throw refuse('break_glass_account', forbidden('SSO_BREAK_GLASS_LOCAL', `The user with the email ${email} is a break-glass account, which logs in only with its local password. Ask your tenant administrator.`));
    const others = await store.linksOfUser(trx, tenantId, claims.iss, user.id);
    if (others.length > 0) throw refuse('linked_to_other_subject', conflict('SSO_ACCOUNT_CONFLICT', `The user with the email ${email} is already linked to another account of this identity provider. Ask your tenant administrator.`));
  } else {
    if (!input.settings.jitProvisioning) throw unknown();
    const username = email.toLowerCase();
    if (await users.findUserByUsername(trx, tenantId, username)) throw refuse('username_taken', conflict('SSO_ACCOUNT_CONFLICT', `A user named ${username} exists with another email address, so no user can be created for you. Ask your tenant administrator.`));
    const created: UserTable = { tenant_id: tenantId, id: newId(now), username, email, display_name: typeof claims.name === 'string' ? claims.name.slice(0, 200) : null, status: 'active', password_hash: null, created_at: now, updated_at: now, last_login_at: null, failed_logins: 0, locked_until: null, password_changed_at: null };
    await users.insertUser(trx, created, ['user']);
    user = created;
    await audit.append(trx, tenantId, { action: 'user.created', actor, target: { type: 'user', id: user.id }, details: { username, roles: ['user'], source: 'sso', issuer: claims.iss } });
    via = 'jit';
  }
  await store.insertLink(trx, { tenant_id: tenantId, issuer: claims.iss, subject: claims.sub, user_id: user.id, created_at: now, last_login_at: now });
  await audit.append(trx, tenantId, { action: 'auth.sso.linked', actor, target: { type: 'user', id: user.id }, details: { issuer: claims.iss, subject: claims.sub, email, via } });
  return user;
}

/**
 * Makes the user's membership of every mapped group follow the groups claim of this login: added when a
 * mapped claim value is present, removed when none is. Groups no mapping names are left alone.
 */
export async function syncMappedGroups(trx: DbOrTx, audit: AuditLog, input: { tenantId: string; userId: string; settings: StoredSsoSettings; claims: IdpClaims; actor: Actor }): Promise<void> {
  const { tenantId, userId, settings, actor } = input;
  if (settings.groupMapping.length === 0) return;
  const held = new Set(claimedGroups(input.claims, settings.groupClaim));
  const wanted = new Map<string, boolean>();
  for (const m of settings.groupMapping) wanted.set(m.groupId, (wanted.get(m.groupId) ?? false) || held.has(m.claim));
  const current = new Set((await groups.groupsOfUser(trx, tenantId, userId)).map((g) => g.id));
  for (const [groupId, member] of wanted) {
    if (member === current.has(groupId)) continue;
    // A group deleted after the mapping was saved is skipped: the mapping names nothing any more.
    if (!(await groups.findGroup(trx, tenantId, groupId))) continue;
    const details = { userIds: [userId], source: 'sso', claim: input.settings.groupClaim };
    if (member) {
      await groups.addMembers(trx, tenantId, groupId, [userId]);
      await audit.append(trx, tenantId, { action: 'group.members.added', actor, target: { type: 'group', id: groupId }, details });
    } else {
      await groups.removeMembers(trx, tenantId, groupId, [userId]);
      await audit.append(trx, tenantId, { action: 'group.members.removed', actor, target: { type: 'group', id: groupId }, details });
    }
  }
}
