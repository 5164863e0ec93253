import { systemActor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring, SealContext } from '../../platform/crypto/keyring.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import type { CredentialTable, DeviceTable } from '../../platform/db/schema.js';
import type { RotationState, RotationTable } from '../../platform/db/schema.rotation.js';
import { isId } from '../../platform/ids.js';
import type { TargetDialer } from '../../platform/net/dial.js';
import { versionContext } from '../vault/credentials.sealing.js';
import * as credentials from '../vault/credentials.store.js';
import * as devices from '../vault/devices.store.js';
import { generatePassword } from '../vault/password-generator.js';
import { pluginFor, rotationPlugins } from './plugins/index.js';
import type { AdminAccess, PluginContext, RotationPlugin, TargetSecret } from './plugins/plugin.types.js';
import { classifyFailure, RotationFailure, type Classified } from './rotation.errors.js';
import { rulesFor } from './rotation.policies.js';
import * as store from './rotation.store.js';

/** The guarded dialer (src/platform/net/dial.ts): a vetted TCP connection to a device, or through its connector. */
export type RotationDialer = TargetDialer;

/** The steps after which CUSTOS_ROTATION_CRASH_AT kills the process (the crash tests). */
export const crashSteps = ['after-pending-commit', 'after-target-change', 'after-verify'] as const;
export type CrashStep = (typeof crashSteps)[number];

/** What a run or a settling left: the rotation's state, and whether the job should try again later. */
export interface RunOutcome {
  state: RotationState;
  retry: boolean;
  /** The per-device limit was reached: nothing was done, run again shortly. */
  busy?: boolean;
}

const finalStates: RotationState[] = ['succeeded', 'failed', 'cancelled'];
const pendingContext = (row: Pick<RotationTable, 'tenant_id' | 'id'>, field: 'secret' | 'passphrase'): SealContext => ({ tenantId: row.tenant_id, entity: 'rotation', id: row.id, field: `pending-${field}` });

interface Prepared {
  plugin: RotationPlugin;
  ctx: PluginContext;
  current: TargetSecret;
  admin?: AdminAccess;
  /** A reconciliation: the current secret is known not to log in, so a target taking neither secret is where it started. */
  reset: boolean;
}

/**
 * Runs rotations crash-safely: (1) the next secret is generated under the credential policy, sealed and committed
 * as pending; (2) the target is changed; (3) the engine logs in with the next secret; (4) one transaction makes it
 * the current version (the old one stays in history). A rotation found with a pending secret is settled first by
 * asking the target which secret it accepts, so whatever fails or is killed, the vault keeps a secret that logs in.
 */
