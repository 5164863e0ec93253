import { describe, expect, it } from 'vitest';
import { formatEvent, octetFrame, SD_ID, type ForwardedEvent } from './siem-format.js';

const hostile = 'a\nb\r\nc|d=e\\f]g"h\ti\u2028j\u0000k ünïcødé 🔑 [x@1 seq="999"] cn1=999 seq=999\n<13>1 forged';
const event = (overrides: Partial<ForwardedEvent> = {}): ForwardedEvent => ({
  tenant_id: '0190aaaa-0000-7000-8000-000000000001', seq: 42, id: '0190aaaa-0000-7000-8000-0000000000ff', occurred_at: Date.UTC(2026, 0, 5, 9, 0, 0), type_id: 3004,
  action: 'auth.login.failed', category: 'auth', severity: 6, outcome: 'failure', actor_kind: 'user', actor_id: hostile, actor_ip: '192.0.2.7',
  target_type: 'user', target_id: hostile, details: JSON.stringify({ username: hostile }), ...overrides,
});
// eslint-disable-next-line no-control-regex -- the control characters a forged line would need
const breakers = /[\n\r\u2028\u0000]/;
// eslint-disable-next-line no-control-regex -- as above, and the tab that separates syslog fields
const breakersAndTab = /[\n\r\u2028\u0000\t]/;
// eslint-disable-next-line no-control-regex -- what RFC 5424 values carry as \uXXXX
const sdEscaped = /[\u0000-\u001f\u2028]/g;
// eslint-disable-next-line no-control-regex -- what CEF values carry as spaces (CR and LF are \r and \n)
const cefSpaced = /[\t\u2028\u0000]/g;
const big = { maxBytes: 1 << 20, syslog: true };

/** Splits RFC 5424 SD params the way a receiver does: name="value" with \" \\ \] escapes. */
function sdParams(line: string): Record<string, string> {
  const start = line.indexOf(`[${SD_ID} `);
  const params: Record<string, string> = {};
  let i = start + SD_ID.length + 2;
  while (line[i] !== ']') {
    const eq = line.indexOf('=', i);
    const name = line.slice(i, eq);
    let value = '';
    let j = eq + 2;
    for (; line[j] !== '"'; j += 1) {
      if (line[j] === '\\' && ['"', '\\', ']'].includes(line[j + 1]!)) j += 1;
      value += line[j];
    }
    params[name] = value;
    i = line[j + 1] === ' ' ? j + 2 : j + 1;
  }
  return params;
}

/** CEF extension parsing: keys are \w+ before an unescaped =; values run to the next " key=". */
function cefExtension(line: string): Record<string, string> {
  const ext = line.split(/(?<!\\)\|/).slice(7).join('|');
  const parts = ext.split(/ (?=\w+=)/);
  return Object.fromEntries(parts.map((part) => {
    const eq = part.search(/(?<!\\)=/);
    return [part.slice(0, eq), part.slice(eq + 1).replace(/\\([\\=])/g, '$1').replace(/\\n/g, '\n').replace(/\\r/g, '\r')];
  }));
}

