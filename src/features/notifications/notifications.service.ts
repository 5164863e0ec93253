import type { Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import type { NotificationTable } from '../../platform/db/schema.notifications.js';
import { notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import { listFocalPoints } from '../focal-points/focal-points.store.js';
import type { ListNotificationsQuery, NotificationView } from './notifications.schemas.js';
import * as store from './notifications.store.js';

/** The job kind that sends one notification email. */
export const EMAIL_JOB_KIND = 'notifications.email';

/** What notify is told (structurally the Notify type access requests declare). */
export interface NotifyMessage {
  kind: string;
  subject: string;
  text: string;
  link?: { type: string; id: string };
  userIds?: string[];
  focalPointTopics?: 'security-incident'[];
}

/** The payload of an email job: one recipient, so a retry never re-sends to those already reached. */
export interface EmailJobPayload {
  kind: string;
  to: string;
  subject: string;
  text: string;
}

const iso = (ms: number) => new Date(Number(ms)).toISOString();

function toView(row: NotificationTable): NotificationView {
  return {
    id: row.id, kind: row.kind, subject: row.subject, text: row.text,
    link: row.link_type && row.link_id ? { type: row.link_type, id: row.link_id } : null,
    readAt: row.read_at === null ? null : iso(row.read_at), createdAt: iso(row.created_at),
  };
}

const notificationNotFound = () => notFound('NOTIFICATION_NOT_FOUND', 'No such notification in your inbox.');

/**
 * Notifications: an inbox row per recipient user, written in the caller's transaction, and, when the tenant has
 * SMTP settings, one durable email job per address (users with an address, focal points of the topics).
 */
export function createNotificationService(deps: { db: Db; clock: Clock; queue: Pick<JobQueue, 'enqueue'> }) {
  const { db, clock, queue } = deps;

  /** Tells people, inside trx: the rows and jobs exist only if the cause commits. */
  async function notify(trx: DbOrTx, tenantId: string, message: NotifyMessage): Promise<void> {
    const now = clock.now();
    const users = await store.recipientUsers(trx, tenantId, [...new Set(message.userIds ?? [])]);
    await store.insertNotifications(trx, users.map((u) => ({
      tenant_id: tenantId, id: newId(now), user_id: u.id, kind: message.kind, subject: message.subject, text: message.text,
      link_type: message.link?.type ?? null, link_id: message.link?.id ?? null, read_at: null, created_at: now,
    })));
    if (!(await store.readSmtpSettings(trx, tenantId))) return;
    // Deactivated users read nothing; a user without an address has the inbox only.
    const addresses = users.filter((u) => u.status === 'active' && u.email?.trim()).map((u) => u.email.trim());
    for (const topic of new Set(message.focalPointTopics ?? [])) addresses.push(...(await listFocalPoints(trx, tenantId, { topic })).map((f) => f.email));
    const seen = new Set<string>();
    for (const to of addresses) {
      if (seen.has(to.toLowerCase())) continue;
      seen.add(to.toLowerCase());
      const payload: EmailJobPayload = { kind: message.kind, to, subject: message.subject, text: message.text };
      await queue.enqueue({ kind: EMAIL_JOB_KIND, tenantId, payload, maxAttempts: 8 }, trx);
    }
  }

  /** The caller's inbox, newest first, with how many are unread. */
  async function list(actor: Actor, query: ListNotificationsQuery) {
    const tenantId = actor.tenantId!;
    const rows = await store.listInbox(db, tenantId, actor.id, { unread: query.unread, cursor: query.cursor, limit: query.limit });
    const page = rows.slice(0, query.limit);
    return { notifications: page.map(toView), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null, unreadCount: await store.countUnread(db, tenantId, actor.id) };
  }

  /** Marks one of the caller's notifications read (reading it twice keeps the first time); anyone else's is 404. */
  async function markRead(actor: Actor, id: string) {
    const tenantId = actor.tenantId!;
    if (!isId(id)) throw notificationNotFound();
    // The update touches only the caller's own unread row; the read after it tells whether there was one at all.
    return db.transaction().execute(async (trx) => {
      await store.markRead(trx, tenantId, actor.id, clock.now(), id);
      const row = await store.findOwn(trx, tenantId, actor.id, id);
      if (!row) throw notificationNotFound();
      return { notification: toView(row) };
    });
  }

  /** Marks every unread notification of the caller read. */
  async function markAllRead(actor: Actor) {
    const tenantId = actor.tenantId!;
    const marked = await store.markRead(db, tenantId, actor.id, clock.now());
    return { marked, unreadCount: await store.countUnread(db, tenantId, actor.id) };
  }

  return { notify, list, markRead, markAllRead };
}
export type NotificationService = ReturnType<typeof createNotificationService>;
