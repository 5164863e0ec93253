import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../main/config.js';
import { cidrContains, createTargetGuard, parseAddress, parseCidr } from './target-guard.js';

const guard = createTargetGuard({ allowCidrs: [] });

describe('target guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.169.254', 'the cloud metadata service'],
    ['fd00:ec2::254', 'the cloud metadata service'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['0.0.0.0', '"this network" (0.0.0.0/8)'],
    ['::', 'the unspecified address'],
    ['224.0.0.251', 'multicast'],
    ['ff02::1', 'multicast'],
  ])('refuses %s as %s', (address, reason) => {
    expect(guard.check(address)).toEqual({ allowed: false, reason });
  });

  it.each(['10.0.0.5', '192.168.1.1', '172.16.0.1', '8.8.8.8', '2001:db8::1', 'fd12::1', 'fec0::1'])('allows the ordinary address %s', (address) => {
    expect(guard.check(address).allowed).toBe(true);
  });

  it('judges IPv4-mapped IPv6 as the IPv4 host it maps, in dotted and hex form', () => {
    expect(guard.check('::ffff:127.0.0.1')).toEqual({ allowed: false, reason: 'loopback' });
    expect(guard.check('::ffff:7f00:1')).toEqual({ allowed: false, reason: 'loopback' });
    expect(guard.check('[::ffff:169.254.169.254]')).toEqual({ allowed: false, reason: 'the cloud metadata service' });
    expect(guard.check('::ffff:10.1.2.3').allowed).toBe(true);
  });

  it('judges an IPv6 address that carries an IPv4 host (NAT64, 6to4, IPv4-compatible) as that host too', () => {
    const carried = (reason: string) => ({ allowed: false, reason: `${reason} (an IPv4 address inside an IPv6 one)` });
    expect(guard.check('64:ff9b::127.0.0.1')).toEqual(carried('loopback'));
    expect(guard.check('64:ff9b::a9fe:a9fe')).toEqual(carried('the cloud metadata service'));
    expect(guard.check('64:ff9b:1::7f00:1')).toEqual(carried('loopback'));
    expect(guard.check('2002:7f00:1::1')).toEqual(carried('loopback'));
    expect(guard.check('2002:a9fe:a9fe::')).toEqual(carried('the cloud metadata service'));
    expect(guard.check('::127.0.0.1')).toEqual(carried('loopback'));
    expect(guard.check('64:ff9b::8.8.8.8').allowed).toBe(true);
    expect(guard.check('2002:0808:0808::1').allowed).toBe(true);
    // The allow list opens the carried host as it opens the plain one.
    expect(createTargetGuard({ allowCidrs: ['127.0.0.0/8'] }).check('64:ff9b::7f00:1').allowed).toBe(true);
    // A range the operator reserved is refused inside NAT64 too.
    expect(createTargetGuard({ allowCidrs: [], denyCidrs: ['10.9.0.0/16'] }).check('64:ff9b::10.9.1.1').allowed).toBe(false);
  });

  it('refuses what is not a decimal address (octal and hex forms would slip past naive filters)', () => {
    expect(guard.check('0177.0.0.1').allowed).toBe(false);
    expect(guard.check('0x7f.0.0.1').allowed).toBe(false);
    expect(guard.check('localhost').allowed).toBe(false);
  });

  it('lets the allow list open a refused range, including the metadata address when the operator says so', () => {
    const open = createTargetGuard({ allowCidrs: ['127.0.0.0/8', '169.254.169.254/32'] });
    expect(open.check('127.0.0.1').allowed).toBe(true);
    expect(open.check('::ffff:127.0.0.1').allowed).toBe(true);
    expect(open.check('169.254.169.254').allowed).toBe(true);
    expect(open.check('169.254.1.1').allowed).toBe(false);
    expect(open.check('::1').allowed).toBe(false);
  });

  it('refuses the ranges the operator reserved, unless allowed', () => {
    const reserved = createTargetGuard({ allowCidrs: ['10.9.0.0/16'], denyCidrs: ['10.0.0.0/8', '2001:db8::/32'] });
    expect(reserved.check('10.1.2.3')).toEqual({ allowed: false, reason: 'a range the operator reserved' });
    expect(reserved.check('2001:db8::5').allowed).toBe(false);
    expect(reserved.check('10.9.1.1').allowed).toBe(true);
    expect(reserved.check('11.0.0.1').allowed).toBe(true);
  });

  it('parses CIDR ranges of both families and rejects malformed ones', () => {
    expect(cidrContains(parseCidr('10.0.0.0/8'), parseAddress('10.200.3.4')!)).toBe(true);
    expect(cidrContains(parseCidr('10.0.0.0/8'), parseAddress('11.0.0.0')!)).toBe(false);
    expect(cidrContains(parseCidr('2001:db8::/32'), parseAddress('2001:db8:ffff::1')!)).toBe(true);
    expect(cidrContains(parseCidr('::ffff:127.0.0.0/104'), parseAddress('127.1.1.1')!)).toBe(true);
    expect(cidrContains(parseCidr('0.0.0.0/0'), parseAddress('1.2.3.4')!)).toBe(true);
    expect(cidrContains(parseCidr('0.0.0.0/0'), parseAddress('2001:db8::1')!)).toBe(false);
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'abc', '::/129', '10.0.0.0/8/1', '10.0.0.0/-1']) expect(() => parseCidr(bad)).toThrow(/CIDR|prefix/);
  });

  it('reads both lists from the environment and stops start-up on a malformed entry', () => {
    const config = loadConfig({}, { CUSTOS_TARGET_ALLOW_CIDRS: '127.0.0.0/8, ::1', CUSTOS_TARGET_DENY_CIDRS: '10.0.0.0/8' });
    expect(config).toMatchObject({ targetAllowCidrs: ['127.0.0.0/8', '::1'], targetDenyCidrs: ['10.0.0.0/8'] });
    expect(() => loadConfig({}, { CUSTOS_TARGET_DENY_CIDRS: '10.0.0.0/40' })).toThrow(/CUSTOS_TARGET_DENY_CIDRS/);
  });
});
