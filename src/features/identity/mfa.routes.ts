import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf, userActorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from './auth.schemas.js';
import type { MfaService } from './mfa.service.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 401: errorResponse, 409: errorResponse };

/** TOTP routes of DESIGN 4: every user manages their own authenticator; an administrator can reset a user's. */
export function registerMfaRoutes(app: HttpApp, deps: { mfa: MfaService }): void {
  app.post('/auth/mfa/totp/enroll', {
    config: { allowRestricted: ['mfa_enrolment'] },
    schema: { tags: ['auth'], summary: 'Start setting up an authenticator app: a secret and an otpauth:// URL (QR code)', security, response: { 200: z.object({ secret: z.string(), otpauthUrl: z.string() }), ...errors } },
  }, async (request) => deps.mfa.enroll(userActorOf(request)));

  app.post('/auth/mfa/totp/confirm', {
    config: { allowRestricted: ['mfa_enrolment'] },
    schema: { tags: ['auth'], summary: 'Confirm with a first code; answers ten single-use recovery codes, once', security, body: z.strictObject({ code: z.string().regex(/^\d{6}$/, 'The code is the 6 digits your authenticator app shows.') }), response: { 200: z.object({ recoveryCodes: z.array(z.string()) }), ...errors } },
  }, async (request) => deps.mfa.confirm(userActorOf(request), request.body.code));

  app.post('/auth/mfa/totp/disable', {
    schema: { tags: ['auth'], summary: 'Remove the authenticator (re-enter your password); answers 204', security, body: z.strictObject({ password: z.string().min(1).max(4096) }) },
  }, async (request, reply) => {
    await deps.mfa.disable(userActorOf(request), request.body.password);
    return reply.status(204).send();
  });

  app.post('/users/:id/mfa/reset', {
    config: { permission: 'identity.users.write' },
    schema: { tags: ['users'], summary: "Remove a user's authenticator (a lost phone): their sessions end; answers 204", security, params: z.strictObject({ id: z.string().max(64) }) },
  }, async (request, reply) => {
    await deps.mfa.resetFor(actorOf(request), request.params.id);
    return reply.status(204).send();
  });
}
