import { createReadStream } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { createInterface } from 'node:readline';
import { GENESIS_HASH, eventHash, type ChainedEvent } from '../../platform/audit/chain.js';
import { checkpointSignatureValid, keyIdOf } from './checkpoint-signature.js';
import { EXPORT_FORMAT, EXPORT_VERSION, type ExportCheckpointLine, type ExportHeader } from './audit-export.format.js';

/** One thing wrong with an exported file, named by its line (and the event's seq and id when there is one). */
export interface ExportProblem { line: number | null; seq: number | null; eventId: string | null; reason: 'altered' | 'removed' | 'reordered' | 'inserted' | 'malformed' | 'truncated' | 'checkpoint_forged' | 'checkpoint_mismatch'; message: string }

/** What the offline check of an export found; `ok` only when nothing was wrong. */
export interface ExportReport { ok: boolean; events: number; firstSeq: number | null; lastSeq: number | null; checkpoints: { total: number; valid: number }; keySource: 'given' | 'embedded' | 'none'; problems: ExportProblem[]; warnings: string[] }

/** The file is not an audit export at all (exit 2, as for a usage error), as opposed to a tampered one. */
export class ExportUnreadable extends Error {
  override readonly name = 'ExportUnreadable';
}

type Lines = () => AsyncIterable<string>;
const MAX_PROBLEMS = 1000;
const isCheckpointLine = (text: string) => text.startsWith('{"type":"checkpoint"');

/** Lines of a file, read as a stream: a million-event export never sits in memory. */
export const fileLines = (file: string): Lines => () => createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });

function parseHeader(text: string | undefined): ExportHeader {
  let header: Partial<ExportHeader>;
  try {
    header = JSON.parse(text ?? '') as Partial<ExportHeader>;
  } catch {
    throw new ExportUnreadable('the first line is not JSON: this is not a Custos audit export (JSON lines)');
  }
  if (header.type !== 'header' || header.format !== EXPORT_FORMAT) throw new ExportUnreadable(`the first line is not a ${EXPORT_FORMAT} header`);
  if (header.version !== EXPORT_VERSION) throw new ExportUnreadable(`export version ${String(header.version)} is not supported (this verifier reads version ${EXPORT_VERSION})`);
  return header as ExportHeader;
}

/**
 * Verifies an exported JSON lines file with no database: recomputes every event's hash and link, checks every
 * checkpoint's signature (with the given public key, else the embedded one) and that the event at its seq has
 * the hash it signed. Two passes: the first collects the checkpoints (they trail the events) so the second
 * remembers only the hashes at their seqs.
 */
