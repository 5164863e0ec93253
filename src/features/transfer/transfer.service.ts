import type { z } from 'zod';
import { SYSTEM_SCOPE, type Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import { isUniqueViolation, type Db, type DbOrTx } from '../../platform/db/database.js';
import type { CredentialTable, CredentialTagTable, CredentialVersionTable, DeviceProtocolTable, DeviceTable, DeviceTagTable } from '../../platform/db/schema.js';
import { conflict, DomainError, forbidden, invalid } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { checkSecretFormat } from '../vault/credentials.secret-format.js';
import { totpContext, versionContext } from '../vault/credentials.sealing.js';
import { protocolSet } from '../vault/devices.service.js';
import type { ProtocolRow } from '../vault/devices.store.js';
import { inertCell, writeCsv } from './csv.js';
import { parseImportFile, type RawRow } from './transfer.parse.js';
import { IMPORT_MAX_ROWS, importCredential, importDevice, type ExportQuery, type ImportBody, type ImportCredential, type ImportDevice, type ImportResult, type ImportRowError } from './transfer.schemas.js';
import * as store from './transfer.store.js';

/** Answers whether an actor holds a permission (main/ hands in the one permission check). */
export type Can = (actor: Actor, permission: string) => boolean | Promise<boolean>;
/** Progress of a long import: the phase, rows done and rows in all (the CLI draws a bar from it). */
export type ImportProgress = (phase: 'validate' | 'write', done: number, total: number) => void;

/** At most this many row errors are answered; the message says how many there were in all. */
const MAX_REPORTED_ERRORS = 1000;
const PROGRESS_STEP = 500;

interface DevicePlan { row: RawRow; input: ImportDevice; protocols: ProtocolRow[] }
interface CredentialPlan { row: RawRow; input: ImportCredential }

/** Drops the null fields, so an exported object imports with the same rules (absent, not null). */
function optional(fields: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).filter((e): e is [string, string] => e[1] !== null));
}

const rowError = (row: RawRow, field: string, code: string, message: string): ImportRowError => ({ row: row.row, ...(row.section ? { section: row.section } : {}), field, code, message });

function zodErrors(row: RawRow, error: z.ZodError): ImportRowError[] {
  return error.issues.map((issue) => {
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(',') : row.fieldOf(issue.path) || 'row';
    const raw = issue.path.length === 1 ? row.value[String(issue.path[0])] : null;
    const code = issue.code === 'unrecognized_keys' ? 'UNKNOWN_FIELD' : issue.code === 'invalid_type' && raw === undefined ? 'REQUIRED' : 'INVALID';
    return rowError(row, field, code, code === 'REQUIRED' ? `${field} is required` : issue.message);
  });
}

/** Refuses the whole import with its row report. */
function refuse(errors: ImportRowError[]): DomainError {
  const rows = new Set(errors.map((e) => `${e.section ?? ''}${e.row}`)).size;
  const shown = errors.slice(0, MAX_REPORTED_ERRORS);
  const more = errors.length > shown.length ? ` (the first ${shown.length} of ${errors.length} problems are listed)` : '';
  return invalid('IMPORT_INVALID', `${rows} row(s) of the import have problems${more}; nothing was imported. Fix them and send the whole file again.`, { errors: shown, total: errors.length });
}

/**
 * Bulk import and export of a tenant's devices and credentials. An import validates every row (the same rules as
 * the device and credential routes, then against the database) and writes all of it in one transaction or nothing;
 * secrets are sealed like credentials.service seals them, as version 1 with reason import. Exports never carry a
 * secret. One audit event (vault.imported / vault.exported) stands for the rows.
 */
