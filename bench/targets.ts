// Issue 6's budgets: 200 accounts rotated on one real sshd at concurrency 8 (every one verified), and 1,000
// connectivity checks a minute on one node without delaying API requests, on each database.
import type { Cleanup } from './cleanup.js';
import { benchConnectivity } from './connectivity.js';
import type { Verdict } from './report.js';
import { benchSshRotation } from './ssh-rotation.js';

type Database = 'sqlite' | 'postgres';

/** The target budgets of one run; each database's server stops before the next starts. */
export async function benchTargets(databases: Database[], repoRoot: string, cleanup: Cleanup, progress: (line: string) => void) {
  const lines: string[] = [];
  const figures: Record<string, number> = {};
  const verdicts: Verdict[] = [];
  for (const admin of [false, true]) {
    progress(`[targets] rotating 200 accounts on one sshd, concurrency 8 (${admin ? 'sudo chpasswd' : 'passwd'})`);
    const rotation = await benchSshRotation({ admin });
    lines.push(...rotation.lines);
    const mode = admin ? 'chpasswd' : 'passwd';
    for (const [key, value] of Object.entries(rotation.figures)) figures[`${key}_${mode}`] = value;
    if (rotation.figures.sshRotations !== undefined) {
      verdicts.push({ name: `ssh rotations verified (${mode}, 200 of 200)`, actual: rotation.figures.sshRotationsVerified!, limit: rotation.figures.sshRotations, pass: rotation.figures.sshRotationsVerified === rotation.figures.sshRotations });
    }
  }
  for (const database of databases) {
    const mark = cleanup.mark();
    try {
      const result = await benchConnectivity({ database, repoRoot, cleanup, progress });
      lines.push(...result.lines);
      Object.assign(figures, result.figures);
      verdicts.push(...result.verdicts);
    } finally {
      await cleanup.unwind(mark);
    }
  }
  return { lines, figures, verdicts };
}
