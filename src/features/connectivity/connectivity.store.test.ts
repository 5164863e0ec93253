import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { newId } from '../../platform/ids.js';
import { HISTORY_PER_DEVICE, insertCheck, listChecks } from './connectivity.store.js';

describe.each(dialects)('connectivity history on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  }, 60_000);
  afterAll(async () => t?.close());

  it('keeps the newest 100 checks of a device and leaves other devices alone', async () => {
    const db = t.runtime.database.db;
    const tenant = (await t.createTenant('acme')).id;
    const [busy, quiet] = [newId(), newId()];
    await insertCheck(db, { tenant_id: tenant, id: newId(), device_id: quiet, status: 'ok', latency_ms: 1, code: null, message: 'ok', trigger: 'scheduled', checked_at: 1 });
    const ids: string[] = [];
    for (let i = 0; i < HISTORY_PER_DEVICE + 5; i += 1) {
      const id = newId(1_000 + i);
      ids.push(id);
      await insertCheck(db, { tenant_id: tenant, id, device_id: busy, status: i % 2 ? 'ok' : 'unreachable', latency_ms: i % 2 ? 3 : null, code: null, message: `check ${i}`, trigger: 'scheduled', checked_at: 1_000 + i });
    }
    const kept = await listChecks(db, tenant, busy, { limit: 200 });
    expect(kept).toHaveLength(HISTORY_PER_DEVICE);
    expect(kept[0]!.id).toBe(ids.at(-1));
    expect(kept.at(-1)!.id).toBe(ids[5]);
    expect(kept[0]!.checked_at).toBe(1_000 + HISTORY_PER_DEVICE + 4);
    expect(await listChecks(db, tenant, quiet, { limit: 10 })).toHaveLength(1);
  });
});
