import { defineConfig } from 'vitest/config';

// Tests run in forked processes: native modules (better-sqlite3, argon2) and child servers behave as in production.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
