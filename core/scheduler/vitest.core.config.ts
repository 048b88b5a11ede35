import { defineConfig } from 'vitest/config';

// The scheduler core is pure: its tests need no local stack, so no globalSetup.
export default defineConfig({
  test: {
    include: ['core/scheduler/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
