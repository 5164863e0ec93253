import type { AuditLog } from '../platform/audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Keyring } from '../platform/crypto/keyring.js';
import type { Database } from '../platform/db/database.js';
import type { Logger } from '../platform/log.js';
import type { Actor } from '../platform/actor.js';
import type { Signals } from '../platform/signals/signals.js';
import { createAuthService } from '../features/identity/auth.service.js';
import { createMfaService } from '../features/identity/mfa.service.js';
import { createDeactivation } from '../features/identity/deactivation.js';
import { createUserService } from '../features/identity/users.service.js';
import { createRoleGrants } from '../features/identity/role-grants.service.js';
import { createRoleService } from '../features/identity/roles.service.js';
import { createGroupService } from '../features/identity/groups.service.js';
import { createSecurityPolicyService } from '../features/identity/security-policy.service.js';
import { createNetworkPolicyService } from '../features/identity/network-policy.service.js';
import { createFocalPointService } from '../features/focal-points/focal-points.service.js';
import { createDeviceService } from '../features/vault/devices.service.js';
import { createCredentialService } from '../features/vault/credentials.service.js';
import { createCredentialHistoryService } from '../features/vault/credentials.history.js';
import { createTransferService } from '../features/transfer/transfer.service.js';
import { createRevealService } from '../features/vault/reveal.service.js';
import { createCustodyService } from '../features/vault/custody.service.js';
import { createAccessPolicyService } from '../features/access/access-policies.service.js';
import { createCredentialPolicyService } from '../features/vault/credential-policies.service.js';
import { createAccessRequestService, type Notify } from '../features/access/access-requests.service.js';
import { createApprovalService } from '../features/access/access-requests.approvals.js';
import { createRequestLifecycle } from '../features/access/access-requests.lifecycle.js';
import { createClientService } from '../features/clients/clients.service.js';
import { createClientGrantService } from '../features/clients/client-grants.service.js';
import { createCredentialRefs } from '../features/vault/credential-refs.js';
import { createOperatorService } from '../features/operators/operators.service.js';
import { createTenantService, findTenantRef } from '../features/tenants/tenants.service.js';
import { createSsoOidc } from '../features/sso/sso-oidc.js';
import { createSsoSettingsService } from '../features/sso/sso-settings.service.js';
import { createSsoLoginService } from '../features/sso/sso-login.service.js';
import { createScimService } from '../features/scim/scim.service.js';
import { createNotificationService } from '../features/notifications/notifications.service.js';
import { createSmtpSettingsService } from '../features/notifications/smtp-settings.service.js';
import { sendWithNodemailer } from '../features/notifications/mailer.js';
import { createJobQueue } from '../platform/jobs/index.js';
import { createGroupCommit } from '../platform/db/group-commit.js';
import { createStepUpGuard } from '../features/vault/step-up-guard.js';
import { createSiemService } from '../features/siem/siem.service.js';
import { createRotationService } from '../features/rotation/rotation.service.js';
import { createDeliverRound } from '../features/siem/siem-transport.js';
import { createBehaviourService } from '../features/behaviour/behaviour.service.js';
import { createBehaviourConsumer } from '../features/behaviour/behaviour.consumer.js';
import { createCheckpointService } from '../features/audit/checkpoints.service.js';
import { createAuditService } from '../features/audit/audit.service.js';
import { createAuditExportService } from '../features/audit/audit-export.service.js';
import { createComplianceService } from '../features/compliance/compliance.service.js';
import { createConnectorService } from '../features/connector/connectors.service.js';
import { createTargetDialer } from '../platform/net/dial.js';
import { createTargetGuard } from '../platform/net/target-guard.js';
import { createConnectivityService } from '../features/connectivity/connectivity.service.js';
import { destinationHealth } from '../features/siem/siem-health.js';
import type { Config } from './config.js';
import { version } from './version.js';
import { createSnapshotService } from '../features/snapshots/snapshots.service.js';
import { createMaintenanceService } from '../features/maintenance/maintenance.service.js';

