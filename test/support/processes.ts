import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './postgres-cluster.js';

/** The repository's executable, exactly as a user runs it. */
export const custosBin = path.resolve(import.meta.dirname, '../../bin/custos');

/** A clean environment for a child: nothing of the caller's CUSTOS_* settings leaks in. */
export function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('CUSTOS_') && !key.startsWith('VITEST')) env[key] = value;
  return { ...env, ...extra };
}

/** Runs `custos ARGS` to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv) {
  const result = spawnSync(process.execPath, [custosBin, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A server child process and everything it printed. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Sends a signal and answers the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Resolves once a child process printed `marker`; rejects (with its output) when it exits first or the time runs out. */
export function waitForOutput(watch: { output: () => string; marker: string; exited: Promise<number | null>; what: string; timeoutMs: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${watch.what} did not start in time:\n${watch.output()}`)), watch.timeoutMs);
    const poll = setInterval(() => {
      if (!watch.output().includes(watch.marker)) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve();
    }, 50);
    void watch.exited.then((code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(Object.assign(new Error(`${watch.what} exited with ${code}:\n${watch.output()}`), { output: watch.output(), code }));
    });
  });
}

/** Starts `custos server` on a free port and waits for its listening line (or its exit, which fails). */
export async function startServer(env: NodeJS.ProcessEnv, options: { timeoutMs?: number } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [custosBin, 'server', '--port', String(port)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  // 'close' comes after the output streams ended, so output() is complete once a stop resolves.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  await waitForOutput({ output: () => output, marker: 'is listening on', exited, what: 'server', timeoutMs: options.timeoutMs ?? 30_000 });
  return {
    url,
    child,
    output: () => output,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Starts a server expected to refuse to start; answers its exit code and output. */
export async function failedStart(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  try {
    const server = await startServer(env, { timeoutMs: 20_000 });
    await server.stop();
    throw new Error(`the server started but should have refused:\n${server.output()}`);
  } catch (error) {
    const e = error as { code?: number | null; output?: string };
    if (e.output === undefined) throw error;
    return { code: e.code ?? null, output: e.output };
  }
}
