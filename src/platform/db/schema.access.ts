// Row types of the access-request tables (migration 0016), apart so schema.ts stays readable.

/** What stage n of a request needs: each constraint's count of approvals from its approvers (fixed at request time). */
export interface StoredStage {
  level: number;
  constraints: { required: number; approverIds: string[]; policyIds: string[] }[];
}

/**
 * A request to use a credential. status: pending (waiting for stage `stage`), approved (usable from valid_from to
 * valid_until), denied, cancelled (by the requester, or their deactivation), expired (undecided by expires_at,
 * or an approval whose window ended). requirements is the JSON of StoredStage[].
 */
export interface AccessRequestTable {
  tenant_id: string;
  id: string;
  requester_id: string;
  credential_id: string;
  action: 'reveal' | 'session' | 'history';
  justification: string;
  status: 'pending' | 'approved' | 'denied' | 'cancelled' | 'expired';
  emergency: number;
  stage: number;
  requirements: string;
  policy_ids: string;
  valid_minutes: number;
  requested_from: number | null;
  requested_to: number | null;
  expires_at: number;
  valid_from: number | null;
  valid_until: number | null;
  decided_at: number | null;
  decided_by: string | null;
  created_at: number;
  updated_at: number;
}

/** A person who may decide stage `level` of a request. */
export interface AccessRequestApproverTable {
  tenant_id: string;
  request_id: string;
  level: number;
  user_id: string;
}

/** One person's decision on a request, at the stage it was pending in. */
export interface AccessRequestDecisionTable {
  tenant_id: string;
  request_id: string;
  user_id: string;
  level: number;
  decision: 'approve' | 'deny';
  comment: string | null;
  created_at: number;
}

/** The access-request tables, merged into the database schema. */
export interface AccessRequestSchema {
  access_requests: AccessRequestTable;
  access_request_approvers: AccessRequestApproverTable;
  access_request_decisions: AccessRequestDecisionTable;
}

/** Their names, for the list of tables that hold a tenant's rows. */
export const accessRequestTables = ['access_requests', 'access_request_approvers', 'access_request_decisions'] as const;
