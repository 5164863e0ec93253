import { readFileSync } from 'node:fs';

/** The release version, from package.json, reported by /v1/health and the CLI. */
export const version: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
