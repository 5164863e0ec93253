// Row types of behaviour analytics (migration 0021), apart so schema.ts stays under its size limit.

/** How far a tenant's audit log has been read and scored (the last seq; written by the leader only). */
export interface BehaviourCursorTable {
  tenant_id: string;
  seq: number;
  updated_at: number;
}

/** One user's baseline as JSON (see Baseline in features/behaviour/behaviour.scoring.ts). */
export interface BehaviourBaselineTable {
  tenant_id: string;
  user_id: string;
  data: string;
  events: number;
  updated_at: number;
}

/** The score of one scored audit event (keyed by its seq) and the signals (JSON array) that fired. */
export interface BehaviourScoreTable {
  tenant_id: string;
  seq: number;
  user_id: string;
  action: string;
  occurred_at: number;
  score: number;
  signals: string;
  source_ip: string | null;
  target_id: string | null;
}

/** An alert: a score above the tenant's threshold; later ones of the user within the fold window join it. */
export interface BehaviourAlertTable {
  tenant_id: string;
  id: string;
  user_id: string;
  seq: number;
  last_seq: number;
  action: string;
  score: number;
  signals: string;
  event_count: number;
  occurred_at: number;
  status: 'open' | 'acknowledged';
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  comment: string | null;
  created_at: number;
  updated_at: number;
}

/** The behaviour tables, merged into the database schema. */
export interface BehaviourSchema {
  behaviour_cursors: BehaviourCursorTable;
  behaviour_baselines: BehaviourBaselineTable;
  behaviour_scores: BehaviourScoreTable;
  behaviour_alerts: BehaviourAlertTable;
}

/** Their names, for the list of tables that hold a tenant's rows. */
export const behaviourTables = ['behaviour_cursors', 'behaviour_baselines', 'behaviour_scores', 'behaviour_alerts'] as const;
