import type { Duplex } from 'node:stream';
import { Client, type ClientChannel } from 'ssh2';
import { createWebSocketStream, type WebSocket } from 'ws';
import { DomainError } from '../../platform/errors.js';
import type { Logger } from '../../platform/log.js';
import { targetTimeout, targetUnreachable } from '../../platform/net/dial.js';

/** Who a live connection belongs to, learnt from its token on upgrade. */
export interface ConnectorIdentity {
  tenantId: string;
  connectorId: string;
  site: string;
  address: string | null;
}

/** What the hub reports to the service, which records it (presence columns, audit events). */
export type HubEvent =
  | { type: 'connected'; identity: ConnectorIdentity; role: 'active' | 'passive' }
  | { type: 'disconnected'; identity: ConnectorIdentity; reason: string; connectedMs: number }
  | { type: 'failover'; tenantId: string; site: string; from: string; to: string }
  | { type: 'heartbeat'; identity: ConnectorIdentity };

interface Live {
  identity: ConnectorIdentity;
  client: Client;
  ws: WebSocket;
  since: number;
  ready: boolean;
  removed: boolean;
  /** Open channels, ended with the connection so no caller waits on a dead one. */
  channels: Set<ClientChannel>;
  closing?: string;
}

/** The connector's site has no live connection on this node. */
export const connectorOffline = (site: string) =>
  new DomainError('CONNECTOR_OFFLINE', `No connector of site ${site} is connected to this node; start one with: custos connector run --url <vault url> --token <token>.`, 'unavailable');

const siteKey = (tenantId: string, site: string) => `${tenantId}\u0000${site}`;
const connectorKey = (tenantId: string, connectorId: string) => `${tenantId}\u0000${connectorId}`;

/**
 * The vault's side of connectors: every live WebSocket carries one SSH connection in which the vault is the
 * client, and every TCP connection the vault makes through the connector is one direct-tcpip channel (SSH's own
 * multiplexing and flow control; no framing of ours). Per site the earliest connected live connector is active
 * and carries new channels; the others stand by and the next in line takes over when it goes (socket closed, or
 * ssh2 keepalives unanswered).
 */
