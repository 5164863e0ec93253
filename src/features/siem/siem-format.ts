import os from 'node:os';
import type { AuditEventTable } from '../../platform/db/schema.js';

/** An audit event as it is forwarded: the row as stored (details are JSON text). */
export type ForwardedEvent = Pick<AuditEventTable, 'tenant_id' | 'seq' | 'id' | 'occurred_at' | 'type_id' | 'action' | 'category' | 'severity' | 'outcome' | 'actor_kind' | 'actor_id' | 'actor_ip' | 'target_type' | 'target_id' | 'details'>;
/** The message formats a destination can choose. */
export type SiemFormat = 'rfc5424' | 'cef' | 'leef' | 'json';

/**
 * Our structured-data id. 32473 is the private enterprise number RFC 5612 reserves for documentation; an
 * installation with its own PEN changes it here. Receivers match on the name "custos".
 */
export const SD_ID = 'custos@32473';
const PRODUCT_VERSION = '1.0';
// Facility 13 ("log audit"), the facility RFC 5424 gives to audit records.
const FACILITY = 13;

/** Syslog severity (0 emergency .. 7 debug) for a catalogue severity 1-10. */
export function syslogSeverity(severity: number): number {
  if (severity >= 9) return 2;
  if (severity >= 7) return 3;
  if (severity >= 5) return 4;
  if (severity >= 3) return 5;
  return 6;
}

// Printable US-ASCII only (RFC 5424 header fields); anything else would let a value split the header.
const printAscii = (value: string, max: number) => (value.length <= max && /^[\x21-\x7e]+$/.test(value) ? value : value.replace(/[^\x21-\x7e]/g, '_').slice(0, max) || '-');
const hostName = printAscii(os.hostname(), 255);

// Control characters (C0, DEL, C1) and the Unicode line and paragraph separators: each could end a line in some receiver.
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be matched here
const lineBreakers = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const hex4 = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

