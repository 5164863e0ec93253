import type { Duplex } from 'node:stream';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { Client as SshClient, type ConnectConfig } from 'ssh2';
import type { ConnectivityStatus } from '../../platform/db/schema.connectivity.js';
import { DomainError } from '../../platform/errors.js';
import type { DialTarget, TargetDialer } from '../../platform/net/dial.js';
import { asConnectedSocket } from '../../platform/net/connected-socket.js';
import { raceDeadline } from '../../platform/net/deadline.js';

/** A device credential opened for a login: its account and secret (a password, or an ssh private key and passphrase). */
export interface ProbeCredential { id: string; username: string; type: 'password' | 'ssh-key'; secret: string; passphrase: string | null; database: string | null }

/** What one check found. */
export interface ProbeResult { status: ConnectivityStatus; latencyMs: number | null; code: string | null; message: string }

/** A failure with the status it stands for; caught by probeDevice and turned into its result. */
class ProbeFailure extends Error {
  constructor(readonly status: ConnectivityStatus, readonly code: string, message: string) {
    super(message);
  }
}

const authFailed = (what: string, detail: string) => new ProbeFailure('degraded', 'CONNECTIVITY_AUTH_FAILED', `${what} refused the login: ${detail}`);
const handshakeFailed = (what: string, detail: string) => new ProbeFailure('degraded', 'CONNECTIVITY_HANDSHAKE_FAILED', `${what} handshake failed: ${detail}`);

/** Reads from the stream until `done` finds what it needs in the bytes so far, then puts them back for the next reader. */
function readUntil(stream: Duplex, ms: number, what: string, done: (bytes: Buffer) => string | null): Promise<string> {
  return new Promise((resolve, reject) => {
    let bytes = Buffer.alloc(0);
    const finish = (error: Error | null, value?: string) => {
      clearTimeout(timer);
      stream.off('data', onData).off('error', onError).off('end', onEnd);
      stream.pause();
      if (error) reject(error);
      else {
        stream.unshift(bytes);
        resolve(value!);
      }
    };
    const timer = setTimeout(() => finish(new ProbeFailure('unreachable', 'CONNECTIVITY_TIMEOUT', `The port accepted the connection but ${what} did not answer within ${ms} ms.`)), ms);
    const onData = (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      const found = done(bytes);
      if (found !== null) finish(null, found);
      else if (bytes.length > 16_384) finish(handshakeFailed(what, 'the service does not speak this protocol'));
    };
    const onError = (error: Error) => finish(new ProbeFailure('unreachable', 'TARGET_UNREACHABLE', `The connection failed: ${error.message}`));
    const onEnd = () => finish(handshakeFailed(what, 'the service closed the connection'));
    stream.on('data', onData).once('error', onError).once('end', onEnd);
  });
}

/** The server's identification line ("SSH-2.0-OpenSSH_9.6"); RFC 4253 allows other lines before it, '' when none came. */
function sshBanner(bytes: Buffer): string | null {
  const lines = bytes.toString('latin1').split('\n').slice(0, -1);
  const banner = lines.find((line) => line.startsWith('SSH-'));
  if (banner) return banner.trim();
  return lines.length > 20 ? '' : null;
}

/** The server version of a MySQL/MariaDB initial handshake packet, or its error message. */
function mysqlGreeting(bytes: Buffer): string | null {
  if (bytes.length < 4) return null;
  const length = bytes.readUIntLE(0, 3);
  if (bytes.length < 4 + length) return null;
  const payload = bytes.subarray(4, 4 + length);
  if (payload[0] === 0xff) throw handshakeFailed('MySQL', payload.subarray(3).toString('utf8').replace(/^#\w{5}/, ''));
  if (payload[0] !== 0x0a) throw handshakeFailed('MySQL', 'the service does not speak this protocol');
  return payload.subarray(1, payload.indexOf(0, 1)).toString('utf8');
}

/** The drivers' own timeouts do not all cover a peer that stops answering mid-login: this one always fires. */
async function probeSsh(stream: Duplex, ms: number, credential: ProbeCredential | null): Promise<string> {
  const banner = await readUntil(stream, ms, 'SSH', sshBanner);
  if (!banner) throw handshakeFailed('SSH', 'the service does not speak SSH');
  if (!credential) return `${banner}`;
  const client = new SshClient();
  const auth: Partial<ConnectConfig> = credential.type === 'ssh-key' ? { privateKey: credential.secret, passphrase: credential.passphrase ?? undefined } : { password: credential.secret, tryKeyboard: true };
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (error: Error & { level?: string }) => reject(error.level === 'client-authentication' ? authFailed('SSH', `${credential.username} was not accepted`) : handshakeFailed('SSH', error.message)));
    if (credential.type === 'password') client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => credential.secret)));
    try {
      client.connect({ sock: stream as never, username: credential.username, readyTimeout: ms, ...auth });
    } catch (error) {
      // ssh2 throws at once on a key it cannot parse (or a wrong passphrase): the stored credential is the problem.
      reject(new ProbeFailure('degraded', 'CONNECTIVITY_CREDENTIAL_INVALID', `The stored ssh key cannot be used: ${(error as Error).message}`));
    }
  }).finally(() => client.end());
  return `${banner}; logged in as ${credential.username}`;
}

