import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import { isUniqueViolation, type Db, type DbOrTx } from '../../platform/db/database.js';
import type { CredentialTable } from '../../platform/db/schema.js';
import { conflict, invalid, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import type { CreateCredentialInput, CredentialType, CredentialView, ListCredentialsQuery, PatchCredentialInput, SetSecretInput, VersionReason } from './credentials.schemas.js';
import { checkSecretFormat } from './credentials.secret-format.js';
import { totpContext, versionContext } from './credentials.sealing.js';
import * as credentials from './credentials.store.js';
import type { CredentialRow, CredentialScope } from './credentials.store.js';
import { deviceNotFound } from './devices.service.js';
import * as devices from './devices.store.js';

/** The device attributes a credential policy can match on. */
export interface DeviceAttributes { id: string; name: string; site: string | null; type: string | null; tags: string[] }
/** The credential attributes a credential policy can match on. */
export interface CredentialAttributes { id: string; type: CredentialType; username: string; tags: string[] }
/** What a secret is being set for: the credential (as it will be after the change) and its device. */
export interface SecretTarget { credential: CredentialAttributes; device: DeviceAttributes }
/** Refuses a secret (throw a DomainError, such as invalid('SECRET_TOO_WEAK', ...)) before it is sealed; runs in the change's transaction. */
export type CheckSecret = (trx: DbOrTx, tenantId: string, target: SecretTarget, secret: string) => Promise<void>;

/** Who sees which credentials: holders of vault.credentials.read all of them, anyone else what access policies let them see (main/ wires both). */
export interface CredentialVisibility {
  seesAll(actor: Actor): boolean | Promise<boolean>;
  scopeOf(actor: Actor): Promise<CredentialScope>;
}

/** Names users by id in the caller's transaction (identity's users service). */
export interface OwnerDirectory { namesOf(trx: DbOrTx, tenantId: string, userIds: readonly string[]): Promise<Map<string, string>> }

const iso = (ms: number) => new Date(ms).toISOString();
// Secrets typed by a person are held to the credential policies; generated, rotated and imported ones are not.
const checkedReasons: VersionReason[] = ['created', 'manual'];

type Access = CredentialView['access'];

function toView(row: CredentialRow, tags: string[], owners: Map<string, string>, access?: Access): CredentialView {
  const ownerName = row.owner_id ? owners.get(row.owner_id) : undefined;
  return {
    id: row.id, device: { id: row.device_id, name: row.device_name }, username: row.username, type: row.type, hasSecret: row.secret_sealed !== null, hasPassphrase: row.passphrase_sealed !== null,
    hasTotp: row.totp_sealed !== null, version: row.version, secretChangedAt: row.secret_changed_at === null ? null : iso(row.secret_changed_at), needsRotation: row.needs_rotation === 1, tags,
    owner: row.owner_id && ownerName ? { id: row.owner_id, username: ownerName } : null, notes: row.notes, additionalInfo: JSON.parse(row.additional_info) as Record<string, string>, status: row.status,
    createdAt: iso(row.created_at), updatedAt: iso(row.updated_at), ...(access ? { access } : {}),
  };
}

/** The 404 every credential route answers for an unknown id or another tenant's credential. */
export const credentialNotFound = (id: string) => notFound('CREDENTIAL_NOT_FOUND', `No credential ${id} in this tenant. List credentials with GET /api/v1/credentials.`);
const credentialExists = (username: string, device: string) => conflict('CREDENTIAL_EXISTS', `${device} already has a credential for ${username}; change that one instead (GET /api/v1/credentials?deviceName=${encodeURIComponent(device)}&username=${encodeURIComponent(username)}).`);
const passphraseNeedsSecret = () => invalid('PASSPHRASE_NEEDS_SECRET', 'A passphrase belongs to its private key: send the key (secret) together with its passphrase.');

/**
 * Privileged accounts on devices. Secrets (password, private key, API key), ssh key passphrases and TOTP seeds are
 * sealed with the tenant key; every secret change keeps a new sealed version; no view ever carries a secret.
 */
export function createCredentialService(deps: { db: Db; audit: AuditLog; clock: Clock; keyring: Keyring; owners: OwnerDirectory; checkSecret?: CheckSecret; visibility?: CredentialVisibility }) {
  const { db, audit, clock, keyring, owners } = deps;
  const tenantOf = (actor: Actor) => actor.tenantId!;

  async function load(trx: DbOrTx, tenantId: string, id: string) {
    const row = isId(id) ? await credentials.findCredential(trx, tenantId, id) : undefined;
    if (!row) throw credentialNotFound(id);
    return row;
  }

  async function viewOf(trx: DbOrTx, tenantId: string, id: string, access?: Access) {
    const row = await load(trx, tenantId, id);
    const [tags, names] = await Promise.all([credentials.tagsOfMany(trx, tenantId, [id]), owners.namesOf(trx, tenantId, row.owner_id ? [row.owner_id] : [])]);
    return toView(row, tags.get(id)!, names, access);
  }

  /** The caller's scope, or null when they see every credential (no visibility wired: the route's permission decides alone). */
  async function scopeOf(actor: Actor): Promise<CredentialScope | null> {
    const visibility = deps.visibility;
    return !visibility || (await visibility.seesAll(actor)) ? null : visibility.scopeOf(actor);
  }

  /**
   * Rows of the list within the caller's scope. The scope's SQL may let through more than is visible (non-ASCII
   * text), so each batch is checked exactly and the next batch read until the page is full.
   */
  async function scopedRows(tenantId: string, filter: credentials.CredentialFilter, scope: CredentialScope) {
    const kept: CredentialTable[] = [];
    const access = new Map<string, NonNullable<Access>>();
    let after = filter.after;
    for (;;) {
      const rows = await credentials.listCredentials(db, tenantId, { ...filter, after, scope: scope.where });
      const visible = await scope.confirm(rows.map((r) => r.id));
      for (const row of rows) {
        const found = visible.get(row.id);
        if (found && kept.length < filter.limit) {
          kept.push(row);
          access.set(row.id, found);
        }
      }
      if (kept.length >= filter.limit || rows.length < filter.limit) return { rows: kept, access };
      after = rows[rows.length - 1]!.id;
    }
  }

  /** Locks the device a credential goes on (so the device cannot be deleted under it); another tenant's answers 404. */
  async function lockDevice(trx: DbOrTx, tenantId: string, deviceId: string) {
    const device = isId(deviceId) ? await devices.lockDevice(trx, tenantId, deviceId) : undefined;
    if (!device) throw deviceNotFound(deviceId);
    return device;
  }

  async function assertOwner(trx: DbOrTx, tenantId: string, ownerId: string) {
    if (!isId(ownerId) || !(await owners.namesOf(trx, tenantId, [ownerId])).has(ownerId)) {
      throw invalid('OWNER_NOT_FOUND', `No user ${ownerId} in this tenant; ownerId names a user of the tenant (GET /api/v1/users).`);
    }
  }

  async function targetOf(trx: DbOrTx, tenantId: string, row: CredentialTable): Promise<SecretTarget> {
    const device = (await devices.findDevice(trx, tenantId, row.device_id))!;
    const [deviceTags, tags] = await Promise.all([devices.tagsOfMany(trx, tenantId, [device.id]), credentials.tagsOfMany(trx, tenantId, [row.id])]);
    return {
      credential: { id: row.id, type: row.type, username: row.username, tags: tags.get(row.id)! },
      device: { id: device.id, name: device.name, site: device.site, type: device.type, tags: deviceTags.get(device.id)! },
    };
  }

  /** Seals a new version of the secret (the row's attributes must already be as they will be), keeping earlier ones. */
  async function setSecret(trx: DbOrTx, actor: Actor, tenantId: string, id: string, input: SetSecretInput, reason: VersionReason) {
    const version = await credentials.claimNextVersion(trx, tenantId, id);
    if (version === undefined) throw credentialNotFound(id);
    const row = (await credentials.findCredential(trx, tenantId, id))!;
    if (deps.checkSecret && checkedReasons.includes(reason)) await deps.checkSecret(trx, tenantId, await targetOf(trx, tenantId, row), input.secret);
    const now = clock.now();
    const secretSealed = await keyring.seal(trx, versionContext(tenantId, id, version, 'secret'), input.secret);
    const passphraseSealed = input.passphrase === undefined ? null : await keyring.seal(trx, versionContext(tenantId, id, version, 'passphrase'), input.passphrase);
    await credentials.insertVersion(trx, { tenant_id: tenantId, credential_id: id, version, secret_sealed: secretSealed, passphrase_sealed: passphraseSealed, reason, created_by: actor.id, created_at: now });
    await credentials.updateCredential(trx, tenantId, id, { secret_sealed: secretSealed, passphrase_sealed: passphraseSealed, secret_changed_at: now, needs_rotation: 0, updated_at: now });
    await audit.append(trx, tenantId, { action: 'credential.secret.changed', actor, target: { type: 'credential', id }, details: { version, reason } });
  }

  async function sealTotp(trx: DbOrTx, tenantId: string, id: string, seed: string | null | undefined) {
    return seed ? keyring.seal(trx, totpContext(tenantId, id), seed) : null;
  }

  /** Adds a credential to a device; with a secret it starts at version 1 (reason created), without one at version 0. */
  async function create(actor: Actor, input: CreateCredentialInput) {
    const tenantId = tenantOf(actor);
    if (input.passphrase !== undefined && input.secret === undefined) throw passphraseNeedsSecret();
    if (input.secret !== undefined) checkSecretFormat(input.type, input.secret, input.passphrase);
    return db.transaction().execute(async (trx) => {
      const device = await lockDevice(trx, tenantId, input.deviceId);
      if (input.ownerId !== undefined) await assertOwner(trx, tenantId, input.ownerId);
      if (await credentials.findByAccount(trx, tenantId, device.id, input.username)) throw credentialExists(input.username, device.name);
      const now = clock.now();
      const id = newId(now);
      const row: CredentialTable = {
        tenant_id: tenantId, id, device_id: device.id, username: input.username, type: input.type, version: 0, secret_sealed: null, passphrase_sealed: null, totp_sealed: await sealTotp(trx, tenantId, id, input.totpSeed),
        owner_id: input.ownerId ?? null, notes: input.notes ?? null, additional_info: JSON.stringify(input.additionalInfo ?? {}), status: input.status ?? 'active', needs_rotation: 0, secret_changed_at: null, created_at: now, updated_at: now,
      };
      await credentials.insertCredential(trx, row, input.tags ?? []).catch((error) => {
        throw isUniqueViolation(error) ? credentialExists(input.username, device.name) : error;
      });
      await audit.append(trx, tenantId, { action: 'credential.created', actor, target: { type: 'credential', id }, details: { deviceId: device.id, device: device.name, username: row.username, type: row.type, hasTotp: row.totp_sealed !== null } });
      if (input.secret !== undefined) await setSecret(trx, actor, tenantId, id, { secret: input.secret, passphrase: input.passphrase }, 'created');
      return viewOf(trx, tenantId, id);
    });
  }

  /** A page of credentials matching the search and filters, and the cursor of the next page (null at the end). */
  async function list(actor: Actor, query: ListCredentialsQuery) {
    const tenantId = tenantOf(actor);
    const filter = { ...query, tags: query.tag, deviceTags: query.deviceTag, after: query.cursor, limit: query.limit + 1 };
    const scope = await scopeOf(actor);
    const scoped = scope ? await scopedRows(tenantId, filter, scope) : null;
    const rows = scoped ? scoped.rows : await credentials.listCredentials(db, tenantId, filter);
    const page = rows.slice(0, query.limit);
    // Three batch reads per page (device names, tags, owner names), never one per credential.
    const [deviceNames, tags, names] = await Promise.all([
      credentials.deviceNamesOf(db, tenantId, page.map((r) => r.device_id)),
      credentials.tagsOfMany(db, tenantId, page.map((r) => r.id)),
      owners.namesOf(db, tenantId, page.flatMap((r) => (r.owner_id ? [r.owner_id] : []))),
    ]);
    const view = (r: CredentialTable) => toView({ ...r, device_name: deviceNames.get(r.device_id) ?? '' }, tags.get(r.id)!, names, scoped?.access.get(r.id));
    return { credentials: page.map(view), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null };
  }

  /** One credential of the caller's tenant (never its secret); another tenant's id, and one the caller may not see, answer 404. */
  async function get(actor: Actor, id: string) {
    const tenantId = tenantOf(actor);
    const scope = await scopeOf(actor);
    if (!scope) return viewOf(db, tenantId, id);
    const access = isId(id) ? (await scope.confirm([id])).get(id) : undefined;
    if (!access) throw credentialNotFound(id);
    return viewOf(db, tenantId, id, access);
  }

  /** Changes the fields sent; a secret sent makes a new version (always: the old value is never compared). */
  async function update(actor: Actor, id: string, patch: PatchCredentialInput) {
    const tenantId = tenantOf(actor);
    if (patch.passphrase !== undefined && patch.secret === undefined) throw passphraseNeedsSecret();
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, tenantId, id);
      const type = patch.type ?? row.type;
      if (patch.secret !== undefined) checkSecretFormat(type, patch.secret, patch.passphrase);
      if (type !== row.type && row.secret_sealed !== null && patch.secret === undefined) {
        throw invalid('SECRET_REQUIRED', `Changing the type to ${type} needs a new secret of that type: send secret too.`);
      }
      const device = patch.deviceId !== undefined && patch.deviceId !== row.device_id ? await lockDevice(trx, tenantId, patch.deviceId) : { id: row.device_id, name: row.device_name };
      if (patch.ownerId) await assertOwner(trx, tenantId, patch.ownerId);
      const username = patch.username ?? row.username;
      if ((device.id !== row.device_id || username !== row.username) && (await credentials.findByAccount(trx, tenantId, device.id, username))) throw credentialExists(username, device.name);
      const tagsBefore = (await credentials.tagsOfMany(trx, tenantId, [row.id])).get(row.id)!;
      const changes: Partial<CredentialTable> = {
        device_id: device.id, username, type, owner_id: patch.ownerId === undefined ? row.owner_id : patch.ownerId, notes: patch.notes === undefined ? row.notes : patch.notes,
        additional_info: patch.additionalInfo ? JSON.stringify(patch.additionalInfo) : row.additional_info, status: patch.status ?? row.status,
        needs_rotation: patch.needsRotation === undefined ? row.needs_rotation : Number(patch.needsRotation),
      };
      const names: Record<string, keyof CredentialTable> = { deviceId: 'device_id', username: 'username', type: 'type', ownerId: 'owner_id', notes: 'notes', additionalInfo: 'additional_info', status: 'status', needsRotation: 'needs_rotation' };
      const changed = Object.keys(names).filter((field) => changes[names[field]!] !== row[names[field]!]);
      // A seed sent is always a change (sealed values are never compared); null removes one that exists.
      if (patch.totpSeed === null ? row.totp_sealed !== null : patch.totpSeed !== undefined) {
        changes.totp_sealed = await sealTotp(trx, tenantId, row.id, patch.totpSeed);
        changed.push('totpSeed');
      }
      if (patch.tags && patch.tags.join() !== tagsBefore.join()) changed.push('tags');
      if (changed.length > 0) {
        await credentials.updateCredential(trx, tenantId, row.id, { ...changes, updated_at: clock.now() }).catch((error) => {
          throw isUniqueViolation(error) ? credentialExists(username, device.name) : error;
        });
        if (changed.includes('tags')) await credentials.replaceTags(trx, tenantId, row.id, patch.tags!);
        await audit.append(trx, tenantId, { action: 'credential.updated', actor, target: { type: 'credential', id: row.id }, details: { fields: changed } });
      }
      if (patch.secret !== undefined) await setSecret(trx, actor, tenantId, row.id, { secret: patch.secret, passphrase: patch.passphrase }, 'manual');
      return viewOf(trx, tenantId, row.id);
    });
  }

  /** PUT: replaces every attribute (omitted ones take their defaults); secrets and the TOTP seed are kept unless sent. */
  async function replace(actor: Actor, id: string, input: CreateCredentialInput) {
    return update(actor, id, { ...input, tags: input.tags ?? [], ownerId: input.ownerId ?? null, notes: input.notes ?? null, additionalInfo: input.additionalInfo ?? {}, status: input.status ?? 'active' });
  }

  /**
   * Sets a new secret (POST /credentials/{id}/secret, reason manual); other features pass their reason (generated,
   * rotation, import). Only created and manual secrets go through the checkSecret hook.
   */
  async function changeSecret(actor: Actor, id: string, input: SetSecretInput, reason: VersionReason = 'manual') {
    const tenantId = tenantOf(actor);
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, tenantId, id);
      checkSecretFormat(row.type, input.secret, input.passphrase);
      await setSecret(trx, actor, tenantId, row.id, input, reason);
      return viewOf(trx, tenantId, row.id);
    });
  }

  /** Removes a credential with every version of its secret and its tags. */
  async function remove(actor: Actor, id: string) {
    const tenantId = tenantOf(actor);
    await db.transaction().execute(async (trx) => {
      const row = await load(trx, tenantId, id);
      const versions = await credentials.deleteCredential(trx, tenantId, row.id);
      await audit.append(trx, tenantId, { action: 'credential.deleted', actor, target: { type: 'credential', id: row.id }, details: { deviceId: row.device_id, device: row.device_name, username: row.username, versions } });
    });
  }

  return { create, list, get, update, replace, changeSecret, remove };
}
export type CredentialService = ReturnType<typeof createCredentialService>;
