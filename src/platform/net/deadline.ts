/**
 * Settles with `work`, or rejects with `onTimeout()`'s error after `ms` (which may also tear down what the work
 * opened). The work's own late rejection, after its sockets were destroyed, is expected and never unhandled.
 */
export function raceDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => undefined);
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), ms)));
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
