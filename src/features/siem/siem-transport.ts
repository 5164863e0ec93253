import { createHmac } from 'node:crypto';
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { TargetGuard } from '../../platform/net/target-guard.js';
import { checkLiteralHost, guardedLookup, refusedReceiver } from './siem-address-guard.js';
import { octetFrame } from './siem-format.js';

/** Where and how one destination is reached, with its secrets opened. */
export interface SiemTarget {
  transport: 'udp' | 'tcp' | 'tls' | 'https';
  host: string | null;
  port: number | null;
  url: string | null;
  /** tcp and tls: RFC 6587 octet counting, or one message per line (no message contains a line break). */
  framing?: 'octet-counting' | 'newline';
  tls: { ca?: string; cert?: string; key?: string; serverName?: string } | null;
  secret: string | null;
}

/** A delivery that did not happen (or was not confirmed); its message is shown as the destination's lastError. */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
}

/** Sends one round of messages; resolves only when the receiver confirmed them (udp: when they were sent). */
export type Deliver = (target: SiemTarget, messages: string[]) => Promise<{ confirmed: boolean }>;

const CONNECT_TIMEOUT_MS = 5_000;
const CHUNK_BYTES = 256 * 1024;
const TLS_SETTLE_MS = 25;
const describe = (error: Error & { code?: string }) => (error.code ? `${error.code}: ${error.message}` : error.message);

/**
 * A stream round over TCP or TLS: every frame is written, then the socket is half-closed and the round counts as
 * delivered only when the receiver closes its side cleanly. rsyslog reads to end of stream before it closes, and
 * a receiver that closes with data still unread resets the connection instead, so a clean close means it read
 * everything. Anything else (reset, refusal, timeout, TLS failure) rejects and the round is sent again.
 */
function streamRound(guard: TargetGuard, target: SiemTarget, messages: string[]): Promise<{ confirmed: boolean }> {
  const host = target.host!;
  checkLiteralHost(guard, host);
  const lookup = guardedLookup(guard);
  const port = target.port!;
  const bytes = messages.reduce((n, m) => n + m.length, 0);
  const roundTimeoutMs = 10_000 + Math.ceil(bytes / (1024 * 1024)) * 1_000;
  return new Promise((resolve, reject) => {
    // The receiver's addresses are checked by the lookup (names) or above (literals) before any connection.
    const socket: net.Socket = target.transport === 'tls'
      // The certificate is checked against serverName when given, else the host (a DNS name or an IP address SAN).
      ? tls.connect({ host, port, lookup, ca: target.tls?.ca, cert: target.tls?.cert, key: target.tls?.key, servername: target.tls?.serverName ?? (net.isIP(host) ? undefined : host), rejectUnauthorized: true })
      : net.connect({ host, port, lookup });
    let ended = false;
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(connectTimer);
      socket.destroy();
      reject(new DeliveryError(message));
    };
    const timer = setTimeout(() => fail(`no confirmation from ${host}:${port} within ${roundTimeoutMs} ms`), roundTimeoutMs);
    const connectTimer: NodeJS.Timeout = setTimeout(() => fail(`connecting to ${host}:${port} timed out`), CONNECT_TIMEOUT_MS);
    socket.on('error', (error) => fail(`${host}:${port}: ${describe(error)}`));
    socket.on('data', () => undefined);
    let flushed = false;
    socket.on('finish', () => (flushed = true));
    // Only a close after all our bytes (and our end of stream) were handed over answers them; an earlier one does not.
    socket.on('end', () => (flushed ? (ended = true) : fail(`${host}:${port} closed the connection before reading the round`)));
    socket.on('close', () => {
      if (settled) return;
      if (!ended) return fail(`${host}:${port} closed the connection before confirming`);
      settled = true;
      clearTimeout(timer);
      resolve({ confirmed: true });
    });
    const send = () => {
      if (settled) return;
      let chunk = '';
      const frame = target.framing === 'newline' ? (message: string) => `${message}\n` : octetFrame;
      for (const message of messages) {
        chunk += frame(message);
        if (chunk.length >= CHUNK_BYTES) {
          socket.write(chunk);
          chunk = '';
        }
      }
      // end() flushes what is queued, then sends FIN (TLS: close_notify first); the peer answers with its own close.
      socket.end(chunk);
    };
    socket.once(target.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      clearTimeout(connectTimer);
      // A TLS receiver may refuse the session just after the handshake (a client certificate it requires is
      // missing or not trusted) and close before our bytes arrive, cleanly. Waiting a moment first turns that
      // into a failed round (the close comes before our data is flushed) instead of a false confirmation.
      if (target.transport === 'tls') setTimeout(send, TLS_SETTLE_MS);
      else send();
    });
  });
}

