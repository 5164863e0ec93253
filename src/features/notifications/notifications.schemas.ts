import { z } from 'zod';

/** GET /api/v1/notifications: the caller's inbox, newest first; unread=true keeps only unread ones. */
export const listNotificationsQuery = z.strictObject({
  unread: z.enum(['true', 'false'], { error: 'use true or false' }).transform((v) => v === 'true').optional(),
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export type ListNotificationsQuery = z.infer<typeof listNotificationsQuery>;

export const notificationParams = z.strictObject({ id: z.string().max(64) });

/** One inbox message; link names what it is about (such as an access request). */
export const notificationView = z.object({
  id: z.string(),
  kind: z.string(),
  subject: z.string(),
  text: z.string(),
  link: z.object({ type: z.string(), id: z.string() }).nullable(),
  readAt: z.string().nullable(),
  createdAt: z.string(),
});
export type NotificationView = z.infer<typeof notificationView>;

export const notificationList = z.object({ notifications: z.array(notificationView), nextCursor: z.string().nullable(), unreadCount: z.number() });
export const notificationAnswer = z.object({ notification: notificationView });
export const readAllAnswer = z.object({ marked: z.number(), unreadCount: z.number() });

export const smtpSecurityModes = ['tls', 'starttls', 'none'] as const;
// A header value must stay on one line: a CR or LF would let a display name inject mail headers.
const oneLine = (field: string, max: number) => z.string().trim().min(1).max(max).regex(/^[^\r\n]*$/, `${field} must be one line`);

/** PUT /api/v1/settings/smtp: an omitted password keeps the stored one; no username means no authentication. */
export const smtpSettingsBody = z
  .strictObject({
    host: z.string().trim().min(1).max(253).regex(/^[A-Za-z0-9.:[\]-]+$/, 'host is a host name or an IP address, such as smtp.acme.example'),
    port: z.number({ error: 'port is a number from 1 to 65535' }).int().min(1).max(65535),
    security: z.enum(smtpSecurityModes, { error: `security is one of: ${smtpSecurityModes.join(', ')} (tls: implicit TLS, usually port 465; starttls: usually 587; none: no encryption)` }),
    username: oneLine('username', 256).optional(),
    password: z.string().min(1).max(1024).optional(),
    fromAddress: z.email('fromAddress must be an email address, such as custos@acme.example').max(320),
    fromName: oneLine('fromName', 200).optional(),
  })
  .refine((s) => s.password === undefined || s.username !== undefined, { path: ['password'], message: 'a password needs a username: send both, or neither for a server that needs no login' });
export type SmtpSettingsInput = z.infer<typeof smtpSettingsBody>;

/** The SMTP settings as callers see them: never the password, only whether one is stored. */
export const smtpSettingsView = z.object({
  configured: z.boolean(),
  host: z.string().nullable(),
  port: z.number().nullable(),
  security: z.enum(smtpSecurityModes).nullable(),
  username: z.string().nullable(),
  passwordSet: z.boolean(),
  fromAddress: z.string().nullable(),
  fromName: z.string().nullable(),
});
export type SmtpSettingsView = z.infer<typeof smtpSettingsView>;

/** POST /api/v1/settings/smtp/test: where to send the test message. */
export const smtpTestBody = z.strictObject({ to: z.email('to must be an email address').max(320) });
export const smtpTestAnswer = z.object({ delivered: z.literal(true) });
