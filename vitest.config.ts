import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// Required, not imported: vite bundles an imported config dependency, and the builder's own require of esbuild with it.
const { buildDashboardPage, PAGE_MODULE } = createRequire(import.meta.url)(
  './ui/build.cjs',
) as typeof import('./ui/build.cjs');

/**
 * Two projects: `unit` (pure code and the agent on this machine, no stack) and
 * `integration` (test/: the real local stack — DynamoDB Local, serverless-offline,
 * local SNS — started once by test/global-setup.ts). `npx vitest run --project unit`
 * runs the fast half alone.
 */
export default defineConfig({
  // The dashboard page, built from ui/ as the functions' bundles get it (serverless.yml custom.esbuild.plugins).
  plugins: [
    {
      name: 'qm-dashboard-page',
      resolveId: (id: string) => (id === PAGE_MODULE ? `\0${PAGE_MODULE}` : undefined),
      load: (id: string) =>
        id === `\0${PAGE_MODULE}` ? `export default ${JSON.stringify(buildDashboardPage())};` : undefined,
    },
  ],
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // One file at a time: the integration files fire concurrent requests at one
    // serverless-offline on a 2-core machine, and must not starve each other.
    fileParallelism: false,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'core/**/*.test.ts',
            'agent/**/*.test.ts',
            'functions/**/*.test.ts',
            'adapters/**/*.test.ts',
            'scripts/**/*.test.ts',
            'ui/**/*.test.ts',
          ],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          // A loaded 2-core CI machine can take tens of seconds for a cold worker.
          testTimeout: 120_000,
        },
      },
    ],
  },
});
