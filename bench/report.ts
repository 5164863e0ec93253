import type { Measurement } from './load.js';

/** One budget and whether this run met it. */
export interface Verdict {
  name: string;
  actual: number;
  limit: number;
  pass: boolean;
}

/**
 * The budgets: `me` (the token check) keeps half the baseline's throughput and a p99 of at most 5 ms
 * (foundation); login reaches 80% of the argon2id-bound limit measured in the same run (identity).
 */
export const budgets = { minThroughputRatio: 0.5, maxP99Ms: 5, minLoginRatio: 0.8 };

/** Judges `me` against the baseline and login against argon2id, both measured in the same run. */
export function judge(baseline: Measurement, me: Measurement, login: { hashesPerSec: number; loginsPerSec: number }): { ratio: number; verdicts: Verdict[] } {
  const ratio = me.reqPerSec / baseline.reqPerSec;
  const loginRatio = login.loginsPerSec / login.hashesPerSec;
  return {
    ratio,
    verdicts: [
      { name: 'me req/s >= 50% of baseline', actual: ratio, limit: budgets.minThroughputRatio, pass: ratio >= budgets.minThroughputRatio },
      { name: 'me p99 <= 5 ms', actual: me.p99Ms, limit: budgets.maxP99Ms, pass: me.p99Ms <= budgets.maxP99Ms },
      { name: 'logins/s >= 80% of argon2id verifications/s', actual: loginRatio, limit: budgets.minLoginRatio, pass: loginRatio >= budgets.minLoginRatio },
    ],
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  // Text columns left, figures right, so digits line up.
  return rows
    .map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('   '))
    .join('\n');
}

/** The human report: the baseline, one row per route with its ratio to the baseline, then one line per budget. */
export function formatReport(baseline: Measurement, routes: Measurement[], judged: ReturnType<typeof judge>): string {
  const cpu = (m: Measurement) => (m.cpuUsPerRequest === undefined ? 'n/a' : m.cpuUsPerRequest.toFixed(0));
  const row = (m: Measurement) => [m.name, m.reqPerSec.toFixed(0), (m.reqPerSec / baseline.reqPerSec).toFixed(2), m.p50Ms.toFixed(2), m.p99Ms.toFixed(2), m.maxMs.toFixed(1), cpu(m), String(m.requests)];
  const lines = [
    table([['route', 'req/s', 'vs baseline', 'p50 ms', 'p99 ms', 'max ms', 'cpu us/req', 'requests'], row(baseline), ...routes.map(row)]),
    '',
    ...judged.verdicts.map((v) => `${v.pass ? 'PASS' : 'FAIL'}  ${v.name}  (actual ${v.actual.toFixed(2)}, limit ${v.limit})`),
  ];
  return lines.join('\n');
}

/** The one-line machine summary; `health` is informational (no budget). */
export function summaryLine(baseline: Measurement, me: Measurement, health: Measurement, judged: ReturnType<typeof judge>, context: Record<string, unknown>): string {
  const round = (m: Measurement) => ({
    reqPerSec: Math.round(m.reqPerSec),
    p50Ms: +m.p50Ms.toFixed(3),
    p99Ms: +m.p99Ms.toFixed(3),
    maxMs: +m.maxMs.toFixed(3),
    cpuUsPerRequest: m.cpuUsPerRequest === undefined ? null : Math.round(m.cpuUsPerRequest),
    requests: m.requests,
  });
  return `bench-result: ${JSON.stringify({
    ...context,
    baseline: round(baseline),
    me: round(me),
    ratio: +judged.ratio.toFixed(3),
    health: { ...round(health), ratio: +(health.reqPerSec / baseline.reqPerSec).toFixed(3) },
    budgets: judged.verdicts.map((v) => ({ name: v.name, actual: +v.actual.toFixed(3), limit: v.limit, pass: v.pass })),
    pass: judged.verdicts.every((v) => v.pass),
  })}`;
}
