import { CsvError, parseCsv } from './csv.js';
import type { ImportFormat, ImportRowError } from './transfer.schemas.js';

/** One object of an import file, before validation, with where it came from. */
export interface RawRow {
  /** JSON: the 1-based position in its array; CSV: the 1-based record, the header being record 1. */
  row: number;
  section?: 'devices' | 'credentials';
  value: Record<string, unknown>;
  /** The name the file uses for a field of the validated object (a CSV column, or the JSON path). */
  fieldOf(path: readonly PropertyKey[]): string;
}

/** An import file read into device and credential objects; `errors` are file-level problems (nothing to validate). */
export interface ParsedFile {
  devices: RawRow[];
  credentials: RawRow[];
  /** How many rows the file has, for the row limit and the summary. */
  rows: number;
  /** Problems found while reading (malformed file, unknown columns, a row of the wrong width). */
  errors: ImportRowError[];
}

/** The CSV columns an import reads; device, address, port and protocol are required in the header. */
export const csvColumns = ['device', 'address', 'port', 'protocol', 'site', 'type', 'vendor', 'model', 'criticality', 'deviceTags', 'username', 'credentialType', 'secret', 'passphrase', 'totpSeed', 'tags', 'notes'] as const;
const requiredColumns = ['device', 'address', 'port', 'protocol'];

const fileError = (code: string, message: string): ImportRowError => ({ row: 0, field: 'file', code, message });
const jsonPath = (path: readonly PropertyKey[]) => path.map(String).join('.');

function parseJson(data: string): ParsedFile {
  let doc: unknown;
  try {
    doc = JSON.parse(data);
  } catch (error) {
    return { devices: [], credentials: [], rows: 0, errors: [fileError('MALFORMED_JSON', `The file is not valid JSON: ${(error as Error).message}`)] };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { devices: [], credentials: [], rows: 0, errors: [fileError('MALFORMED_JSON', 'The file is a JSON object: {"devices":[...],"credentials":[...]}.')] };
  }
  const errors: ImportRowError[] = [];
  const unknown = Object.keys(doc).filter((key) => key !== 'devices' && key !== 'credentials');
  if (unknown.length > 0) errors.push(fileError('UNKNOWN_FIELD', `The file has only "devices" and "credentials"; remove ${unknown.map((k) => `"${k}"`).join(', ')}.`));
  const section = (name: 'devices' | 'credentials'): RawRow[] => {
    const list = (doc as Record<string, unknown>)[name];
    if (list === undefined) return [];
    if (!Array.isArray(list)) {
      errors.push(fileError('MALFORMED_JSON', `"${name}" is an array of objects.`));
      return [];
    }
    return list.map((value, index) => ({
      row: index + 1,
      section: name,
      value: typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { __notAnObject: true },
      fieldOf: jsonPath,
    }));
  };
  const devices = section('devices');
  const credentials = section('credentials');
  return { devices, credentials, rows: devices.length + credentials.length, errors };
}

const deviceColumn: Record<string, string> = { name: 'device', tags: 'deviceTags' };
const credentialColumn: Record<string, string> = { type: 'credentialType' };
const columnOf = (names: Record<string, string>) => (path: readonly PropertyKey[]) => {
  const first = String(path[0] ?? '');
  return names[first] ?? first;
};
const splitTags = (cell: string) => cell.split(';').map((t) => t.trim()).filter((t) => t !== '');

function parseCsvFile(data: string): ParsedFile {
  let records: string[][];
  try {
    records = parseCsv(data);
  } catch (error) {
    if (error instanceof CsvError) return { devices: [], credentials: [], rows: 0, errors: [{ row: error.record, field: 'file', code: 'MALFORMED_CSV', message: `The CSV cannot be read at record ${error.record}: ${error.message}.` }] };
    throw error;
  }
  const [header, ...body] = records;
  if (!header) return { devices: [], credentials: [], rows: 0, errors: [fileError('MALFORMED_CSV', `The CSV is empty; its first line names the columns: ${csvColumns.join(',')}.`)] };
  const names = header.map((h) => h.trim());
  const errors: ImportRowError[] = [];
  const unknown = names.filter((n) => !(csvColumns as readonly string[]).includes(n));
  if (unknown.length > 0) errors.push({ row: 1, field: 'file', code: 'UNKNOWN_COLUMN', message: `Unknown column(s) ${unknown.join(', ')}; the columns are ${csvColumns.join(', ')}.` });
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length > 0) errors.push({ row: 1, field: 'file', code: 'REPEATED_COLUMN', message: `The column(s) ${[...new Set(repeated)].join(', ')} appear more than once.` });
  const missing = requiredColumns.filter((c) => !names.includes(c));
  if (missing.length > 0) errors.push({ row: 1, field: 'file', code: 'MISSING_COLUMN', message: `The header lacks the column(s) ${missing.join(', ')}; every row names its device's name, address, port and protocol.` });
  // Empty lines are skipped (a spreadsheet often leaves one at the end).
  const rows = body.map((cells, index) => ({ cells, record: index + 2 })).filter(({ cells }) => !(cells.length === 1 && cells[0]!.trim() === ''));
  if (errors.length > 0) return { devices: [], credentials: [], rows: rows.length, errors };
  const devices: RawRow[] = [];
  const credentials: RawRow[] = [];
  for (const { cells, record } of rows) {
    if (cells.length !== names.length) {
      errors.push({ row: record, field: 'file', code: 'WRONG_COLUMN_COUNT', message: `Row ${record} has ${cells.length} field(s) but the header names ${names.length}; quote a field that holds a comma.` });
      continue;
    }
    const cell: Record<string, string> = {};
    names.forEach((name, i) => {
      // Secrets are kept exactly as written (a password may start or end with a space); other cells are trimmed.
      const value = name === 'secret' || name === 'passphrase' ? cells[i]! : cells[i]!.trim();
      if (value.trim() !== '') cell[name] = value;
    });
    const device: Record<string, unknown> = { name: cell.device, address: cell.address, port: cell.port !== undefined && /^\d{1,6}$/.test(cell.port) ? Number(cell.port) : cell.port, protocol: cell.protocol };
    for (const key of ['site', 'type', 'vendor', 'model', 'criticality'] as const) if (cell[key] !== undefined) device[key] = cell[key];
    if (cell.deviceTags !== undefined) device.tags = splitTags(cell.deviceTags);
    devices.push({ row: record, value: device, fieldOf: columnOf(deviceColumn) });
    if (cell.username === undefined) {
      const stray = ['credentialType', 'secret', 'passphrase', 'totpSeed', 'tags', 'notes'].filter((c) => cell[c] !== undefined);
      if (stray.length > 0) errors.push({ row: record, field: 'username', code: 'USERNAME_REQUIRED', message: `Row ${record} has ${stray.join(', ')} but no username; a row without username adds only its device.` });
      continue;
    }
    const credential: Record<string, unknown> = { device: cell.device, username: cell.username, type: cell.credentialType ?? 'password' };
    for (const key of ['secret', 'passphrase', 'totpSeed', 'notes'] as const) if (cell[key] !== undefined) credential[key] = cell[key];
    if (cell.tags !== undefined) credential.tags = splitTags(cell.tags);
    credentials.push({ row: record, value: credential, fieldOf: columnOf(credentialColumn) });
  }
  return { devices, credentials, rows: rows.length, errors };
}

/** Reads an import file of either format into device and credential objects to validate. */
export function parseImportFile(format: ImportFormat, data: string): ParsedFile {
  return format === 'json' ? parseJson(data) : parseCsvFile(data);
}
