import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { DomainError } from '../../platform/errors.js';
import { errorResponse } from '../identity/auth.schemas.js';
import { exportQuery, importBody, importRefused, importResult } from './transfer.schemas.js';
import type { TransferService } from './transfer.service.js';

const security = [{ tenantToken: [] }];

/** Bulk import (POST /api/v1/import) and export (GET /api/v1/export) of the tenant's devices and credentials. */
export function registerTransferRoutes(app: HttpApp, deps: { transfer: TransferService }): void {
  const { transfer } = deps;

  app.post('/import', {
    // The service also requires vault.devices.write: an import creates devices.
    config: { permission: 'vault.credentials.write' },
    schema: {
      tags: ['transfer'], summary: 'Import devices and credentials from a JSON or CSV file (all rows or none; dryRun only checks); answers 400 IMPORT_INVALID with a per-row report', security,
      body: importBody, response: { 200: importResult, 400: importRefused, 403: errorResponse, 409: errorResponse },
    },
  }, async (request, reply) => {
    try {
      return await transfer.importFile(actorOf(request), request.body);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'IMPORT_INVALID') {
        const errors = (error.details?.errors ?? []) as unknown[];
        return reply.status(400).send({ ok: false, errors, error: { code: error.code, message: error.message, details: { total: error.details?.total } }, requestId: request.id } as never);
      }
      throw error;
    }
  });

  app.get('/export', {
    // The service also requires vault.devices.read: every export names devices.
    config: { permission: 'vault.credentials.read' },
    schema: { tags: ['transfer'], summary: 'Export devices or credentials as JSON or CSV in the import format: metadata only, never a secret', security, querystring: exportQuery, response: { 400: errorResponse, 403: errorResponse } },
  }, async (request, reply) => {
    const file = await transfer.exportData(actorOf(request), request.query);
    return reply.type(file.contentType).header('content-disposition', `attachment; filename="${file.filename}"`).header('cache-control', 'no-store').send(file.body as never);
  });
}