export function createRotationEngine(deps: {
  db: Db;
  audit: AuditLog;
  clock: Clock;
  keyring: Keyring;
  dial: RotationDialer;
  plugins?: Partial<Record<RotationPlugin['name'], RotationPlugin>>;
  timeoutMs?: number;
  /** How many rotations may run on one device at once. */
  deviceConcurrency?: number;
  /** Test hook: kill the process with SIGKILL right after this step. */
  crashAt?: string;
}) {
  const { db, audit, clock, keyring } = deps;
  const timeoutMs = deps.timeoutMs ?? 15_000;
  const deviceConcurrency = deps.deviceConcurrency ?? 1;
  const plugins = deps.plugins ?? rotationPlugins;

  async function crashPoint(step: CrashStep): Promise<void> {
    if (deps.crashAt !== step) return;
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => undefined);
  }

  async function openSecret(trx: DbOrTx, tenantId: string, cred: CredentialTable): Promise<TargetSecret> {
    if (!cred.secret_sealed) throw new RotationFailure('ROTATION_NO_SECRET', 'The credential has no secret to log in with; set one before rotating it.', false);
    const secret = (await keyring.open(trx, versionContext(tenantId, cred.id, cred.version, 'secret'), cred.secret_sealed)).toString('utf8');
    const passphrase = cred.passphrase_sealed ? (await keyring.open(trx, versionContext(tenantId, cred.id, cred.version, 'passphrase'), cred.passphrase_sealed)).toString('utf8') : null;
    return { secret, passphrase };
  }

  async function openPending(trx: DbOrTx, row: RotationTable): Promise<TargetSecret> {
    const secret = (await keyring.open(trx, pendingContext(row, 'secret'), row.pending_secret_sealed!)).toString('utf8');
    const passphrase = row.pending_passphrase_sealed ? (await keyring.open(trx, pendingContext(row, 'passphrase'), row.pending_passphrase_sealed)).toString('utf8') : null;
    return { secret, passphrase };
  }

  /** The plugin, its context and the secrets the rotation works with; a rotation that cannot run throws a permanent failure. */
  async function prepare(trx: DbOrTx, row: RotationTable): Promise<Prepared & { cred: CredentialTable; device: DeviceTable }> {
    const cred = await credentials.findCredential(trx, row.tenant_id, row.credential_id);
    if (!cred) throw new RotationFailure('ROTATION_CREDENTIAL_GONE', 'The credential was removed.', false);
    const device = (await devices.findDevice(trx, row.tenant_id, cred.device_id))!;
    const plugin = pluginFor(device.protocol, cred.type, plugins);
    if (!plugin) throw new RotationFailure('ROTATION_UNSUPPORTED', `Custos cannot rotate a ${cred.type} credential on a ${device.protocol} device.`, false);
    const info = JSON.parse(cred.additional_info) as Record<string, unknown>;
    const target = { tenantId: row.tenant_id, host: device.address, port: device.port, connectorId: (device as DeviceTable & { connector_id?: string | null }).connector_id ?? null };
    const ctx: PluginContext = { username: cred.username, dial: () => deps.dial(target, { timeoutMs }), timeoutMs, info };
    const current = await openSecret(trx, row.tenant_id, cred);
    // additionalInfo.adminCredentialId names another credential of the same device that may change this one; a
    // reconciliation resets the account with additionalInfo.reconcileCredentialId instead.
    const reset = row.trigger === 'reconcile';
    const field = reset ? 'reconcileCredentialId' : 'adminCredentialId';
    const adminId = typeof info[field] === 'string' ? info[field] : null;
    if (reset && !adminId) throw new RotationFailure('ROTATION_RECONCILE_NOT_SET', 'A reconciliation needs additionalInfo.reconcileCredentialId: another credential of the same device allowed to reset this account.', false);
    let admin: AdminAccess | undefined;
    if (adminId) {
      const adminCred = isId(adminId) && adminId !== cred.id ? await credentials.findCredential(trx, row.tenant_id, adminId) : undefined;
      if (!adminCred || adminCred.device_id !== cred.device_id) throw new RotationFailure('ROTATION_ADMIN_NOT_FOUND', `additionalInfo.${field} must name another credential of the same device.`, false);
      admin = { username: adminCred.username, secret: await openSecret(trx, row.tenant_id, adminCred) };
    }
    return { plugin, ctx, current, admin, reset, cred, device };
  }

  async function record(row: RotationTable, changes: Partial<RotationTable>, whenState: RotationState[] = store.activeStates): Promise<boolean> {
    return store.updateRotation(db, row.tenant_id, row.id, { ...changes, updated_at: clock.now() }, whenState);
  }

  /** Fails a rotation for good, in one transaction with its event; a pending secret is kept only when the target may hold it. */
  async function fail(row: RotationTable, failure: Classified, options: { keepPending: boolean; outOfSync?: boolean }): Promise<RunOutcome> {
    await db.transaction().execute(async (trx) => {
      const now = clock.now();
      const changed = await store.updateRotation(trx, row.tenant_id, row.id, {
        state: 'failed', error_code: failure.code, error_message: failure.message, finished_at: now, updated_at: now,
        ...(options.keepPending ? {} : { pending_secret_sealed: null, pending_passphrase_sealed: null }),
      }, store.activeStates);
      if (!changed) return;
      const target = { type: 'credential', id: row.credential_id };
      await audit.append(trx, row.tenant_id, { action: 'rotation.failed', actor: systemActor, outcome: 'failure', target, details: { rotationId: row.id, trigger: row.trigger, attempts: row.attempts, step: row.step, errorCode: failure.code, message: failure.message } });
      if (options.outOfSync) {
        await credentials.updateCredential(trx, row.tenant_id, row.credential_id, { needs_rotation: 1, updated_at: now });
        await store.recordHeartbeat(trx, row.tenant_id, row.credential_id, { status: 'out_of_sync', errorCode: failure.code, now });
        await audit.append(trx, row.tenant_id, { action: 'credential.out_of_sync', actor: systemActor, outcome: 'failure', target, details: { rotationId: row.id, detectedBy: 'rotation' } });
      }
    });
    return { state: 'failed', retry: false };
  }

  /** Makes the pending secret the credential's current version, in one transaction with the rotation's success. */
  async function promote(row: RotationTable): Promise<RunOutcome> {
    return db.transaction().execute(async (trx) => {
      const fresh = await store.findRotation(trx, row.tenant_id, row.id);
      if (!fresh || finalStates.includes(fresh.state) || !fresh.pending_secret_sealed) return { state: fresh?.state ?? 'cancelled', retry: false };
      const next = await openPending(trx, fresh);
      const version = await credentials.claimNextVersion(trx, row.tenant_id, row.credential_id);
      if (version === undefined) throw new RotationFailure('ROTATION_CREDENTIAL_GONE', 'The credential was removed.', false);
      const now = clock.now();
      const secretSealed = await keyring.seal(trx, versionContext(row.tenant_id, row.credential_id, version, 'secret'), next.secret);
      const passphraseSealed = next.passphrase == null ? null : await keyring.seal(trx, versionContext(row.tenant_id, row.credential_id, version, 'passphrase'), next.passphrase);
      await credentials.insertVersion(trx, { tenant_id: row.tenant_id, credential_id: row.credential_id, version, secret_sealed: secretSealed, passphrase_sealed: passphraseSealed, reason: 'rotation', created_by: fresh.requested_by, created_at: now });
      await credentials.updateCredential(trx, row.tenant_id, row.credential_id, { secret_sealed: secretSealed, passphrase_sealed: passphraseSealed, secret_changed_at: now, needs_rotation: 0, updated_at: now });
      await store.updateRotation(trx, row.tenant_id, row.id, { state: 'succeeded', step: 'promoted', pending_secret_sealed: null, pending_passphrase_sealed: null, to_version: version, error_code: null, error_message: null, finished_at: now, updated_at: now });
      const target = { type: 'credential', id: row.credential_id };
      await audit.append(trx, row.tenant_id, { action: 'credential.secret.changed', actor: systemActor, target, details: { version, reason: 'rotation' } });
      await audit.append(trx, row.tenant_id, { action: 'rotation.succeeded', actor: systemActor, target, details: { rotationId: row.id, trigger: row.trigger, attempts: fresh.attempts, version } });
      // The new secret just logged in: the heartbeat's verdict is ok from now, and a reset closes what it found.
      await store.recordHeartbeat(trx, row.tenant_id, row.credential_id, { status: 'ok', errorCode: null, now });
      if (row.trigger === 'reconcile') await audit.append(trx, row.tenant_id, { action: 'credential.reconciled', actor: systemActor, target, details: { rotationId: row.id, version } });
      return { state: 'succeeded' as const, retry: false };
    });
  }

  /** Which secret the target accepts now: the pending one is tried first (after a change it is the likely one). */
  async function accepted(prepared: Prepared, pending: TargetSecret): Promise<'pending' | 'current' | 'neither'> {
    if (await prepared.plugin.verify(prepared.ctx, pending)) return 'pending';
    // A reset starts from a target that refuses the current secret: still refusing both means nothing changed.
    if (prepared.reset) return 'current';
    return (await prepared.plugin.verify(prepared.ctx, prepared.current)) ? 'current' : 'neither';
  }

  const outOfSync = (row: RotationTable) => fail(row, { code: 'ROTATION_OUT_OF_SYNC', message: 'The target accepts neither the current nor the pending secret; both are kept sealed. Reset the account and set its secret in the vault.', retryable: false }, { keepPending: true, outOfSync: true });

  /** After a failed change or verify: asks the target what it holds, then promotes, retries or fails. */
  async function afterFailure(row: RotationTable, prepared: Prepared, pending: TargetSecret, failure: Classified, finalAttempt: boolean): Promise<RunOutcome> {
    let holds: 'pending' | 'current' | 'neither';
    try {
      holds = await accepted(prepared, pending);
    } catch {
      // A target the guard refused was never reached: nothing changed there, so the pending secret goes.
      if (failure.code === 'ROTATION_TARGET_REFUSED') return fail(row, failure, { keepPending: false });
      // Otherwise it is unknown whether the change reached the target: the pending secret stays for the next run to settle.
      if (failure.retryable && !finalAttempt) {
        await record(row, { state: 'scheduled', error_code: failure.code, error_message: failure.message });
        return { state: 'scheduled', retry: true };
      }
      return fail(row, failure, { keepPending: true });
    }
    if (holds === 'pending') return promote(row);
    if (holds === 'neither') return outOfSync(row);
    // The target still takes the current secret: nothing changed and nothing is lost; the pending secret is dropped.
    if (failure.retryable && !finalAttempt) {
      await record(row, { state: 'scheduled', step: 'none', pending_secret_sealed: null, pending_passphrase_sealed: null, error_code: failure.code, error_message: failure.message });
      return { state: 'scheduled', retry: true };
    }
    return fail(row, failure, { keepPending: false });
  }

  /**
   * Settles a rotation holding a pending secret (interrupted by a crash or an unknown outcome): promotes it when the
   * target accepts it, clears it when the target still takes the current one, fails out of sync when neither.
   */
  async function settle(tenantId: string, id: string, options: { finalAttempt?: boolean } = {}): Promise<RunOutcome & { holds?: 'current' }> {
    const row = await store.findRotation(db, tenantId, id);
    if (!row || finalStates.includes(row.state)) return { state: row?.state ?? 'cancelled', retry: false };
    if (!row.pending_secret_sealed) {
      if (row.state === 'running') await record(row, { state: 'scheduled', step: 'none' });
      return { state: 'scheduled', retry: true, holds: 'current' };
    }
    let prepared: Prepared;
    let pending: TargetSecret;
    try {
      prepared = await prepare(db, row);
      pending = await openPending(db, row);
    } catch (error) {
      return fail(row, classifyFailure(error, []), { keepPending: true });
    }
    let holds: 'pending' | 'current' | 'neither';
    try {
      holds = await accepted(prepared, pending);
    } catch (error) {
      const failure = classifyFailure(error, [pending.secret, prepared.current.secret]);
      if (options.finalAttempt) return fail(row, failure, { keepPending: true });
      await record(row, { state: 'scheduled', error_code: failure.code, error_message: failure.message });
      return { state: 'scheduled', retry: true };
    }
    if (holds === 'pending') return promote(row);
    if (holds === 'neither') return outOfSync(row);
    await record(row, { state: 'scheduled', step: 'none', pending_secret_sealed: null, pending_passphrase_sealed: null });
    return { state: 'scheduled', retry: true, holds: 'current' };
  }

  /** Claims the device slot, commits the pending secret (step 1); null when the device is busy. */
  async function begin(row: RotationTable): Promise<{ row: RotationTable; prepared: Prepared; pending: TargetSecret } | null> {
    return db.transaction().execute(async (trx) => {
      // The device row's lock orders concurrent claims of one device, so the limit holds on PostgreSQL too.
      await devices.lockDevice(trx, row.tenant_id, row.device_id);
      const fresh = await store.findRotation(trx, row.tenant_id, row.id);
      if (!fresh || finalStates.includes(fresh.state)) throw new RotationFailure('ROTATION_GONE', 'The rotation ended meanwhile.', false);
      if ((await store.runningOnDevice(trx, row.tenant_id, row.device_id, row.id)) >= deviceConcurrency) return null;
      const prepared = await prepare(trx, fresh);
      const rules = await rulesFor(trx, row.tenant_id, prepared.cred, prepared.device);
      const pending = await prepared.plugin.next(prepared.ctx, () => generatePassword(rules));
      const now = clock.now();
      const changes: Partial<RotationTable> = {
        state: 'running', step: 'pending-committed', attempts: fresh.attempts + 1, from_version: prepared.cred.version, started_at: now, updated_at: now, error_code: null, error_message: null,
        pending_secret_sealed: await keyring.seal(trx, pendingContext(fresh, 'secret'), pending.secret),
        pending_passphrase_sealed: pending.passphrase == null ? null : await keyring.seal(trx, pendingContext(fresh, 'passphrase'), pending.passphrase),
      };
      await store.updateRotation(trx, row.tenant_id, row.id, changes);
      return { row: { ...fresh, ...changes }, prepared, pending };
    });
  }

  /**
   * Runs one attempt of a rotation. `finalAttempt` says the job has no retry left: a retryable failure then fails the
   * rotation for good. Answers the state it left and whether to retry (with backoff) or, when busy, to run again soon.
   */
  async function run(tenantId: string, id: string, options: { finalAttempt?: boolean } = {}): Promise<RunOutcome> {
    const finalAttempt = options.finalAttempt ?? true;
    const found = await store.findRotation(db, tenantId, id);
    if (!found || finalStates.includes(found.state)) return { state: found?.state ?? 'cancelled', retry: false };
    // Found with a pending secret (a crash, or an outcome not known): settle before anything else.
    if (found.pending_secret_sealed || found.state === 'running') {
      const settled = await settle(tenantId, id, { finalAttempt });
      if (settled.holds !== 'current') return settled;
    }
    const row = (await store.findRotation(db, tenantId, id))!;
    let begun: Awaited<ReturnType<typeof begin>>;
    try {
      begun = await begin(row);
    } catch (error) {
      const failure = classifyFailure(error, []);
      return failure.code === 'ROTATION_GONE' ? { state: 'cancelled', retry: false } : fail(row, failure, { keepPending: false });
    }
    if (!begun) return { state: 'scheduled', retry: false, busy: true };
    const { prepared, pending } = begun;
    await crashPoint('after-pending-commit');
    const secrets = [pending.secret, prepared.current.secret, prepared.admin?.secret.secret ?? ''];
    try {
      await prepared.plugin.change(prepared.ctx, { current: prepared.current, next: pending, admin: prepared.admin, reset: prepared.reset });
    } catch (error) {
      return afterFailure(begun.row, prepared, pending, classifyFailure(error, secrets), finalAttempt);
    }
    await crashPoint('after-target-change');
    await record(begun.row, { step: 'target-changed' });
    let verified: boolean;
    try {
      verified = await prepared.plugin.verify(prepared.ctx, pending);
    } catch (error) {
      return afterFailure(begun.row, prepared, pending, classifyFailure(error, secrets), finalAttempt);
    }
    if (!verified) return afterFailure(begun.row, prepared, pending, { code: 'ROTATION_VERIFY_FAILED', message: 'The target reported the change, but the new secret does not log in.', retryable: true }, finalAttempt);
    await crashPoint('after-verify');
    await record(begun.row, { step: 'verified' });
    return promote(begun.row);
  }

  /** Whether the credential's stored secret logs in to its target now (the heartbeat); throws when the target cannot be reached. */
  async function verifyStored(tenantId: string, credentialId: string): Promise<boolean> {
    const fake = { tenant_id: tenantId, credential_id: credentialId } as RotationTable;
    const prepared = await prepare(db, fake);
    return prepared.plugin.verify(prepared.ctx, prepared.current);
  }

  return { run, settle, verifyStored };
}

/** The rotation engine. */
export type RotationEngine = ReturnType<typeof createRotationEngine>;
