import type { DbOrTx } from '../../platform/db/database.js';
import type { NotificationTable } from '../../platform/db/schema.notifications.js';
import { readSetting, writeSetting } from '../identity/tenant-settings.store.js';

/** The tenant_settings key of the SMTP settings. */
const SMTP_KEY = 'smtp';

/** The SMTP settings as stored: the password only sealed (entity smtp_settings, id = tenant id, field password). */
export interface StoredSmtpSettings {
  host: string;
  port: number;
  security: 'tls' | 'starttls' | 'none';
  username: string | null;
  passwordSealed: string | null;
  fromAddress: string;
  fromName: string | null;
}

/** The tenant's SMTP settings, or null when email is not configured. */
export async function readSmtpSettings(db: DbOrTx, tenantId: string): Promise<StoredSmtpSettings | null> {
  const text = await readSetting(db, tenantId, SMTP_KEY);
  return text ? (JSON.parse(text) as StoredSmtpSettings) : null;
}

/** Replaces the tenant's SMTP settings. */
export async function writeSmtpSettings(db: DbOrTx, tenantId: string, settings: StoredSmtpSettings, now: number): Promise<void> {
  await writeSetting(db, tenantId, SMTP_KEY, settings, now);
}

/** Removes the SMTP settings (email stops; the inbox goes on); false when there were none. */
export async function deleteSmtpSettings(db: DbOrTx, tenantId: string): Promise<boolean> {
  const result = await db.deleteFrom('tenant_settings').where('tenant_id', '=', tenantId).where('key', '=', SMTP_KEY).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The tenant's users among ids, with what decides whether they get email. */
export async function recipientUsers(db: DbOrTx, tenantId: string, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db.selectFrom('users').select(['id', 'email', 'status']).where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
}

/** Adds inbox rows. */
export async function insertNotifications(db: DbOrTx, rows: NotificationTable[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('notifications').values(rows).execute();
}

/** One user's inbox newest first (ids are time-ordered), one row more than limit to tell whether a next page exists. */
export async function listInbox(db: DbOrTx, tenantId: string, userId: string, filter: { unread?: boolean; cursor?: string; limit: number }) {
  let query = db.selectFrom('notifications').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId);
  if (filter.unread) query = query.where('read_at', 'is', null);
  if (filter.cursor) query = query.where('id', '<', filter.cursor);
  return query.orderBy('id', 'desc').limit(filter.limit + 1).execute();
}

/** How many of a user's notifications are unread. */
export async function countUnread(db: DbOrTx, tenantId: string, userId: string): Promise<number> {
  const row = await db.selectFrom('notifications').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('read_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One of a user's notifications; another user's id finds nothing. */
export async function findOwn(db: DbOrTx, tenantId: string, userId: string, id: string) {
  return db.selectFrom('notifications').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
}

/** Marks a user's unread notifications read (one, or all when id is absent); answers how many changed. */
export async function markRead(db: DbOrTx, tenantId: string, userId: string, now: number, id?: string): Promise<number> {
  let query = db.updateTable('notifications').set({ read_at: now }).where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('read_at', 'is', null);
  if (id) query = query.where('id', '=', id);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