export async function verifyExport(lines: Lines, options: { publicKeyPem?: string } = {}): Promise<ExportReport> {
  const problems: ExportProblem[] = [];
  const warnings: string[] = [];
  const problem = (p: ExportProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const checkpoints: { line: number; c: ExportCheckpointLine }[] = [];
  let header: ExportHeader | undefined;
  let lineNo = 0;
  for await (const text of lines()) {
    lineNo += 1;
    if (lineNo === 1) header = parseHeader(text);
    else if (isCheckpointLine(text)) {
      try {
        checkpoints.push({ line: lineNo, c: JSON.parse(text) as ExportCheckpointLine });
      } catch {
        // Named in the second pass, with every other malformed line.
      }
    }
  }
  if (!header) throw new ExportUnreadable('the file is empty');
  const wanted = new Map<number, { line: number; hash: string; contentOk: boolean } | null>(checkpoints.map(({ c }) => [c.seq, null]));

  let count = 0;
  let firstSeq: number | null = null;
  let prev: { seq: number; hash: string; line: number; contentOk: boolean } | null = null;
  // Gaps seen so far; a later line that fills one was reordered, one still open at the end was removed.
  const gaps: { from: number; to: number; afterLine: number }[] = [];
  let end: { events?: number; lastSeq?: number | null } | null = null;
  lineNo = 0;
  for await (const text of lines()) {
    lineNo += 1;
    if (lineNo === 1 || isCheckpointLine(text) || text.trim() === '') continue;
    let parsed: { type?: string; event?: ChainedEvent & { hash: string }; events?: number; lastSeq?: number | null };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      problem({ line: lineNo, seq: null, eventId: null, reason: 'malformed', message: `line ${lineNo} is not JSON: it was edited by hand or cut` });
      continue;
    }
    if (parsed.type === 'end') {
      end = parsed;
      continue;
    }
    const e = parsed.type === 'event' ? parsed.event : undefined;
    if (!e || typeof e.seq !== 'number' || typeof e.hash !== 'string') {
      problem({ line: lineNo, seq: null, eventId: null, reason: 'malformed', message: `line ${lineNo} is neither an event, a checkpoint nor the end line` });
      continue;
    }
    const at = `line ${lineNo} (event #${e.seq}, ${e.id})`;
    count += 1;
    firstSeq ??= e.seq;
    const contentOk = e.tenant_id === header.tenantId && eventHash(e) === e.hash;
    if (!contentOk) problem({ line: lineNo, seq: e.seq, eventId: e.id, reason: 'altered', message: e.tenant_id !== header.tenantId ? `${at} belongs to another tenant: it was inserted` : `${at} was altered: its content does not match its hash` });
    if (wanted.has(e.seq)) wanted.set(e.seq, { line: lineNo, hash: e.hash, contentOk });
    if (prev && e.seq <= prev.seq) {
      const gap = gaps.find((g) => g.from <= e.seq && e.seq <= g.to);
      if (gap) {
        if (gap.from === gap.to) gaps.splice(gaps.indexOf(gap), 1);
        else if (e.seq === gap.from) gap.from += 1;
        else if (e.seq === gap.to) gap.to -= 1;
        else gaps.splice(gaps.indexOf(gap), 1, { ...gap, to: e.seq - 1 }, { ...gap, from: e.seq + 1 });
        problem({ line: lineNo, seq: e.seq, eventId: e.id, reason: 'reordered', message: `${at} is out of order: it belongs before line ${gap.afterLine + 1}` });
      } else problem({ line: lineNo, seq: e.seq, eventId: e.id, reason: 'inserted', message: `${at} repeats a seq already seen (or is older than every gap): it was inserted or duplicated` });
      continue;
    }
    if (!prev) {
      if (e.seq === 1 && e.prev_hash !== GENESIS_HASH) problem({ line: lineNo, seq: e.seq, eventId: e.id, reason: 'altered', message: `${at} is the first event of the chain but does not start from the genesis hash` });
    } else if (e.seq > prev.seq + 1) {
      if (header.contiguous) gaps.push({ from: prev.seq + 1, to: e.seq - 1, afterLine: prev.line });
    } else if (e.prev_hash !== prev.hash) {
      problem({ line: prev.line, seq: prev.seq, eventId: null, reason: 'altered', message: `line ${prev.line} (event #${prev.seq}) or ${at} was altered: #${e.seq} does not link to #${prev.seq} (an event edited and re-hashed breaks the next link)` });
    }
    prev = { seq: e.seq, hash: e.hash, line: lineNo, contentOk };
  }
  for (const gap of gaps) {
    problem({ line: null, seq: gap.from, eventId: null, reason: 'removed', message: `${gap.from === gap.to ? `event #${gap.from} is` : `events #${gap.from}-#${gap.to} are`} missing after line ${gap.afterLine}: removed from the file` });
  }
  const lastSeq = prev?.seq ?? null;
  if (!end) problem({ line: null, seq: lastSeq, eventId: null, reason: 'truncated', message: 'the file has no end line: it was cut off after the last line shown' });
  else if (end.events !== count || end.lastSeq !== lastSeq) problem({ line: null, seq: lastSeq, eventId: null, reason: 'truncated', message: `the end line counts ${end.events} events up to #${end.lastSeq}, the file holds ${count} up to #${lastSeq}: events were removed or added` });
  if (!header.contiguous) warnings.push('this export was filtered: events between those exported are absent by design, so a removed line cannot be told from a filtered one');

  // The checkpoints: whose key, signed over what, and does the exported event at that seq agree?
  const givenKey = options.publicKeyPem;
  const keyPem = givenKey ?? header.publicKey?.pem;
  const keySource = givenKey ? 'given' : header.publicKey ? 'embedded' : 'none';
  if (keySource === 'embedded') warnings.push('checkpoints were checked with the public key embedded in the file: that proves the file is consistent, not that it came from this tenant. Pass --public-key with the key from GET /api/v1/audit/checkpoints/public-key to prove authenticity');
  if (keySource === 'none' && checkpoints.length > 0) warnings.push('no public key: the checkpoint signatures were not checked');
  if (checkpoints.length === 0) warnings.push('no signed checkpoint covers this range: the hashes prove consistency within the file only');
  let keyId: string | null = null;
  if (keyPem) {
    try {
      keyId = keyIdOf(createPublicKey(keyPem));
    } catch {
      throw new ExportUnreadable('the public key is not a PEM Ed25519 public key');
    }
  }
  let valid = 0;
  for (const { line, c } of checkpoints) {
    const signed = keyPem !== undefined && c.keyId === keyId && c.tenantId === header.tenantId && checkpointSignatureValid(keyPem, { tenantId: c.tenantId, seq: c.seq, hash: c.hash, signedAt: c.signedAt }, c.signature);
    if (keyPem && !signed) {
      problem({ line, seq: c.seq, eventId: null, reason: 'checkpoint_forged', message: `line ${line}: checkpoint #${c.seq} is not validly signed by ${keySource === 'given' ? 'the given public key' : 'the embedded key'} (key ${keyId}${c.keyId !== keyId ? `, the checkpoint names ${c.keyId}` : ''}): forged, altered, or the wrong key` });
      continue;
    }
    const event = wanted.get(c.seq);
    if (!event) {
      if (lastSeq !== null && c.seq > lastSeq) problem({ line, seq: c.seq, eventId: null, reason: 'truncated', message: `line ${line}: checkpoint #${c.seq} signs an event the file does not hold: events at the end (after #${lastSeq}) were removed` });
      else if (header.contiguous) problem({ line, seq: c.seq, eventId: null, reason: 'removed', message: `line ${line}: checkpoint #${c.seq} signs event #${c.seq}, which is not in the file: it was removed` });
      continue;
    }
    if (event.hash !== c.hash) {
      problem({ line: event.line, seq: c.seq, eventId: null, reason: 'checkpoint_mismatch', message: `line ${event.line} (event #${c.seq}) does not have the hash checkpoint #${c.seq} signed: this event, or one before it, was altered and the chain re-hashed` });
      continue;
    }
    if (keyPem && event.contentOk) valid += 1;
  }
  return { ok: problems.length === 0, events: count, firstSeq, lastSeq, checkpoints: { total: checkpoints.length, valid }, keySource, problems, warnings };
}
