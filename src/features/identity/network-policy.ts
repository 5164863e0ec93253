import net from 'node:net';
import { z } from 'zod';

/** One allowlist entry: an IPv4 or IPv6 address with an optional prefix length. */
export const cidrField = z
  .string()
  .trim()
  .max(64)
  .refine((value) => parseCidr(value) !== null, 'Each entry is an IPv4 or IPv6 address or CIDR range, such as 203.0.113.0/24 or 2001:db8::/32');

/** PUT /api/v1/settings/network: an empty list allows every address. */
export const networkPolicyBody = z.strictObject({
  allowedCidrs: z.array(cidrField).max(200),
  /** Save a list that excludes the caller's own address (they will be cut off at once). */
  force: z.boolean().optional(),
});

export const networkPolicyView = z.object({ allowedCidrs: z.array(z.string()) });

/** Parses `address[/prefix]`; null when it is not a valid IPv4 or IPv6 range. */
export function parseCidr(value: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, extra] = value.split('/');
  if (extra !== undefined) return null;
  const version = net.isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return null;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** An IPv4 address written in IPv6 form (::ffff:a.b.c.d) is the IPv4 address. */
function normalise(ip: string): { address: string; family: 'ipv4' | 'ipv6' } | null {
  const plain = ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  const version = net.isIP(plain);
  return version === 0 ? null : { address: plain, family: version === 4 ? 'ipv4' : 'ipv6' };
}

// Parsed lists by their stored JSON text: the check runs on every request, the parsing once per list.
const compiled = new Map<string, net.BlockList | 'everyone'>();

function compile(stored: string): net.BlockList | 'everyone' {
  let list = compiled.get(stored);
  if (!list) {
    const entries = (JSON.parse(stored) as { allowedCidrs: string[] }).allowedCidrs;
    const blocks = new net.BlockList();
    for (const entry of entries) {
      const cidr = parseCidr(entry);
      if (cidr) blocks.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
    list = entries.length === 0 ? 'everyone' : blocks;
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(stored, list);
  }
  return list;
}

/** Whether an address may reach the tenant; `stored` is the saved policy's JSON (null or an empty list: everyone). */
export function isAddressAllowed(stored: string | null, ip: string | null): boolean {
  if (!stored) return true;
  const list = compile(stored);
  if (list === 'everyone') return true;
  const address = ip ? normalise(ip) : null;
  return address !== null && list.check(address.address, address.family);
}
