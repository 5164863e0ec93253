import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { FatalConfigError } from '../platform/errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One server per SQLite data directory: two would both lead and both run the scheduled work. A lock file
 * left by a process that died is taken over. (On PostgreSQL, many nodes are the point; leader election decides.)
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'server.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new FatalConfigError('SERVER_RUNNING', `Another Custos server (pid ${pid}) is using ${dataDir}. Stop it first, or use PostgreSQL (CUSTOS_DATABASE_URL) to run several nodes.`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new FatalConfigError('SERVER_RUNNING', `Could not take the server lock ${file}; remove it if no server is running.`);
}