/** Wires each feature's service with exactly the dependencies it declares. */
export function createServices(deps: { database: Database; keyring: Keyring; audit: AuditLog; clock: Clock; log: Logger; config: Pick<Config, 'publicUrl' | 'targetAllowCidrs' | 'targetDenyCidrs' | 'databaseUrl' | 'snapshotDir'>; signals: Signals }) {
  const { database, keyring, audit, clock, log } = deps;
  const db = database.db;
  // A closure breaks the cycle: the second factor asks identity's role resolution, which needs the second factor.
  const mfa = createMfaService({ db, audit, clock, keyring, permissionsOfUser: async (tenantId, userId) => auth.permissionsOfRoles(tenantId, await auth.effectiveRoles(tenantId, userId)) });
  const auth = createAuthService({ db, audit, clock, log, publicUrl: deps.config.publicUrl, findTenant: findTenantRef, changeMarker: database.changeMarker, secondFactor: mfa, passwordAllowed: (tenantId, userId) => ssoLogin.passwordAllowed(tenantId, userId) });
  const tenants = createTenantService({ db, audit, keyring, clock, identity: auth, signals: deps.signals });
  const operators = createOperatorService({ db, audit, clock });
  /** The one permission check for any caller: a user's roles, or a client's scopes. */
  const can = (actor: Actor, permission: string) => (actor.kind === 'client' ? clients.hasPermission(actor, permission) : auth.hasPermission(actor, permission));
  const grants = createRoleGrants({ db, audit, clock, can });
  const deactivate = createDeactivation({ audit, clock, signals: deps.signals, steps: [grants.cancelOnDeactivation, (...step) => custody.releaseOnDeactivation(...step), (...step) => requestLifecycle.cancelOnDeactivation(...step)] });
  const users = createUserService({ db, audit, clock, auth, can, deactivate, grants });
  const roles = createRoleService({ db, audit, clock, grants });
  const groups = createGroupService({ db, audit, clock, grants });
  const securityPolicy = createSecurityPolicyService({ db, audit, clock });
  const focalPoints = createFocalPointService({ db, audit, clock });
  const devices = createDeviceService({ db, audit, clock });
  const credentialPolicies = createCredentialPolicyService({ db, audit, clock, changeMarker: database.changeMarker });
  // Passwords people type (created, manual) are held to the credential policy that applies to them.
  // Callers without vault.credentials.read see what access policies grant them (a closure: access policies are wired below).
  const visibility = { seesAll: (actor: Actor) => can(actor, 'vault.credentials.read'), scopeOf: (actor: Actor) => accessPolicies.scopeOf(actor) };
  const credentials = createCredentialService({ db, audit, clock, keyring, owners: users, checkSecret: credentialPolicies.checkSecret, visibility });
  const credentialHistory = createCredentialHistoryService({ db, audit, clock, keyring });
  // Bulk import and export; imported secrets are sealed as credentials.service seals them (version 1, reason import).
  const transfer = createTransferService({ db, audit, clock, keyring, can });
  const accessPolicies = createAccessPolicyService({ db, audit, clock, changeMarker: database.changeMarker });
  const smtp = createSmtpSettingsService({ db, audit, clock, keyring, mailer: sendWithNodemailer });
  const notifications = createNotificationService({ db, clock, queue: createJobQueue({ db, dialect: database.dialect, clock }) });
  const notify: Notify = notifications.notify;
  const requestDeps = { db, audit, clock, notify, decisionFor: accessPolicies.decisionFor, can };
  const accessRequests = createAccessRequestService(requestDeps);
  const approvals = createApprovalService(requestDeps);
  const requestLifecycle = createRequestLifecycle(requestDeps);
  // A fresh TOTP code, spent like a login's (the same step is never accepted twice).
  const verifyStepUp = async (actor: Actor, code: string) => ((await mfa.isEnrolled(actor.tenantId!, actor.id)) ? (await mfa.verifyLogin(db, actor, actor.tenantId!, actor.id, code)) !== null : null);
  // Reveal and custody are governed by the access policies (the decision and approved requests), the credential policies (rotation after use), the permission check and the step-up.
  const useGovernance = { decisionFor: accessPolicies.decisionFor, can, rotatesAfter: credentialPolicies.rotatesAfter, approvalFor: requestLifecycle.usableApproval, verifyStepUp };
  // API clients reveal only what their explicit grants (credential ids, tags) cover; access policies govern users.
  const clientGrants = createClientGrantService({ db, audit, clock, can, existingCredentials: createCredentialRefs({ db }).existing });
  // One count of wrong step-up codes for reveal and checkout alike.
  const stepUps = createStepUpGuard({ clock });
  const reveal = createRevealService({ db, audit, clock, keyring, governance: { ...useGovernance, clientGrantsOf: clientGrants.grantsOf }, transact: createGroupCommit(database).transact, stepUps });
  const custody = createCustodyService({ db, audit, clock, keyring, governance: useGovernance, stepUps });
  const network = createNetworkPolicyService({ db, audit, clock });
  const ssoOidc = createSsoOidc();
  const ssoSettings = createSsoSettingsService({ db, audit, clock, keyring, oidc: ssoOidc, publicUrl: deps.config.publicUrl, assertHoldsEverything: grants.assertHoldsEverything });
  // A closure above breaks the cycle: password login asks SSO whether passwords are allowed; SSO opens sessions through auth.
  const ssoLogin = createSsoLoginService({ db, audit, clock, keyring, log, oidc: ssoOidc, publicUrl: deps.config.publicUrl, findTenant: findTenantRef, openSession: auth.openSession });
  const scim = createScimService({ db, audit, clock, deactivate, publicUrl: deps.config.publicUrl, assertHoldsEverything: grants.assertHoldsEverything });
  // SIEM receivers are tenant-named hosts too: the same guard as device targets judges their addresses.
  const siemDeliver = createDeliverRound(createTargetGuard({ allowCidrs: deps.config.targetAllowCidrs, denyCidrs: deps.config.targetDenyCidrs }));
  const siem = createSiemService({ db, audit, clock, keyring, deliver: siemDeliver });
  // Rotation requests and their history; the engine that runs them lives with background work (it dials targets).
  const rotations = createRotationService({ db, audit, clock, queue: createJobQueue({ db, dialect: database.dialect, clock }) });
  const clients = createClientService({ db, audit, clock, log, changeMarker: database.changeMarker, hasPermission: auth.hasPermission });
  const auditCheckpoints = createCheckpointService({ db, audit, clock, keyring, log });
  const auditTrail = createAuditService({ db, audit, checkpoints: auditCheckpoints });
  const auditExport = createAuditExportService({ db, audit, clock, checkpoints: auditCheckpoints, log });
  // Behaviour analytics reads the audit log after the fact (the leader's loop); alerts reach people through notify.
  const behaviour = createBehaviourService({ db, audit, clock });
  const behaviourConsumer = createBehaviourConsumer({ db, audit, clock, notify });
  // The compliance report reads every feature through its stores; SIEM health comes from the SIEM feature.
  const compliance = createComplianceService({ db, audit, clock, siemHealth: destinationHealth });
  // Network connectors: their live connections and the tunnels the target dialer sends connector-reached devices through.
  const connectors = createConnectorService({ db, audit, clock, log });
  // The one way to open connections to targets (checks, rotation): resolved once, every answer vetted; connector-reached devices go through the connectors' tunnels.
  const dialer = createTargetDialer({ allowCidrs: deps.config.targetAllowCidrs, denyCidrs: deps.config.targetDenyCidrs, tunnels: connectors.tunnels });
  const connectivity = createConnectivityService({ db, audit, clock, keyring, dial: dialer, log });
  // Snapshots read the store through their own connection (a consistent read that blocks no writer).
  const snapshotStore = deps.config.databaseUrl ? { dialect: 'postgres' as const, url: deps.config.databaseUrl } : { dialect: 'sqlite' as const, file: database.location };
  const snapshots = createSnapshotService({ db, store: snapshotStore, dir: deps.config.snapshotDir, rootKey: keyring.currentRootKey, audit, clock, version, signals: deps.signals, forget: keyring.forget });
  const maintenance = createMaintenanceService({ db, audit, clock, signals: deps.signals });
  return { maintenance, snapshots, rotations, connectors, dialer, connectivity, auditTrail, auditCheckpoints, auditExport, can, auth, mfa, tenants, operators, users, grants, roles, groups, securityPolicy, network, focalPoints, devices, credentials, credentialHistory, transfer, credentialPolicies, accessPolicies, accessRequests, approvals, requestLifecycle, reveal, custody, clients, clientGrants, deactivate, scim, notifications, smtp, siem, siemDeliver, behaviour, behaviourConsumer, compliance, sso: { settings: ssoSettings, login: ssoLogin, publicUrl: deps.config.publicUrl } };
}
export type Services = ReturnType<typeof createServices>;
