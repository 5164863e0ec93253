import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { DomainError } from '../../platform/errors.js';
import { actorOf, userActorOf } from '../../platform/http/authenticate.js';
import { sendError } from '../../platform/http/error-handler.js';
import { errorResponse } from '../identity/auth.schemas.js';
import { listNotificationsQuery, notificationAnswer, notificationList, notificationParams, readAllAnswer, smtpSettingsBody, smtpSettingsView, smtpTestAnswer, smtpTestBody } from './notifications.schemas.js';
import type { NotificationService } from './notifications.service.js';
import type { SmtpSettingsService } from './smtp-settings.service.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse };
const emptyBody = z.strictObject({}).nullish();

/** The caller's inbox (GET /notifications, read, read-all) and the tenant's SMTP settings (/settings/smtp). */
export function registerNotificationRoutes(app: HttpApp, deps: { notifications: NotificationService; smtp: SmtpSettingsService }): void {
  const { notifications, smtp } = deps;

  // No permission: everyone has their own inbox. API clients have none (userActorOf answers 403 USER_REQUIRED).
  app.get('/notifications', {
    schema: { tags: ['notifications'], summary: 'Your notifications, newest first (unread=true: only unread ones), with your unread count', security, querystring: listNotificationsQuery, response: { 200: notificationList, ...errors } },
  }, async (request) => notifications.list(userActorOf(request), request.query));

  app.post('/notifications/read-all', {
    schema: { tags: ['notifications'], summary: 'Mark all your notifications read', security, body: emptyBody, response: { 200: readAllAnswer, ...errors } },
  }, async (request) => notifications.markAllRead(userActorOf(request)));

  app.post('/notifications/:id/read', {
    schema: { tags: ['notifications'], summary: 'Mark one of your notifications read', security, params: notificationParams, body: emptyBody, response: { 200: notificationAnswer, ...errors } },
  }, async (request) => notifications.markRead(userActorOf(request), request.params.id));

  app.get('/settings/smtp', {
    config: { permission: 'settings.smtp.read' },
    schema: { tags: ['settings'], summary: "The tenant's SMTP settings for notification email; never the password", security, response: { 200: smtpSettingsView, 403: errorResponse } },
  }, async (request) => smtp.get(actorOf(request)));

  app.put('/settings/smtp', {
    config: { permission: 'settings.smtp.write' },
    schema: { tags: ['settings'], summary: 'Replace the SMTP settings (an omitted password keeps the stored one)', security, body: smtpSettingsBody, response: { 200: smtpSettingsView, ...errors } },
  }, async (request) => smtp.update(actorOf(request), request.body));

  app.delete('/settings/smtp', {
    config: { permission: 'settings.smtp.write' },
    schema: { tags: ['settings'], summary: 'Remove the SMTP settings: notifications go to the inbox only (answers 204)', security },
  }, async (request, reply) => {
    await smtp.remove(actorOf(request));
    return reply.status(204).send();
  });

  app.post('/settings/smtp/test', {
    config: { permission: 'settings.smtp.write' },
    schema: { tags: ['settings'], summary: 'Send a test message now; 502 SMTP_TEST_FAILED carries the server\'s answer', security, body: smtpTestBody, response: { 200: smtpTestAnswer, 502: errorResponse, ...errors } },
  }, async (request, reply) => {
    try {
      return await smtp.test(actorOf(request), request.body.to);
    } catch (error) {
      // The mail server, not Custos, failed: a bad gateway, not "unavailable".
      if (error instanceof DomainError && error.code === 'SMTP_TEST_FAILED') return sendError(reply, 502, error.code, error.message);
      throw error;
    }
  });
}
