import { setTimeout as sleep } from 'node:timers/promises';
import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import type { ConnectivityCheckTable, ConnectivityStateTable } from '../../platform/db/schema.connectivity.js';
import type { CredentialTable, DeviceTable } from '../../platform/db/schema.js';
import { invalid } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/log.js';
import type { TargetDialer } from '../../platform/net/dial.js';
import { readSetting, writeSetting } from '../identity/tenant-settings.store.js';
import { openOrNull, versionContext } from '../vault/credentials.sealing.js';
import { deviceNotFound } from '../vault/devices.service.js';
import * as devices from '../vault/devices.store.js';
import { defaultConnectivitySettings, type CheckView, type ConnectivitySettings, type ConnectivitySettingsInput } from './connectivity.schemas.js';
import * as store from './connectivity.store.js';
import { probeDevice, type ProbeCredential, type ProbeResult } from './probes.js';

/** The tenant_settings key of the connectivity schedule. */
const SETTINGS_KEY = 'connectivity';
/** How long one check may take, from dialling to the end of the login. */
export const CHECK_TIMEOUT_MS = 10_000;

const iso = (ms: number) => new Date(ms).toISOString();
const loginTypes = (protocol: string): CredentialTable['type'][] => (protocol === 'ssh' ? ['password', 'ssh-key'] : protocol === 'postgres' || protocol === 'mysql' || protocol === 'mariadb' ? ['password'] : []);
const toView = (row: ConnectivityCheckTable): CheckView => ({ id: row.id, status: row.status, latencyMs: row.latency_ms, code: row.code, message: row.message, trigger: row.trigger, checkedAt: iso(row.checked_at) });

function databaseOf(credential: CredentialTable): string | null {
  try {
    const info = JSON.parse(credential.additional_info) as Record<string, unknown>;
    return typeof info.database === 'string' && info.database ? info.database : null;
  } catch {
    return null;
  }
}

/** The tenant's schedule; a field never set has its default. */
export async function readConnectivitySettings(db: DbOrTx, tenantId: string): Promise<ConnectivitySettings> {
  const text = await readSetting(db, tenantId, SETTINGS_KEY);
  return { ...defaultConnectivitySettings, ...(text ? (JSON.parse(text) as Partial<ConnectivitySettings>) : {}) };
}

/**
 * Connectivity checks of devices: TCP reach through the guarded dialer, the protocol's handshake and, with one of the
 * device's credentials, a login. Each result is kept (bounded history); a change from ok to anything else records
 * connectivity.lost and the way back connectivity.restored, so both reach the audit log and the SIEM.
 */
