// Row types of the notification inbox (migration 0017), apart so schema.ts stays under its size limit.

/**
 * One message in one user's inbox. link_type/link_id name what it is about (an access request), both or neither;
 * read_at is null while unread.
 */
export interface NotificationTable {
  tenant_id: string;
  id: string;
  user_id: string;
  kind: string;
  subject: string;
  text: string;
  link_type: string | null;
  link_id: string | null;
  read_at: number | null;
  created_at: number;
}

/** The notification tables, merged into the database schema. */
export interface NotificationSchema {
  notifications: NotificationTable;
}

/** Their names, for the list of tables that hold a tenant's rows. */
export const notificationTables = ['notifications'] as const;
