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

/**
 * The vault's budgets (SQLite and PostgreSQL alike, a tenant of 100,000 credentials and 1,000 access policies):
 * reveal (token check, policy evaluation, decrypt, audit append) keeps a quarter of the baseline's throughput with a
 * p99 of at most 10 ms at 10 connections; a filtered credential list page answers within 20 ms at p95.
 */
export const vaultBudgets = { minRevealRatio: 0.25, maxRevealP99Ms: 10, maxListP95Ms: 20 };

/** Judges reveal against the baseline measured interleaved with it, and the list page's p95, on one database. */
export function judgeVault(database: string, baseline: Measurement, reveal: Measurement, list: Measurement): { ratio: number; verdicts: Verdict[] } {
  const ratio = reveal.reqPerSec / baseline.reqPerSec;
  return {
    ratio,
    verdicts: [
      { name: `${database}: reveal req/s >= 25% of baseline`, actual: ratio, limit: vaultBudgets.minRevealRatio, pass: ratio >= vaultBudgets.minRevealRatio },
      { name: `${database}: reveal p99 <= 10 ms`, actual: reveal.p99Ms, limit: vaultBudgets.maxRevealP99Ms, pass: reveal.p99Ms <= vaultBudgets.maxRevealP99Ms },
      { name: `${database}: credential list page p95 <= 20 ms`, actual: list.p95Ms, limit: vaultBudgets.maxListP95Ms, pass: list.p95Ms <= vaultBudgets.maxListP95Ms },
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
export function formatReport(baseline: Measurement, routes: Measurement[], judged: { verdicts: Verdict[] }): string {
  const cpu = (m: Measurement) => (m.cpuUsPerRequest === undefined ? 'n/a' : m.cpuUsPerRequest.toFixed(0));
  const row = (m: Measurement) => [m.name, m.reqPerSec.toFixed(0), (m.reqPerSec / baseline.reqPerSec).toFixed(2), m.p50Ms.toFixed(2), m.p95Ms.toFixed(2), m.p99Ms.toFixed(2), m.maxMs.toFixed(1), cpu(m), String(m.requests)];
  const lines = [
    table([['route', 'req/s', 'vs baseline', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'cpu us/req', 'requests'], row(baseline), ...routes.map(row)]),
    '',
    ...judged.verdicts.map((v) => `${v.pass ? 'PASS' : 'FAIL'}  ${v.name}  (actual ${v.actual.toFixed(2)}, limit ${v.limit})`),
  ];
  return lines.join('\n');
}

/** A measurement rounded for the machine summary. */
export function rounded(m: Measurement) {
  return {
    reqPerSec: Math.round(m.reqPerSec),
    p50Ms: +m.p50Ms.toFixed(3),
    p95Ms: +m.p95Ms.toFixed(3),
    p99Ms: +m.p99Ms.toFixed(3),
    maxMs: +m.maxMs.toFixed(3),
    cpuUsPerRequest: m.cpuUsPerRequest === undefined ? null : Math.round(m.cpuUsPerRequest),
    requests: m.requests,
  };
}

/** The one-line machine summary: the context, every figure, every verdict, and whether all passed. */
export function summaryLine(context: Record<string, unknown>, figures: Record<string, unknown>, verdicts: Verdict[]): string {
  return `bench-result: ${JSON.stringify({
    ...context,
    ...figures,
    budgets: verdicts.map((v) => ({ name: v.name, actual: +v.actual.toFixed(3), limit: v.limit, pass: v.pass })),
    pass: verdicts.every((v) => v.pass),
  })}`;
}
