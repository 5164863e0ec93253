/**
 * A leader-only polling loop: `tick` runs `pollMs` after the previous one ended (with `fixedRate`, `pollMs` after it
 * started, at once if it took longer) while this node leads, never two at once. `live()` tells a long tick to stop
 * taking new work (the loop was stopped or leadership lost); stop() waits for the tick in progress.
 */
export function startLeaderPoll(deps: { leader: { isLeader(): boolean }; pollMs: number; fixedRate?: boolean; tick: (live: () => boolean) => Promise<void> }) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const live = () => !stopped && deps.leader.isLeader();

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      const started = Date.now();
      const next = () => schedule(deps.fixedRate ? Math.max(0, deps.pollMs - (Date.now() - started)) : deps.pollMs);
      running = (deps.leader.isLeader() ? deps.tick(live) : Promise.resolve()).finally(next);
    }, delayMs);
    timer.unref();
  }
  schedule(deps.pollMs);

  return {
    /** Stops polling and waits for the tick in progress. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