export function createConnectivityService(deps: { db: Db; audit: AuditLog; clock: Clock; keyring: Keyring; dial: TargetDialer; log: Logger; timeoutMs?: number }) {
  const { db, audit, clock, keyring } = deps;
  const timeoutMs = deps.timeoutMs ?? CHECK_TIMEOUT_MS;
  const log = deps.log.child({ component: 'connectivity' });
  const tenantOf = (actor: Actor) => actor.tenantId!;

  async function loadDevice(tenantId: string, id: string): Promise<DeviceTable> {
    const row = isId(id) ? await devices.findDevice(db, tenantId, id) : undefined;
    if (!row) throw deviceNotFound(id);
    return row as DeviceTable;
  }

  /** The credential a check logs in with, opened; null when the device has none that fits its protocol. */
  async function credentialFor(device: DeviceTable, credentialId?: string): Promise<ProbeCredential | null> {
    const candidates = await store.loginCredentials(db, device.tenant_id, device.id, loginTypes(device.protocol));
    const chosen = credentialId ? candidates.find((row) => row.id === credentialId) : candidates[0];
    if (credentialId && !chosen) throw invalid('CONNECTIVITY_CREDENTIAL_UNUSABLE', `Credential ${credentialId} is not an active ${loginTypes(device.protocol).join(' or ') || 'login'} credential of this device; omit credentialId to use the device's first one.`);
    if (!chosen?.secret_sealed) return null;
    const secret = await openOrNull(keyring, db, versionContext(device.tenant_id, chosen.id, chosen.version, 'secret'), chosen.secret_sealed);
    if (secret === null) return null;
    const passphrase = chosen.passphrase_sealed ? await openOrNull(keyring, db, versionContext(device.tenant_id, chosen.id, chosen.version, 'passphrase'), chosen.passphrase_sealed) : null;
    return { id: chosen.id, username: chosen.username, type: chosen.type === 'ssh-key' ? 'ssh-key' : 'password', secret, passphrase, database: databaseOf(chosen) };
  }

  /** Keeps the result, moves the device's state and records a lost or restored transition. */
  async function record(device: DeviceTable, result: ProbeResult, trigger: ConnectivityCheckTable['trigger'], actor: Actor | null, credentialId: string | null): Promise<ConnectivityCheckTable> {
    return db.transaction().execute(async (trx) => {
      const now = clock.now();
      const previous = await store.findState(trx, device.tenant_id, device.id);
      const row: ConnectivityCheckTable = { tenant_id: device.tenant_id, id: newId(now), device_id: device.id, status: result.status, latency_ms: result.latencyMs, code: result.code, message: result.message.slice(0, 1000), trigger, checked_at: now };
      await store.insertCheck(trx, row);
      const state: ConnectivityStateTable = { tenant_id: device.tenant_id, device_id: device.id, status: row.status, latency_ms: row.latency_ms, code: row.code, message: row.message, checked_at: now, since: previous && previous.status === row.status ? previous.since : now };
      await store.saveState(trx, state);
      const target = { type: 'device', id: device.id };
      const about = { device: device.name, address: `${device.address}:${device.port}`, protocol: device.protocol };
      if (previous?.status === 'ok' && row.status !== 'ok') {
        await audit.append(trx, device.tenant_id, { action: 'connectivity.lost', actor: actor ?? { kind: 'system', id: 'custos' }, outcome: 'failure', target, details: { ...about, status: row.status, errorCode: row.code, message: row.message } });
      } else if (previous && previous.status !== 'ok' && row.status === 'ok') {
        await audit.append(trx, device.tenant_id, { action: 'connectivity.restored', actor: actor ?? { kind: 'system', id: 'custos' }, target, details: { ...about, from: previous.status, downForMs: now - previous.since } });
      }
      if (actor) await audit.append(trx, device.tenant_id, { action: 'device.checked', actor, outcome: row.status === 'ok' ? 'success' : 'failure', target, details: { ...about, status: row.status, latencyMs: row.latency_ms, errorCode: row.code, credentialId } });
      return row;
    });
  }

  async function run(device: DeviceTable, trigger: ConnectivityCheckTable['trigger'], actor: Actor | null, credentialId?: string) {
    const credential = await credentialFor(device, credentialId);
    const result = await probeDevice({ dial: deps.dial }, { tenantId: device.tenant_id, host: device.address, port: Number(device.port), connectorId: device.connector_id ?? null, protocol: device.protocol }, credential, timeoutMs);
    return { row: await record(device, result, trigger, actor, credential?.id ?? null), credentialId: credential?.id ?? null };
  }

  /** Checks a device now (POST /api/v1/devices/{id}/check) and answers the result; recorded as device.checked. */
  async function checkNow(actor: Actor, deviceId: string, input?: { credentialId?: string }) {
    const device = await loadDevice(tenantOf(actor), deviceId);
    const { row, credentialId } = await run(device, 'manual', actor, input?.credentialId);
    return { check: toView(row), credentialId };
  }

  /** A device's current status and its history, newest first. */
  async function status(actor: Actor, deviceId: string, page: { cursor?: string; limit: number }) {
    const tenantId = tenantOf(actor);
    const device = await loadDevice(tenantId, deviceId);
    const [state, rows] = await Promise.all([store.findState(db, tenantId, device.id), store.listChecks(db, tenantId, device.id, { cursor: page.cursor, limit: page.limit + 1 })]);
    const history = rows.slice(0, page.limit).map(toView);
    return {
      deviceId: device.id,
      current: state ? { status: state.status, latencyMs: state.latency_ms, code: state.code, message: state.message, checkedAt: iso(state.checked_at), since: iso(state.since) } : null,
      history,
      nextCursor: rows.length > page.limit ? history.at(-1)!.id : null,
    };
  }

  /** Changes the schedule (audited); the next round uses it. */
  async function updateSettings(actor: Actor, input: ConnectivitySettingsInput): Promise<ConnectivitySettings> {
    const tenantId = tenantOf(actor);
    return db.transaction().execute(async (trx) => {
      const next = { ...(await readConnectivitySettings(trx, tenantId)), ...input };
      await writeSetting(trx, tenantId, SETTINGS_KEY, next, clock.now());
      await audit.append(trx, tenantId, { action: 'connectivity.settings.updated', actor, details: { ...next } });
      return next;
    });
  }

  let lastRoundAt: number | null = null;

  /**
   * One scheduled round: every active tenant with checks enabled, every active device whose last check is older than
   * the tenant's interval (oldest first), at most `concurrency` checks at a time. With `pollMs` (how often rounds
   * run) a round takes only its share of the tenant's devices: a quarter more than the time since the last round
   * (at least pollMs) covers of the interval, so checks spread over the interval instead of one burst per interval.
   * With `spreadMs` the round's check starts are spaced evenly over that long. Answers how many devices it checked.
   */
  async function sweep(options: { concurrency?: number; maxDevices?: number; pollMs?: number; spreadMs?: number; isLeader?: () => boolean } = {}): Promise<number> {
    const concurrency = options.concurrency ?? 16;
    const maxDevices = options.maxDevices ?? 5_000;
    const startedAt = clock.now();
    const sinceLast = options.pollMs ? Math.max(options.pollMs, lastRoundAt === null ? 0 : startedAt - lastRoundAt) : 0;
    if (options.pollMs) lastRoundAt = startedAt;
    const due: DeviceTable[] = [];
    for (const tenantId of await store.activeTenantIds(db)) {
      const settings = await readConnectivitySettings(db, tenantId);
      if (!settings.enabled) continue;
      const intervalMs = settings.intervalMinutes * 60_000;
      // A little slack, so a device checked a moment past its slot last round is not skipped this round.
      const before = startedAt - intervalMs + 5_000;
      const share = sinceLast && sinceLast < intervalMs ? Math.ceil(((await store.countActiveDevices(db, tenantId)) * sinceLast * 1.25) / intervalMs) : Number.POSITIVE_INFINITY;
      due.push(...(await store.dueDevices(db, tenantId, before, Math.min(share, maxDevices - due.length))));
      if (due.length >= maxDevices) break;
    }
    const spacingMs = options.spreadMs && due.length > 0 ? options.spreadMs / due.length : 0;
    const roundStart = Date.now();
    let next = 0;
    let checked = 0;
    const live = () => options.isLeader?.() ?? true;
    const worker = async () => {
      while (next < due.length && live()) {
        const index = next++;
        const device = due[index]!;
        // Short naps, so a stopped loop or a lost leadership ends the round promptly.
        for (let wait = roundStart + index * spacingMs - Date.now(); wait > 0 && live(); wait = roundStart + index * spacingMs - Date.now()) await sleep(Math.min(wait, 250));
        if (!live()) break;
        try {
          await run(device, 'scheduled', null);
          checked += 1;
        } catch (error) {
          log.error({ deviceId: device.id, tenantId: device.tenant_id, err: (error as Error).message }, 'connectivity check could not be recorded');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
    return checked;
  }

  return { checkNow, status, getSettings: (actor: Actor) => readConnectivitySettings(db, tenantOf(actor)), updateSettings, sweep };
}
/** Connectivity checks: on demand, scheduled rounds, status and history, and the tenant's schedule. */
export type ConnectivityService = ReturnType<typeof createConnectivityService>;
