import type { Duplex } from 'node:stream';

/**
 * A connected stream made to look like an unconnected net.Socket to a database driver that calls connect() on its
 * `stream` itself (pg does): connect() only announces the connection the guarded dialer already made.
 */
export function asConnectedSocket(stream: Duplex): Duplex {
  const socket = stream as Duplex & { connect?: unknown; setNoDelay?: unknown; setKeepAlive?: unknown };
  socket.connect = () => {
    process.nextTick(() => socket.emit('connect'));
    return socket;
  };
  if (typeof socket.setNoDelay !== 'function') socket.setNoDelay = () => socket;
  if (typeof socket.setKeepAlive !== 'function') socket.setKeepAlive = () => socket;
  return socket;
}