export function createConnectorHub(deps: { log: Logger; onEvent: (event: HubEvent) => void; keepaliveIntervalMs?: number; keepaliveCountMax?: number; heartbeatMs?: number }) {
  const sites = new Map<string, Live[]>();
  const byConnector = new Map<string, Live>();
  const heartbeat = setInterval(() => {
    for (const live of byConnector.values()) if (live.ready) deps.onEvent({ type: 'heartbeat', identity: live.identity });
  }, deps.heartbeatMs ?? 30_000);
  heartbeat.unref();

  function remove(live: Live, reason: string) {
    if (live.removed) return;
    live.removed = true;
    const { tenantId, connectorId, site } = live.identity;
    if (byConnector.get(connectorKey(tenantId, connectorId)) === live) byConnector.delete(connectorKey(tenantId, connectorId));
    const list = sites.get(siteKey(tenantId, site)) ?? [];
    const index = list.indexOf(live);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) sites.delete(siteKey(tenantId, site));
    if (!live.ready) return;
    deps.onEvent({ type: 'disconnected', identity: live.identity, reason, connectedMs: Date.now() - live.since });
    if (index === 0 && list[0]) deps.onEvent({ type: 'failover', tenantId, site, from: connectorId, to: list[0].identity.connectorId });
    // Without an error: a caller that attached no error listener must not crash; it sees the stream close early.
    for (const channel of live.channels) channel.destroy();
    live.channels.clear();
  }

  function drop(live: Live, reason: string) {
    live.closing ??= reason;
    remove(live, reason);
    live.client.end();
    live.ws.terminate();
  }

  /** Takes over an authenticated WebSocket: runs SSH over it and, once ready, puts it in its site's line. */
  function attach(ws: WebSocket, identity: ConnectorIdentity): void {
    const key = connectorKey(identity.tenantId, identity.connectorId);
    // The same connector dialling again (a restart while its old socket lingers) replaces its old connection.
    const previous = byConnector.get(key);
    if (previous) drop(previous, 'replaced by a new connection');
    const stream = createWebSocketStream(ws);
    const client = new Client();
    const live: Live = { identity, client, ws, since: Date.now(), ready: false, removed: false, channels: new Set() };
    byConnector.set(key, live);
    stream.on('error', (error) => deps.log.debug({ err: error, connectorId: identity.connectorId }, 'connector stream error'));
    ws.on('close', () => {
      // The WebSocket stream only ends on close; destroying it lets ssh2 see the socket close and end its channels.
      stream.destroy();
      remove(live, live.closing ?? 'connection closed');
    });
    client.on('ready', () => {
      if (live.removed) return;
      live.ready = true;
      live.since = Date.now();
      const list = sites.get(siteKey(identity.tenantId, identity.site)) ?? [];
      list.push(live);
      sites.set(siteKey(identity.tenantId, identity.site), list);
      deps.onEvent({ type: 'connected', identity, role: list[0] === live ? 'active' : 'passive' });
    });
    client.on('error', (error) => {
      live.closing ??= /keepalive/i.test(error.message) ? 'keepalives unanswered' : `ssh error: ${error.message}`;
      deps.log.warn({ connectorId: identity.connectorId, reason: live.closing }, 'connector connection failed');
    });
    client.on('close', () => {
      remove(live, live.closing ?? 'connection closed');
      ws.terminate();
    });
    client.connect({
      sock: stream,
      username: 'custos-vault',
      // The connector's host key is ephemeral and proves nothing: the vault trusts the connection because the
      // connector presented its token on the (TLS) upgrade request that carries this SSH session. SSH here only
      // multiplexes channels; it is not where either side is authenticated.
      hostVerifier: () => true,
      keepaliveInterval: deps.keepaliveIntervalMs ?? 10_000,
      keepaliveCountMax: deps.keepaliveCountMax ?? 3,
      readyTimeout: 20_000,
    });
  }

  /** Opens a TCP connection to host:port from the network of the site's active connector, as one SSH channel. */
  function openOnSite(tenantId: string, site: string, host: string, port: number, timeoutMs: number): Promise<Duplex> {
    const live = sites.get(siteKey(tenantId, site))?.[0];
    if (!live) return Promise.reject(connectorOffline(site));
    return new Promise<Duplex>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(targetTimeout(host, port, timeoutMs));
      }, timeoutMs);
      live.client.forwardOut('127.0.0.1', 0, host, port, (error: Error | undefined, channel: ClientChannel) => {
        clearTimeout(timer);
        if (settled) {
          channel?.close();
          return;
        }
        settled = true;
        if (error) return reject(targetUnreachable(`The connector could not reach ${host}:${port} (${error.message.replace(/^\(SSH\) /, '')}).`));
        if (live.removed) {
          channel.destroy();
          return reject(connectorOffline(site));
        }
        live.channels.add(channel);
        channel.once('close', () => live.channels.delete(channel));
        resolve(channel);
      });
    });
  }

  /** active or passive while the connector is connected to this node; null otherwise. */
  function roleOf(tenantId: string, connectorId: string): 'active' | 'passive' | null {
    const live = byConnector.get(connectorKey(tenantId, connectorId));
    if (!live?.ready) return null;
    return sites.get(siteKey(tenantId, live.identity.site))?.[0] === live ? 'active' : 'passive';
  }

  /** Closes a connector's live connection at once (revocation); answers whether it had one. */
  function disconnect(tenantId: string, connectorId: string, reason: string): boolean {
    const live = byConnector.get(connectorKey(tenantId, connectorId));
    if (!live) return false;
    drop(live, reason);
    return true;
  }

  /** Closes every live connection (server shutdown), so the HTTP server's close is not held open by them. */
  function closeAll(reason = 'server shutdown'): void {
    clearInterval(heartbeat);
    for (const live of [...byConnector.values()]) drop(live, reason);
  }

  return { attach, openOnSite, roleOf, disconnect, closeAll };
}
export type ConnectorHub = ReturnType<typeof createConnectorHub>;
