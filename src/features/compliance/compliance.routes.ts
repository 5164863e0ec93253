import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import { reportCsv } from './compliance.csv.js';
import { keptView, policyParams, reportQuery, reportsQuery, reportView, reviewBody, reviewView } from './compliance.schemas.js';
import type { ComplianceService } from './compliance.service.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse };

/** The compliance report (/api/v1/compliance/...) and the review action on access policies. */
export function registerComplianceRoutes(app: HttpApp, deps: { compliance: ComplianceService }): void {
  const { compliance } = deps;

  app.get('/compliance/report', {
    config: { permission: 'monitoring.compliance.read' },
    schema: {
      tags: ['compliance'], summary: 'Score each compliance control now and list its offenders (JSON; CSV with format=csv or Accept: text/csv)', security, querystring: reportQuery,
      response: { 200: reportView, ...errors },
    },
  }, async (request, reply) => {
    const report = await compliance.report(actorOf(request));
    const wantsCsv = request.query.format === 'csv' || (request.query.format === undefined && /\btext\/csv\b/.test(request.headers.accept ?? ''));
    if (!wantsCsv) return report;
    // A string with a non-JSON type is sent as it is, past the JSON response schema.
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="compliance-${report.generatedAt.slice(0, 10)}.csv"`).header('cache-control', 'no-store').send(reportCsv(report) as never);
  });

  app.get('/compliance/reports', {
    config: { permission: 'monitoring.compliance.read' },
    schema: { tags: ['compliance'], summary: 'The kept daily reports between two UTC days, newest first (the trend)', security, querystring: reportsQuery, response: { 200: z.object({ reports: z.array(keptView) }), ...errors } },
  }, async (request) => ({ reports: await compliance.kept(actorOf(request), request.query) }));

  app.post('/access-policies/:id/review', {
    config: { permission: 'access.policies.review' },
    schema: { tags: ['compliance'], summary: 'Record a review (attestation) of an access policy; the report counts it as reviewed from now', security, params: policyParams, body: reviewBody, response: { 201: z.object({ review: reviewView }), ...errors } },
  }, async (request, reply) => reply.status(201).send({ review: await compliance.review(actorOf(request), request.params.id, request.body ?? {}) }));
}
