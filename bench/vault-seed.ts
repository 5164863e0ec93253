// Seeds the bench tenant with a realistic vault through the product's own API: devices and credentials by bulk
// import (POST /api/v1/import, chunked under the 1 MiB body limit), users, groups and access policies one by one.
import { randomBytes } from 'node:crypto';

/** How big a vault to seed. */
export interface SeedPlan {
  devices: number;
  credentials: number;
  policies: number;
}

/** What the measurements need from the seeded vault. */
export interface SeededVault {
  /** A plain user (role `user`) whom allow-mode policies grant `reveal` on `revealIds`. */
  revealer: { id: string; username: string; token: string };
  /** Credentials (with a secret) the revealer may reveal in allow mode. */
  revealIds: string[];
  /** Filtered first list pages (`tag`, `site`, `limit=50`), for an administrator. */
  listPaths: string[];
  /** How many policies name the revealer, directly or through a group, and how many of those grant the reveal ids. */
  revealerPolicies: number;
  seconds: { import: number; policies: number; total: number };
  counts: { devices: number; credentials: number; policies: number; users: number; groups: number };
}

export const SITES = ['paris', 'lyon', 'berlin', 'london', 'madrid', 'lisbon', 'newyork', 'chicago', 'tokyo', 'sydney'] as const;
const KINDS = [
  { type: 'linux', protocol: 'ssh', port: 22 },
  { type: 'windows', protocol: 'rdp', port: 3389 },
  { type: 'database', protocol: 'postgres', port: 5432 },
  { type: 'network', protocol: 'ssh', port: 22 },
] as const;
const ENVS = ['prod', 'dev', 'prod', 'staging'] as const;
/** Accounts on each device, with the team tag their credential carries. */
const ACCOUNTS = [
  ['root', 'ops'], ['admin', 'ops'], ['backup', 'ops'], ['monitor', 'ops'], ['deploy', 'app'],
  ['app', 'app'], ['svc-web', 'app'], ['svc-batch', 'app'], ['svc-etl', 'data'], ['svc-report', 'data'],
  ['dba', 'dba'], ['readonly', 'dba'], ['replication', 'dba'], ['audit', 'sec'], ['breakglass', 'sec'],
  ['adm-alice', 'ops'], ['adm-bob', 'ops'], ['adm-carol', 'ops'], ['adm-dave', 'ops'], ['adm-erin', 'ops'],
] as const;
const TEAM_TAGS = ['ops', 'app', 'data', 'dba', 'sec'] as const;
/** The site whose prod credentials the revealer reveals; its policies for the revealer are all allow mode. */
const REVEAL_SITE = 'paris';
/** Request bodies stay below the server's 1 MiB limit (BODY_LIMIT in src/platform/http/create-app.ts). */
const MAX_IMPORT_BODY_BYTES = 960 * 1024;
const USER_PASSWORD = 'bench-revealer-password-0123';
const POLICY_CONCURRENCY = 4;

type Log = (line: string) => void;

async function call<T = Record<string, unknown>>(base: string, method: string, path: string, token: string | null, body?: unknown, from?: string): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...(from ? { 'x-forwarded-for': from } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 2000)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** A deterministic pseudo-random sequence (mulberry32), so every run seeds the same vault. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]! };
}

interface Device { name: string; address: string; port: number; protocol: string; site: string; type: string; tags: string[] }

function devicesOf(count: number): Device[] {
  return Array.from({ length: count }, (_, i) => {
    const site = SITES[i % SITES.length]!;
    const kind = KINDS[Math.floor(i / SITES.length) % KINDS.length]!;
    const env = ENVS[Math.floor(i / (SITES.length * KINDS.length)) % ENVS.length]!;
    const tags = [env, site, ...(i % 7 === 0 ? ['pci'] : [])];
    return { name: `${site}-${kind.type}-${String(i).padStart(5, '0')}`, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: kind.port, protocol: kind.protocol, site, type: kind.type, tags };
  });
}

const CSV_HEADER = 'device,address,port,protocol,site,type,deviceTags,username,credentialType,secret,tags';

/** The import rows: `perDevice` credentials on each device (its env tag and the account's team tag), each with a random secret. */
function* csvRows(devices: Device[], credentials: number): Generator<string> {
  const perDevice = Math.ceil(credentials / devices.length);
  if (perDevice > ACCOUNTS.length) throw new Error(`at most ${ACCOUNTS.length * devices.length} credentials on ${devices.length} devices`);
  let made = 0;
  for (let slot = 0; slot < perDevice; slot++) {
    for (const device of devices) {
      if (made++ >= credentials) return;
      const [username, team] = ACCOUNTS[slot]!;
      const secret = randomBytes(15).toString('base64url');
      yield `${device.name},${device.address},${device.port},${device.protocol},${device.site},${device.type},${device.tags.join(';')},${username},password,${secret},${device.tags[0]};${team}`;
    }
  }
}

