import { timingSafeEqual } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import { isUniqueViolation, type Db } from '../../platform/db/database.js';
import type { ConnectorTable } from '../../platform/db/schema.connectors.js';
import { generateToken, hashToken } from '../../platform/crypto/tokens.js';
import { conflict, DomainError, forbidden, invalid, notFound, unauthenticated } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/log.js';
import type { ConnectorTunnels } from '../../platform/net/dial.js';
import { createConnectorHub, type ConnectorIdentity, type HubEvent } from './connector-hub.js';
import type { ConnectorStatus, ConnectorView, CreateConnectorInput, ListConnectorsQuery } from './connectors.schemas.js';
import * as store from './connectors.store.js';

/** Connector tokens start with this prefix. */
export const CONNECTOR_TOKEN_PREFIX = 'cnt_';
// A connector held by another node counts as connected while its last sign of life is this recent (3 heartbeats).
const SEEN_RECENTLY_MS = 90_000;

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
const connectorNotFound = (id: string) => notFound('CONNECTOR_NOT_FOUND', `No connector ${id} in this tenant. List connectors with GET /api/v1/connectors.`);

/** The check a device's connectorId must pass: a connector of the same tenant that is not revoked. */
export async function assertUsableConnector(db: Db | Parameters<typeof store.isUsable>[0], tenantId: string, connectorId: string): Promise<void> {
  const state = isId(connectorId) ? await store.isUsable(db, tenantId, connectorId) : 'missing';
  if (state === 'missing') throw connectorNotFound(connectorId);
  if (state === 'revoked') throw invalid('CONNECTOR_REVOKED', `Connector ${connectorId} is revoked; name another connector of the device's site, or null to reach the device directly.`);
}

/**
 * A tenant's network connectors: agents in its own networks that dial out to the vault (WebSocket, TLS) with a
 * token shown once and stored only hashed, and carry the vault's TCP connections to targets only they reach.
 * Creation and revocation are audited; so are connections, disconnections and failovers between a site's connectors.
 */
