import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import { DomainError, invalid, notFound } from '../../platform/errors.js';
import { MailError, type Email, type Mailer, type SmtpTarget } from './mailer.js';
import type { SmtpSettingsInput, SmtpSettingsView } from './notifications.schemas.js';
import { deleteSmtpSettings, readSmtpSettings, writeSmtpSettings, type StoredSmtpSettings } from './notifications.store.js';

/** Where the tenant's SMTP password is sealed: bound to the tenant, this entity and field. */
export const smtpPasswordContext = (tenantId: string) => ({ tenantId, entity: 'smtp_settings', id: tenantId, field: 'password' });

const notConfigured: SmtpSettingsView = { configured: false, host: null, port: null, security: null, username: null, passwordSet: false, fromAddress: null, fromName: null };

function toView(stored: StoredSmtpSettings | null): SmtpSettingsView {
  if (!stored) return notConfigured;
  return { configured: true, host: stored.host, port: stored.port, security: stored.security, username: stored.username, passwordSet: Boolean(stored.passwordSealed), fromAddress: stored.fromAddress, fromName: stored.fromName };
}

/** What an audit event says about the settings: never the password, sealed or not. */
const auditDetails = (stored: StoredSmtpSettings) => ({ host: stored.host, port: stored.port, security: stored.security, username: stored.username, fromAddress: stored.fromAddress, fromName: stored.fromName });

/** The tenant's SMTP settings: read (never the password), replaced (sealed, audited), removed, tested; and sending with them. */
export function createSmtpSettingsService(deps: { db: Db; audit: AuditLog; clock: Clock; keyring: Keyring; mailer: Mailer }) {
  const { db, audit, clock, keyring, mailer } = deps;

  async function targetOf(trx: DbOrTx, tenantId: string, stored: StoredSmtpSettings): Promise<SmtpTarget> {
    const password = stored.passwordSealed ? (await keyring.open(trx, smtpPasswordContext(tenantId), stored.passwordSealed)).toString('utf8') : null;
    return { host: stored.host, port: stored.port, security: stored.security, username: stored.username, password, fromAddress: stored.fromAddress, fromName: stored.fromName };
  }

  /** The settings as stored, without the password. */
  async function get(actor: Actor): Promise<SmtpSettingsView> {
    return toView(await readSmtpSettings(db, actor.tenantId!));
  }

  /** Replaces the settings; an omitted password keeps the stored one while the username stays the same. */
  async function update(actor: Actor, input: SmtpSettingsInput): Promise<SmtpSettingsView> {
    const tenantId = actor.tenantId!;
    return db.transaction().execute(async (trx) => {
      const existing = await readSmtpSettings(trx, tenantId);
      const username = input.username ?? null;
      // A stored password belongs to its username: a new username without a new password would log in wrongly.
      const kept = username && existing?.username === username ? existing.passwordSealed : null;
      if (username && !input.password && !kept) throw invalid('SMTP_PASSWORD_REQUIRED', 'Send the password of this SMTP username; later saves with the same username may leave it out to keep it.');
      const passwordSealed = username && input.password ? await keyring.seal(trx, smtpPasswordContext(tenantId), input.password) : kept;
      const stored: StoredSmtpSettings = { host: input.host, port: input.port, security: input.security, username, passwordSealed, fromAddress: input.fromAddress, fromName: input.fromName ?? null };
      await writeSmtpSettings(trx, tenantId, stored, clock.now());
      // "credentialReplaced", not a password key: the audit log refuses secret-like detail names.
      await audit.append(trx, tenantId, { action: 'settings.smtp.updated', actor, target: { type: 'settings', id: 'smtp' }, details: { ...auditDetails(stored), credentialReplaced: Boolean(input.password), credentialSet: Boolean(passwordSealed) } });
      return toView(stored);
    });
  }

  /** Removes the settings: email stops, the inbox goes on. */
  async function remove(actor: Actor): Promise<void> {
    const tenantId = actor.tenantId!;
    await db.transaction().execute(async (trx) => {
      const existing = await readSmtpSettings(trx, tenantId);
      if (!existing || !(await deleteSmtpSettings(trx, tenantId))) throw notFound('SMTP_NOT_CONFIGURED', 'This tenant has no SMTP settings; nothing was removed.');
      await audit.append(trx, tenantId, { action: 'settings.smtp.removed', actor, target: { type: 'settings', id: 'smtp' }, details: auditDetails(existing) });
    });
  }

  /** Sends a test message now; the outcome is audited either way, and a failure carries the server's answer. */
  async function test(actor: Actor, to: string): Promise<{ delivered: true }> {
    const tenantId = actor.tenantId!;
    const stored = await readSmtpSettings(db, tenantId);
    if (!stored) throw notFound('SMTP_NOT_CONFIGURED', 'This tenant has no SMTP settings yet: PUT /api/v1/settings/smtp first.');
    const target = await targetOf(db, tenantId, stored);
    let failure: string | null = null;
    // Outside any transaction: a slow mail server must not hold database locks.
    try {
      await mailer(target, { to, subject: 'Custos test message', text: `This is a test message from Custos, sent by ${actor.id} to check the tenant's SMTP settings (${stored.host}:${stored.port}, ${stored.security}). No action is needed.` });
    } catch (error) {
      failure = error instanceof MailError ? error.message : 'the message could not be sent';
    }
    await db.transaction().execute((trx) => audit.append(trx, tenantId, { action: 'settings.smtp.tested', actor, outcome: failure === null ? 'success' : 'failure', target: { type: 'settings', id: 'smtp' }, details: { to, host: stored.host, port: stored.port, delivered: failure === null, error: failure } }));
    if (failure !== null) throw new DomainError('SMTP_TEST_FAILED', `The SMTP server at ${stored.host}:${stored.port} did not accept the test message: ${failure}`, 'unavailable');
    return { delivered: true };
  }

  /** Sends one notification email with the settings as they are now; false when the tenant no longer has any. */
  async function deliver(tenantId: string, email: Email): Promise<boolean> {
    const stored = await readSmtpSettings(db, tenantId);
    if (!stored) return false;
    await mailer(await targetOf(db, tenantId, stored), email);
    return true;
  }

  return { get, update, remove, test, deliver };
}
export type SmtpSettingsService = ReturnType<typeof createSmtpSettingsService>;
