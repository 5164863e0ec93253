import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { DomainError } from '../../platform/errors.js';
import type { Logger } from '../../platform/log.js';
import type { ConnectorService } from './connectors.service.js';

/** Where connectors dial in (an HTTP upgrade to WebSocket, with Authorization: Bearer <connector token>). */
export const CONNECT_PATH = '/api/v1/connectors/connect';
// SSH packets are at most 35000 bytes; the WebSocket stream sends each write as one message.
const MAX_MESSAGE_BYTES = 256 * 1024;

const statusText: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' };

/** Answers an upgrade request with a plain HTTP error (the house error shape) and closes the socket. */
function refuse(socket: Duplex, status: number, code: string, message: string) {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${statusText[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

const bearerOf = (request: IncomingMessage) => /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1] ?? null;

/**
 * Hooks the connector endpoint into an HTTP(S) server's upgrade event: the token is checked before the upgrade,
 * so a wrong or revoked token gets a 401 and never a WebSocket. Other upgrade paths are left to other listeners
 * (answered 404 when there is none).
 */
export function attachConnectorEndpoint(server: Server, deps: { connectors: Pick<ConnectorService, 'authenticateToken' | 'accept'>; log: Logger }) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = (request.url ?? '/').split('?')[0];
    if (path !== CONNECT_PATH) {
      if (server.listenerCount('upgrade') === 1) refuse(socket, 404, 'NOT_FOUND', `Nothing upgrades at ${path}; connectors dial ${CONNECT_PATH}.`);
      return;
    }
    const token = bearerOf(request);
    if (!token) return refuse(socket, 401, 'UNAUTHENTICATED', 'Send the connector token as Authorization: Bearer <token>.');
    const address = request.socket.remoteAddress ?? null;
    deps.connectors.authenticateToken(token, address).then(
      (identity) => wss.handleUpgrade(request, socket, head, (ws) => deps.connectors.accept(ws, identity)),
      (error: unknown) => {
        if (error instanceof DomainError) return refuse(socket, error.kind === 'forbidden' ? 403 : 401, error.code, error.message);
        deps.log.error({ err: error }, 'connector upgrade failed');
        refuse(socket, 500, 'INTERNAL', 'The connector could not be authenticated; try again.');
      },
    );
  };
  server.on('upgrade', onUpgrade);
  return {
    /** Stops answering connector upgrades on this server. */
    detach() {
      server.off('upgrade', onUpgrade);
      wss.close();
    },
  };
}
