import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import { eventHash, headMac, macMatches } from '../../platform/audit/chain.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import type { AuditCheckpointKeyTable } from '../../platform/db/schema.audit.js';
import { DomainError, notFound } from '../../platform/errors.js';
import type { Logger } from '../../platform/log.js';
import { eventAt, hashAt } from './audit-search.store.js';
import { checkpointSignatureValid, newCheckpointKeyPair, signCheckpoint } from './checkpoint-signature.js';
import * as store from './checkpoints.store.js';
import type { CheckpointView } from './audit.schemas.js';

/** Where a tenant's checkpoint private key is sealed: bound to the tenant, the key id and this field. */
const privateKeyContext = (tenantId: string, keyId: string) => ({ tenantId, entity: 'audit_checkpoint_keys', id: keyId, field: 'private_key' });

/** A checkpoint as routes and exports show it. */
export const checkpointToView = (c: store.StoredCheckpoint): CheckpointView => ({ seq: c.seq, hash: c.hash, signedAt: new Date(c.signed_at).toISOString(), keyId: c.key_id, signature: c.signature });

/**
 * Signed checkpoints of each tenant's audit chain head under the tenant's own Ed25519 key. Checkpoints live
 * beside the chain, not in it: an event per checkpoint would move the head it just signed, so the schedule
 * would never find a tenant at rest. Only an on-demand checkpoint (a person asked) is recorded as an event.
 */
