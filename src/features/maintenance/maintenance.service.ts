import { SYSTEM_SCOPE, type Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import type { Signals } from '../../platform/signals/signals.js';
import type { MaintenanceInput } from './maintenance.schemas.js';

const META_KEY = 'maintenance';
const SIGNAL = 'maintenance.changed';

/** Whether the tenant plane is closed for maintenance, what to tell callers, and since when. */
export interface MaintenanceState { enabled: boolean; message: string; retryAfterSeconds: number; since: string | null }

const OPEN: MaintenanceState = { enabled: false, message: '', retryAfterSeconds: 0, since: null };
const DEFAULT_MESSAGE = 'Custos is under maintenance; try again shortly.';

/**
 * Maintenance mode: while on, every node answers tenant traffic 503 MAINTENANCE with Retry-After, and the operator
 * plane keeps working. The state lives in the store (custos_meta) and a signal tells every node, and every CLI
 * process that runs a server, to read it again; each node answers from memory, so the hot path pays nothing.
 */
export function createMaintenanceService(deps: { db: Db; audit: AuditLog; clock: Clock; signals: Pick<Signals, 'publish' | 'subscribe'> }) {
  const { db, audit, clock } = deps;
  let state: MaintenanceState = OPEN;

  /** Reads the state from the store (at start, and when another node or the CLI changed it). */
  async function load(): Promise<MaintenanceState> {
    const row = await db.selectFrom('custos_meta').select('value').where('key', '=', META_KEY).executeTakeFirst();
    state = row ? { ...OPEN, ...(JSON.parse(row.value) as Partial<MaintenanceState>) } : OPEN;
    return state;
  }
  deps.signals.subscribe(SIGNAL, () => void load());

  /** Turns maintenance on or off for every node; audited in the operator's chain. */
  async function set(actor: Actor, input: MaintenanceInput): Promise<MaintenanceState> {
    const next: MaintenanceState = input.enabled
      ? { enabled: true, message: input.message ?? DEFAULT_MESSAGE, retryAfterSeconds: input.retryAfterSeconds ?? 300, since: new Date(clock.now()).toISOString() }
      : OPEN;
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('custos_meta').where('key', '=', META_KEY).execute();
      if (next.enabled) await trx.insertInto('custos_meta').values({ key: META_KEY, value: JSON.stringify(next) }).execute();
      await audit.append(trx, SYSTEM_SCOPE, { action: next.enabled ? 'maintenance.enabled' : 'maintenance.disabled', actor, details: next.enabled ? { message: next.message, retryAfterSeconds: next.retryAfterSeconds } : {} });
      await deps.signals.publish(trx, { kind: SIGNAL, tenantId: SYSTEM_SCOPE });
    });
    state = next;
    return state;
  }

  return { load, set, current: () => state };
}

/** Maintenance mode. */
export type MaintenanceService = ReturnType<typeof createMaintenanceService>;
