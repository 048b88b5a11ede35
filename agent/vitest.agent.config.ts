import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The agent's tests need no local stack: run them alone, without test/global-setup.ts.
// npx vitest run agent --config agent/vitest.agent.config.ts
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['agent/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
