import dns from 'node:dns';
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import { createWebSocketStream, WebSocket } from 'ws';
import { DomainError } from '../../platform/errors.js';
import { cidrContains, connectableAddress, parseAddress, parseCidr } from '../../platform/net/target-guard.js';

const { Server, utils } = ssh2;
/** Where the vault accepts connectors, relative to its base URL. */
const CONNECT_PATH = '/api/v1/connectors/connect';
const TARGET_CONNECT_TIMEOUT_MS = 15_000;

/** How the agent reports what happens (the CLI prints these lines). */
export type AgentLog = (line: string) => void;

/** The options of `custos connector run`. */
export interface ConnectorAgentOptions {
  url: string;
  token: string;
  /** A PEM CA bundle to trust for the vault's certificate instead of the system's CAs. */
  ca?: string;
  log?: AgentLog;
  /** When given, the only ranges (CIDRs) the connector connects to; a name must resolve inside them. */
  allow?: string[];
  /** Reconnection backoff bounds. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host === '[::1]' || (isIP(host) === 4 && host.startsWith('127.'));

/**
 * The WebSocket URL of the vault's connector endpoint. Plain http/ws only to a loopback vault: the token crosses
 * the connection, and TLS is what proves to the connector that it talks to the vault.
 */
export function endpointOf(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new DomainError('CONNECTOR_URL_INVALID', `--url ${base} is not a URL; give the vault's address, such as https://vault.example.com.`, 'invalid');
  }
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  if (!secure && !(url.protocol === 'http:' || url.protocol === 'ws:')) throw new DomainError('CONNECTOR_URL_INVALID', `--url must be https:// (or wss://), not ${url.protocol}`, 'invalid');
  if (!secure && !isLoopback(url.hostname)) throw new DomainError('CONNECTOR_TLS_REQUIRED', 'The vault must be reached over TLS (https://) unless it runs on this machine (loopback).', 'invalid');
  url.protocol = secure ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${CONNECT_PATH}`;
  return url.toString();
}

/**
 * A fresh ed25519 host key that ssh2 itself can parse: ssh2 1.17's generator writes about one ed25519 key in 200 that
 * its own parser rejects as malformed (measured: 15 of 3000), so a key is checked and drawn again if need be.
 */
function ephemeralHostKey(): string {
  for (;;) {
    const key = utils.generateKeyPairSync('ed25519').private;
    if (!(utils.parseKey(key) instanceof Error)) return key;
  }
}

/**
 * The connector: dials out to the vault, then serves the SSH protocol over the WebSocket with the vault as the
 * SSH client. Each direct-tcpip channel the vault opens is connected to host:port in this network. Reconnects
 * with backoff when the connection drops; stops for good when the vault refuses the token (401: wrong or revoked).
 */
export function startConnectorAgent(options: ConnectorAgentOptions) {
  const log = options.log ?? (() => undefined);
  const endpoint = endpointOf(options.url);
  const allow = options.allow?.map((text) => {
    try {
      return parseCidr(text);
    } catch {
      throw new DomainError('CONNECTOR_ALLOW_INVALID', `--allow ${text} is not a range; give CIDRs such as 10.0.0.0/8,192.168.1.10/32.`, 'invalid');
    }
  });
  // An ephemeral host key: the vault does not check it (trust rests on TLS and the token, see connector-hub.ts),
  // so nothing is kept on disk and every start gets a fresh one.
  const hostKey = ephemeralHostKey();
  const server = new Server({ hostKeys: [hostKey], keepaliveInterval: 15_000, keepaliveCountMax: 3 }, (client) => {
    // Only the vault we dialled (TLS + our token) ever reaches this SSH server: there is no listening socket.
    client.on('authentication', (ctx) => ctx.accept());
    client.on('error', (error) => log(`ssh: ${error.message}`));
    client.on('tcpip', (accept, reject, info) => {
      void permitted(info.destIP).then((address) => {
        if (!address) {
          log(`refused a connection to ${info.destIP}:${info.destPort}: outside --allow`);
          return reject();
        }
        forward(address, info.destPort, accept, reject);
      }, () => reject());
    });
  });

  /** The address to connect to for a requested host, or null when --allow leaves it out. */
  async function permitted(host: string): Promise<string | null> {
    if (!allow) return host;
    const answers = parseAddress(host) ? [host] : (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    const inside = (address: string) => {
      const parsed = parseAddress(address);
      return parsed !== null && allow.some((cidr) => cidrContains(cidr, parsed));
    };
    // Every answer must be inside, as the vault's own guard does: a name cannot point part of its answers elsewhere.
    return answers.length > 0 && answers.every(inside) ? connectableAddress(answers[0]!) : null;
  }

  /** Connects the channel to host:port once the TCP connection is up (a failure answers the vault CONNECT_FAILED). */
  function forward(host: string, port: number, accept: () => ssh2.ServerChannel, reject: () => void) {
    const target = tcpConnect({ host, port });
    target.setTimeout(TARGET_CONNECT_TIMEOUT_MS, () => target.destroy(new Error('timed out')));
    target.once('error', () => reject());
    target.once('connect', () => {
      target.setTimeout(0);
      const channel = accept();
      target.removeAllListeners('error');
      target.on('error', () => channel.destroy());
      channel.on('error', () => target.destroy());
      channel.on('close', () => target.destroy());
      target.on('close', () => channel.destroy());
      target.pipe(channel).pipe(target);
    });
  }

  let stopped = false;
  let current: WebSocket | null = null;
  let delay = options.retryMinMs ?? 1000;
  let retry: NodeJS.Timeout | null = null;
  let resolveDone!: (result: { refused: boolean; reason: string }) => void;
  const done = new Promise<{ refused: boolean; reason: string }>((resolve) => (resolveDone = resolve));

  function finish(refused: boolean, reason: string) {
    stopped = true;
    if (retry) clearTimeout(retry);
    current?.terminate();
    resolveDone({ refused, reason });
  }

  function dial() {
    if (stopped) return;
    const ws = new WebSocket(endpoint, { headers: { authorization: `Bearer ${options.token}` }, ca: options.ca, handshakeTimeout: 15_000, maxPayload: 256 * 1024, perMessageDeflate: false });
    current = ws;
    ws.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => {
        const message = (() => {
          try {
            const { error } = JSON.parse(body) as { error: { code: string; message: string } };
            return `${error.code}: ${error.message}`;
          } catch {
            return body.slice(0, 200);
          }
        })();
        if (response.statusCode === 401 || response.statusCode === 403) return finish(true, `the vault refused the token (${response.statusCode} ${message})`);
        log(`the vault answered ${response.statusCode}: ${message}`);
        ws.terminate();
      });
    });
    ws.on('open', () => {
      delay = options.retryMinMs ?? 1000;
      log(`connected to ${endpoint}`);
      const stream = createWebSocketStream(ws);
      stream.on('error', () => undefined);
      // The stream only ends when the WebSocket closes; destroying it lets ssh2 end the channels and their sockets.
      ws.once('close', () => stream.destroy());
      server.injectSocket(stream as unknown as Socket);
    });
    ws.on('error', (error) => log(`connection failed: ${error.message}`));
    ws.on('close', () => {
      if (stopped || current !== ws) return;
      log(`disconnected; retrying in ${Math.round(delay / 1000)} s`);
      retry = setTimeout(dial, delay);
      delay = Math.min(delay * 2, options.retryMaxMs ?? 30_000);
    });
  }
  dial();

  return {
    /** Resolves when the agent stops: refused true when the vault refused the token. */
    done,
    /** Stops the agent and closes its connection. */
    stop() {
      finish(false, 'stopped');
    },
  };
}