/** Imports every row in chunks that fit the body limit; answers the seconds it took. */
async function importInventory(base: string, token: string, plan: SeedPlan, log: Log): Promise<{ devices: number; credentials: number }> {
  const devices = devicesOf(plan.devices);
  const created = { devices: 0, credentials: 0 };
  let chunk: string[] = [];
  let bytes = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    const started = Date.now();
    const result = await call<{ created: { devices: number; credentials: number } }>(base, 'POST', '/api/v1/import', token, { format: 'csv', data: [CSV_HEADER, ...chunk].join('\n') });
    created.devices += result.created.devices;
    created.credentials += result.created.credentials;
    log(`import: ${created.credentials}/${plan.credentials} credentials, ${created.devices}/${plan.devices} devices (${chunk.length} rows in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    chunk = [];
    bytes = 0;
  };
  // Each device's credentials are spread over the chunks (one account slot after another), so every chunk adds to existing devices.
  for (const row of csvRows(devices, plan.credentials)) {
    // JSON-escaped in the body: one line break becomes two characters, the rest is plain ASCII.
    if (bytes + row.length + 2 > MAX_IMPORT_BODY_BYTES - CSV_HEADER.length - 64) await flush();
    chunk.push(row);
    bytes += row.length + 2;
  }
  await flush();
  if (created.devices !== plan.devices || created.credentials !== plan.credentials) throw new Error(`import created ${JSON.stringify(created)}, expected ${plan.devices} devices and ${plan.credentials} credentials`);
  return created;
}

async function pool<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  }));
}

type Filters = Record<string, string[]>;
interface PolicyBody { name: string; members: { users: string[]; groups: string[] }; filters: Filters; actions: Record<string, unknown> }

/**
 * The policies: a few dozen name the revealer (directly or through one of its three groups), the rest other teams.
 * Every revealer policy whose filters can match a prod credential at REVEAL_SITE grants reveal in allow mode (so no
 * stricter mode joins the decision); the others use every mode, filter and time window the engine knows.
 */
function policiesOf(count: number, ids: { revealer: string; revealerGroups: string[]; users: string[]; groups: string[]; approvers: string[] }): PolicyBody[] {
  const random = rng(20261207);
  const actionOf = (mode: 'allow' | 'justification' | 'approval', windowed: boolean) => ({
    mode,
    ...(mode === 'approval' ? { levels: [{ approvers: { users: [random.pick(ids.approvers)], groups: [] }, required: 1 }], approvalValidMinutes: 60 } : {}),
    ...(windowed ? { timeRestriction: { timeZone: 'Europe/Paris', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: { from: '08:00', to: '19:00' } } } : {}),
  });
  const filterOf = (site: string): Filters => {
    switch (random.int(6)) {
      case 0: return { deviceSites: [site], credentialTags: [random.pick(['prod', 'dev', 'staging'])] };
      case 1: return { deviceNames: [`${site}-${random.pick(KINDS).type}-*`] };
      case 2: return { deviceSites: [site], deviceTypes: [random.pick(KINDS).type], credentialTags: [random.pick(TEAM_TAGS)] };
      case 3: return { deviceTags: [site, random.pick(['prod', 'pci'])], credentialUsernames: [random.pick(['svc-*', 'adm-*', 'root', 'dba', 'app'])] };
      case 4: return { deviceSites: [site], credentialUsernames: ['adm-{user.username}'] };
      default: return { deviceSites: [site], credentialTypes: ['password'], credentialTags: [random.pick(TEAM_TAGS)] };
    }
  };
  const policies: PolicyBody[] = [];
  // The revealer's own: one broad grant on its site's prod credentials, then its teams' others across the sites.
  policies.push({ name: `bench ${REVEAL_SITE} prod reveal`, members: { users: [], groups: [ids.revealerGroups[0]!] }, filters: { deviceSites: [REVEAL_SITE], credentialTags: ['prod'] }, actions: { reveal: actionOf('allow', false), history: actionOf('justification', false) } });
  const revealerShare = Math.min(count - 1, Math.max(1, Math.round(count * 0.04)));
  for (let i = 0; i < revealerShare; i++) {
    const site = SITES[i % SITES.length]!;
    const onRevealSite = site === REVEAL_SITE;
    const mode = onRevealSite ? 'allow' : random.pick(['allow', 'justification', 'approval'] as const);
    const members = i % 4 === 0 ? { users: [ids.revealer], groups: [] } : { users: [], groups: [ids.revealerGroups[i % ids.revealerGroups.length]!] };
    policies.push({ name: `team ${i} ${site}`, members, filters: filterOf(site), actions: { reveal: actionOf(mode, !onRevealSite && random.int(3) === 0), ...(random.int(2) === 0 ? { session: actionOf('allow', false) } : {}) } });
  }
  for (let i = policies.length; i < count; i++) {
    const site = random.pick(SITES);
    const members = { users: Array.from({ length: random.int(3) }, () => random.pick(ids.users)), groups: Array.from({ length: 1 + random.int(2) }, () => random.pick(ids.groups)) };
    const mode = random.pick(['allow', 'justification', 'justification', 'approval'] as const);
    const actions: Record<string, unknown> = { reveal: actionOf(mode, random.int(4) === 0) };
    if (random.int(3) === 0) actions.session = actionOf('allow', false);
    if (random.int(4) === 0) actions.history = actionOf('justification', false);
    policies.push({ name: `policy ${String(i).padStart(4, '0')} ${site}`, members, filters: random.int(50) === 0 ? {} : filterOf(site), actions });
  }
  // A few of the others have no filters (they cover every credential), but only for groups the revealer is not in.
  return policies;
}

/** Seeds the tenant: users, groups, the inventory by import, then the access policies; progress goes to `log`. */
export async function seedVault(base: string, tenant: string, adminToken: string, plan: SeedPlan, log: Log): Promise<SeededVault> {
  const started = Date.now();
  // People: the revealer (a plain user) and 40 colleagues, in 20 groups (the revealer in three).
  const revealerName = 'bench-revealer';
  const created = await call<{ user: { id: string }; activation: { token: string } }>(base, 'POST', '/api/v1/users', adminToken, { username: revealerName, email: `${revealerName}@bench.example` });
  await call(base, 'POST', '/api/v1/auth/activate', null, { tenant, token: created.activation.token, password: USER_PASSWORD }, '10.250.0.1');
  const login = await call<{ token: string }>(base, 'POST', '/api/v1/auth/login', null, { tenant, username: revealerName, password: USER_PASSWORD }, '10.250.0.1');
  const users: string[] = [];
  for (let i = 0; i < 40; i++) {
    const user = await call<{ user: { id: string } }>(base, 'POST', '/api/v1/users', adminToken, { username: `colleague-${i}`, email: `colleague-${i}@bench.example`, roles: i < 5 ? ['approver'] : ['user'] });
    users.push(user.user.id);
  }
  const groups: string[] = [];
  const revealerGroups: string[] = [];
  for (let i = 0; i < 20; i++) {
    const withRevealer = i < 3;
    const members = [...users.slice(i * 2, i * 2 + 4), ...(withRevealer ? [created.user.id] : [])];
    const group = await call<{ group: { id: string } }>(base, 'POST', '/api/v1/groups', adminToken, { name: `team-${i}`, members });
    (withRevealer ? revealerGroups : groups).push(group.group.id);
  }
  log(`seed: 41 users and 20 groups created`);

  const importStarted = Date.now();
  const inventory = await importInventory(base, adminToken, plan, log);
  const importSeconds = (Date.now() - importStarted) / 1000;

  const policiesStarted = Date.now();
  const bodies = policiesOf(plan.policies, { revealer: created.user.id, revealerGroups, users, groups, approvers: users.slice(0, 5) });
  let done = 0;
  await pool(bodies, POLICY_CONCURRENCY, async (body) => {
    await call(base, 'POST', '/api/v1/access-policies', adminToken, body);
    done += 1;
    if (done % 100 === 0 || done === bodies.length) log(`access policies: ${done}/${bodies.length}`);
  });
  const policiesSeconds = (Date.now() - policiesStarted) / 1000;
  const revealerPolicies = bodies.filter((b) => b.members.users.includes(created.user.id) || b.members.groups.some((g) => revealerGroups.includes(g))).length;

  // The credentials to reveal: prod at the reveal site, read as the admin sees them (every one has a secret).
  const revealIds: string[] = [];
  let cursor: string | null = null;
  while (revealIds.length < 2000) {
    const page: { credentials: { id: string; hasSecret: boolean }[]; nextCursor: string | null } = await call(base, 'GET', `/api/v1/credentials?site=${REVEAL_SITE}&tag=prod&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, adminToken);
    revealIds.push(...page.credentials.filter((c) => c.hasSecret).map((c) => c.id));
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  if (revealIds.length === 0) throw new Error(`no ${REVEAL_SITE} prod credential to reveal`);
  // One reveal first, to fail here with the server's reason rather than as a count of non-2xx answers under load.
  await call(base, 'POST', `/api/v1/credentials/${revealIds[0]}/reveal`, login.token, {});
  const listPaths = SITES.map((site) => `/api/v1/credentials?tag=prod&site=${site}&limit=50`);
  log(`seed: done in ${((Date.now() - started) / 1000).toFixed(0)} s (${revealIds.length} credentials to reveal; the revealer is named by ${revealerPolicies} policies)`);
  return {
    revealer: { id: created.user.id, username: revealerName, token: login.token },
    revealIds,
    listPaths,
    revealerPolicies,
    seconds: { import: importSeconds, policies: policiesSeconds, total: (Date.now() - started) / 1000 },
    counts: { devices: inventory.devices, credentials: inventory.credentials, policies: bodies.length, users: users.length + 1, groups: groups.length + revealerGroups.length },
  };
}