describe('SIEM message formats', () => {
  it('RFC 5424: PRI from severity, APP-NAME custos, MSGID the action, seq in structured data, one line whatever the values', () => {
    const line = formatEvent(event(), 'rfc5424', big);
    expect(line).toMatch(/^<108>1 2026-01-05T09:00:00\.000Z \S+ custos - auth\.login\.failed \[custos@32473 seq="42" tenant="/);
    expect(line).not.toMatch(breakersAndTab);
    const params = sdParams(line);
    expect(params).toMatchObject({ seq: '42', action: 'auth.login.failed', outcome: 'failure', actorIp: '192.0.2.7', targetType: 'user' });
    // Only the escapes RFC 5424 defines are undone by a receiver; line breakers stay visible as \uXXXX.
    expect(params.actor).toBe(hostile.replace(sdEscaped, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
    expect(Object.keys(params)).not.toContain('x@1');
    expect(line.match(/\[custos@/g)).toHaveLength(1);
  });

  it('RFC 5424 severity maps to syslog severities: 9-10 crit, 7-8 err, 5-6 warning, 3-4 notice, 1-2 info', () => {
    expect([10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((severity) => formatEvent(event({ severity }), 'rfc5424', big).match(/^<(\d+)>/)![1])).toEqual(['106', '106', '107', '107', '108', '108', '109', '109', '110', '110']);
  });

  it('CEF: header pipes and backslashes escaped, extension = \\ and newlines escaped, seq in cn1; no field is forged', () => {
    const line = formatEvent(event({ action: 'auth.login.failed|x' }), 'cef', { ...big, syslog: false });
    expect(line.startsWith('CEF:0|Custos|Custos|1.0|3004|auth.login.failed\\|x|6|')).toBe(true);
    expect(line).not.toMatch(breakers);
    const ext = cefExtension(line);
    expect(ext).toMatchObject({ cn1: '42', cn1Label: 'seq', act: 'auth.login.failed|x', outcome: 'failure', src: '192.0.2.7', cs2Label: 'target' });
    expect(ext.suser).toBe(hostile.replace(cefSpaced, ' '));
    expect(Object.keys(ext).sort()).toEqual(['act', 'cat', 'cn1', 'cn1Label', 'cs1', 'cs1Label', 'cs2', 'cs2Label', 'externalId', 'msg', 'outcome', 'rt', 'src', 'suser'].sort());
  });

  it('LEEF 2.0: tab-delimited attributes; a tab, newline or backslash in a value is escaped so no attribute is forged', () => {
    const line = formatEvent(event(), 'leef', { ...big, syslog: false });
    expect(line.startsWith('LEEF:2.0|Custos|Custos|1.0|3004|x09|devTime=')).toBe(true);
    expect(line).not.toMatch(breakers);
    const attrs = line.split('|').slice(6).join('|').split('\t').map((pair) => pair.slice(0, pair.indexOf('=')));
    expect(attrs).toEqual(['devTime', 'cat', 'sev', 'usrName', 'src', 'seq', 'tenant', 'eventId', 'typeId', 'action', 'category', 'severity', 'outcome', 'actorKind', 'actor', 'actorIp', 'targetType', 'targetId', 'details']);
    expect(line).toContain('\tseq=42\t');
  });

  it('JSON: one object per line that parses back to the exact values, details as an object', () => {
    const line = formatEvent(event(), 'json', { ...big, syslog: false });
    expect(line).not.toMatch(breakers);
    const parsed = JSON.parse(line);
    expect(parsed).toMatchObject({ seq: 42, action: 'auth.login.failed', actor: hostile, targetId: hostile, details: { username: hostile }, occurredAt: '2026-01-05T09:00:00.000Z' });
  });

  it('JSON: plain details are carried as they are; details holding a raw line break (a row not written by the log) are rewritten on one line', () => {
    expect(JSON.parse(formatEvent(event({ details: '{"a":"b|c=\\"d\\""}' }), 'json', { ...big, syslog: false })).details).toEqual({ a: 'b|c="d"' });
    const tampered = formatEvent(event({ details: '{"a":\n"b"}' }), 'json', { ...big, syslog: false });
    expect(tampered).not.toMatch(breakers);
    expect(JSON.parse(tampered).details).toEqual({ a: 'b' });
  });

  it('over syslog, cef/leef/json bodies sit behind an RFC 5424 header with the action as MSGID', () => {
    for (const format of ['cef', 'leef', 'json'] as const) {
      expect(formatEvent(event(), format, big)).toMatch(new RegExp(`^<108>1 \\S+ \\S+ custos - auth\\.login\\.failed - (CEF:0|LEEF:2\\.0|\\{)`));
    }
  });

  it('a message over the limit is cut to fit, says so, and keeps its seq, in every format', () => {
    const long = event({ details: JSON.stringify({ note: 'ü'.repeat(10_000) }), actor_id: 'x'.repeat(10_000) });
    for (const format of ['rfc5424', 'cef', 'leef', 'json'] as const) {
      const line = formatEvent(long, format, { maxBytes: 2048, syslog: true });
      expect(Buffer.byteLength(line), format).toBeLessThanOrEqual(2048);
      expect(line, format).toMatch(/truncated="true"|cs3=true cs3Label=truncated|\ttruncated=true|"truncated":true/);
      expect(line, format).toMatch(/seq="42"|cn1=42|\tseq=42|"seq":42/);
      expect(line).not.toContain('\uFFFD');
    }
    const short = formatEvent(event(), 'rfc5424', { maxBytes: 1 << 20, syslog: true });
    expect(short).not.toContain('truncated');
  });

  it('octet counting frames by UTF-8 byte length', () => {
    expect(octetFrame('ü1')).toBe('3 ü1');
  });
});
