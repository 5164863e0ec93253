import { Secret, TOTP } from 'otpauth';
import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import { conflict, invalid, notFound } from '../../platform/errors.js';
import { isId } from '../../platform/ids.js';
import { openOrNull, totpContext, versionContext } from './credentials.sealing.js';
import { credentialNotFound } from './credentials.service.js';
import * as credentials from './credentials.store.js';
import type { CredentialRow } from './credentials.store.js';

const TOTP_PERIOD = 30;
const TOTP_DIGITS = 6;
const JUSTIFICATION_MIN = 5;

const iso = (ms: number) => new Date(ms).toISOString();
const integrityFailed = (what: string, id: string) =>
  conflict('SECRET_INTEGRITY_FAILED', `The stored ${what} of credential ${id} failed its integrity check (it was altered or moved in the database), so it cannot be shown. The event was recorded and the credential flagged for rotation: tell your security team, and set a new secret with POST /api/v1/credentials/${id}/secret.`);

/**
 * What a credential's secret history offers: the list of versions (never a secret), an audited reveal of an OLD
 * version, and the current TOTP code. A sealed value that fails to open answers 409 SECRET_INTEGRITY_FAILED (never
 * a 500), is audited as credential.integrity_failed and flags the credential for rotation.
 */
export function createCredentialHistoryService(deps: { db: Db; audit: AuditLog; clock: Clock; keyring: Keyring }) {
  const { db, audit, clock, keyring } = deps;
  const tenantOf = (actor: Actor) => actor.tenantId!;

  async function load(trx: DbOrTx, tenantId: string, id: string) {
    const row = isId(id) ? await credentials.findCredential(trx, tenantId, id) : undefined;
    if (!row) throw credentialNotFound(id);
    return row;
  }

  /** Records, in the caller's transaction, that a sealed value would not open; the caller then answers 409. */
  async function recordIntegrityFailure(trx: DbOrTx, actor: Actor, row: CredentialRow, field: string, version: number | null) {
    await credentials.updateCredential(trx, row.tenant_id, row.id, { needs_rotation: 1 });
    await audit.append(trx, row.tenant_id, { action: 'credential.integrity_failed', actor, outcome: 'failure', target: { type: 'credential', id: row.id }, details: { field, version } });
  }

  /** The versions of a credential's secret, newest first (who set each, when and why); never a secret. */
  async function history(actor: Actor, id: string, page: { before?: number; limit: number }) {
    const tenantId = tenantOf(actor);
    const row = await load(db, tenantId, id);
    const rows = await credentials.listVersions(db, tenantId, row.id, { before: page.before, limit: page.limit + 1 });
    const versions = rows.slice(0, page.limit).map((v) => ({ version: v.version, reason: v.reason, createdBy: v.created_by, createdAt: iso(v.created_at), current: v.version === row.version }));
    return { versions, nextCursor: rows.length > page.limit ? versions[versions.length - 1]!.version : null };
  }

  /**
   * Reveals an old version of the secret with a justification. The audit event commits in the same transaction
   * before the secret is returned: no event, no secret. The current version is refused (access policies govern it).
   */
  async function revealVersion(actor: Actor, id: string, version: number, justification: string | undefined) {
    const tenantId = tenantOf(actor);
    const reason = justification?.trim() ?? '';
    const outcome = await db.transaction().execute(async (trx) => {
      const row = await load(trx, tenantId, id);
      if (reason.length < JUSTIFICATION_MIN) {
        throw invalid('JUSTIFICATION_REQUIRED', `Say why you need this old secret (at least ${JUSTIFICATION_MIN} characters, such as a ticket number) in justification; it is recorded in the audit log.`);
      }
      if (version === row.version) {
        throw conflict('VERSION_IS_CURRENT', `Version ${version} is the current secret; the history reveals only older versions (the current one is revealed under the access policies).`);
      }
      const stored = version < row.version ? await credentials.findVersion(trx, tenantId, row.id, version) : undefined;
      if (!stored?.secret_sealed) throw notFound('VERSION_NOT_FOUND', `Credential ${row.id} has no version ${version}; see GET /api/v1/credentials/${row.id}/history.`);
      const secret = await openOrNull(keyring, trx, versionContext(tenantId, row.id, version, 'secret'), stored.secret_sealed);
      const passphrase = stored.passphrase_sealed === null ? null : await openOrNull(keyring, trx, versionContext(tenantId, row.id, version, 'passphrase'), stored.passphrase_sealed);
      if (secret === null || (stored.passphrase_sealed !== null && passphrase === null)) {
        await recordIntegrityFailure(trx, actor, row, secret === null ? 'secret' : 'passphrase', version);
        return null;
      }
      await audit.append(trx, tenantId, { action: 'credential.history.revealed', actor, target: { type: 'credential', id: row.id }, details: { version, justification: reason } });
      return { credentialId: row.id, version, secret, passphrase, reason: stored.reason, createdAt: iso(stored.created_at) };
    });
    if (!outcome) throw integrityFailed(`version ${version}`, id);
    return outcome;
  }

  /** The current TOTP code of the credential's seed and the seconds it stays valid; audited, the seed never leaves. */
  async function totp(actor: Actor, id: string) {
    const tenantId = tenantOf(actor);
    const outcome = await db.transaction().execute(async (trx) => {
      const row = await load(trx, tenantId, id);
      if (row.totp_sealed === null) throw notFound('TOTP_NOT_SET', `Credential ${row.id} has no TOTP seed; add one with PATCH /api/v1/credentials/${row.id} {"totpSeed":"..."}.`);
      const seed = await openOrNull(keyring, trx, totpContext(tenantId, row.id), row.totp_sealed);
      if (seed === null) {
        await recordIntegrityFailure(trx, actor, row, 'totpSeed', null);
        return null;
      }
      const now = clock.now();
      const generator = new TOTP({ secret: Secret.fromBase32(seed), algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD });
      await audit.append(trx, tenantId, { action: 'credential.totp.viewed', actor, target: { type: 'credential', id: row.id } });
      return { code: generator.generate({ timestamp: now }), secondsRemaining: TOTP_PERIOD - (Math.floor(now / 1000) % TOTP_PERIOD), period: TOTP_PERIOD, digits: TOTP_DIGITS };
    });
    if (!outcome) throw integrityFailed('TOTP seed', id);
    return outcome;
  }

  return { history, revealVersion, totp };
}
export type CredentialHistoryService = ReturnType<typeof createCredentialHistoryService>;
