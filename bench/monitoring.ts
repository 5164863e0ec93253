// Issue 5's budgets, each measured in-process against its own scratch database: SIEM forwarding to a real rsyslog,
// audit verify and filtered search over 1,000,000 events, plus behaviour scoring and the compliance report (info).
import { benchAudit } from './audit.js';
import { benchBehaviour } from './behaviour.js';
import { benchCompliance } from './compliance.js';
import type { Verdict } from './report.js';
import { SIEM_BUDGET_EVENTS_PER_SEC, benchSiem } from './siem.js';

type Database = 'sqlite' | 'postgres';

/** The monitoring budgets of one run; figures keyed by name, verdicts judged against the limits. */
export async function benchMonitoring(databases: Database[], progress: (line: string) => void) {
  const lines: string[] = [];
  const figures: Record<string, number> = {};
  const verdicts: Verdict[] = [];
  const take = (result: { lines: string[]; figures: Record<string, number> }) => {
    lines.push(...result.lines);
    Object.assign(figures, result.figures);
  };

  progress('[monitoring] forwarding 100,000 events to rsyslog over TCP');
  take(await benchSiem());
  verdicts.push({ name: 'siem forwarding events/s (>= 20000)', actual: figures.siemEventsPerSec!, limit: SIEM_BUDGET_EVENTS_PER_SEC, pass: figures.siemEventsPerSec! >= SIEM_BUDGET_EVENTS_PER_SEC });
  for (const database of databases) {
    progress(`[monitoring] ${database}: seeding 1,000,000 audit events, verify and search`);
    take(await benchAudit({ database }));
    const rate = figures[`audit_verify_events_per_s_${database}`]!;
    const p95 = figures[`audit_search_p95_ms_${database}`]!;
    verdicts.push({ name: `${database} audit verify events/s (>= 200000)`, actual: rate, limit: 200_000, pass: rate >= 200_000 });
    verdicts.push({ name: `${database} audit search page p95 ms (<= 50)`, actual: p95, limit: 50, pass: p95 <= 50 });
    progress(`[monitoring] ${database}: behaviour scoring and the compliance report`);
    take(await benchBehaviour({ database }));
    take(await benchCompliance({ database }));
  }
  return { lines, figures, verdicts };
}
