// A SIEM receiver is a host the tenant names, so connecting to it is a request the tenant makes Custos send:
// the same target guard as devices (platform/net/target-guard.ts) judges every address it resolves to.
import dns from 'node:dns';
import net from 'node:net';
import type { TargetGuard } from '../../platform/net/target-guard.js';
import { DeliveryError } from './siem-transport.js';

/** The error a refused receiver address gives; its message becomes the destination's lastError. */
export const refusedReceiver = (host: string, address: string, reason: string | null) =>
  new DeliveryError(`TARGET_REFUSED: ${host} resolves to ${address} (${reason ?? 'refused'}), which Custos does not connect to; the operator may allow the range with CUSTOS_TARGET_ALLOW_CIDRS`);

/** Throws when a literal IP host is refused; a name is left to the lookup below (Node skips lookup for literals). */
export function checkLiteralHost(guard: TargetGuard, host: string): void {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (!net.isIP(bare)) return;
  const verdict = guard.check(bare);
  if (!verdict.allowed) throw refusedReceiver(host, bare, verdict.reason);
}

/**
 * A `lookup` for net, tls and https that resolves every address of the name and refuses the connection when any
 * of them is refused, so the socket only ever connects to an address that was checked (no DNS rebinding).
 */
export function guardedLookup(guard: TargetGuard): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, answers) => {
      if (error) return callback(error, '', 0);
      const refused = answers.map((answer) => ({ answer, verdict: guard.check(answer.address) })).find((entry) => !entry.verdict.allowed);
      if (refused) return callback(refusedReceiver(hostname, refused.answer.address, refused.verdict.reason) as NodeJS.ErrnoException, '', 0);
      if (answers.length === 0) return callback(Object.assign(new Error(`${hostname}: no addresses`), { code: 'ENOTFOUND' }), '', 0);
      // Node asks for every address when it races IPv4 and IPv6 (autoSelectFamily); otherwise it wants the first.
      if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, answers);
      callback(null, answers[0]!.address, answers[0]!.family);
    });
  };
}
