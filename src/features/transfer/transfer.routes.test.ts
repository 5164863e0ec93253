import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import { openOrNull, versionContext } from '../vault/credentials.sealing.js';

const SECRET = 'Imported_Secret-7781:xyz';
const CSV_SECRET = 'Csv Secret, with "quotes" 42';
const SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe.each(dialects)('import and export of devices and credentials on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('transfer-a');
    other = await t.tenantWithAdmin('transfer-b');
  });
  afterAll(async () => t.close());

  const db = () => t.runtime.database.db;
  const importFile = (body: object, token = admin.token) => apiCall(t, 'POST', '/import', token, body);
  const exportFile = (query: string, token = admin.token) => apiCall(t, 'GET', `/export?${query}`, token);
  const count = async (table: 'devices' | 'credentials' | 'credential_versions', tenantId = admin.id) =>
    Number((await db().selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
  const counts = async (tenantId = admin.id) => ({ devices: await count('devices', tenantId), credentials: await count('credentials', tenantId), versions: await count('credential_versions', tenantId) });
  const importEvents = () => db().selectFrom('audit_events').select(['action', 'details']).where('tenant_id', '=', admin.id).where('action', '=', 'vault.imported').orderBy('seq').execute();

  const jsonFile = {
    devices: [
      { name: 'db01', address: '10.0.0.1', port: 5432, protocol: 'postgres', site: 'lisbon', type: 'database', tags: ['prod', 'pci'], criticality: 'high' },
      { name: 'web01', address: 'web01.acme.internal', port: 22, protocol: 'ssh', protocols: [{ protocol: 'https', port: 443 }] },
    ],
    credentials: [
      { device: 'db01', username: 'postgres', type: 'password', secret: SECRET, tags: ['dba'], notes: 'break glass', additionalInfo: { database: 'billing' } },
      { device: 'web01', username: 'deploy', type: 'password', totpSeed: SEED },
    ],
  };

  it('imports a JSON file in one go: devices, credentials, sealed secrets as version 1 with reason import, one audit event', async () => {
    const res = await importFile({ format: 'json', data: JSON.stringify(jsonFile) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ ok: true, dryRun: false, format: 'json', rows: 4, created: { devices: 2, credentials: 2 }, existingDevices: 0 });
    const listed = (await apiCall(t, 'GET', '/credentials?deviceName=db01', admin.token)).json().credentials;
    expect(listed).toMatchObject([{ username: 'postgres', type: 'password', hasSecret: true, version: 1, tags: ['dba'], notes: 'break glass', additionalInfo: { database: 'billing' } }]);
    const web = (await apiCall(t, 'GET', '/devices?q=web01', admin.token)).json().devices[0];
    expect(web).toMatchObject({ address: 'web01.acme.internal', protocols: [{ protocol: 'https', port: 443 }, { protocol: 'ssh', port: 22 }] });
    const history = (await apiCall(t, 'GET', `/credentials/${listed[0].id}/history`, admin.token)).json();
    expect(history.versions).toMatchObject([{ version: 1, reason: 'import', current: true }]);
    // No plaintext in the database: the credential and its version hold the same sealed value, which opens to the secret.
    const row = await db().selectFrom('credentials').selectAll().where('id', '=', listed[0].id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(SECRET);
    const version = await db().selectFrom('credential_versions').selectAll().where('credential_id', '=', listed[0].id).executeTakeFirstOrThrow();
    expect(version.secret_sealed).toBe(row.secret_sealed);
    expect(await openOrNull(t.runtime.keyring, db(), versionContext(admin.id, row.id, 1, 'secret'), row.secret_sealed!)).toBe(SECRET);
    const deploy = (await apiCall(t, 'GET', '/credentials?username=deploy', admin.token)).json().credentials[0];
    expect(deploy).toMatchObject({ hasSecret: false, hasTotp: true, version: 0 });
    expect((await apiCall(t, 'GET', `/credentials/${deploy.id}/totp`, admin.token)).statusCode).toBe(200);
    const events = await importEvents();
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.details)).toEqual({ format: 'json', rows: 4, devicesCreated: 2, credentialsCreated: 2, existingDevices: 0, dryRun: false });
    expect(events[0]!.details).not.toContain(SECRET);
  });

  it('imports CSV (quotes, escaped quotes, CRLF), adding credentials to a device that already exists and leaving it as it is', async () => {
    const csv = [
      'device,address,port,protocol,site,type,deviceTags,username,credentialType,secret,tags,notes',
      `db01,10.9.9.9,5432,postgres,porto,database,other,reporting,password,"${CSV_SECRET.replace(/"/g, '""')}",ro;reports,"read only, ""daily"""`,
      'fw01,fw01.acme.internal,22,ssh,porto,firewall,edge;prod,admin,password,Fw_Admin-Secret_99,,',
      'fw01,fw01.acme.internal,22,ssh,porto,firewall,edge;prod,,,,,',
      '',
    ].join('\r\n');
    const before = await counts();
    const res = await importFile({ format: 'csv', data: csv });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ ok: true, dryRun: false, format: 'csv', rows: 3, created: { devices: 1, credentials: 2 }, existingDevices: 1 });
    expect(await counts()).toEqual({ devices: before.devices + 1, credentials: before.credentials + 2, versions: before.versions + 2 });
    const db01 = (await apiCall(t, 'GET', '/devices?q=db01', admin.token)).json().devices[0];
    expect(db01).toMatchObject({ address: '10.0.0.1', site: 'lisbon', tags: ['pci', 'prod'] });
    const fw = (await apiCall(t, 'GET', '/devices?q=fw01', admin.token)).json().devices[0];
    expect(fw).toMatchObject({ site: 'porto', type: 'firewall', tags: ['edge', 'prod'] });
    const reporting = (await apiCall(t, 'GET', '/credentials?username=reporting', admin.token)).json().credentials[0];
    expect(reporting).toMatchObject({ device: { name: 'db01' }, tags: ['reports', 'ro'], notes: 'read only, "daily"', version: 1 });
    const row = await db().selectFrom('credentials').select('secret_sealed').where('id', '=', reporting.id).executeTakeFirstOrThrow();
    expect(await openOrNull(t.runtime.keyring, db(), versionContext(admin.id, reporting.id, 1, 'secret'), row.secret_sealed!)).toBe(CSV_SECRET);
  });

  it('one bad row fails the whole import with its row number and field; nothing is written', async () => {
    const before = await counts();
    const events = (await importEvents()).length;
    const file = {
      devices: [{ name: 'new01', address: '10.1.0.1', port: 22, protocol: 'ssh' }, { name: 'bad01', address: 'not an address!', port: 70000, protocol: 'ssh' }],
      credentials: [{ device: 'new01', username: 'root', type: 'password', secret: 'Fine_Secret-123' }, { device: 'new01', username: 'svc', type: 'ssh-key', secret: 'not a key' }],
    };
    const res = await importFile({ format: 'json', data: JSON.stringify(file) });
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ ok: false, error: { code: 'IMPORT_INVALID' }, requestId: expect.any(String) });
    expect(body.errors).toEqual(expect.arrayContaining([
      expect.objectContaining({ section: 'devices', row: 2, field: 'address' }),
      expect.objectContaining({ section: 'devices', row: 2, field: 'port' }),
      expect.objectContaining({ section: 'credentials', row: 2, field: 'secret' }),
    ]));
    expect(body.errors.some((e: { row: number; section: string }) => e.section === 'devices' && e.row === 1)).toBe(false);
    expect(await counts()).toEqual(before);
    expect(await importEvents()).toHaveLength(events);

    const csv = 'device,address,port,protocol,username,credentialType,secret\r\nok01,10.2.0.1,22,ssh,root,password,Good_Secret-1\r\nok02,10.2.0.2,port,ssh,root,password,Good_Secret-2\r\n';
    const csvRes = await importFile({ format: 'csv', data: csv });
    expect(csvRes.statusCode).toBe(400);
    expect(csvRes.json().errors).toEqual([expect.objectContaining({ row: 3, field: 'port', code: 'INVALID' })]);
    expect(await counts()).toEqual(before);
  });

  it('duplicates within the file and against the database are row errors', async () => {
    const before = await counts();
    const file = {
      devices: [{ name: 'dup01', address: '10.3.0.1', port: 22, protocol: 'ssh' }, { name: 'dup01', address: '10.3.0.2', port: 22, protocol: 'ssh' }],
      credentials: [
        { device: 'dup01', username: 'root', type: 'password' },
        { device: 'dup01', username: 'root', type: 'password' },
        { device: 'db01', username: 'postgres', type: 'password' },
        { device: 'ghost', username: 'x', type: 'password' },
      ],
    };
    const res = await importFile({ format: 'json', data: JSON.stringify(file) });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors.map((e: { section: string; row: number; code: string }) => [e.section, e.row, e.code])).toEqual([
      ['credentials', 2, 'CREDENTIAL_REPEATED'],
      ['credentials', 3, 'CREDENTIAL_EXISTS'],
      ['credentials', 4, 'DEVICE_NOT_FOUND'],
      ['devices', 2, 'DEVICE_REPEATED'],
    ]);
    const csv = 'device,address,port,protocol,username\r\nc01,10.4.0.1,22,ssh,a\r\nc01,10.4.0.2,22,ssh,b\r\n';
    expect((await importFile({ format: 'csv', data: csv })).json().errors).toEqual([expect.objectContaining({ row: 3, code: 'DEVICE_CONFLICT' })]);
    expect(await counts()).toEqual(before);
  });

  it('a dry run checks everything, the database included, and writes nothing', async () => {
    const before = await counts();
    const events = (await importEvents()).length;
    const file = { devices: [{ name: 'dry01', address: '10.5.0.1', port: 22, protocol: 'ssh' }], credentials: [{ device: 'dry01', username: 'root', type: 'password', secret: 'Dry_Secret-1' }, { device: 'db01', username: 'other', type: 'password' }] };
    const res = await importFile({ format: 'json', data: JSON.stringify(file), dryRun: true });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ ok: true, dryRun: true, format: 'json', rows: 3, created: { devices: 1, credentials: 2 }, existingDevices: 0 });
    const clash = await importFile({ format: 'json', data: JSON.stringify({ credentials: [{ device: 'db01', username: 'postgres', type: 'password' }] }), dryRun: true });
    expect(clash.json().errors).toEqual([expect.objectContaining({ row: 1, code: 'CREDENTIAL_EXISTS' })]);
    expect(await counts()).toEqual(before);
    expect(await importEvents()).toHaveLength(events);
  });

  it('refuses malformed files, unknown columns and passphrases on the wrong type', async () => {
    expect((await importFile({ format: 'json', data: '{"devices": [' })).json().errors).toEqual([expect.objectContaining({ row: 0, code: 'MALFORMED_JSON' })]);
    expect((await importFile({ format: 'csv', data: 'device,address,port,protocol,colour\r\n' })).json().errors).toEqual([expect.objectContaining({ row: 1, code: 'UNKNOWN_COLUMN' })]);
    expect((await importFile({ format: 'csv', data: 'device,address\r\n"x,1\r\n' })).json().errors).toEqual([expect.objectContaining({ code: 'MALFORMED_CSV' })]);
    const { privateKey } = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const file = { credentials: [{ device: 'db01', username: 'keyed', type: 'password', secret: 'Pass_word-123', passphrase: 'x' }, { device: 'db01', username: 'keyed2', type: 'ssh-key', secret: privateKey }] };
    const res = await importFile({ format: 'json', data: JSON.stringify(file), dryRun: true });
    expect(res.json().errors).toEqual([expect.objectContaining({ row: 1, field: 'passphrase', code: 'PASSPHRASE_NOT_ALLOWED' })]);
  });

  it('exports devices and credentials as JSON and CSV, never a secret, and the export imports into another tenant', async () => {
    const json = await exportFile('format=json&what=credentials');
    expect(json.statusCode, json.body).toBe(200);
    expect(json.headers['content-type']).toContain('application/json');
    for (const secret of [SECRET, CSV_SECRET, SEED, 'Fw_Admin-Secret_99']) expect(json.body).not.toContain(secret);
    const credentials = json.json().credentials;
    expect(credentials).toEqual(expect.arrayContaining([{ device: 'db01', username: 'postgres', type: 'password', tags: ['dba'], notes: 'break glass', additionalInfo: { database: 'billing' }, status: 'active' }]));
    const csv = await exportFile('format=csv&what=credentials');
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toBe('attachment; filename="custos-credentials.csv"');
    for (const secret of [SECRET, CSV_SECRET, 'Csv Secret', 'Fw_Admin-Secret_99']) expect(csv.body).not.toContain(secret);
    expect(csv.body.split('\r\n')[0]).toBe('device,address,port,protocol,site,type,deviceTags,username,credentialType,tags,notes');
    expect(csv.body).toContain('db01,10.0.0.1,5432,postgres,lisbon,database,pci;prod,reporting,password,reports;ro,"read only, ""daily"""');
    const devices = await exportFile('format=json&what=devices');
    expect(devices.json().devices).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'web01', protocols: [{ protocol: 'https', port: 443 }, { protocol: 'ssh', port: 22 }] })]));
    const devicesCsv = await exportFile('format=csv&what=devices');
    expect(devicesCsv.body).toContain('fw01,fw01.acme.internal,22,ssh,porto,firewall,,,medium,edge;prod');
    const exported = await db().selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).where('action', '=', 'vault.exported').orderBy('seq').execute();
    expect(exported.map((e) => JSON.parse(e.details))).toContainEqual({ what: 'credentials', format: 'csv', count: 4 });

    // The other tenant sees none of it, and can import the exports (devices first, then credentials) as a round trip.
    expect(JSON.parse((await exportFile('format=json&what=credentials', other.token)).body)).toEqual({ credentials: [] });
    expect((await apiCall(t, 'GET', '/devices', other.token)).json().devices).toEqual([]);
    const roundTrip = await importFile({ format: 'json', data: JSON.stringify({ ...devices.json(), ...json.json() }) }, other.token);
    expect(roundTrip.json(), roundTrip.body).toMatchObject({ ok: true, created: { devices: 3, credentials: 4 } });
    const fromCsv = await importFile({ format: 'csv', data: csv.body, dryRun: true }, other.token);
    expect(fromCsv.json().errors.every((e: { code: string }) => e.code === 'CREDENTIAL_EXISTS')).toBe(true);
    expect(await counts(other.id)).toMatchObject({ devices: 3, credentials: 4, versions: 0 });
  });

  it('needs vault.credentials.write and vault.devices.write to import, and read permissions to export', async () => {
    const auditor = await activeUser(t, admin, 'transfer-auditor', ['auditor']);
    const data = JSON.stringify({ devices: [{ name: 'aud01', address: '10.6.0.1', port: 22, protocol: 'ssh' }] });
    const refused = await importFile({ format: 'json', data }, auditor.token);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('FORBIDDEN');
    expect((await exportFile('format=csv&what=devices', auditor.token)).statusCode).toBe(200);
    const role = await apiCall(t, 'POST', '/roles', admin.token, { name: 'credential-writer', permissions: ['vault.credentials.read', 'vault.credentials.write'] });
    expect(role.statusCode, role.body).toBe(201);
    const writer = await activeUser(t, admin, 'transfer-writer', ['credential-writer']);
    const half = await importFile({ format: 'json', data }, writer.token);
    expect(half.statusCode).toBe(403);
    expect(half.json().error.message).toContain('vault.devices.write');
    expect((await exportFile('format=json&what=devices', writer.token)).statusCode).toBe(403);
    const plain = await activeUser(t, admin, 'transfer-user');
    expect((await exportFile('format=json&what=devices', plain.token)).statusCode).toBe(403);
  });
});
