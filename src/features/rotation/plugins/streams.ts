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

/** A target that does not answer in time: the rotation fails cleanly (and retries) instead of hanging. */
export class TargetTimeoutError extends Error {
  readonly code = 'ROTATION_TARGET_TIMEOUT';
  constructor(what: string, ms: number) {
    super(`The target did not answer ${what} within ${ms} ms.`);
  }
}

/** Runs work with a deadline; on timeout every stream it opened is destroyed so nothing lingers. */
export async function withDeadline<T>(what: string, ms: number, work: (track: (stream: Duplex) => Duplex) => Promise<T>): Promise<T> {
  const opened: Duplex[] = [];
  const track = (stream: Duplex) => {
    opened.push(stream);
    return stream;
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const stream of opened) stream.destroy();
      reject(new TargetTimeoutError(what, ms));
    }, ms);
  });
  const running = work(track);
  // The work's own rejection after a timeout (its stream was destroyed) is expected and must not go unhandled.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