/** UDP is best effort: each message is one datagram and nothing confirms it arrived. */
async function udpRound(guard: TargetGuard, target: SiemTarget, messages: string[]): Promise<{ confirmed: boolean }> {
  const host = target.host!;
  checkLiteralHost(guard, host);
  const answers = net.isIP(host) ? [{ address: host }] : await dns.lookup(host, { all: true }).catch((error: Error) => { throw new DeliveryError(`${host}: ${describe(error)}`); });
  for (const answer of answers) {
    const verdict = guard.check(answer.address);
    if (!verdict.allowed) throw refusedReceiver(host, answer.address, verdict.reason);
  }
  const address = answers[0]!.address;
  const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error) => reject(new DeliveryError(`${host}:${target.port}: ${describe(error)}`)));
      let pending = messages.length;
      if (pending === 0) resolve();
      for (const message of messages) {
        socket.send(message, target.port!, address, (error) => {
          if (error) reject(new DeliveryError(`${host}:${target.port}: ${describe(error)}`));
          else if (--pending === 0) resolve();
        });
      }
    });
  } finally {
    socket.close();
  }
  return { confirmed: false };
}

/** The signature headers of a webhook body: HMAC-SHA256 over "<timestamp>.<body>" so a captured request cannot be replayed later. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

const WEBHOOK_BATCH = 1_000;

/** Posts the messages (one per line) in batches; only a 2xx answer confirms a batch. */
async function httpsRound(guard: TargetGuard, target: SiemTarget, messages: string[]): Promise<{ confirmed: boolean }> {
  checkLiteralHost(guard, new URL(target.url!).hostname);
  const lookup = guardedLookup(guard);
  for (let start = 0; start < messages.length; start += WEBHOOK_BATCH) {
    const body = messages.slice(start, start + WEBHOOK_BATCH).join('\n') + '\n';
    const timestamp = Math.floor(Date.now() / 1000);
    await new Promise<void>((resolve, reject) => {
      const request = https.request(target.url!, {
        method: 'POST',
        lookup,
        timeout: 10_000,
        ca: target.tls?.ca,
        cert: target.tls?.cert,
        key: target.tls?.key,
        servername: target.tls?.serverName,
        headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-custos-timestamp': String(timestamp), 'x-custos-signature': webhookSignature(target.secret ?? '', timestamp, body) },
      }, (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        response.on('end', () => (status >= 200 && status < 300 ? resolve() : reject(new DeliveryError(`${new URL(target.url!).host} answered HTTP ${status}`))));
        response.on('error', (error) => reject(new DeliveryError(describe(error))));
      });
      request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
      request.on('error', (error) => reject(new DeliveryError(`${new URL(target.url!).host}: ${describe(error)}`)));
      request.end(body);
    });
  }
  return { confirmed: true };
}

/** Sends rounds by the destination's transport, to receivers whose every address the target guard allows. */
export function createDeliverRound(guard: TargetGuard): Deliver {
  return async (target, messages) => {
    if (target.transport === 'udp') return udpRound(guard, target, messages);
    if (target.transport === 'https') return httpsRound(guard, target, messages);
    return streamRound(guard, target, messages);
  };
}
