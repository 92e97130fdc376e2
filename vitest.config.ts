import { defineConfig } from 'vitest/config';

/**
 * Shared test configuration. Tests run against package sources: the `@luzts/source`
 * export condition points every `@luzts/*` import at `src/index.ts`, so no build is needed.
 */
export default defineConfig({
  resolve: { conditions: ['@luzts/source'] },
  ssr: { resolve: { conditions: ['@luzts/source'] } },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
