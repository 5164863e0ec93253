import cliProgress from 'cli-progress';

/** A progress bar on stderr for long CLI work; silent when stderr is not a terminal (CI, pipes). */
export function startProgress(label: string, total: number) {
  if (!process.stderr.isTTY || total < 2) return { update: (_done: number) => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total}`, stream: process.stderr }, cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  return { update: (done: number) => bar.update(done), stop: () => bar.stop() };
}
