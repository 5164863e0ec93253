import { expressionBuilder, sql, type Expression, type SqlBool } from 'kysely';
import type { Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import type { CredentialTable, DeviceTable, Schema } from '../../platform/db/schema.js';
import { candidatesFor, decide, type AccessMode, type CompiledPolicy, type PolicyFilters, type Subject } from './access-engine.js';
import { compilePattern, likePattern } from './access-patterns.js';
import type { PolicyCache } from './access-policy-cache.js';
import * as lookups from './access-lookups.store.js';
import { targetsOf } from './access-visibility.store.js';

type Scope = Schema & { c: CredentialTable };
const eb = expressionBuilder<Scope, 'c'>();
const deviceEb = expressionBuilder<Schema & { d: DeviceTable }, 'd'>();
const TRUE = sql<SqlBool>`1 = 1`;
const FALSE = sql<SqlBool>`1 = 0`;
// eslint-disable-next-line no-control-regex
const isAscii = (text: string) => /^[\x00-\x7f]*$/.test(text);

/** Balanced, so a caller with a thousand candidate policies stays far below SQLite's expression depth limit (1000). */
function anyOf(parts: readonly Expression<SqlBool>[]): Expression<SqlBool> {
  if (parts.length === 0) return FALSE;
  if (parts.length === 1) return parts[0]!;
  const half = parts.length >> 1;
  return sql<SqlBool>`(${anyOf(parts.slice(0, half))} or ${anyOf(parts.slice(half))})`;
}
const allOf = (parts: readonly Expression<SqlBool>[]) => (parts.length === 0 ? TRUE : parts.reduce((a, b) => sql<SqlBool>`(${a} and ${b})`));

/**
 * Text the engine compares lower-cased (JavaScript's Unicode case mapping, `?` one UTF-16 unit) while SQL lower()
 * maps ASCII only on SQLite: both agree exactly on ASCII. A non-ASCII pattern therefore matches everything here,
 * and a non-ASCII value (more bytes than characters) always passes: the exact check in memory settles both.
 */
function textFilter(column: string, tests: readonly { like?: string; equals?: string }[]): Expression<SqlBool> | null {
  if (tests.some((t) => !isAscii(t.like ?? t.equals!))) return null;
  const ref = sql.ref(column);
  const lowered = sql`lower(${ref})`;
  const equals = tests.flatMap((t) => (t.equals !== undefined ? [t.equals] : []));
  const parts: Expression<SqlBool>[] = tests.flatMap((t) => (t.like !== undefined ? [sql<SqlBool>`${lowered} like ${t.like} escape '\\'`] : []));
  if (equals.length > 0) parts.push(sql<SqlBool>`${lowered} in (${sql.join(equals)})`);
  parts.push(sql<SqlBool>`octet_length(${ref}) > length(${ref})`);
  return anyOf(parts);
}

const present = (values: readonly string[] | undefined) => (values && values.length > 0 ? values : null);
const lowered = (values: readonly string[]) => [...new Set(values.map((v) => v.toLowerCase()))];
const patternTests = (patterns: readonly string[], allowMask: boolean, username: string) =>
  patterns.map((p) => {
    const compiled = compilePattern(p, allowMask);
    return compiled.exact !== null ? { equals: compiled.exact } : { like: likePattern(compiled, username) };
  });

/** Every listed tag: the holders of all of them, one read of each tag's index range (as the credential list filters tags). */
function tagHolders(table: 'credential_tags' | 'device_tags', tenantId: string, tags: readonly string[]) {
  const owner = table === 'credential_tags' ? 'credential_id' : 'device_id';
  let holders = eb.selectFrom(table).select(owner).where('tenant_id', '=', tenantId).where('tag', 'in', tags);
  if (tags.length > 1) holders = holders.groupBy(owner).having((h) => h.fn.countAll(), '=', tags.length);
  return holders;
}

/** One policy's filters as conditions on the credential row `c`; device attributes are one semi-join on devices. */
function policyParts(tenantId: string, filters: PolicyFilters, username: string): Expression<SqlBool>[] {
  const device: Expression<SqlBool>[] = [];
  const names = present(filters.deviceNames);
  const sites = present(filters.deviceSites);
  const types = present(filters.deviceTypes);
  const deviceTags = present(filters.deviceTags);
  const add = (into: Expression<SqlBool>[], part: Expression<SqlBool> | null) => part && into.push(part);
  if (names) add(device, textFilter('d.name', patternTests(names, false, username)));
  if (sites) add(device, textFilter('d.site', lowered(sites).map((equals) => ({ equals }))));
  if (types) add(device, textFilter('d.type', lowered(types).map((equals) => ({ equals }))));
  // Tags are stored lower-case ASCII (the tag field's rule), so a plain comparison with the lowered filter is exact.
  if (deviceTags) device.push(deviceEb('d.id', 'in', tagHolders('device_tags', tenantId, lowered(deviceTags))));
  const conditions: Expression<SqlBool>[] = [];
  if (device.length > 0) conditions.push(eb('c.device_id', 'in', eb.selectFrom('devices as d').select('d.id').where('d.tenant_id', '=', tenantId).where(allOf(device))));
  const usernames = present(filters.credentialUsernames);
  const credentialTags = present(filters.credentialTags);
  const credentialTypes = present(filters.credentialTypes);
  if (usernames) add(conditions, textFilter('c.username', patternTests(usernames, true, username)));
  if (credentialTags) conditions.push(eb('c.id', 'in', tagHolders('credential_tags', tenantId, lowered(credentialTags))));
  // Stored types are the vault's lower-case names.
  if (credentialTypes) conditions.push(eb('c.type', 'in', lowered(credentialTypes) as CredentialTable['type'][]));
  return conditions;
}

/**
 * The SQL condition on a credential row `c` that lets through every credential some of these policies' filters
 * cover for a user of this (any case) username: exactly those when every pattern, value and attribute is ASCII,
 * a superset otherwise. Policies with equal filters are said once. Each policy's device and tag conditions are
 * uncorrelated semi-joins, which the database builds once per query, so a credential walked costs a few lookups.
 * (A union of the policies' credential sets, driven from the device and tag indexes, measured slower on both
 * databases at 1,000 policies and 100,000 credentials: the planners drive it badly once statistics exist.)
 */
export function visibilityCondition(tenantId: string, filters: readonly PolicyFilters[], username: string): Expression<SqlBool> {
  const lower = username.toLowerCase();
  const distinct = [...new Map(filters.map((f) => [JSON.stringify(f), f])).values()];
  return anyOf(distinct.map((f) => allOf(policyParts(tenantId, f, lower))));
}

/** What a caller may see by the access policies: a condition for the credential list, and the engine's exact answer for candidates. */
export function createAccessVisibility(deps: { db: Db; clock: Clock; cache: PolicyCache }) {
  const { db, clock, cache } = deps;

  function confirmer(tenantId: string, subject: Subject | undefined, candidates: readonly CompiledPolicy[]) {
    return async (ids: readonly string[]) => {
      const visible = new Map<string, { reveal: AccessMode | null }>();
      if (!subject || candidates.length === 0 || ids.length === 0) return visible;
      const targets = await targetsOf(db, tenantId, ids);
      const now = clock.now();
      for (const [id, target] of targets) {
        const decision = decide(candidates, subject, target, 'reveal', now);
        if (decision.granted) visible.set(id, { reveal: decision.mode });
        else if (decision.visible) visible.set(id, { reveal: null });
      }
      return visible;
    };
  }

  /**
   * The credentials the access policies let the caller see: policies name users and groups, so an API client (or
   * any caller who is not a user of the tenant) sees none. Two indexed reads: the subject and the policy revision.
   */
  async function scopeOf(actor: Actor) {
    const tenantId = actor.tenantId!;
    const found = actor.kind === 'user' ? await lookups.subjectOf(db, tenantId, actor.id) : undefined;
    const policies = await cache.policiesOf(tenantId, found?.policyRevision);
    const subject = found?.subject;
    const candidates = subject ? candidatesFor(policies.index, subject) : [];
    const where = subject && candidates.length > 0 ? visibilityCondition(tenantId, candidates.map((p) => policies.filters.get(p.id) ?? {}), subject.username) : FALSE;
    return { where, confirm: confirmer(tenantId, subject, candidates) };
  }

  return { scopeOf };
}
export type AccessVisibility = ReturnType<typeof createAccessVisibility>;
