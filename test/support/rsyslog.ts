import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './postgres-cluster.js';

const RSYSLOGD = ['/usr/sbin/rsyslogd', '/usr/bin/rsyslogd'].find((candidate) => existsSync(candidate)) ?? null;
const GTLS = ['/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so', '/usr/lib/aarch64-linux-gnu/rsyslog/lmnsd_gtls.so', '/usr/lib/rsyslog/lmnsd_gtls.so', '/usr/lib64/rsyslog/lmnsd_gtls.so'].some((candidate) => existsSync(candidate));

/** Why rsyslog tests cannot run here (null when they can); with CUSTOS_REQUIRE_PEERS=1 a missing peer fails instead. */
export function rsyslogMissing(): string | null {
  const reason = !RSYSLOGD ? 'rsyslogd is not installed' : !GTLS ? 'rsyslog-gnutls (lmnsd_gtls) is not installed' : spawnSync('openssl', ['version']).status !== 0 ? 'openssl is not installed' : null;
  if (!reason) return null;
  const line = `${reason}: SIEM forwarding tests against rsyslog are SKIPPED. Run scripts/setup-system.sh to install the test peers.`;
  if (process.env.CUSTOS_REQUIRE_PEERS === '1') throw new Error(line);
  console.warn(`\n!!! ${line}\n`);
  return reason;
}

/** A test CA and a server certificate for 127.0.0.1 / localhost signed by it, plus an unrelated CA. */
export interface TestCertificates {
  dir: string;
  caPem: string;
  otherCaPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

const openssl = (dir: string, args: string[]) => {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
};

/** Generates the certificates with openssl in a fresh directory. */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'custos-certs-'));
  const ca = (name: string) => openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  ca('ca');
  ca('other-ca');
  const leaf = (name: string, ext: string) => {
    openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    writeFileSync(path.join(dir, `${name}.ext`), ext);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  };
  leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'extendedKeyUsage=clientAuth\n');
  const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
  return { dir, caPem: read('ca.pem'), otherCaPem: read('other-ca.pem'), clientCertPem: read('client.pem'), clientKeyPem: read('client.key') };
}

/** A running (or stopped) rsyslogd on loopback, with what it parsed written as JSON lines, one file per input. */
export interface Rsyslog {
  udpPort: number;
  tcpPort: number;
  tlsPort: number;
  /** TLS that requires a client certificate signed by the test CA (written to the tls file too). */
  mtlsPort: number;
  certificates: TestCertificates;
  /** The parsed messages of one input, in arrival order: app-name, msgid, structured-data, msg. */
  received(input: 'udp' | 'tcp' | 'tls'): Array<{ app: string; msgid: string; sd: string; msg: string }>;
  /** How many lines one input's file holds (cheap: no parsing). */
  lineCount(input: 'udp' | 'tcp' | 'tls'): number;
  start(): Promise<void>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

function config(dir: string, ports: { udp: number; tcp: number; tls: number; mtls: number }): string {
  const template = `template(name="parsed" type="list") {
  constant(value="{") property(name="app-name" format="jsonf" outname="app") constant(value=",")
  property(name="msgid" format="jsonf") constant(value=",")
  property(name="structured-data" format="jsonf" outname="sd") constant(value=",")
  property(name="msg" format="jsonf") constant(value="}\\n")
}`;
  const ruleset = (name: string) => `ruleset(name="${name}") { action(type="omfile" file="${dir}/${name}.log" template="parsed" asyncWriting="off" flushOnTXEnd="on") }`;
  return `global(workDirectory="${dir}" maxMessageSize="128k" parser.escapeControlCharacterTab="off"
  defaultNetstreamDriverCAFile="${dir}/ca.pem" defaultNetstreamDriverCertFile="${dir}/server.pem" defaultNetstreamDriverKeyFile="${dir}/server.key")
module(load="imudp")
module(load="imptcp")
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
${template}
${ruleset('udp')}
${ruleset('tcp')}
${ruleset('tls')}
input(type="imudp" address="127.0.0.1" port="${ports.udp}" ruleset="udp")
input(type="imptcp" address="127.0.0.1" port="${ports.tcp}" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="${ports.tls}" ruleset="tls")
input(type="imtcp" address="127.0.0.1" port="${ports.mtls}" ruleset="tls" streamDriver.authMode="x509/certvalid")
`;
}

const waitListening = async (port: number, timeoutMs: number) => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`rsyslogd did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Starts rsyslogd -n with its own config, pid file and work directory on free loopback ports. */
export async function startRsyslog(): Promise<Rsyslog> {
  const certificates = makeCertificates();
  const dir = certificates.dir;
  const ports = { udp: await freePort(), tcp: await freePort(), tls: await freePort(), mtls: await freePort() };
  writeFileSync(path.join(dir, 'rsyslog.conf'), config(dir, ports));
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const file = (input: string) => path.join(dir, `${input}.log`);
  const counters = new Map<string, { offset: number; lines: number }>();
  const text = (input: string) => (existsSync(file(input)) ? readFileSync(file(input), 'utf8') : '');

  async function start() {
    child = spawn(RSYSLOGD!, ['-n', '-f', path.join(dir, 'rsyslog.conf'), '-i', path.join(dir, 'rsyslog.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const current = child;
    exited = new Promise((resolve) => current.on('exit', () => resolve()));
    try {
      await Promise.race([Promise.all([waitListening(ports.tcp, 10_000), waitListening(ports.tls, 10_000), waitListening(ports.mtls, 10_000)]), exited.then(() => { throw new Error(`rsyslogd exited: ${output}`); })]);
    } catch (error) {
      current.kill('SIGKILL');
      throw error;
    }
  }

  async function stop() {
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await exited;
    child = null;
  }

  await start();
  return {
    udpPort: ports.udp, tcpPort: ports.tcp, tlsPort: ports.tls, mtlsPort: ports.mtls, certificates,
    received: (input) => text(input).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { app: string; msgid: string; sd: string; msg: string }),
    lineCount: (input) => {
      // Counts only the bytes written since the last call, so polling a large file stays cheap (the bench polls).
      const counter = counters.get(input) ?? { offset: 0, lines: 0 };
      counters.set(input, counter);
      if (!existsSync(file(input))) return counter.lines;
      const fd = openSync(file(input), 'r');
      try {
        const buffer = Buffer.alloc(1 << 20);
        for (let read = readSync(fd, buffer, 0, buffer.length, counter.offset); read > 0; read = readSync(fd, buffer, 0, buffer.length, counter.offset)) {
          for (let i = buffer.indexOf(10); i !== -1 && i < read; i = buffer.indexOf(10, i + 1)) counter.lines += 1;
          counter.offset += read;
        }
      } finally {
        closeSync(fd);
      }
      return counter.lines;
    },
    start, stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
