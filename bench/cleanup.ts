/** A step that undoes one thing the bench started; `onExit` is its synchronous last resort. */
export interface CleanupStep {
  run: () => Promise<void> | void;
  onExit?: () => void;
}

/** Undo steps run once, newest first: from a finally block, on SIGINT/SIGTERM, or (sync fallback) at exit. */
export function createCleanup(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {
  const steps: CleanupStep[] = [];
  let running: Promise<void> | undefined;

  /** Registers a step; it runs before every step registered earlier. */
  function defer(step: CleanupStep): void {
    steps.push(step);
  }

  /** A point in the undo list: `unwind(mark())` later undoes only what was registered after it. */
  function mark(): number {
    return steps.length;
  }

  /** Runs, newest first, the steps registered since `point` (e.g. one database's server and cluster); the rest stay. */
  async function unwind(point: number): Promise<void> {
    if (running) return running;
    while (steps.length > point) {
      const step = steps.pop()!;
      try {
        await step.run();
      } catch (error) {
        log(`cleanup: ${(error as Error).message}`);
      }
    }
  }

  /** Runs every step once; a failing step is reported and the rest still run. */
  function run(): Promise<void> {
    running ??= (async () => {
      while (steps.length > 0) {
        const step = steps.pop()!;
        try {
          await step.run();
        } catch (error) {
          log(`cleanup: ${(error as Error).message}`);
        }
      }
    })();
    return running;
  }

  // An interrupted run must not leave servers or temp dirs behind.
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    log(`bench: ${signal}, cleaning up`);
    void run().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  // process.exit() skips finally blocks; kill whatever is still alive without waiting.
  process.once('exit', () => {
    for (const step of steps.splice(0).reverse()) {
      try {
        step.onExit?.();
      } catch {
        // Nothing more can be done while exiting.
      }
    }
  });

  return { defer, run, mark, unwind };
}
/** The undo list handed to everything that starts something. */
export type Cleanup = ReturnType<typeof createCleanup>;