export function createCheckpointService(deps: { db: Db; audit: AuditLog; clock: Clock; keyring: Keyring; log?: Logger }) {
  const { db, audit, clock, keyring } = deps;

  // The UPDATE takes the head row's lock, as append does: the head cannot move while it is signed, and two nodes never create two keys.
  async function lockHead(trx: DbOrTx, tenantId: string) {
    const head = await trx.updateTable('audit_heads').set((eb) => ({ seq: eb.ref('seq') })).where('tenant_id', '=', tenantId).returning(['seq', 'hash', 'mac']).executeTakeFirst();
    return head ? { seq: Number(head.seq), hash: head.hash, mac: head.mac } : null;
  }

  async function ensureKey(trx: DbOrTx, tenantId: string): Promise<AuditCheckpointKeyTable> {
    const existing = await store.readCheckpointKey(trx, tenantId);
    if (existing) return existing;
    const pair = newCheckpointKeyPair();
    const key = { tenant_id: tenantId, key_id: pair.keyId, public_key_pem: pair.publicKeyPem, private_key_sealed: await keyring.seal(trx, privateKeyContext(tenantId, pair.keyId), pair.privateKeyPem), created_at: clock.now() };
    await store.insertCheckpointKey(trx, key);
    return key;
  }

  /** Signs the current head in the caller's transaction (the same head twice gives the one checkpoint); refuses a head that does not check out. */
  async function checkpointIn(trx: DbOrTx, tenantId: string): Promise<store.StoredCheckpoint> {
    const head = await lockHead(trx, tenantId);
    if (!head || head.seq === 0) throw notFound('AUDIT_CHAIN_EMPTY', 'This tenant has no audit events yet: there is nothing to checkpoint.');
    // A head rewritten in the database, or one whose event is gone or changed, must never receive a signature.
    const macOk = macMatches(headMac(await keyring.deriveKey(trx, tenantId, 'audit-head'), tenantId, head.seq, head.hash), head.mac);
    const event = await eventAt(trx, tenantId, head.seq);
    if (!macOk || !event || event.hash !== head.hash || eventHash(event) !== head.hash) throw new DomainError('AUDIT_CHAIN_BROKEN', `The audit chain head (#${head.seq}) does not match the stored events; no checkpoint was signed. Run GET /api/v1/audit/verify to find where.`, 'conflict');
    const latest = await store.latestCheckpoint(trx, tenantId);
    if (latest && latest.seq === head.seq) return latest;
    const key = await ensureKey(trx, tenantId);
    const privateKeyPem = (await keyring.open(trx, privateKeyContext(tenantId, key.key_id), key.private_key_sealed)).toString('utf8');
    const signedAt = clock.now();
    const checkpoint = { tenant_id: tenantId, seq: head.seq, hash: head.hash, signed_at: signedAt, key_id: key.key_id, signature: signCheckpoint(privateKeyPem, { tenantId, seq: head.seq, hash: head.hash, signedAt }) };
    await store.insertCheckpoint(trx, checkpoint);
    return checkpoint;
  }

  /** POST /audit/checkpoints: signs the head now and records who asked (after signing, so the event is the next one). */
  async function signOnDemand(actor: Actor): Promise<CheckpointView> {
    const tenantId = actor.tenantId!;
    return db.transaction().execute(async (trx) => {
      const checkpoint = await checkpointIn(trx, tenantId);
      await audit.append(trx, tenantId, { action: 'audit.checkpoint.signed', actor, target: { type: 'audit_checkpoint', id: String(checkpoint.seq) }, details: { seq: checkpoint.seq, hash: checkpoint.hash, keyId: checkpoint.key_id } });
      return checkpointToView(checkpoint);
    });
  }

  /** The scheduled run: a checkpoint for every tenant whose head moved since its last one; one tenant's failure does not stop the rest. */
  async function checkpointMovedHeads(excludedScope: string): Promise<{ signed: number; failed: number }> {
    let signed = 0;
    let failed = 0;
    for (const tenantId of await store.scopesWithUncheckpointedHeads(db, excludedScope)) {
      try {
        await db.transaction().execute((trx) => checkpointIn(trx, tenantId));
        signed += 1;
      } catch (error) {
        failed += 1;
        deps.log?.error({ tenantId, err: error }, 'audit checkpoint not signed');
      }
    }
    return { signed, failed };
  }

  /** The tenant's public key (created with the first checkpoint, or now); never the private half. */
  async function publicKey(actor: Actor) {
    const tenantId = actor.tenantId!;
    const key = (await store.readCheckpointKey(db, tenantId)) ?? (await db.transaction().execute(async (trx) => {
      await lockHead(trx, tenantId);
      return ensureKey(trx, tenantId);
    }));
    return { keyId: key.key_id, algorithm: 'ed25519' as const, publicKeyPem: key.public_key_pem, createdAt: new Date(key.created_at).toISOString() };
  }

  /** Checkpoints newest first. */
  async function list(actor: Actor, query: { limit: number; beforeSeq?: number }): Promise<CheckpointView[]> {
    return (await store.listCheckpoints(db, actor.tenantId!, query)).map(checkpointToView);
  }

  /** Checks the newest checkpoint against the stored key and the stored event at its seq; undefined when there is none. */
  async function checkLatest(trx: DbOrTx, tenantId: string) {
    const latest = await store.latestCheckpoint(trx, tenantId);
    if (!latest) return undefined;
    const key = await store.readCheckpointKey(trx, tenantId);
    const signatureOk = key !== null && key.key_id === latest.key_id && checkpointSignatureValid(key.public_key_pem, { tenantId, seq: latest.seq, hash: latest.hash, signedAt: latest.signed_at }, latest.signature);
    const stored = await hashAt(trx, tenantId, latest.seq);
    const message = !signatureOk ? `checkpoint #${latest.seq} does not carry a valid signature of this tenant's key: it was forged or altered`
      : stored !== latest.hash ? `event #${latest.seq} no longer has the hash checkpoint #${latest.seq} signed: the chain was rewritten up to it`
      : `checkpoint #${latest.seq} is validly signed and matches the stored event`;
    return { ...checkpointToView(latest), valid: signatureOk && stored === latest.hash, message };
  }

  return { checkpointIn, signOnDemand, checkpointMovedHeads, publicKey, list, checkLatest };
}
export type CheckpointService = ReturnType<typeof createCheckpointService>;
