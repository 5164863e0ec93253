import type { JobHandler } from '../../platform/jobs/index.js';
import type { Logger } from '../../platform/log.js';
import { EMAIL_JOB_KIND, type EmailJobPayload } from './notifications.service.js';
import type { SmtpSettingsService } from './smtp-settings.service.js';

/** The job handlers notifications register with the worker: sending one email (the queue retries with backoff). */
export function notificationJobHandlers(deps: { smtp: Pick<SmtpSettingsService, 'deliver'>; log: Logger }): Record<string, JobHandler> {
  return {
    [EMAIL_JOB_KIND]: async (job) => {
      const payload = job.payload as EmailJobPayload;
      if (!job.tenantId) return;
      // Thrown errors are MailErrors with the password removed: the worker stores and logs their message.
      const sent = await deps.smtp.deliver(job.tenantId, { to: payload.to, subject: payload.subject, text: payload.text });
      // The tenant removed its SMTP settings since: the inbox row remains, the email is dropped.
      if (!sent) deps.log.info({ jobId: job.id, tenantId: job.tenantId, kind: payload.kind }, 'notification email dropped: SMTP is no longer configured');
    },
  };
}
