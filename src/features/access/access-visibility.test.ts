import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import type { CredentialTable, DeviceTable } from '../../platform/db/schema.js';
import { newId } from '../../platform/ids.js';
import { compilePolicy, decide, indexPolicies, type AccessPolicy, type PolicyFilters, type Subject, type Target } from './access-engine.js';
import type { PolicyCache } from './access-policy-cache.js';
import { createAccessVisibility } from './access-visibility.js';

// Small alphabets so that random patterns and names meet often; % _ \ are LIKE's own characters and must stay literal.
const ascii = ['d', 'D', '_', '%', '\\'];
const unicode = [...ascii, 'é', 'É', '\u212a', 'k', 'İ', 'i', '\u{1f511}'];
const text = (alphabet: string[]) => fc.string({ unit: fc.constantFrom(...alphabet), minLength: 1, maxLength: 3 });
/** Wildcards over names of the alphabet, so that patterns and names meet often. */
const pattern = (alphabet: string[]) =>
  fc.oneof(
    text(alphabet),
    fc.string({ unit: fc.constantFrom(...alphabet, '*', '?'), minLength: 1, maxLength: 3 }),
    text(alphabet).map((p) => `${p}*`),
    text(alphabet).map((p) => `*${p}`),
    fc.constant('*'),
  );
// Each filter field is present about one time in four: policies then cover something more often than not.
const someOf = <T>(item: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: fc.array(item, { minLength: 1, maxLength: 2 }), weight: 1 });
const tags = ['prod', 'pci', 'dev'];

function world(alphabet: string[]) {
  const usernamePattern = fc.oneof(pattern(alphabet), fc.constant('{user.username}'), pattern(alphabet).map((p) => `${p}{user.username}`), pattern(alphabet).map((p) => `{user.username}${p}`));
  const filters: fc.Arbitrary<PolicyFilters> = fc.record(
    {
      deviceNames: someOf(pattern(alphabet)),
      deviceSites: someOf(fc.constantFrom('paris', 'PARIS', 'lyon', ...alphabet)),
      deviceTypes: someOf(fc.constantFrom('linux', 'Windows')),
      deviceTags: someOf(fc.constantFrom(...tags, 'PROD')),
      credentialUsernames: someOf(usernamePattern),
      credentialTags: someOf(fc.constantFrom(...tags, 'Pci')),
      credentialTypes: someOf(fc.constantFrom('password', 'ssh-key', 'API-KEY')),
    },
    { requiredKeys: ['deviceNames', 'deviceSites', 'deviceTypes', 'deviceTags', 'credentialUsernames', 'credentialTags', 'credentialTypes'] },
  ).map((f) => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as PolicyFilters);
  const policy = fc.record({ enabled: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }), user: fc.boolean(), group: fc.boolean(), filters });
  const device = fc.record({ name: text(alphabet), site: fc.constantFrom(null, 'paris', 'Paris', 'lyon', ...alphabet), type: fc.constantFrom(null, 'linux', 'windows'), tags: fc.subarray(tags) });
  const credential = fc.record({ device: fc.nat(3), username: text(alphabet), type: fc.constantFrom('password', 'ssh-key', 'api-key') as fc.Arbitrary<CredentialTable['type']>, tags: fc.subarray(tags) });
  return fc.record({
    username: text(alphabet),
    policies: fc.array(policy, { minLength: 1, maxLength: 4 }),
    devices: fc.uniqueArray(device, { minLength: 1, maxLength: 4, selector: (d) => d.name }),
    credentials: fc.array(credential, { minLength: 1, maxLength: 10 }),
  });
}
type World = ReturnType<typeof world> extends fc.Arbitrary<infer W> ? W : never;

