import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from './auth.schemas.js';
import { networkPolicyBody, networkPolicyView } from './network-policy.js';
import type { NetworkPolicyService } from './network-policy.service.js';

const security = [{ tenantToken: [] }];

/** GET and PUT /api/v1/settings/network. */
export function registerNetworkPolicyRoutes(app: HttpApp, deps: { network: NetworkPolicyService }): void {
  app.get('/settings/network', {
    config: { permission: 'settings.network.read' },
    schema: { tags: ['settings'], summary: "The tenant's network allowlist (empty: every address)", security, response: { 200: networkPolicyView, 403: errorResponse } },
  }, async (request) => deps.network.get(actorOf(request)));

  app.put('/settings/network', {
    config: { permission: 'settings.network.write' },
    schema: { tags: ['settings'], summary: 'Replace the network allowlist', security, body: networkPolicyBody, response: { 200: networkPolicyView, 400: errorResponse, 403: errorResponse, 409: errorResponse } },
  }, async (request) => deps.network.update(actorOf(request), request.body));
}
