import { spawn } from 'node:child_process';
import type { Cleanup } from './cleanup.js';

/** How to start a server child and recognise that it listens. */
export interface ChildSpec {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Matched against stdout; its first group is the URL the child listens on. */
  ready: RegExp;
  timeoutMs?: number;
}

/** A running child server. */
export interface ServerChild {
  name: string;
  url: string;
  pid: number;
  /** The last lines the child wrote, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within a few seconds. */
  stop(): Promise<void>;
}

const OUTPUT_LIMIT = 16 * 1024;
const STOP_GRACE_MS = 5_000;

/** Starts `node <args>` and resolves once its stdout announces the URL; the child is registered for cleanup first. */
export function startServerChild(spec: ChildSpec, cleanup: Cleanup): Promise<ServerChild> {
  const child = spawn(process.execPath, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  // Keep draining both pipes for the whole run, or a chatty child blocks on a full pipe.
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  const stop = async () => {
    // No pid: spawn itself failed, there is nothing to stop and no exit event will come.
    if (exited || child.pid === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exit;
    clearTimeout(timer);
  };
  cleanup.defer({ run: stop, onExit: () => { if (!exited) child.kill('SIGKILL'); } });

  return new Promise((resolve, reject) => {
    const fail = (reason: string) => {
      clearTimeout(timer);
      reject(new Error(`${spec.name} did not start: ${reason}\n--- ${spec.name} output ---\n${output.trimEnd()}`));
    };
    const timer = setTimeout(() => fail(`no "listening" line within ${spec.timeoutMs ?? 20_000} ms`), spec.timeoutMs ?? 20_000);
    // Once resolved, a later reject is a no-op, so these need no removal.
    child.once('error', (error) => fail(error.message));
    // 'close', not 'exit': by then the pipes are drained, so the message carries the child's last words.
    child.once('close', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
    child.stdout.on('data', function onData() {
      const match = spec.ready.exec(output);
      if (!match?.[1]) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({ name: spec.name, url: match[1], pid: child.pid!, output: () => output, stop });
    });
  });
}
