import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import { isUniqueViolation, type Db, type DbOrTx } from '../../platform/db/database.js';
import type { DeviceTable } from '../../platform/db/schema.js';
import { conflict, invalid, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import type { CreateDeviceInput, DeviceView, ListDevicesQuery, PatchDeviceInput } from './devices.schemas.js';
import * as devices from './devices.store.js';
import { assertUsableConnector } from '../connector/connectors.service.js';
import type { ProtocolRow } from './devices.store.js';

const iso = (ms: number) => new Date(ms).toISOString();

function toView(row: DeviceTable, protocols: ProtocolRow[], tags: string[]): DeviceView {
  return {
    id: row.id, name: row.name, address: row.address, port: row.port, protocol: row.protocol, protocols, type: row.type, vendor: row.vendor, model: row.model,
    site: row.site, tags, criticality: row.criticality, status: row.status, description: row.description, connectorId: row.connector_id ?? null, createdAt: iso(row.created_at), updatedAt: iso(row.updated_at),
  };
}

/** The 404 every device route answers for an unknown id or another tenant's device. */
export const deviceNotFound = (id: string) => notFound('DEVICE_NOT_FOUND', `No device ${id} in this tenant. List devices with GET /api/v1/devices.`);
const deviceExists = (name: string) => conflict('DEVICE_EXISTS', `A device named ${name} already exists in this tenant; choose another name or change that device.`);

/**
 * The protocols a device speaks: the main one on its port, the listed ones, and (when no list is sent) the ones it
 * already spoke. A protocol appears once; the main protocol's port wins only if the list does not contradict it.
 */
export function protocolSet(main: ProtocolRow, listed: ProtocolRow[] | undefined, existing: ProtocolRow[]): ProtocolRow[] {
  const seen = new Set<string>();
  for (const entry of listed ?? []) {
    if (seen.has(entry.protocol)) throw invalid('PROTOCOL_REPEATED', `protocols lists ${entry.protocol} twice; a device speaks each protocol on one port.`);
    seen.add(entry.protocol);
    if (entry.protocol === main.protocol && entry.port !== main.port) {
      throw invalid('PROTOCOL_PORT_MISMATCH', `protocols lists ${entry.protocol} on port ${entry.port}, but the main protocol is ${main.protocol} on port ${main.port}; send the same port or leave it out of protocols.`);
    }
  }
  const others = (listed ?? existing).filter((p) => p.protocol !== main.protocol);
  return [main, ...others].map((p) => ({ protocol: p.protocol, port: p.port })).sort((a, b) => a.protocol.localeCompare(b.protocol));
}

const sameProtocols = (a: ProtocolRow[], b: ProtocolRow[]) => JSON.stringify(a) === JSON.stringify(b);

/** The tenant's devices: where they are reached, what they speak, how critical they are; every change is audited. */
export function createDeviceService(deps: { db: Db; audit: AuditLog; clock: Clock }) {
  const { db, audit, clock } = deps;
  const tenantOf = (actor: Actor) => actor.tenantId!;

  async function load(trx: DbOrTx, tenantId: string, id: string) {
    const row = isId(id) ? await devices.findDevice(trx, tenantId, id) : undefined;
    if (!row) throw deviceNotFound(id);
    return row;
  }

  async function viewOf(trx: DbOrTx, row: DeviceTable) {
    const [protocols, tags] = await Promise.all([devices.protocolsOfMany(trx, row.tenant_id, [row.id]), devices.tagsOfMany(trx, row.tenant_id, [row.id])]);
    return toView(row, protocols.get(row.id)!, tags.get(row.id)!);
  }

  /** Adds a device; its name is unique in the tenant. */
  async function create(actor: Actor, input: CreateDeviceInput) {
    const tenantId = tenantOf(actor);
    const protocols = protocolSet({ protocol: input.protocol, port: input.port }, input.protocols, []);
    return db.transaction().execute(async (trx) => {
      if (await devices.findDeviceByName(trx, tenantId, input.name)) throw deviceExists(input.name);
      if (input.connectorId) await assertUsableConnector(trx, tenantId, input.connectorId);
      const now = clock.now();
      const row: DeviceTable = {
        tenant_id: tenantId, id: newId(now), name: input.name, address: input.address, port: input.port, protocol: input.protocol, type: input.type ?? null, vendor: input.vendor ?? null,
        model: input.model ?? null, site: input.site ?? null, criticality: input.criticality ?? 'medium', status: input.status ?? 'active', description: input.description ?? null, connector_id: input.connectorId ?? null, created_at: now, updated_at: now,
      };
      const tags = input.tags ?? [];
      await devices.insertDevice(trx, row, protocols, tags).catch((error) => {
        throw isUniqueViolation(error) ? deviceExists(input.name) : error;
      });
      await audit.append(trx, tenantId, { action: 'device.created', actor, target: { type: 'device', id: row.id }, details: { name: row.name, address: row.address, protocol: row.protocol, port: row.port } });
      return toView(row, protocols, tags);
    });
  }

  /** A page of devices matching the search and filters, and the cursor of the next page (null at the end). */
  async function list(actor: Actor, query: ListDevicesQuery) {
    const tenantId = tenantOf(actor);
    const rows = await devices.listDevices(db, tenantId, { ...query, tags: query.tag, after: query.cursor, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const ids = page.map((r) => r.id);
    // Two batch reads per page, never one per device.
    const [protocols, tags] = await Promise.all([devices.protocolsOfMany(db, tenantId, ids), devices.tagsOfMany(db, tenantId, ids)]);
    return { devices: page.map((r) => toView(r, protocols.get(r.id)!, tags.get(r.id)!)), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null };
  }

  /** One device of the caller's tenant; another tenant's id answers 404. */
  async function get(actor: Actor, id: string) {
    return viewOf(db, await load(db, tenantOf(actor), id));
  }

  /** Changes the fields sent; the audit event names the fields that changed. */
  async function update(actor: Actor, id: string, patch: PatchDeviceInput) {
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, tenantOf(actor), id);
      const before = await viewOf(trx, row);
      const main = { protocol: patch.protocol ?? row.protocol, port: patch.port ?? row.port };
      const protocols = protocolSet(main, patch.protocols, before.protocols);
      const pick = <K extends 'type' | 'vendor' | 'model' | 'site' | 'description'>(key: K) => (patch[key] === undefined ? row[key] : patch[key]);
      const after: DeviceTable = {
        ...row, name: patch.name ?? row.name, address: patch.address ?? row.address, port: main.port, protocol: main.protocol, type: pick('type'), vendor: pick('vendor'), model: pick('model'),
        site: pick('site'), description: pick('description'), criticality: patch.criticality ?? row.criticality, status: patch.status ?? row.status,
        connector_id: patch.connectorId === undefined ? (row.connector_id ?? null) : patch.connectorId,
      };
      if (patch.connectorId && patch.connectorId !== row.connector_id) await assertUsableConnector(trx, row.tenant_id, patch.connectorId);
      const tags = patch.tags ?? before.tags;
      const changed: string[] = (['name', 'address', 'port', 'protocol', 'type', 'vendor', 'model', 'site', 'criticality', 'status', 'description', 'connector_id'] as const).filter((f) => (after[f] ?? null) !== (row[f] ?? null)).map((f) => (f === 'connector_id' ? 'connectorId' : f));
      if (!sameProtocols(protocols, before.protocols)) changed.push('protocols');
      if (tags.join() !== before.tags.join()) changed.push('tags');
      if (changed.length === 0) return before;
      if (after.name !== row.name && (await devices.findDeviceByName(trx, row.tenant_id, after.name))) throw deviceExists(after.name);
      after.updated_at = clock.now();
      const { tenant_id: _t, id: _i, created_at: _c, ...columns } = after;
      await devices.updateDevice(trx, row.tenant_id, row.id, columns).catch((error) => {
        throw isUniqueViolation(error) ? deviceExists(after.name) : error;
      });
      if (changed.includes('protocols')) await devices.replaceProtocols(trx, row.tenant_id, row.id, protocols);
      if (changed.includes('tags')) await devices.replaceTags(trx, row.tenant_id, row.id, tags);
      await audit.append(trx, row.tenant_id, { action: 'device.updated', actor, target: { type: 'device', id: row.id }, details: { name: after.name, fields: changed } });
      return toView(after, protocols, tags);
    });
  }

  /** PUT: replaces every field; omitted optional fields take their defaults (no labels, tags or extra protocols). */
  async function replace(actor: Actor, id: string, input: CreateDeviceInput) {
    return update(actor, id, {
      ...input, protocols: input.protocols ?? [], type: input.type ?? null, vendor: input.vendor ?? null, model: input.model ?? null, site: input.site ?? null,
      tags: input.tags ?? [], criticality: input.criticality ?? 'medium', status: input.status ?? 'active', description: input.description ?? null, connectorId: input.connectorId ?? null,
    });
  }

  /** Removes a device with its protocols and tags; a device that still holds credentials is refused. */
  async function remove(actor: Actor, id: string) {
    await db.transaction().execute(async (trx) => {
      const tenantId = tenantOf(actor);
      // The lock first: a credential being added to this device is either counted here or finds no device.
      const row = isId(id) ? await devices.lockDevice(trx, tenantId, id) : undefined;
      if (!row) throw deviceNotFound(id);
      const held = await devices.countCredentialsOf(trx, tenantId, row.id);
      if (held > 0) {
        throw conflict('DEVICE_HAS_CREDENTIALS', `${row.name} still holds ${held} credential(s); delete them or move them to another device first (GET /api/v1/credentials?deviceId=${row.id}).`);
      }
      await devices.deleteDevice(trx, tenantId, row.id);
      await audit.append(trx, tenantId, { action: 'device.deleted', actor, target: { type: 'device', id: row.id }, details: { name: row.name, address: row.address } });
    });
  }

  return { create, list, get, update, replace, remove };
}
export type DeviceService = ReturnType<typeof createDeviceService>;
