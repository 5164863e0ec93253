import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { childEnv, custosBin, waitForOutput } from './processes.js';

/** A `custos connector run` child and everything it printed. */
export interface ConnectorProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** Resolves once the connector printed that it is connected (rejects if it exits first). */
  connected(timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the connector exactly as an operator does: `bin/custos connector run ...`, optionally under a prefix such as `ip netns exec NS`. */
export function startConnector(args: string[], options: { prefix?: string[]; env?: Record<string, string> } = {}): ConnectorProcess {
  const command = [...(options.prefix ?? []), process.execPath, custosBin, 'connector', 'run', ...args];
  const child = spawn(command[0]!, command.slice(1), { env: childEnv(options.env ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    connected: (timeoutMs = 30_000) => waitForOutput({ output: () => output, marker: 'connected to', exited, what: 'connector', timeoutMs }),
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A TCP echo server on loopback: what it receives it sends back. */
export async function startEchoServer(): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A throwaway CA and a server certificate for the given IP address (and localhost), made with openssl. */
export function makeServerCertificate(ip = '127.0.0.1'): { dir: string; caFile: string; caPem: string; certPem: string; keyPem: string; otherCaFile: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'custos-connector-tls-'));
  const openssl = (args: string[]) => {
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
  };
  for (const name of ['ca', 'other-ca']) {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=vault']);
  writeFileSync(path.join(dir, 'server.ext'), `subjectAltName=IP:${ip},DNS:localhost\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext']);
  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  return { dir, caFile: path.join(dir, 'ca.pem'), caPem: read('ca.pem'), certPem: read('server.pem'), keyPem: read('server.key'), otherCaFile: path.join(dir, 'other-ca.pem') };
}

/** A network namespace joined to this one by a veth pair: hostIp here, nsIp inside; null when namespaces cannot be made here. */
export function createNetns(): { name: string; hostIp: string; nsIp: string; exec: string[]; remove(): void } | null {
  if (process.getuid?.() !== 0 || spawnSync('ip', ['-V']).status !== 0) return null;
  const tag = randomBytes(3).toString('hex');
  const name = `custos-t-${tag}`;
  const octet = 1 + (randomBytes(1)[0]! % 250);
  const hostIp = `10.213.${octet}.1`;
  const nsIp = `10.213.${octet}.2`;
  const hostIf = `cvh${tag}`;
  const nsIf = `cvn${tag}`;
  const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
  const remove = () => {
    ip('netns', 'del', name);
    ip('link', 'del', hostIf);
  };
  const steps = [
    ['netns', 'add', name],
    ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf],
    ['link', 'set', nsIf, 'netns', name],
    ['addr', 'add', `${hostIp}/30`, 'dev', hostIf],
    ['link', 'set', hostIf, 'up'],
    ['-n', name, 'addr', 'add', `${nsIp}/30`, 'dev', nsIf],
    ['-n', name, 'link', 'set', nsIf, 'up'],
    ['-n', name, 'link', 'set', 'lo', 'up'],
  ];
  for (const step of steps) {
    const result = ip(...step);
    if (result.status !== 0) {
      remove();
      if (process.env.CUSTOS_REQUIRE_PEERS === '1') throw new Error(`ip ${step.join(' ')} failed: ${result.stderr}`);
      return null;
    }
  }
  return { name, hostIp, nsIp, exec: ['ip', 'netns', 'exec', name], remove };
}
