import { inertCell, writeCsv } from '../transfer/csv.js';
import type { ComplianceReport } from './compliance.controls.js';

const HEADER = ['control', 'title', 'status', 'score', 'offender_count', 'offender_type', 'offender_id', 'offender_label', 'offender_detail'];

/**
 * The report as CSV (RFC 4180, CRLF): one row per listed offender, one row for a control without offenders, and a
 * first row "overall" with the score. Every cell that a spreadsheet would read as a formula is made inert.
 */
export function reportCsv(report: Omit<ComplianceReport, 'generatedAt'> & { generatedAt: string }): string {
  const rows: string[][] = [HEADER, ['overall', `Compliance report ${report.generatedAt}`, '', String(report.score), '', '', '', '', '']];
  for (const c of report.controls) {
    const head = [c.id, c.title, c.status, String(c.score), String(c.offenderCount)];
    if (c.offenders.length === 0) rows.push([...head, '', '', '', '']);
    for (const o of c.offenders) rows.push([...head, o.type, o.id, o.label, o.detail]);
  }
  return writeCsv(rows.map((r) => r.map(inertCell)));
}
