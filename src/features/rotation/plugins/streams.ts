import type { Duplex } from 'node:stream';

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
