import { defineConfig } from 'vitest/config';

// Integration tests share one local stack (DynamoDB Local + serverless-offline + local SNS),
// started once by test/global-setup.ts on ports of their own.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.esbuild/**', '.serverless/**', '.cache/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // One file at a time: the integration files fire concurrent requests at one
    // serverless-offline on a 2-core machine, and must not starve each other.
    fileParallelism: false,
  },
});