describe.each(dialects)('access visibility in SQL on %s', (dialect) => {
  let t: TestApp;
  let tenantId: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    tenantId = (await t.tenantWithAdmin('visibility-prop')).id;
  }, 60_000);
  afterAll(async () => t.close());
  const runs = dialect === 'sqlite' ? 300 : 100;

  /** Writes the world into the tenant (replacing the last one); answers the engine's view of it. */
  async function seed(w: World) {
    const db = t.runtime.database.db;
    for (const table of ['credential_tags', 'credentials', 'device_tags', 'devices', 'group_members', 'groups', 'users'] as const) await db.deleteFrom(table).where('tenant_id', '=', tenantId).execute();
    const now = Date.now();
    const subject: Subject = { userId: newId(now), username: w.username, groupIds: [newId(now)] };
    await db.insertInto('users').values({ tenant_id: tenantId, id: subject.userId, username: w.username, email: 'u@x.example', display_name: null, status: 'active', password_hash: null, created_at: now, updated_at: now, last_login_at: null, failed_logins: 0, locked_until: null, password_changed_at: null }).execute();
    await db.insertInto('groups').values({ tenant_id: tenantId, id: subject.groupIds[0]!, name: 'g', description: null, external_id: null, created_at: now, updated_at: now }).execute();
    await db.insertInto('group_members').values({ tenant_id: tenantId, group_id: subject.groupIds[0]!, user_id: subject.userId }).execute();
    const devices = w.devices.map((d) => ({ ...d, id: newId(now) }));
    for (const d of devices) {
      const row: DeviceTable = { tenant_id: tenantId, id: d.id, name: d.name, address: '192.0.2.1', port: 22, protocol: 'ssh', type: d.type, vendor: null, model: null, site: d.site, criticality: 'medium', status: 'active', description: null, created_at: now, updated_at: now };
      await db.insertInto('devices').values(row).execute();
      if (d.tags.length > 0) await db.insertInto('device_tags').values(d.tags.map((tag) => ({ tenant_id: tenantId, device_id: d.id, tag }))).execute();
    }
    const targets = new Map<string, Target>();
    const accounts = new Set<string>();
    for (const c of w.credentials) {
      const d = devices[c.device % devices.length]!;
      if (accounts.has(`${d.id}/${c.username}`)) continue;
      accounts.add(`${d.id}/${c.username}`);
      const id = newId(now);
      await db.insertInto('credentials').values({ tenant_id: tenantId, id, device_id: d.id, username: c.username, type: c.type, version: 0, secret_sealed: null, passphrase_sealed: null, totp_sealed: null, owner_id: null, notes: null, additional_info: '{}', status: 'active', needs_rotation: 0, secret_changed_at: null, created_at: now, updated_at: now }).execute();
      if (c.tags.length > 0) await db.insertInto('credential_tags').values(c.tags.map((tag) => ({ tenant_id: tenantId, credential_id: id, tag }))).execute();
      targets.set(id, { device: { name: d.name, site: d.site, type: d.type, tags: d.tags }, credential: { username: c.username, type: c.type, tags: c.tags } });
    }
    const policies: AccessPolicy[] = w.policies.map((p, i) => ({
      id: `p${i}`, enabled: p.enabled, filters: p.filters, actions: { reveal: { mode: 'allow', emergencyAllowed: false } },
      members: { users: p.user ? [subject.userId] : ['someone-else'], groups: p.group ? [...subject.groupIds] : [] },
    }));
    return { subject, targets, policies };
  }

  /** The SQL candidates of the caller's scope, the confirmed visible set, and the engine's answer for every credential. */
  async function compare(w: World) {
    const { subject, targets, policies } = await seed(w);
    const compiled = policies.map(compilePolicy);
    const entry = { revision: 0, index: indexPolicies(compiled), names: new Map(), filters: new Map(policies.map((p) => [p.id, p.filters])) };
    const cache = { policiesOf: async () => entry, forget: () => undefined } as PolicyCache;
    const visibility = createAccessVisibility({ db: t.runtime.database.db, clock: t.clock, cache });
    const scope = await visibility.scopeOf({ kind: 'user', tenantId, id: subject.userId, ip: null });
    const rows = await t.runtime.database.db.selectFrom('credentials as c').select('c.id').where('c.tenant_id', '=', tenantId).where(scope.where).execute();
    const candidates = rows.map((r) => r.id).sort();
    const confirmed = [...(await scope.confirm(candidates)).keys()].sort();
    const engine = [...targets].filter(([, target]) => {
      const decision = decide(compiled, subject, target, 'reveal', t.clock.now());
      return decision.granted || decision.visible;
    }).map(([id]) => id).sort();
    return { candidates, confirmed, engine };
  }

  it('on ASCII names the SQL condition selects exactly the credentials the engine says are visible', async () => {
    await fc.assert(
      fc.asyncProperty(world(ascii), async (w) => {
        const { candidates, confirmed, engine } = await compare(w);
        expect(candidates).toEqual(engine);
        expect(confirmed).toEqual(engine);
      }),
      { numRuns: runs },
    );
  }, 120_000);

  it('with non-ASCII names and patterns the SQL may select more, never less, and the exact check leaves what the engine says', async () => {
    await fc.assert(
      fc.asyncProperty(world(unicode), async (w) => {
        const { candidates, confirmed, engine } = await compare(w);
        expect(candidates).toEqual(expect.arrayContaining(engine));
        expect(confirmed).toEqual(engine);
      }),
      { numRuns: runs },
    );
  }, 120_000);
});
