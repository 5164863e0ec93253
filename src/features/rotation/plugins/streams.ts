import type { Duplex } from 'node:stream';
import { raceDeadline } from '../../../platform/net/deadline.js';

/** A target that does not answer in time: the rotation fails cleanly (and retries) instead of hanging. */
export class TargetTimeoutError extends Error {
  readonly code = 'ROTATION_TARGET_TIMEOUT';
  constructor(what: string, ms: number) {
    super(`The target did not answer ${what} within ${ms} ms.`);
  }
}

/** Runs work with a deadline; on timeout every stream it opened is destroyed so nothing lingers. */
export function withDeadline<T>(what: string, ms: number, work: (track: (stream: Duplex) => Duplex) => Promise<T>): Promise<T> {
  const opened: Duplex[] = [];
  const track = (stream: Duplex) => {
    opened.push(stream);
    return stream;
  };
  return raceDeadline(work(track), ms, () => {
    for (const stream of opened) stream.destroy();
    return new TargetTimeoutError(what, ms);
  });
}