// eslint-disable-next-line no-control-regex -- as above, without the global flag (test() of a /g regex keeps state)
const hasLineBreaker = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// One test first: most values need no escaping, and skipping the replaces keeps formatting off the profile.
// eslint-disable-next-line no-control-regex -- as above
const sdSpecial = /["\\\]\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** RFC 5424 §6.3.3 PARAM-VALUE: `"`, `\` and `]` are escaped with a backslash; line breakers become \uXXXX. */
export const sdEscape = (value: string) => (sdSpecial.test(value) ? value.replace(/["\\\]]/g, (c) => `\\${c}`).replace(lineBreakers, hex4) : value);
// eslint-disable-next-line no-control-regex -- every character some format escapes; values without any skip the replaces
const needsEscape = /["\\\]|=\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** CEF header field: `\` and `|` escaped; line breakers become spaces (the header has no escape for them). */
export const cefHeaderEscape = (value: string) => (needsEscape.test(value) ? value.replace(/[\\|]/g, (c) => `\\${c}`).replace(lineBreakers, ' ') : value);
/** CEF extension value: `\` and `=` escaped, CR and LF as \r and \n, other line breakers as spaces. */
export const cefValueEscape = (value: string) => (!needsEscape.test(value) ? value : value.replace(/[\\=]/g, (c) => `\\${c}`).replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(lineBreakers, ' '));
/** LEEF header field: `\` and `|` escaped; line breakers become spaces. */
export const leefHeaderEscape = cefHeaderEscape;
/** LEEF 2.0 attribute value (tab-delimited): `\` escaped, tab, CR and LF as \t \r \n, other line breakers as spaces. */
export const leefValueEscape = (value: string) => (!needsEscape.test(value) ? value : value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(lineBreakers, ' '));
/** JSON that stays on one line even in receivers that split on U+2028/U+2029 (JSON.stringify escapes the rest). */
export const jsonLine = (value: unknown) => JSON.stringify(value).replace(/[\u2028\u2029]/g, hex4);

const iso = (ms: number) => new Date(ms).toISOString();
const actorOf = (e: ForwardedEvent) => e.actor_id ?? e.actor_kind;
const targetOf = (e: ForwardedEvent) => (e.target_type ? `${e.target_type}:${e.target_id ?? ''}` : '');
const isIp = (value: string | null): value is string => value !== null && /^[0-9a-fA-F.:]+$/.test(value);

/** The named values every format carries, in a fixed order; seq first so receivers can drop duplicates. */
function fields(e: ForwardedEvent, truncated: boolean): Array<[string, string]> {
  const list: Array<[string, string]> = [
    ['seq', String(e.seq)], ['tenant', e.tenant_id], ['eventId', e.id], ['typeId', String(e.type_id)], ['action', e.action],
    ['category', e.category], ['severity', String(e.severity)], ['outcome', e.outcome], ['actorKind', e.actor_kind], ['actor', actorOf(e)],
  ];
  if (e.actor_ip) list.push(['actorIp', e.actor_ip]);
  if (e.target_type) list.push(['targetType', e.target_type], ['targetId', e.target_id ?? '']);
  if (truncated) list.push(['truncated', 'true']);
  return list;
}

/** The RFC 5424 header; `sd` is the STRUCTURED-DATA part (or "-"). */
function syslogHeader(e: ForwardedEvent, sd: string): string {
  const pri = FACILITY * 8 + syslogSeverity(e.severity);
  return `<${pri}>1 ${iso(e.occurred_at)} ${hostName} custos - ${printAscii(e.action, 32)} ${sd}`;
}

function rfc5424(e: ForwardedEvent, details: string, truncated: boolean): string {
  const params = fields(e, truncated).map(([k, v]) => `${k}="${sdEscape(v)}"`).join(' ');
  const target = targetOf(e);
  const text = `${e.action} ${e.outcome} by ${actorOf(e)}${target ? ` on ${target}` : ''}: ${details}`;
  // No BOM: the message is plain UTF-8 with every line breaker escaped.
  return `${syslogHeader(e, `[${SD_ID} ${params}]`)} ${sdSpecial.test(text) ? text.replace(lineBreakers, hex4) : text}`;
}

function cef(e: ForwardedEvent, details: string, truncated: boolean): string {
  const ext: Array<[string, string]> = [
    ['rt', String(e.occurred_at)], ['cn1', String(e.seq)], ['cn1Label', 'seq'], ['externalId', e.id], ['cat', e.category], ['act', e.action],
    ['outcome', e.outcome], ['suser', actorOf(e)], ['cs1', e.tenant_id], ['cs1Label', 'tenant'],
  ];
  if (isIp(e.actor_ip)) ext.push(['src', e.actor_ip]);
  if (e.target_type) ext.push(['cs2', targetOf(e)], ['cs2Label', 'target']);
  if (truncated) ext.push(['cs3', 'true'], ['cs3Label', 'truncated']);
  ext.push(['msg', details]);
  const header = ['CEF:0', 'Custos', 'Custos', PRODUCT_VERSION, String(e.type_id), e.action, String(e.severity)].map((v, i) => (i === 0 ? v : cefHeaderEscape(v)));
  return `${header.join('|')}|${ext.map(([k, v]) => `${k}=${cefValueEscape(v)}`).join(' ')}`;
}

function leef(e: ForwardedEvent, details: string, truncated: boolean): string {
  const attrs: Array<[string, string]> = [['devTime', String(e.occurred_at)], ['cat', e.category], ['sev', String(e.severity)], ['usrName', actorOf(e)]];
  if (isIp(e.actor_ip)) attrs.push(['src', e.actor_ip]);
  attrs.push(...fields(e, truncated), ['details', details]);
  const header = ['LEEF:2.0', 'Custos', 'Custos', PRODUCT_VERSION, String(e.type_id)].map((v, i) => (i === 0 ? v : leefHeaderEscape(v)));
  // The sixth header field names the delimiter: x09 is a tab, which no escaped value contains.
  return `${header.join('|')}|x09|${attrs.map(([k, v]) => `${k}=${leefValueEscape(v)}`).join('\t')}`;
}

function json(e: ForwardedEvent, details: string, truncated: boolean): string {
  // The log writes details with JSON.stringify, so they splice in as they are unless they hold a line breaker
  // (possible only if a row was written by other means): then they are parsed and written again.
  if (!truncated && !hasLineBreaker.test(details) && details.startsWith('{')) {
    const head = jsonLine({ ...Object.fromEntries(fields(e, false)), seq: e.seq, severity: e.severity, typeId: e.type_id, occurredAt: iso(e.occurred_at) });
    return `${head.slice(0, -1)},"details":${details}}`;
  }
  let parsed: unknown = details;
  if (!truncated) {
    try {
      parsed = JSON.parse(details);
    } catch {
      parsed = details;
    }
  }
  return jsonLine({ ...Object.fromEntries(fields(e, false)), seq: e.seq, severity: e.severity, typeId: e.type_id, occurredAt: iso(e.occurred_at), details: parsed, ...(truncated ? { truncated: true } : {}) });
}

const bodies: Record<SiemFormat, (e: ForwardedEvent, details: string, truncated: boolean) => string> = { rfc5424, cef, leef, json };

/** The body of one event in a format; cef, leef and json go inside an RFC 5424 header without structured data. */
function render(e: ForwardedEvent, format: SiemFormat, details: string, truncated: boolean, syslog: boolean): string {
  const body = bodies[format](e, details, truncated);
  return format === 'rfc5424' || !syslog ? body : `${syslogHeader(e, '-')} ${body}`;
}

/**
 * One event as one message of at most maxBytes UTF-8 bytes. Too long, it is cut and says so (truncated="true"
 * and the like): first the details, then every free-text field, never the header or the sequence number.
 */
export function formatEvent(e: ForwardedEvent, format: SiemFormat, options: { maxBytes: number; syslog: boolean }): string {
  const whole = render(e, format, e.details, false, options.syslog);
  if (Buffer.byteLength(whole) <= options.maxBytes) return whole;
  let details = e.details;
  let event = e;
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const over = Buffer.byteLength(render(event, format, details, true, options.syslog)) - options.maxBytes;
    if (over <= 0) return render(event, format, details, true, options.syslog);
    // Each removed character removes at least one byte; a cut never leaves half a surrogate pair.
    if (details.length > 0) details = details.slice(0, Math.max(0, details.length - over - 8)).replace(/[\ud800-\udbff]$/, '');
    else event = { ...event, actor_id: event.actor_id?.slice(0, 64) ?? null, target_id: event.target_id?.slice(0, 64) ?? null, target_type: event.target_type?.slice(0, 64) ?? null, actor_ip: event.actor_ip?.slice(0, 64) ?? null };
  }
  return render({ ...event, actor_id: '-', target_id: null, target_type: null, actor_ip: null }, format, '', true, options.syslog);
}

/** RFC 6587 octet counting (also RFC 5425 over TLS): the byte length, a space, the message. */
export const octetFrame = (message: string) => `${Buffer.byteLength(message)} ${message}`;
