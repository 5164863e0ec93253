import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from './auth.schemas.js';
import { securityPolicyPatch, securityPolicySchema } from './security-policy.js';
import type { SecurityPolicyService } from './security-policy.service.js';

const security = [{ tenantToken: [] }];

/** GET and PUT /api/v1/settings/security. */
export function registerSecurityPolicyRoutes(app: HttpApp, deps: { policy: SecurityPolicyService }): void {
  app.get('/settings/security', {
    config: { permission: 'settings.security.read' },
    schema: { tags: ['settings'], summary: "The tenant's security policy", security, response: { 200: securityPolicySchema, 403: errorResponse } },
  }, async (request) => deps.policy.get(actorOf(request)));

  app.put('/settings/security', {
    config: { permission: 'settings.security.write' },
    schema: { tags: ['settings'], summary: 'Change any subset of the security policy', security, body: securityPolicyPatch, response: { 200: securityPolicySchema, 400: errorResponse, 403: errorResponse } },
  }, async (request) => deps.policy.update(actorOf(request), request.body));
}
