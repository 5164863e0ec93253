import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { decrypt, encrypt } from '../../platform/crypto/aead.js';
import { keyCheckValue, matchesCheckValue } from '../../platform/crypto/root-key.js';
import { DomainError } from '../../platform/errors.js';

/**
 * A snapshot file: the magic line, one plaintext header line (JSON: id, scope, the root key's check value and the
 * snapshot's data key wrapped by a key derived from the root key), then frames. A frame is a 4-byte big-endian
 * length and AES-256-GCM of a gzipped JSON batch; its associated data names the snapshot id, the frame's index and
 * whether it is the last, so frames cannot be reordered, dropped, moved between snapshots or cut off unnoticed.
 * The last frame is the manifest. The root key alone opens a snapshot: KEK = HKDF-SHA256(root key, salt = id).
 */
export const SNAPSHOT_MAGIC = Buffer.from('CUSTOS-SNAPSHOT-1\n', 'utf8');
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Why a snapshot was taken. */
export type SnapshotReason = 'manual' | 'scheduled' | 'before-migration';

/** What a snapshot covers. */
export type SnapshotScope = { kind: 'system' } | { kind: 'tenant'; tenantId: string; slug: string };

/** The plaintext header: enough to say which key it needs, nothing about the data. */
export interface SnapshotHeader {
  format: 1;
  id: string;
  createdAt: string;
  scope: SnapshotScope;
  /** Why it was taken: retention prunes only scheduled snapshots. */
  reason: SnapshotReason;
  rootKeyCheck: string;
  wrappedDataKey: string;
}

/** One table's part of a snapshot, as the manifest lists it. */
export interface SnapshotPart { table: string; rows: number; sha256: string }

/** The last frame: what the snapshot holds, to check it and to restore it. */
export interface SnapshotManifest {
  id: string;
  createdAt: string;
  scope: SnapshotScope;
  custosVersion: string;
  dialect: 'sqlite' | 'postgres';
  /** The last migration applied where the snapshot was taken. */
  schemaVersion: string;
  migrations: string[];
  parts: SnapshotPart[];
}

/** A frame's content: rows of one table, or the manifest. */
export type SnapshotFrame = { kind: 'rows'; table: string; rows: unknown[][]; columns: string[] } | { kind: 'manifest'; manifest: SnapshotManifest };

/** A snapshot that cannot be read: its code says why (truncated, corrupted, wrong key, not a snapshot). */
export class SnapshotInvalid extends DomainError {
  constructor(code: 'SNAPSHOT_NOT_A_SNAPSHOT' | 'SNAPSHOT_WRONG_KEY' | 'SNAPSHOT_CORRUPTED' | 'SNAPSHOT_TRUNCATED', message: string) {
    super(code, message, 'invalid');
  }
}

const kekFor = (rootKey: Buffer, id: string) => Buffer.from(hkdfSync('sha256', rootKey, Buffer.from(id, 'utf8'), 'custos snapshot key v1', 32));
const frameAad = (id: string, index: number, last: boolean) => `custos snapshot ${id} frame ${index}${last ? ' last' : ''}`;

/** Row values as JSON: buffers travel as {"$b": base64}; everything else Custos stores is a string, number or null. */
export function encodeValue(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { $b: Buffer.from(value).toString('base64') };
  return value;
}

/** The inverse of encodeValue. */
export function decodeValue(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && '$b' in value) return Buffer.from((value as { $b: string }).$b, 'base64');
  return value;
}

