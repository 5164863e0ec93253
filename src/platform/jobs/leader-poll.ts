/**
 * A leader-only polling loop: `tick` runs every `pollMs` while this node leads, never two at once. `live()` tells a
 * long tick to stop taking new work (the loop was stopped or leadership lost); stop() waits for the tick in progress.
 */
export function startLeaderPoll(deps: { leader: { isLeader(): boolean }; pollMs: number; tick: (live: () => boolean) => Promise<void> }) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const live = () => !stopped && deps.leader.isLeader();

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = (deps.leader.isLeader() ? deps.tick(live) : Promise.resolve()).finally(schedule);
    }, deps.pollMs);
    timer.unref();
  }
  schedule();

  return {
    /** Stops polling and waits for the tick in progress. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