export function createConnectorService(deps: { db: Db; audit: AuditLog; clock: Clock; log: Logger; keepaliveIntervalMs?: number; keepaliveCountMax?: number; heartbeatMs?: number }) {
  const { db, audit, clock, log } = deps;
  const tenantOf = (actor: Actor) => actor.tenantId!;
  // Hub events are recorded one after the other, so a connection's start is written before its end.
  let recording: Promise<void> = Promise.resolve();
  const hub = createConnectorHub({
    log, keepaliveIntervalMs: deps.keepaliveIntervalMs, keepaliveCountMax: deps.keepaliveCountMax, heartbeatMs: deps.heartbeatMs,
    onEvent: (event) => {
      recording = recording.then(() => record(event)).catch((error) => log.error({ err: error, event: event.type }, 'recording a connector event failed'));
    },
  });

  function statusOf(row: ConnectorTable): { status: ConnectorStatus; connected: boolean } {
    if (row.revoked_at !== null) return { status: 'revoked', connected: false };
    const role = hub.roleOf(row.tenant_id, row.id);
    if (role) return { status: role, connected: true };
    const recent = row.last_seen_at !== null && row.disconnected_at === null && clock.now() - row.last_seen_at < SEEN_RECENTLY_MS;
    return recent ? { status: 'connected', connected: true } : { status: 'offline', connected: false };
  }

  function toView(row: ConnectorTable): ConnectorView {
    return {
      id: row.id, name: row.name, site: row.site, ...statusOf(row), lastSeenAt: isoOrNull(row.last_seen_at), connectedAt: isoOrNull(row.connected_at),
      lastAddress: row.last_address, createdBy: row.created_by, createdAt: iso(row.created_at), revokedAt: isoOrNull(row.revoked_at),
    };
  }

  async function record(event: HubEvent) {
    const now = clock.now();
    const actorOf = (tenantId: string, ip: string | null = null): Actor => ({ kind: 'system', id: 'connector-hub', tenantId, ip });
    if (event.type === 'heartbeat') {
      const { tenantId, connectorId } = event.identity;
      await store.updatePresence(db, tenantId, connectorId, { last_seen_at: now });
      // A revocation made on another node, a suspended or deleted tenant, reach this node's connections here.
      if (!(await store.mayStayConnected(db, tenantId, connectorId))) hub.disconnect(tenantId, connectorId, 'revoked or tenant suspended');
      return;
    }
    if (event.type === 'failover') {
      await db.transaction().execute((trx) =>
        audit.append(trx, event.tenantId, { action: 'connector.failover', actor: actorOf(event.tenantId), target: { type: 'connector', id: event.to }, details: { site: event.site, from: event.from, to: event.to } }),
      );
      return;
    }
    const { tenantId, connectorId, site, address } = event.identity;
    await db.transaction().execute(async (trx) => {
      if (event.type === 'connected') {
        await store.updatePresence(trx, tenantId, connectorId, { connected_at: now, last_seen_at: now, disconnected_at: null, last_address: address });
        await audit.append(trx, tenantId, { action: 'connector.connected', actor: actorOf(tenantId, address), target: { type: 'connector', id: connectorId }, details: { site, address, role: event.role } });
      } else {
        await store.updatePresence(trx, tenantId, connectorId, { disconnected_at: now, last_seen_at: now });
        await audit.append(trx, tenantId, { action: 'connector.disconnected', actor: actorOf(tenantId, address), target: { type: 'connector', id: connectorId }, details: { site, reason: event.reason, connectedSeconds: Math.round(event.connectedMs / 1000) } });
      }
    });
  }

  async function load(actor: Actor, id: string) {
    const row = isId(id) ? await store.findConnector(db, tenantOf(actor), id) : undefined;
    if (!row) throw connectorNotFound(id);
    return row;
  }

  /** Creates a connector for a site; answers it with its token, shown this once (only its hash is kept). */
  async function create(actor: Actor, input: CreateConnectorInput) {
    const tenantId = tenantOf(actor);
    const now = clock.now();
    const token = generateToken(CONNECTOR_TOKEN_PREFIX);
    const row: ConnectorTable = {
      tenant_id: tenantId, id: newId(now), name: input.name, site: input.site, token_hash: hashToken(token), created_by: actor.id, created_at: now,
      revoked_at: null, connected_at: null, disconnected_at: null, last_seen_at: null, last_address: null,
    };
    await db.transaction().execute(async (trx) => {
      await store.insertConnector(trx, row).catch((error) => {
        throw isUniqueViolation(error) ? conflict('CONNECTOR_NAME_TAKEN', `A connector named ${input.name} already exists in this tenant; choose another name.`) : error;
      });
      await audit.append(trx, tenantId, { action: 'connector.created', actor, target: { type: 'connector', id: row.id }, details: { name: row.name, site: row.site } });
    });
    return { connector: toView(row), token };
  }

  /** The tenant's connectors in creation order, with their status as this node sees it. */
  async function list(actor: Actor, query: ListConnectorsQuery) {
    return (await store.listConnectors(db, tenantOf(actor), { site: query.site })).map(toView);
  }

  /** One connector of the caller's tenant; another tenant's id answers 404. */
  async function get(actor: Actor, id: string) {
    return toView(await load(actor, id));
  }

  /** Revokes a connector: its token stops working and its live connection on this node is closed at once. */
  async function revoke(actor: Actor, id: string) {
    const row = await load(actor, id);
    const now = clock.now();
    const revoked = await db.transaction().execute(async (trx) => {
      if (!(await store.revokeConnector(trx, row.tenant_id, row.id, now))) return false;
      await audit.append(trx, row.tenant_id, { action: 'connector.revoked', actor, target: { type: 'connector', id: row.id }, details: { name: row.name, site: row.site } });
      return true;
    });
    hub.disconnect(row.tenant_id, row.id, 'revoked');
    return toView(revoked ? { ...row, revoked_at: now } : row);
  }

  /** Checks the token a connector dials in with; answers who it is, or throws why it is refused (401/403). */
  async function authenticateToken(token: string, address: string | null): Promise<ConnectorIdentity> {
    const refused = () => unauthenticated('CONNECTOR_TOKEN_INVALID', 'The connector token is not valid: create a connector with POST /api/v1/connectors and use its token.');
    if (!token.startsWith(CONNECTOR_TOKEN_PREFIX)) throw refused();
    const hash = hashToken(token);
    const row = await store.findConnectorByTokenHash(db, hash);
    if (!row || !timingSafeEqual(Buffer.from(row.token_hash, 'hex'), Buffer.from(hash, 'hex'))) {
      log.warn({ address }, 'connector dialled in with an unknown token');
      throw refused();
    }
    if (row.revoked_at !== null) throw unauthenticated('CONNECTOR_REVOKED', 'This connector was revoked; create a new one and run it with the new token.');
    if (row.tenant_status !== 'active') throw forbidden('TENANT_SUSPENDED', 'This tenant is suspended by the provider; connectors cannot connect.');
    return { tenantId: row.tenant_id, connectorId: row.id, site: row.site, address };
  }

  /** Carries connections through the active connector of the named connector's site (the dialer's tunnels). */
  const tunnels: ConnectorTunnels = {
    async open(tenantId, connectorId, host, port, timeoutMs) {
      const row = isId(connectorId) ? await store.findConnector(db, tenantId, connectorId) : undefined;
      if (!row) throw connectorNotFound(connectorId);
      if (row.revoked_at !== null) throw new DomainError('CONNECTOR_REVOKED', `Connector ${row.name} is revoked; point the device at another connector.`, 'invalid');
      return hub.openOnSite(tenantId, row.site, host, port, timeoutMs);
    },
  };

  return {
    create, list, get, revoke, authenticateToken, tunnels,
    /** Takes over a WebSocket whose token authenticateToken accepted. */
    accept: (ws: WebSocket, identity: ConnectorIdentity) => hub.attach(ws, identity),
    /** Closes every live connector connection (server shutdown). */
    closeAll: () => hub.closeAll(),
    /** Resolves once every connector event so far is recorded (tests, shutdown). */
    recorded: () => recording,
  };
}
export type ConnectorService = ReturnType<typeof createConnectorService>;
