import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { SYSTEM_SCOPE, type Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import { notFound } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { findTenantBySlug } from '../tenants/tenants.store.js';
import { createPartHash, createSnapshotSealer, readHeader, verifySnapshot, type SnapshotManifest, type SnapshotPart, type SnapshotReason, type SnapshotScope } from './snapshot-format.js';
import { openSnapshotSource, type SnapshotStore } from './snapshot-source.js';
import { restoreTenant } from './snapshot-tenant-restore.js';
import type { Signals } from '../../platform/signals/signals.js';

const BATCH = 2_000;
const SUFFIX = '.snapshot';

/** Progress of long snapshot work: tables done of all, and rows so far. */
export type SnapshotProgress = (done: number, total: number, rows: number) => void;

/** A snapshot as listed: what its header and file say, without opening it. */
export interface SnapshotSummary { id: string; path: string; createdAt: string; scope: SnapshotScope; reason: SnapshotReason; bytes: number }

/** The snapshot file an id (in the snapshot directory) or a path names; SNAPSHOT_NOT_FOUND otherwise. */
export function resolveSnapshotFile(ref: string, dir: string): string {
  const candidate = ref.includes('/') || ref.endsWith(SUFFIX) ? path.resolve(ref) : path.join(dir, `${ref}${SUFFIX}`);
  if (!existsSync(candidate) || !statSync(candidate).isFile()) throw snapshotNotFound(ref);
  return candidate;
}

const idOf = (file: string) => path.basename(file, SUFFIX);

const snapshotNotFound = (ref: string) => notFound('SNAPSHOT_NOT_FOUND', `No snapshot ${ref} in the snapshot directory; list them with: custos snapshot list`);

/**
 * Snapshots of the whole system or of one tenant: one consistent read of the store, every table's rows sealed
 * under a fresh data key wrapped by the root key (snapshot-format.ts), written to a temporary file and renamed into
 * the snapshot directory only when complete. Outcomes are audited in the operator's chain.
 */
export function createSnapshotService(deps: {
  db: Db;
  store: SnapshotStore;
  dir: string;
  rootKey: () => Buffer;
  /** Where outcomes are recorded; absent only before migrating, when the caller records the snapshot afterwards. */
  audit?: AuditLog;
  clock: Clock;
  version: string;
  /** After a tenant restore: every node drops what it holds of the tenant (its unwrapped keys). */
  signals?: Pick<Signals, 'publish'>;
  forget?: (tenantId: string) => void;
}) {
  const { db, audit, clock } = deps;

  /** Takes a snapshot; answers its summary, the manifest's parts and how long it took. */
  async function create(actor: Actor, options: { tenantSlug?: string; reason?: SnapshotReason; onProgress?: SnapshotProgress } = {}) {
    const reason = options.reason ?? 'manual';
    const started = Date.now();
    let scope: SnapshotScope = { kind: 'system' };
    if (options.tenantSlug !== undefined) {
      const tenant = await findTenantBySlug(db, options.tenantSlug);
      if (!tenant) throw notFound('TENANT_NOT_FOUND', `No tenant with slug ${options.tenantSlug}; list tenants with: custos tenant list`);
      scope = { kind: 'tenant', tenantId: tenant.id, slug: tenant.slug };
    }
    const now = clock.now();
    const id = `${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${newId(now).slice(-8)}`;
    mkdirSync(deps.dir, { recursive: true, mode: 0o700 });
    const finalPath = path.join(deps.dir, `${id}${SUFFIX}`);
    const partial = `${finalPath}.partial`;
    const source = await openSnapshotSource(deps.store);
    const fd = openSync(partial, 'wx', 0o600);
    let bytes = 0;
    const write = (chunk: Buffer) => {
      writeSync(fd, chunk);
      bytes += chunk.length;
    };
    try {
      const createdAt = new Date(now).toISOString();
      const sealer = createSnapshotSealer(deps.rootKey(), { id, createdAt, scope, reason });
      write(sealer.opening());
      const tables = (await source.tables()).filter((t) => scope.kind === 'system' || t.tenantColumn !== null);
      const tenantId = scope.kind === 'tenant' ? scope.tenantId : null;
      const parts: SnapshotPart[] = [];
      let rows = 0;
      for (const [index, table] of tables.entries()) {
        const hash = createPartHash();
        for await (const batch of source.batches(table, tenantId, BATCH)) {
          for (const row of batch) hash.add(row);
          write(sealer.rows(table.name, table.columns, batch));
          rows += batch.length;
          options.onProgress?.(index, tables.length, rows);
        }
        parts.push(hash.done(table.name));
        options.onProgress?.(index + 1, tables.length, rows);
      }
      const migrations = await appliedMigrations(source);
      const manifest: SnapshotManifest = { id, createdAt, scope, custosVersion: deps.version, dialect: deps.store.dialect, schemaVersion: migrations.at(-1) ?? '', migrations, parts };
      write(sealer.manifest(manifest));
      fsyncSync(fd);
      closeSync(fd);
      renameSync(partial, finalPath);
      const seconds = (Date.now() - started) / 1000;
      if (audit) await db.transaction().execute((trx) => audit.append(trx, SYSTEM_SCOPE, { action: 'snapshot.created', actor, details: { snapshotId: id, scope: scope.kind, ...(scope.kind === 'tenant' ? { tenantId: scope.tenantId } : {}), rows, bytes, reason } }));
      return { id, path: finalPath, createdAt, scope, reason, bytes, rows, parts, seconds };
    } catch (error) {
      try {
        closeSync(fd);
      } catch {
        // Already closed after the last write.
      }
      rmSync(partial, { force: true });
      if (audit) await db.transaction().execute((trx) => audit.append(trx, SYSTEM_SCOPE, { action: 'snapshot.failed', actor, outcome: 'failure', details: { snapshotId: id, scope: scope.kind, message: (error as Error).message.slice(0, 300), reason } })).catch(() => undefined);
      throw error;
    } finally {
      await source.close();
    }
  }

  async function appliedMigrations(source: Awaited<ReturnType<typeof openSnapshotSource>>): Promise<string[]> {
    const table = (await source.tables()).find((t) => t.name === 'kysely_migration');
    if (!table) return [];
    const at = table.columns.indexOf('name');
    const names: string[] = [];
    for await (const batch of source.batches(table, null, BATCH)) for (const row of batch) names.push(String(row[at]));
    return names.sort();
  }

  const resolve = (ref: string) => resolveSnapshotFile(ref, deps.dir);

  /** The snapshots in the directory, newest first (files that are not snapshots are left out). */
  function list(): SnapshotSummary[] {
    if (!existsSync(deps.dir)) return [];
    const found: SnapshotSummary[] = [];
    for (const name of readdirSync(deps.dir).filter((n) => n.endsWith(SUFFIX))) {
      const file = path.join(deps.dir, name);
      try {
        const head = readHead(file);
        found.push({ id: head.id, path: file, createdAt: head.createdAt, scope: head.scope, reason: head.reason, bytes: statSync(file).size });
      } catch {
        // A damaged file still shows in verify; the list names only what it can read.
      }
    }
    return found.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  function readHead(file: string) {
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(8192);
      const read = readSync(fd, head);
      return readHeader(head.subarray(0, read)).header;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Opens every frame with the root key and checks each part's row count and SHA-256 against the manifest; throws
   * SnapshotInvalid (truncated, corrupted, wrong key) otherwise. Answers the manifest.
   */
  function verify(ref: string, options: { rootKey?: Buffer; onProgress?: SnapshotProgress } = {}) {
    const file = resolve(ref);
    const tables = new Set<string>();
    let rows = 0;
    // The manifest (and so the table count) comes last: progress counts the tables seen so far.
    const result = verifySnapshot(readFileSync(file), options.rootKey ?? deps.rootKey(), (frame) => {
      tables.add(frame.table);
      rows += frame.rows.length;
      options.onProgress?.(tables.size, tables.size, rows);
    });
    return { path: file, bytes: statSync(file).size, rows: result.rows, manifest: result.manifest };
  }

  /** Removes the oldest scheduled system snapshots beyond `keep` (manual and pre-migration ones stay); answers the ids removed. */
  function prune(keep: number): string[] {
    const old = list().filter((s) => s.scope.kind === 'system' && s.reason === 'scheduled').slice(keep);
    for (const snapshot of old) rmSync(snapshot.path, { force: true });
    return old.map((s) => s.id);
  }

  /**
   * Restores one tenant into the running system from a tenant snapshot (or a system snapshot, naming the slug); the
   * operator's and the tenant's chains record it, and every node forgets the tenant's cached keys.
   */
  async function restoreOneTenant(actor: Actor, ref: string, options: { slug?: string; onProgress?: (done: number, total: number) => void } = {}) {
    const started = Date.now();
    const file = resolve(ref);
    const restored = await restoreTenant({
      db, dialect: deps.store.dialect, bytes: readFileSync(file), rootKey: deps.rootKey(), slug: options.slug, onProgress: options.onProgress,
      inTransaction: async (trx, tenantId) => {
        const details = { snapshotId: idOf(file), tenantId };
        if (!audit) throw new Error('a tenant restore is always recorded: the snapshot service needs its audit log');
        await audit.append(trx, SYSTEM_SCOPE, { action: 'tenant.restored', actor, target: { type: 'tenant', id: tenantId }, details });
        await audit.append(trx, tenantId, { action: 'tenant.restored', actor, target: { type: 'tenant', id: tenantId }, details });
        await deps.signals?.publish(trx, { kind: 'tenant.restored', tenantId });
      },
    });
    deps.forget?.(restored.tenantId);
    return { ...restored, seconds: (Date.now() - started) / 1000 };
  }

  return { create, list, verify, resolve, prune, restoreTenant: restoreOneTenant };
}

/** Snapshots: create, list, verify, prune. */
export type SnapshotService = ReturnType<typeof createSnapshotService>;
