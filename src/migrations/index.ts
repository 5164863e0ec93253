import type { Migration } from 'kysely';
import * as foundation from './0001_foundation.js';
import * as securityPolicy from './0002_security_policy.js';
import * as focalPoints from './0003_focal_points.js';
import * as mfa from './0004_mfa.js';

/** Every schema change in order; names are permanent once released (expand/contract rules: docs/architecture.md). */
export const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_security_policy': securityPolicy,
  '0003_focal_points': focalPoints,
  '0004_mfa': mfa,
};
