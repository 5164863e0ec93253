import { isIP } from 'node:net';

/** An address as a number: IPv4 in 32 bits, IPv6 in 128 (IPv4-mapped IPv6 is folded to IPv4 by parseAddress). */
export interface ParsedAddress { family: 4 | 6; value: bigint }

/** A range of addresses: the first prefix bits of base. */
export interface Cidr { family: 4 | 6; base: bigint; prefix: number; text: string }

/** Why an address is refused, for the message a user sees. */
export interface GuardVerdict { allowed: boolean; reason: string | null }

const bits = (family: 4 | 6) => (family === 4 ? 32 : 128);

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    // Decimal only: inet_aton's octal and hex forms ("0177.1") are a classic way around naive filters.
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  if (isIP(text) !== 6) return null;
  const halves = text.split('::');
  const expand = (half: string) => (half === '' ? [] : half.split(':'));
  let head = expand(halves[0]!);
  let tail = halves.length === 2 ? expand(halves[1]!) : [];
  // A dotted IPv4 tail ("::ffff:1.2.3.4") stands for the last two groups.
  const last = (halves.length === 2 ? tail : head).at(-1);
  if (last?.includes('.')) {
    const v4 = parseIpv4(last);
    if (v4 === null) return null;
    const pair = [((v4 >> 16n) & 0xffffn).toString(16), (v4 & 0xffffn).toString(16)];
    if (halves.length === 2) tail = [...tail.slice(0, -1), ...pair];
    else head = [...head.slice(0, -1), ...pair];
  }
  const groups = halves.length === 2 ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  if (groups.length !== 8) return null;
  return groups.reduce((value, group) => (value << 16n) | BigInt(`0x${group}`), 0n);
}

/** Parses an IPv4 or IPv6 literal (brackets and a zone id allowed); IPv4-mapped IPv6 comes back as IPv4. Null when not an address. */
export function parseAddress(input: string): ParsedAddress | null {
  const text = input.trim().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseIpv6(text);
  if (v6 === null) return null;
  // ::ffff:a.b.c.d is the IPv4 host a.b.c.d to the kernel: judge it as that host.
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

/** The address a socket should connect to: IPv4-mapped IPv6 as plain IPv4 (it works without IPv6), others as given. */
export function connectableAddress(input: string): string {
  const text = input.trim().replace(/^\[(.*)\]$/, '$1');
  const parsed = parseAddress(text);
  if (!parsed || parsed.family === 6) return text;
  return [24n, 16n, 8n, 0n].map((shift) => String((parsed.value >> shift) & 0xffn)).join('.');
}

/** Parses "a.b.c.d/n" or "x::y/n" (a bare address is a /32 or /128); throws a plain Error naming the bad entry. */
export function parseCidr(input: string): Cidr {
  const text = input.trim();
  const [addressText, prefixText, extra] = text.split('/');
  const address = addressText === undefined ? null : parseAddress(addressText);
  if (!address || extra !== undefined) throw new Error(`"${text}" is not a CIDR range (like 10.0.0.0/8 or fd00::/8)`);
  // An IPv4-mapped range written in IPv6 ("::ffff:127.0.0.0/104") is the IPv4 range it maps.
  const written = addressText!.includes(':') ? 128 : 32;
  const rawPrefix = prefixText === undefined ? written : Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText ?? String(written)) || rawPrefix > written) throw new Error(`"${text}" has a prefix length outside 0-${written}`);
  const prefix = address.family === 4 && written === 128 ? rawPrefix - 96 : rawPrefix;
  if (prefix < 0) throw new Error(`"${text}" is wider than the IPv4-mapped range`);
  const hostBits = BigInt(bits(address.family) - prefix);
  return { family: address.family, base: (address.value >> hostBits) << hostBits, prefix, text };
}

/** Whether the address lies in the range. */
export function cidrContains(cidr: Cidr, address: ParsedAddress): boolean {
  if (cidr.family !== address.family) return false;
  const hostBits = BigInt(bits(cidr.family) - cidr.prefix);
  return address.value >> hostBits === cidr.base >> hostBits;
}

