import type { AuditLog } from '../platform/audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Keyring } from '../platform/crypto/keyring.js';
import type { Database } from '../platform/db/database.js';
import type { Logger } from '../platform/log.js';
import { createAuthService } from '../features/identity/auth.service.js';
import { createMfaService } from '../features/identity/mfa.service.js';
import { createDeactivation } from '../features/identity/deactivation.js';
import { createUserService } from '../features/identity/users.service.js';
import { createSecurityPolicyService } from '../features/identity/security-policy.service.js';
import { createNetworkPolicyService } from '../features/identity/network-policy.service.js';
import { createFocalPointService } from '../features/focal-points/focal-points.service.js';
import { createOperatorService } from '../features/operators/operators.service.js';
import { createTenantService, findTenantRef } from '../features/tenants/tenants.service.js';
import type { Config } from './config.js';

/** Wires each feature's service with exactly the dependencies it declares. */
export function createServices(deps: { database: Database; keyring: Keyring; audit: AuditLog; clock: Clock; log: Logger; config: Pick<Config, 'publicUrl'> }) {
  const { database, keyring, audit, clock, log } = deps;
  const db = database.db;
  const mfa = createMfaService({ db, audit, clock, keyring });
  const auth = createAuthService({ db, audit, clock, log, publicUrl: deps.config.publicUrl, findTenant: findTenantRef, changeMarker: database.changeMarker, secondFactor: mfa });
  const tenants = createTenantService({ db, audit, keyring, clock, identity: auth });
  const operators = createOperatorService({ db, audit, clock });
  const deactivate = createDeactivation({ audit, clock });
  const users = createUserService({ db, audit, clock, auth, deactivate });
  const securityPolicy = createSecurityPolicyService({ db, audit, clock });
  const focalPoints = createFocalPointService({ db, audit, clock });
  const network = createNetworkPolicyService({ db, audit, clock });
  return { auth, mfa, tenants, operators, users, securityPolicy, network, focalPoints, deactivate };
}
export type Services = ReturnType<typeof createServices>;
