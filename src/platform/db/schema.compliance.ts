// Row types of the compliance report (migration 0022), apart so schema.ts stays under its size limit.

/** One review (attestation) of an access policy: who confirmed it is still right, when, and why. */
export interface AccessPolicyReviewTable {
  tenant_id: string;
  id: string;
  policy_id: string;
  reviewer_id: string;
  comment: string | null;
  reviewed_at: number;
}

/** The report kept for one tenant and one UTC day (YYYY-MM-DD); controls is JSON: id, status, score, offenderCount each. */
export interface ComplianceReportTable {
  tenant_id: string;
  day: string;
  score: number;
  controls: string;
  generated_at: number;
}

/** The compliance tables, merged into the database schema. */
export interface ComplianceSchema {
  access_policy_reviews: AccessPolicyReviewTable;
  compliance_reports: ComplianceReportTable;
}

/** Their names, for the list of tables that hold a tenant's rows. */
export const complianceTables = ['access_policy_reviews', 'compliance_reports'] as const;