/** Writes a snapshot frame by frame: the caller appends the returned bytes to the file in order. */
export function createSnapshotSealer(rootKey: Buffer, header: Omit<SnapshotHeader, 'format' | 'rootKeyCheck' | 'wrappedDataKey'>) {
  const dataKey = randomBytes(32);
  const full: SnapshotHeader = { format: 1, ...header, rootKeyCheck: keyCheckValue(rootKey), wrappedDataKey: encrypt(kekFor(rootKey, header.id), dataKey, `custos snapshot data key ${header.id}`).toString('base64') };
  let index = 0;
  const frame = (content: SnapshotFrame, last: boolean): Buffer => {
    const sealed = encrypt(dataKey, gzipSync(Buffer.from(JSON.stringify(content), 'utf8'), { level: 1 }), frameAad(header.id, index++, last));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(sealed.length);
    return Buffer.concat([length, sealed]);
  };
  return {
    /** The magic and the header line: the first bytes of the file. */
    opening: () => Buffer.concat([SNAPSHOT_MAGIC, Buffer.from(`${JSON.stringify(full)}\n`, 'utf8')]),
    rows: (table: string, columns: string[], rows: unknown[][]) => frame({ kind: 'rows', table, columns, rows }, false),
    manifest: (manifest: SnapshotManifest) => frame({ kind: 'manifest', manifest }, true),
  };
}

/** Reads the header of a snapshot's bytes and where its frames begin; refuses what is not a snapshot. */
export function readHeader(bytes: Buffer): { header: SnapshotHeader; framesAt: number } {
  if (bytes.length < SNAPSHOT_MAGIC.length || !bytes.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) {
    throw new SnapshotInvalid('SNAPSHOT_NOT_A_SNAPSHOT', 'This file is not a Custos snapshot (its first bytes are not the snapshot signature).');
  }
  const end = bytes.indexOf(0x0a, SNAPSHOT_MAGIC.length);
  if (end < 0) throw new SnapshotInvalid('SNAPSHOT_TRUNCATED', 'The snapshot ends inside its header: the file was cut short.');
  let header: SnapshotHeader;
  try {
    header = JSON.parse(bytes.subarray(SNAPSHOT_MAGIC.length, end).toString('utf8')) as SnapshotHeader;
  } catch {
    throw new SnapshotInvalid('SNAPSHOT_CORRUPTED', 'The snapshot header is not readable: the file is damaged.');
  }
  if (header.format !== 1 || typeof header.id !== 'string' || typeof header.wrappedDataKey !== 'string') throw new SnapshotInvalid('SNAPSHOT_CORRUPTED', 'The snapshot header is not one this release reads.');
  return { header, framesAt: end + 1 };
}

/**
 * Opens every frame of a snapshot in order with the root key, yielding each rows frame; throws SnapshotInvalid for a
 * wrong key, a damaged frame, a missing end, or bytes after the end. Returns the header and the manifest.
 */
export function* snapshotFrames(bytes: Buffer, rootKey: Buffer): Generator<SnapshotFrame & { kind: 'rows' }, { header: SnapshotHeader; manifest: SnapshotManifest }> {
  const { header, framesAt } = readHeader(bytes);
  if (!matchesCheckValue(rootKey, header.rootKeyCheck)) {
    throw new SnapshotInvalid('SNAPSHOT_WRONG_KEY', `Snapshot ${header.id} was taken under another root key. Restore it with the root key that was current when it was taken (CUSTOS_ROOT_KEY or the data directory's root.key).`);
  }
  let dataKey: Buffer;
  try {
    dataKey = decrypt(kekFor(rootKey, header.id), Buffer.from(header.wrappedDataKey, 'base64'), `custos snapshot data key ${header.id}`);
  } catch {
    throw new SnapshotInvalid('SNAPSHOT_CORRUPTED', `The data key of snapshot ${header.id} does not open: the header was altered.`);
  }
  let at = framesAt;
  for (let index = 0; ; index += 1) {
    if (at + 4 > bytes.length) throw new SnapshotInvalid('SNAPSHOT_TRUNCATED', `Snapshot ${header.id} ends after ${index} frames without its manifest: the file was cut short.`);
    const length = bytes.readUInt32BE(at);
    if (length > MAX_FRAME_BYTES) throw new SnapshotInvalid('SNAPSHOT_CORRUPTED', `Frame ${index} of snapshot ${header.id} claims ${length} bytes: the file is damaged.`);
    if (at + 4 + length > bytes.length) throw new SnapshotInvalid('SNAPSHOT_TRUNCATED', `Snapshot ${header.id} ends inside frame ${index}: the file was cut short.`);
    const sealed = bytes.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    const last = at === bytes.length;
    let content: SnapshotFrame;
    try {
      content = JSON.parse(gunzipSync(decrypt(dataKey, sealed, frameAad(header.id, index, last))).toString('utf8')) as SnapshotFrame;
    } catch {
      // A frame that only opens as "not last" means the file goes on past its end, or was cut right after a frame.
      let opensAsOther = false;
      try {
        decrypt(dataKey, sealed, frameAad(header.id, index, !last));
        opensAsOther = true;
      } catch {
        // Neither reading opens it: the frame's bytes changed.
      }
      if (opensAsOther && last) throw new SnapshotInvalid('SNAPSHOT_TRUNCATED', `Snapshot ${header.id} ends after frame ${index}, before its manifest: the file was cut short.`);
      if (opensAsOther) throw new SnapshotInvalid('SNAPSHOT_CORRUPTED', `Snapshot ${header.id} has bytes after its manifest: the file was altered.`);
      throw new SnapshotInvalid('SNAPSHOT_CORRUPTED', `Frame ${index} of snapshot ${header.id} fails its integrity check: the file is damaged.`);
    }
    if (content.kind === 'manifest') return { header, manifest: content.manifest };
    yield content;
  }
}