async function probePostgres(stream: Duplex, ms: number, credential: ProbeCredential | null): Promise<string> {
  if (!credential) {
    // An SSLRequest is answered with one byte (S or N) by every PostgreSQL server, before any login.
    stream.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]));
    const answer = await readUntil(stream, ms, 'PostgreSQL', (bytes) => (bytes.length >= 1 ? String.fromCharCode(bytes[0]!) : null));
    if (answer !== 'S' && answer !== 'N') throw handshakeFailed('PostgreSQL', 'the service does not speak the PostgreSQL protocol');
    return 'PostgreSQL answered the protocol handshake';
  }
  const client = new pg.Client({ user: credential.username, password: credential.secret, database: credential.database ?? 'postgres', stream: () => asConnectedSocket(stream) as never, connectionTimeoutMillis: ms, ssl: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const version = (await client.query<{ server_version: string }>('show server_version')).rows[0]?.server_version;
    return `PostgreSQL ${version ?? ''}; logged in as ${credential.username}`.replace('  ', ' ');
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code === '28P01' || code === '28000') throw authFailed('PostgreSQL', (error as Error).message);
    if (/timeout/i.test((error as Error).message)) throw new ProbeFailure('unreachable', 'CONNECTIVITY_TIMEOUT', `PostgreSQL did not answer the login within ${ms} ms.`);
    throw handshakeFailed('PostgreSQL', (error as Error).message);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probeMysql(stream: Duplex, ms: number, credential: ProbeCredential | null): Promise<string> {
  const version = await readUntil(stream, ms, 'MySQL', mysqlGreeting);
  if (!credential) return `MySQL ${version}`;
  // mysql2 reads the greeting readUntil put back; its own connectTimeout covers the login.
  const connecting = mysql.createConnection({ stream: stream as never, user: credential.username, password: credential.secret, database: credential.database ?? undefined, connectTimeout: ms });
  // readUntil paused the stream, and a paused stream stays paused when mysql2 adds its 'data' listener.
  stream.resume();
  const connection = await connecting.catch((error: { errno?: number; message: string }) => {
    if (error.errno === 1045 || error.errno === 1044 || error.errno === 1698) throw authFailed('MySQL', error.message);
    throw handshakeFailed('MySQL', error.message);
  });
  connection.on('error', () => undefined);
  await connection.end().catch(() => undefined);
  return `MySQL ${version}; logged in as ${credential.username}`;
}

const probes: Record<string, (stream: Duplex, ms: number, credential: ProbeCredential | null) => Promise<string>> = { ssh: probeSsh, postgres: probePostgres, mysql: probeMysql, mariadb: probeMysql };

/**
 * Checks one device: opens a guarded connection (its time is the latency), then speaks the protocol's handshake and,
 * with a credential, logs in. Never throws for the target's sake: every failure becomes a result with a code.
 */
export async function probeDevice(deps: { dial: TargetDialer }, target: DialTarget & { protocol: string }, credential: ProbeCredential | null, timeoutMs: number): Promise<ProbeResult> {
  const started = Date.now();
  let stream: Duplex;
  try {
    stream = await deps.dial(target, { timeoutMs });
  } catch (error) {
    const code = error instanceof DomainError ? error.code : String((error as { code?: unknown }).code ?? 'TARGET_UNREACHABLE');
    return { status: code === 'TARGET_REFUSED' ? 'refused' : 'unreachable', latencyMs: null, code, message: (error as Error).message };
  }
  const latencyMs = Date.now() - started;
  stream.on('error', () => undefined);
  const probe = probes[target.protocol];
  try {
    if (!probe) return { status: 'ok', latencyMs, code: null, message: `TCP port ${target.port} accepts connections` };
    const left = Math.max(1, timeoutMs - latencyMs);
    const message = await raceDeadline(probe(stream, left, credential), left, () => {
      stream.destroy();
      return new ProbeFailure('unreachable', 'CONNECTIVITY_TIMEOUT', `The port accepted the connection but the service did not finish the check within ${left} ms.`);
    });
    return { status: 'ok', latencyMs, code: null, message };
  } catch (error) {
    if (error instanceof ProbeFailure) return { status: error.status, latencyMs, code: error.code, message: error.message };
    return { status: 'degraded', latencyMs, code: 'CONNECTIVITY_HANDSHAKE_FAILED', message: (error as Error).message };
  } finally {
    stream.destroy();
  }
}
