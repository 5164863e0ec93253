/** Who is acting: passed first to every service function and written into every audit event. */
export interface Actor {
  /** scim: a tenant's identity provider through its SCIM token (id: the token's id). */
  kind: 'user' | 'client' | 'operator' | 'system' | 'scim';
  tenantId?: string;
  id: string;
  ip?: string | null;
  /** The session the request came with, when it came with one (logout ends it). */
  sessionId?: string;
  /** What the session must do before anything else works (the tenant's policy); absent for a normal session. */
  restriction?: SessionRestriction;
}

/** A session that may only enrol an authenticator, or only change an expired password (plus me and logout). */
export type SessionRestriction = 'mfa_enrolment' | 'password_change';

/** The scope that holds operator-plane records (its own audit chain and data key), never a tenant. */
export const SYSTEM_SCOPE = '00000000-0000-0000-0000-000000000000';

/** The actor for work the server does on its own (jobs, start-up). */
export const systemActor: Actor = { kind: 'system', id: 'custos' };