/**
 * Reads a whole snapshot and checks each part's row count and SHA-256 against its manifest (any SnapshotInvalid
 * otherwise), handing each rows frame to `onFrame` on the way. Answers the header, manifest and row total.
 */
export function verifySnapshot(bytes: Buffer, rootKey: Buffer, onFrame?: (frame: SnapshotFrame & { kind: 'rows' }) => void) {
  const hashes = new Map<string, ReturnType<typeof createPartHash>>();
  let rows = 0;
  const frames = snapshotFrames(bytes, rootKey);
  let step = frames.next();
  for (; !step.done; step = frames.next()) {
    const frame = step.value;
    const hash = hashes.get(frame.table) ?? hashes.set(frame.table, createPartHash()).get(frame.table)!;
    for (const row of frame.rows) hash.add(row);
    rows += frame.rows.length;
    onFrame?.(frame);
  }
  const { header, manifest } = step.value;
  for (const part of manifest.parts) {
    const actual = (hashes.get(part.table) ?? createPartHash()).done(part.table);
    if (actual.rows !== part.rows || actual.sha256 !== part.sha256) {
      throw new SnapshotInvalid('SNAPSHOT_CORRUPTED', `Part ${part.table} of snapshot ${manifest.id} holds ${actual.rows} rows with SHA-256 ${actual.sha256.slice(0, 12)}…; the manifest says ${part.rows} rows, ${part.sha256.slice(0, 12)}….`);
    }
    hashes.delete(part.table);
  }
  if (hashes.size > 0) throw new SnapshotInvalid('SNAPSHOT_CORRUPTED', `Snapshot ${manifest.id} holds tables its manifest does not list: ${[...hashes.keys()].join(', ')}.`);
  if (manifest.id !== header.id) throw new SnapshotInvalid('SNAPSHOT_CORRUPTED', `The manifest names snapshot ${manifest.id}, the header ${header.id}.`);
  return { header, manifest, rows };
}

/** Refuses a snapshot whose schema this release does not know (taken by a newer release). */
export function assertKnownSchema(manifest: SnapshotManifest, known: Record<string, unknown>): void {
  const unknown = manifest.migrations.filter((name) => !(name in known));
  if (unknown.length > 0) throw new DomainError('SNAPSHOT_SCHEMA_TOO_NEW', `Snapshot ${manifest.id} was taken by a newer Custos release (schema ${manifest.schemaVersion}; this release does not know ${unknown.join(', ')}). Restore it with that release.`, 'invalid');
}

/** The running SHA-256 of one table's part: each row's JSON, one line each, in the order written. */
export function createPartHash() {
  const hash = createHash('sha256');
  let rows = 0;
  return {
    add: (row: unknown[]) => {
      hash.update(`${JSON.stringify(row)}\n`);
      rows += 1;
    },
    done: (table: string): SnapshotPart => ({ table, rows, sha256: hash.digest('hex') }),
  };
}