/** What Custos never connects to directly: its own host, link-local (with the cloud metadata services), "this network", multicast. */
export const refusedByDefault: ReadonlyArray<{ cidr: string; reason: string }> = [
  { cidr: '169.254.169.254/32', reason: 'the cloud metadata service' },
  { cidr: '100.100.100.200/32', reason: 'the cloud metadata service' },
  { cidr: 'fd00:ec2::254/128', reason: 'the cloud metadata service' },
  { cidr: '127.0.0.0/8', reason: 'loopback' },
  { cidr: '::1/128', reason: 'loopback' },
  { cidr: '169.254.0.0/16', reason: 'link-local' },
  { cidr: 'fe80::/10', reason: 'link-local' },
  { cidr: '0.0.0.0/8', reason: '"this network" (0.0.0.0/8)' },
  { cidr: '::/128', reason: 'the unspecified address' },
  { cidr: '224.0.0.0/4', reason: 'multicast' },
  { cidr: '255.255.255.255/32', reason: 'broadcast' },
  { cidr: 'ff00::/8', reason: 'multicast' },
];
const defaults = refusedByDefault.map((entry) => ({ cidr: parseCidr(entry.cidr), reason: entry.reason }));

/**
 * The IPv4 host an IPv6 address carries to a gateway that unwraps it: NAT64 (64:ff9b::/96 and the local-use
 * 64:ff9b:1::/48, last 32 bits), 6to4 (2002::/16, the 32 bits after the prefix) and the deprecated IPv4-compatible
 * form (::a.b.c.d). Null when it carries none.
 */
export function embeddedIpv4(address: ParsedAddress): ParsedAddress | null {
  if (address.family !== 6) return null;
  const v = address.value;
  if (v >> 32n === 0x64ff9bn << 64n || v >> 80n === 0x64ff9b0001n) return { family: 4, value: v & 0xffffffffn };
  if (v >> 112n === 0x2002n) return { family: 4, value: (v >> 80n) & 0xffffffffn };
  // ::/96 holds :: and ::1 as well; those two have their own verdicts above.
  if (v >> 32n === 0n && v > 1n) return { family: 4, value: v };
  return null;
}

/**
 * Judges target addresses: refused when in the default list or the operator's deny list, unless the operator's
 * allow list covers them (the allow list wins, so an operator can open loopback for tests or a lab range). An IPv6
 * address that carries an IPv4 host (NAT64, 6to4) is judged as that host too: a gateway would deliver it there.
 */
export function createTargetGuard(options: { allowCidrs: string[]; denyCidrs?: string[] }) {
  const allow = options.allowCidrs.map(parseCidr);
  const deny = [...defaults, ...(options.denyCidrs ?? []).map((text) => ({ cidr: parseCidr(text), reason: 'a range the operator reserved' }))];
  return {
    /** The verdict for an address literal; anything that does not parse as an address is refused. */
    check(addressText: string): GuardVerdict {
      const address = parseAddress(addressText);
      if (!address) return { allowed: false, reason: 'not an IP address' };
      if (allow.some((cidr) => cidrContains(cidr, address))) return { allowed: true, reason: null };
      const hit = deny.find((entry) => cidrContains(entry.cidr, address));
      if (hit) return { allowed: false, reason: hit.reason };
      const carried = embeddedIpv4(address);
      if (!carried || allow.some((cidr) => cidrContains(cidr, carried))) return { allowed: true, reason: null };
      const inner = deny.find((entry) => cidrContains(entry.cidr, carried));
      return inner ? { allowed: false, reason: `${inner.reason} (an IPv4 address inside an IPv6 one)` } : { allowed: true, reason: null };
    },
  };
}
/** Judges target addresses against the default, deny and allow lists. */
export type TargetGuard = ReturnType<typeof createTargetGuard>;
