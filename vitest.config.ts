import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/**/*.test.ts',
      'functions/**/*.test.ts',
      'shared/**/*.test.ts',
      'infra/**/*.test.ts',
      'events/**/*.test.ts',
    ],
    exclude: ['test/bench/**', 'node_modules/**'],
    // One DynamoDB Local JVM for every integration test file; each file creates its own tables.
    globalSetup: ['test/support/global-setup.ts'],
    // Scans everything test processes print for personal data in clear (test/support/pii-scan.ts).
    setupFiles: ['test/support/pii-guard.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