export function createTransferService(deps: { db: Db; audit: AuditLog; clock: Clock; keyring: Keyring; can: Can }) {
  const { db, audit, clock, keyring } = deps;

  /** Users and clients need the permission; an operator actor is the CLI on the server's own data directory. */
  async function assertCan(actor: Actor, permission: string) {
    if (actor.kind === 'operator' || actor.kind === 'system') return;
    if (!(await deps.can(actor, permission))) throw forbidden('FORBIDDEN', `This needs the permission ${permission} as well, which your roles do not grant. Ask a tenant administrator.`);
  }

  /** Checks every row on its own and within the file; answers the plans and the problems. */
  function validateRows(devices: RawRow[], credentials: RawRow[], errors: ImportRowError[], progress: (n: number) => void) {
    const deviceByName = new Map<string, DevicePlan>();
    const devicePlans: DevicePlan[] = [];
    // Devices whose own row failed: their credentials are not reported again as naming an unknown device.
    const failedDevices = new Set<string>();
    let done = 0;
    const tick = () => {
      done += 1;
      if (done % PROGRESS_STEP === 0) progress(done);
    };
    for (const row of devices) {
      tick();
      const parsed = importDevice.safeParse(row.value);
      if (!parsed.success) {
        errors.push(...zodErrors(row, parsed.error));
        if (typeof row.value.name === 'string') failedDevices.add(row.value.name.trim());
        continue;
      }
      const input = parsed.data;
      let protocols: ProtocolRow[];
      try {
        protocols = protocolSet({ protocol: input.protocol, port: input.port }, input.protocols, []);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        errors.push(rowError(row, 'protocols', error.code, error.message));
        failedDevices.add(input.name);
        continue;
      }
      const earlier = deviceByName.get(input.name);
      if (earlier) {
        // JSON lists a device once; CSV repeats it on each of its credentials' rows, which must agree on where it is.
        if (row.section) errors.push(rowError(row, 'name', 'DEVICE_REPEATED', `The device ${input.name} is already listed at row ${earlier.row.row}; list each device once.`));
        else if (earlier.input.address !== input.address || earlier.input.port !== input.port || earlier.input.protocol !== input.protocol) {
          errors.push(rowError(row, 'device', 'DEVICE_CONFLICT', `The device ${input.name} is at ${earlier.input.address}:${earlier.input.port} (${earlier.input.protocol}) in row ${earlier.row.row} but at ${input.address}:${input.port} (${input.protocol}) here; a device has one address, port and protocol.`));
        }
        continue;
      }
      const plan = { row, input, protocols };
      deviceByName.set(input.name, plan);
      devicePlans.push(plan);
    }
    const accounts = new Map<string, CredentialPlan>();
    const credentialPlans: CredentialPlan[] = [];
    for (const row of credentials) {
      tick();
      const parsed = importCredential.safeParse(row.value);
      if (!parsed.success) {
        errors.push(...zodErrors(row, parsed.error));
        continue;
      }
      const input = parsed.data;
      if (input.passphrase !== undefined && input.secret === undefined) {
        errors.push(rowError(row, row.fieldOf(['passphrase']), 'PASSPHRASE_NEEDS_SECRET', 'A passphrase belongs to its private key: give the key (secret) together with its passphrase.'));
        continue;
      }
      if (input.secret !== undefined) {
        try {
          checkSecretFormat(input.type, input.secret, input.passphrase);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          errors.push(rowError(row, row.fieldOf([error.code === 'PASSPHRASE_NOT_ALLOWED' ? 'passphrase' : 'secret']), error.code, error.message));
          continue;
        }
      }
      const key = `${input.device}\u0000${input.username}`;
      const earlier = accounts.get(key);
      if (earlier) {
        errors.push(rowError(row, row.fieldOf(['username']), 'CREDENTIAL_REPEATED', `${input.device} already has a credential for ${input.username} at row ${earlier.row.row} of this file; list each account once.`));
        continue;
      }
      const plan = { row, input };
      accounts.set(key, plan);
      credentialPlans.push(plan);
    }
    return { devicePlans, credentialPlans, deviceByName, failedDevices };
  }

  /**
   * Imports a file (or, with dryRun, only checks it, database included): every row valid, or IMPORT_INVALID with the
   * row report and nothing written. A device that already exists (by name) is left as it is and its credentials are
   * added to it; an account that already has a credential is a row error (CREDENTIAL_EXISTS).
   */
  async function importFile(actor: Actor, body: ImportBody, options: { onProgress?: ImportProgress } = {}): Promise<ImportResult> {
    const tenantId = actor.tenantId!;
    await assertCan(actor, 'vault.devices.write');
    const dryRun = body.dryRun ?? false;
    const parsed = parseImportFile(body.format, body.data);
    if (parsed.rows > IMPORT_MAX_ROWS) {
      throw refuse([{ row: 0, field: 'file', code: 'TOO_MANY_ROWS', message: `The file has ${parsed.rows} rows; one import takes at most ${IMPORT_MAX_ROWS}. Split it into several files.` }]);
    }
    const errors = [...parsed.errors];
    const total = parsed.devices.length + parsed.credentials.length;
    // Progress counts the file's rows (a CSV row holds a device and a credential): items done scaled to rows.
    const rows = parsed.rows;
    const report = (phase: 'validate' | 'write', done: number, of: number) => options.onProgress?.(phase, of === 0 ? rows : Math.min(rows, Math.round((done / of) * rows)), rows);
    report('validate', 0, total);
    const { devicePlans, credentialPlans, deviceByName, failedDevices } = validateRows(parsed.devices, parsed.credentials, errors, (n) => report('validate', n, total));

    const result = await db.transaction().execute(async (trx) => {
      // The database's view: which devices exist already, and which of their accounts already have a credential.
      const named = [...new Set([...devicePlans.map((d) => d.input.name), ...credentialPlans.map((c) => c.input.device)])];
      const existing = await store.devicesByName(trx, tenantId, named);
      const taken = await store.accountsOn(trx, tenantId, [...existing.values()].map((d) => d.id));
      for (const plan of credentialPlans) {
        const device = existing.get(plan.input.device);
        if (!device && failedDevices.has(plan.input.device)) continue;
        if (!device && !deviceByName.has(plan.input.device)) {
          errors.push(rowError(plan.row, plan.row.fieldOf(['device']), 'DEVICE_NOT_FOUND', `No device ${plan.input.device} in this file or in the tenant; add it to "devices" or create it first.`));
        } else if (device && taken.has(store.accountKey(device.id, plan.input.username))) {
          errors.push(rowError(plan.row, plan.row.fieldOf(['username']), 'CREDENTIAL_EXISTS', `${plan.input.device} already has a credential for ${plan.input.username} in this tenant; change that one instead, or leave the row out.`));
        }
      }
      report('validate', total, total);
      if (errors.length > 0) {
        errors.sort((a, b) => (a.section ?? '').localeCompare(b.section ?? '') || a.row - b.row);
        throw refuse(errors);
      }
      const newDevices = devicePlans.filter((d) => !existing.has(d.input.name));
      const summary: ImportResult = { ok: true, dryRun, format: body.format, rows: parsed.rows, created: { devices: newDevices.length, credentials: credentialPlans.length }, existingDevices: devicePlans.length - newDevices.length };
      if (dryRun) return summary;
      const writes = newDevices.length + credentialPlans.length;
      report('write', 0, writes);
      await write(trx, actor, tenantId, newDevices, credentialPlans, existing, (n) => report('write', n, writes));
      const details = { format: body.format, rows: parsed.rows, devicesCreated: summary.created.devices, credentialsCreated: summary.created.credentials, existingDevices: summary.existingDevices, dryRun: false };
      await audit.append(trx, tenantId, { action: 'vault.imported', actor, details });
      // An operator's import is also recorded in the operator plane's chain (tenant chain first, as every writer locks).
      if (actor.kind === 'operator') await audit.append(trx, SYSTEM_SCOPE, { action: 'vault.imported', actor, target: { type: 'tenant', id: tenantId }, details });
      return summary;
    }).catch((error) => {
      throw isUniqueViolation(error) ? conflict('IMPORT_CONFLICT', 'A device or credential of the file was created by someone else while the import ran; nothing was imported. Send the file again.') : error;
    });
    if (!dryRun) report('write', 1, 1);
    return result;
  }

  async function write(trx: DbOrTx, actor: Actor, tenantId: string, newDevices: DevicePlan[], credentialPlans: CredentialPlan[], existing: Map<string, { id: string }>, progress: (n: number) => void) {
    const now = clock.now();
    const ids = new Map<string, string>([...existing].map(([name, d]) => [name, d.id]));
    const deviceRows: DeviceTable[] = [];
    const protocolRows: DeviceProtocolTable[] = [];
    const deviceTags: DeviceTagTable[] = [];
    let done = 0;
    for (const { input, protocols } of newDevices) {
      const id = newId(now);
      ids.set(input.name, id);
      deviceRows.push({
        tenant_id: tenantId, id, name: input.name, address: input.address, port: input.port, protocol: input.protocol, type: input.type ?? null, vendor: input.vendor ?? null, model: input.model ?? null,
        site: input.site ?? null, criticality: input.criticality ?? 'medium', status: input.status ?? 'active', description: input.description ?? null, created_at: now, updated_at: now,
      });
      for (const p of protocols) protocolRows.push({ tenant_id: tenantId, device_id: id, protocol: p.protocol, port: p.port });
      for (const tag of input.tags ?? []) deviceTags.push({ tenant_id: tenantId, device_id: id, tag });
      if (++done % PROGRESS_STEP === 0) progress(done);
    }
    await store.insertDevices(trx, deviceRows, protocolRows, deviceTags);
    const credentialRows: CredentialTable[] = [];
    const credentialTags: CredentialTagTable[] = [];
    const versions: CredentialVersionTable[] = [];
    for (const { input } of credentialPlans) {
      const id = newId(now);
      // Sealed exactly as credentials.service seals a new secret: version 1, bound to tenant, credential, version and field.
      const secretSealed = input.secret === undefined ? null : await keyring.seal(trx, versionContext(tenantId, id, 1, 'secret'), input.secret);
      const passphraseSealed = input.passphrase === undefined ? null : await keyring.seal(trx, versionContext(tenantId, id, 1, 'passphrase'), input.passphrase);
      const totpSealed = input.totpSeed ? await keyring.seal(trx, totpContext(tenantId, id), input.totpSeed) : null;
      credentialRows.push({
        tenant_id: tenantId, id, device_id: ids.get(input.device)!, username: input.username, type: input.type, version: secretSealed === null ? 0 : 1, secret_sealed: secretSealed, passphrase_sealed: passphraseSealed,
        totp_sealed: totpSealed, owner_id: null, notes: input.notes ?? null, additional_info: JSON.stringify(input.additionalInfo ?? {}), status: input.status ?? 'active', needs_rotation: 0,
        secret_changed_at: secretSealed === null ? null : now, created_at: now, updated_at: now,
      });
      for (const tag of input.tags ?? []) credentialTags.push({ tenant_id: tenantId, credential_id: id, tag });
      if (secretSealed !== null) versions.push({ tenant_id: tenantId, credential_id: id, version: 1, secret_sealed: secretSealed, passphrase_sealed: passphraseSealed, reason: 'import', created_by: actor.id, created_at: now });
      if (++done % PROGRESS_STEP === 0) progress(done);
    }
    await store.insertCredentials(trx, credentialRows, credentialTags, versions);
  }

  /**
   * The tenant's devices or credentials as a file, in the import's shape so it can be imported elsewhere: metadata
   * only, never a secret, passphrase or TOTP seed (the rows read do not even select them). Built in memory.
   */
  async function exportData(actor: Actor, query: ExportQuery): Promise<{ contentType: string; filename: string; body: string; count: number }> {
    const tenantId = actor.tenantId!;
    await assertCan(actor, 'vault.devices.read');
    const { body, count } = query.what === 'devices' ? await exportDevices(tenantId, query.format) : await exportCredentials(tenantId, query.format);
    await db.transaction().execute(async (trx) => {
      await audit.append(trx, tenantId, { action: 'vault.exported', actor, details: { what: query.what, format: query.format, count } });
    });
    return { contentType: query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8', filename: `custos-${query.what}.${query.format}`, body, count };
  }

  async function exportDevices(tenantId: string, format: ExportQuery['format']) {
    const [rows, protocols, tags] = await Promise.all([store.allDevices(db, tenantId), store.allDeviceProtocols(db, tenantId), store.allDeviceTags(db, tenantId)]);
    if (format === 'csv') {
      const header = ['device', 'address', 'port', 'protocol', 'site', 'type', 'vendor', 'model', 'criticality', 'deviceTags'];
      const records = rows.map((d) => [d.name, d.address, String(d.port), d.protocol, d.site ?? '', d.type ?? '', d.vendor ?? '', d.model ?? '', d.criticality, (tags.get(d.id) ?? []).join(';')]);
      return { body: writeCsv([header, ...records.map((r) => r.map(inertCell))]), count: rows.length };
    }
    const devices = rows.map((d) => ({
      name: d.name, address: d.address, port: d.port, protocol: d.protocol, protocols: protocols.get(d.id) ?? [], ...optional({ type: d.type, vendor: d.vendor, model: d.model, site: d.site }),
      tags: tags.get(d.id) ?? [], criticality: d.criticality, status: d.status, ...optional({ description: d.description }),
    }));
    return { body: `${JSON.stringify({ devices }, null, 2)}\n`, count: rows.length };
  }

  async function exportCredentials(tenantId: string, format: ExportQuery['format']) {
    const [rows, tags, deviceTags] = await Promise.all([store.allCredentials(db, tenantId), store.allCredentialTags(db, tenantId), store.allDeviceTags(db, tenantId)]);
    if (format === 'csv') {
      // The import's columns, without secret, passphrase and totpSeed: an exported file carries no secret.
      const header = ['device', 'address', 'port', 'protocol', 'site', 'type', 'deviceTags', 'username', 'credentialType', 'tags', 'notes'];
      const records = rows.map((c) => [c.device_name, c.address, String(c.port), c.protocol, c.site ?? '', c.device_type ?? '', (deviceTags.get(c.device_id) ?? []).join(';'), c.username, c.type, (tags.get(c.id) ?? []).join(';'), c.notes ?? '']);
      return { body: writeCsv([header, ...records.map((r) => r.map(inertCell))]), count: rows.length };
    }
    const credentials = rows.map((c) => ({
      device: c.device_name, username: c.username, type: c.type, tags: tags.get(c.id) ?? [], ...optional({ notes: c.notes }), additionalInfo: JSON.parse(c.additional_info) as Record<string, string>, status: c.status,
    }));
    return { body: `${JSON.stringify({ credentials }, null, 2)}\n`, count: rows.length };
  }

  return { importFile, exportData };
}
export type TransferService = ReturnType<typeof createTransferService>;
