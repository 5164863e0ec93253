import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { IMPORT_MAX_ROWS } from './transfer.schemas.js';

describe.each(dialects)('an import at the row limit on %s', (dialect) => {
  let t: TestApp;
  let tenantId: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    tenantId = (await t.createTenant('transfer-scale')).id;
  });
  afterAll(async () => t.close());

  it(`takes ${IMPORT_MAX_ROWS} rows in one transaction, and refuses one more`, async () => {
    const actor = { kind: 'operator' as const, id: 'cli:test', tenantId, ip: null };
    const devices = Array.from({ length: 1000 }, (_, i) => ({ name: `host${i}`, address: `10.${Math.floor(i / 250)}.${i % 250}.1`, port: 22, protocol: 'ssh', tags: ['bulk'] }));
    const credentials = Array.from({ length: IMPORT_MAX_ROWS - devices.length }, (_, i) => ({ device: `host${i % 1000}`, username: `svc${i}`, type: 'password', secret: `Bulk_Secret-${i}-x`, tags: ['bulk'] }));
    const started = Date.now();
    const result = await t.runtime.services.transfer.importFile(actor, { format: 'json', data: JSON.stringify({ devices, credentials }) });
    const elapsed = Date.now() - started;
    expect(result.created).toEqual({ devices: 1000, credentials: IMPORT_MAX_ROWS - 1000 });
    console.log(`${dialect}: imported ${IMPORT_MAX_ROWS} rows in ${elapsed} ms`);
    const refused = t.runtime.services.transfer.importFile(actor, { format: 'json', data: JSON.stringify({ devices: [...devices, { name: 'one-more', address: '10.9.9.9', port: 22, protocol: 'ssh' }], credentials }) });
    await expect(refused).rejects.toMatchObject({ code: 'IMPORT_INVALID', details: { errors: [expect.objectContaining({ code: 'TOO_MANY_ROWS' })] } });
  }, 120_000);
});
