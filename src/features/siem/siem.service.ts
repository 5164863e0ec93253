import { randomBytes } from 'node:crypto';
import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import { eventCatalogue } from '../../platform/audit/catalogue.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import type { SiemCursorTable, SiemDestinationTable } from '../../platform/db/schema.siem.js';
import { conflict, invalid, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import { formatEvent, type ForwardedEvent } from './siem-format.js';
import { checkPem, resolveTarget, siemSealContext } from './siem-target.js';
import type { Deliver } from './siem-transport.js';
import { checkMergedDestination, DEFAULT_UDP_MAX_BYTES, STREAM_MAX_BYTES, type CreateDestinationInput, type DestinationStatus, type DestinationView, type PatchDestinationInput } from './siem.schemas.js';
import { createSiemMetrics } from './siem-metrics.js';
import * as store from './siem.store.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

function toView(row: SiemDestinationTable): DestinationView {
  const hasTls = row.transport === 'tls' || (row.transport === 'https' && Boolean(row.tls_ca_pem || row.tls_client_cert_pem || row.tls_server_name));
  return {
    id: row.id, name: row.name, transport: row.transport, format: row.format, host: row.host, port: row.port === null ? null : Number(row.port), url: row.url,
    categories: JSON.parse(row.categories) as string[], minSeverity: Number(row.min_severity), enabled: Boolean(row.enabled),
    maxMessageBytes: row.transport === 'udp' ? Number(row.max_message_bytes) : null,
    framing: row.transport === 'tcp' || row.transport === 'tls' ? row.framing : null,
    tls: hasTls ? { caPem: row.tls_ca_pem, clientCertPem: row.tls_client_cert_pem, clientKeySet: Boolean(row.tls_client_key_sealed), serverName: row.tls_server_name } : null,
    secretSet: Boolean(row.secret_sealed), createdAt: iso(row.created_at)!, updatedAt: iso(row.updated_at)!,
  };
}

/** The status answer from a destination and its cursor; lag counts every event after the cursor, filtered or not. */
export function statusOf(row: SiemDestinationTable, cursor: SiemCursorTable | undefined, head: number): DestinationStatus {
  const lastSeq = cursor?.last_seq ?? 0;
  const lag = Math.max(0, head - lastSeq);
  const failing = (cursor?.failures ?? 0) > 0;
  return {
    state: !row.enabled ? 'disabled' : failing ? 'failing' : lag > 0 ? 'delivering' : 'idle',
    lagEvents: lag, lastDeliveredSeq: lastSeq, lastDeliveredAt: iso(cursor?.last_delivered_at ?? null),
    lastError: cursor?.last_error ?? null, lastErrorAt: iso(cursor?.last_error_at ?? null),
  };
}

/** What an audit event says about a destination: where and how, never a key or secret. */
// A webhook URL's query or user part may hold a token: the event names the origin and path only.
const addressOf = (row: SiemDestinationTable) => (row.url ? `${new URL(row.url).origin}${new URL(row.url).pathname}` : `${row.host}:${row.port}`);
const auditDetails = (row: SiemDestinationTable) => ({ name: row.name, transport: row.transport, format: row.format, address: addressOf(row), categories: JSON.parse(row.categories) as string[], minSeverity: Number(row.min_severity), enabled: Boolean(row.enabled) });
const destinationNotFound = (id: string) => notFound('SIEM_DESTINATION_NOT_FOUND', `No SIEM destination ${id} in this tenant.`);
const target = (id: string) => ({ type: 'siem_destination', id });

/** The tenant's SIEM destinations: CRUD (secrets sealed, never returned), delivery status and a synchronous test. */
export function createSiemService(deps: { db: Db; audit: AuditLog; clock: Clock; keyring: Keyring; deliver: Deliver }) {
  const { db, audit, clock, keyring } = deps;
  const tenantOf = (actor: Actor) => actor.tenantId!;

  async function load(trx: DbOrTx, tenantId: string, id: string) {
    const row = isId(id) ? await store.findDestination(trx, tenantId, id) : undefined;
    if (!row) throw destinationNotFound(id);
    return row;
  }

  async function assertNameFree(trx: DbOrTx, tenantId: string, name: string, exceptId?: string) {
    if (await store.nameTaken(trx, tenantId, name, exceptId)) throw conflict('SIEM_DESTINATION_NAME_TAKEN', `This tenant already has a SIEM destination named "${name}".`);
  }

  /** Adds a destination; its cursor starts at the current head ("now", so it receives its own created event) or at 0. */
  async function create(actor: Actor, input: CreateDestinationInput): Promise<{ destination: DestinationView; secret: string | null }> {
    const tenantId = tenantOf(actor);
    checkPem(input.tls);
    const secret = input.transport === 'https' ? input.secret ?? randomBytes(32).toString('hex') : null;
    return db.transaction().execute(async (trx) => {
      const now = clock.now();
      const id = newId(now);
      const row: SiemDestinationTable = {
        tenant_id: tenantId, id, name: input.name, transport: input.transport, format: input.format, host: input.host ?? null, port: input.port ?? null, url: input.url ?? null,
        categories: JSON.stringify(input.categories ?? []), min_severity: input.minSeverity ?? 1, enabled: input.enabled === false ? 0 : 1,
        max_message_bytes: input.transport === 'udp' ? input.maxMessageBytes ?? DEFAULT_UDP_MAX_BYTES : STREAM_MAX_BYTES,
        framing: input.framing ?? 'octet-counting',
        tls_ca_pem: input.tls?.caPem ?? null, tls_client_cert_pem: input.tls?.clientCertPem ?? null,
        tls_client_key_sealed: input.tls?.clientKeyPem ? await keyring.seal(trx, siemSealContext(tenantId, id, 'tls_client_key'), input.tls.clientKeyPem) : null,
        tls_server_name: input.tls?.serverName ?? null,
        secret_sealed: secret ? await keyring.seal(trx, siemSealContext(tenantId, id, 'secret'), secret) : null,
        created_at: now, updated_at: now,
      };
      // The append goes first: it takes the tenant's audit head lock, so concurrent creates check the name one at a time.
      const { seq } = await audit.append(trx, tenantId, { action: 'siem.destination.created', actor, target: target(id), details: auditDetails(row) });
      await assertNameFree(trx, tenantId, row.name);
      await store.insertDestination(trx, row, input.startAt === 'beginning' ? 0 : seq - 1);
      return { destination: toView(row), secret };
    });
  }

  /** The tenant's destinations in creation order. */
  async function list(actor: Actor): Promise<DestinationView[]> {
    return (await store.listDestinations(db, tenantOf(actor))).map(toView);
  }

  /** One destination of the caller's tenant; another tenant's id answers 404. */
  async function get(actor: Actor, id: string): Promise<DestinationView> {
    return toView(await load(db, tenantOf(actor), id));
  }

  /** Changes the given fields (not the transport); the merged result must satisfy the create rules. */
  async function update(actor: Actor, id: string, patch: PatchDestinationInput): Promise<DestinationView> {
    const tenantId = tenantOf(actor);
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, tenantId, id);
      const tls = patch.tls === undefined ? undefined : patch.tls;
      const keepKey = tls?.clientCertPem && !tls.clientKeyPem && tls.clientCertPem === row.tls_client_cert_pem && row.tls_client_key_sealed;
      const merged = {
        transport: row.transport, host: patch.host ?? row.host, port: patch.port ?? (row.port === null ? null : Number(row.port)), url: patch.url ?? row.url,
        tls: tls === undefined ? null : tls === null ? null : keepKey ? { ...tls, clientKeyPem: 'kept' } : tls,
        maxMessageBytes: patch.maxMessageBytes ?? null, framing: patch.framing ?? null, secret: patch.secret ?? null,
      };
      const checked = checkMergedDestination.safeParse(merged);
      if (!checked.success) throw invalid('VALIDATION_FAILED', `The request is invalid: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      if (tls && !keepKey) checkPem(tls);
      if (patch.name !== undefined) await assertNameFree(trx, tenantId, patch.name, id);
      const after: SiemDestinationTable = {
        ...row, name: patch.name ?? row.name, format: patch.format ?? row.format, host: merged.host, port: merged.port, url: merged.url,
        categories: patch.categories ? JSON.stringify(patch.categories) : row.categories, min_severity: patch.minSeverity ?? Number(row.min_severity),
        enabled: patch.enabled === undefined ? Number(row.enabled) : patch.enabled ? 1 : 0,
        max_message_bytes: patch.maxMessageBytes ?? Number(row.max_message_bytes),
        framing: patch.framing ?? row.framing,
      };
      if (tls !== undefined) {
        after.tls_ca_pem = tls?.caPem ?? null;
        after.tls_client_cert_pem = tls?.clientCertPem ?? null;
        after.tls_server_name = tls?.serverName ?? null;
        after.tls_client_key_sealed = keepKey ? row.tls_client_key_sealed : tls?.clientKeyPem ? await keyring.seal(trx, siemSealContext(tenantId, id, 'tls_client_key'), tls.clientKeyPem) : null;
      }
      if (patch.secret) after.secret_sealed = await keyring.seal(trx, siemSealContext(tenantId, id, 'secret'), patch.secret);
      const fields = ['name', 'format', 'host', 'port', 'url', 'categories', 'min_severity', 'enabled', 'max_message_bytes', 'framing', 'tls_ca_pem', 'tls_client_cert_pem', 'tls_client_key_sealed', 'tls_server_name', 'secret_sealed'] as const;
      const changed = fields.filter((field) => String(after[field]) !== String(row[field]));
      if (changed.length === 0) return toView(row);
      after.updated_at = clock.now();
      await store.updateDestination(trx, tenantId, id, Object.fromEntries([...changed.map((f) => [f, after[f]]), ['updated_at', after.updated_at]]));
      await audit.append(trx, tenantId, { action: 'siem.destination.updated', actor, target: target(id), details: { fields: changed.map((f) => f.replace(/_sealed$/, '')), ...auditDetails(after) } });
      return toView(after);
    });
  }

  /** Removes a destination and its cursor. */
  async function remove(actor: Actor, id: string): Promise<void> {
    const tenantId = tenantOf(actor);
    await db.transaction().execute(async (trx) => {
      const row = await load(trx, tenantId, id);
      await store.deleteDestination(trx, tenantId, id);
      await audit.append(trx, tenantId, { action: 'siem.destination.deleted', actor, target: target(id), details: { name: row.name, transport: row.transport } });
    });
  }

  /** Lag, last delivered and last error of one destination. */
  async function status(actor: Actor, id: string): Promise<DestinationStatus> {
    const tenantId = tenantOf(actor);
    const row = await load(db, tenantId, id);
    return statusOf(row, await store.findCursor(db, tenantId, id), await store.headSeq(db, tenantId));
  }

  /**
   * Sends one test event now, outside the log's order: seq 0, which no logged event has, so receivers that drop
   * duplicates by seq keep it apart. The outcome is audited (and that event is forwarded in order as usual).
   */
  async function test(actor: Actor, id: string): Promise<{ delivered: boolean; confirmed: boolean; error: string | null }> {
    const tenantId = tenantOf(actor);
    const row = await load(db, tenantId, id);
    const now = clock.now();
    const event: ForwardedEvent = { tenant_id: tenantId, seq: 0, id: newId(now), occurred_at: now, type_id: eventCatalogue['siem.destination.tested'].id, action: 'siem.destination.tested', category: 'config', severity: eventCatalogue['siem.destination.tested'].severity, outcome: 'success', actor_kind: actor.kind, actor_id: actor.id ?? null, actor_ip: actor.ip ?? null, target_type: 'siem_destination', target_id: id, details: JSON.stringify({ test: true, destination: row.name }) };
    let answer: { delivered: boolean; confirmed: boolean; error: string | null };
    try {
      const message = formatEvent(event, row.format, { maxBytes: Number(row.max_message_bytes), syslog: row.transport !== 'https' });
      const { confirmed } = await deps.deliver(await resolveTarget(db, keyring, row), [message]);
      answer = { delivered: true, confirmed, error: null };
    } catch (error) {
      answer = { delivered: false, confirmed: false, error: (error as Error).message };
    }
    await db.transaction().execute((trx) => audit.append(trx, tenantId, { action: 'siem.destination.tested', actor, outcome: answer.delivered ? 'success' : 'failure', target: target(id), details: { name: row.name, delivered: answer.delivered, confirmed: answer.confirmed, error: answer.error } }));
    return answer;
  }

  // The forwarder's counters live with the service so the server can expose them beside the HTTP metrics.
  const metrics = createSiemMetrics();
  return { create, list, get, update, remove, status, test, metrics };
}
export type SiemService = ReturnType<typeof createSiemService>;
