import dns from 'node:dns';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { DomainError } from '../errors.js';
import { raceDeadline } from './deadline.js';
import { connectableAddress, createTargetGuard, parseAddress } from './target-guard.js';

/** A TCP connection to a vetted target: the address is resolved once, every answer checked, and the socket
 *  connects to the checked IP (so DNS answers that change cannot get around the guard). */
export type TargetDialer = (target: DialTarget, options?: { timeoutMs?: number }) => Promise<Duplex>;
/** Where to connect: a device's host and port, and the connector that reaches it, if any. */
export interface DialTarget { tenantId: string; host: string; port: number; connectorId?: string | null }
/** Carries a connection through a tenant's connector (implemented by the connector feature). */
export interface ConnectorTunnels { open(tenantId: string, connectorId: string, host: string, port: number, timeoutMs: number): Promise<Duplex> }
/** Every address a name resolves to (dns.promises.lookup with all: true). */
export type Lookup = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

/** The default wait for a connection to open, in ms. */
export const defaultDialTimeoutMs = 10_000;

/** The target resolves to an address Custos must not connect to directly. */
export const targetRefused = (host: string, address: string, reason: string) =>
  new DomainError('TARGET_REFUSED', `${host} resolves to ${address} (${reason}), which Custos does not connect to directly; reach the device through a connector, or have the operator allow the range with CUSTOS_TARGET_ALLOW_CIDRS.`, 'forbidden');
/** The target could not be resolved or refused the connection. */
export const targetUnreachable = (message: string) => new DomainError('TARGET_UNREACHABLE', message, 'unavailable');
/** The target did not answer in time. */
export const targetTimeout = (host: string, port: number, ms: number) => new DomainError('TARGET_TIMEOUT', `${host}:${port} did not accept a connection within ${ms} ms.`, 'unavailable');

const systemLookup: Lookup = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

function connectTo(address: string, port: number, ms: number, host: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => fail(targetTimeout(host, port, ms)), ms);
    function fail(error: Error): void {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    }
    socket.once('error', (error: NodeJS.ErrnoException) => fail(targetUnreachable(`${host}:${port} (${address}) could not be reached: ${error.code ?? error.message}.`)));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

/**
 * The one way Custos opens connections to targets. Direct targets are resolved once; if ANY answer is refused the
 * dial is refused (a name that answers a public address and loopback is treated as loopback), and the socket
 * connects to the checked addresses in order, never to the name again. Connector-reached devices skip the guard:
 * the connector's own network decides what it reaches.
 */
export function createTargetDialer(deps: { allowCidrs: string[]; denyCidrs?: string[]; tunnels?: ConnectorTunnels; lookup?: Lookup }): TargetDialer {
  const guard = createTargetGuard({ allowCidrs: deps.allowCidrs, denyCidrs: deps.denyCidrs });
  const lookup = deps.lookup ?? systemLookup;
  return async (target, options) => {
    const ms = options?.timeoutMs ?? defaultDialTimeoutMs;
    const host = target.host.trim().replace(/^\[(.*)\]$/, '$1');
    if (target.connectorId) {
      if (!deps.tunnels) throw targetUnreachable('This device is reached through a connector, and connectors are not available on this server.');
      return deps.tunnels.open(target.tenantId, target.connectorId, host, target.port, ms);
    }
    const started = Date.now();
    let answers: string[];
    if (parseAddress(host)) answers = [host];
    else {
      const found = await raceDeadline(lookup(host), ms, () => targetTimeout(host, target.port, ms)).catch((error: NodeJS.ErrnoException) => {
        if (error instanceof DomainError) throw error;
        throw targetUnreachable(`${host} could not be resolved: ${error.code ?? error.message}.`);
      });
      answers = found.map((answer) => answer.address);
      if (answers.length === 0) throw targetUnreachable(`${host} could not be resolved: no addresses.`);
    }
    for (const address of answers) {
      const verdict = guard.check(address);
      if (!verdict.allowed) throw targetRefused(host, address, verdict.reason ?? 'refused');
    }
    let last: Error = targetUnreachable(`${host}:${target.port} could not be reached.`);
    for (const address of answers) {
      const left = ms - (Date.now() - started);
      if (left <= 0) throw targetTimeout(host, target.port, ms);
      try {
        return await connectTo(connectableAddress(address), target.port, left, host);
      } catch (error) {
        last = error as Error;
        // A silent address used up the whole wait: trying the next one would overrun the caller's timeout.
        if ((error as DomainError).code === 'TARGET_TIMEOUT') throw error;
      }
    }
    throw last;
  };
}
