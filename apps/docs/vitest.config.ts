import { defineConfig } from 'vitest/config';

/**
 * The docs site's tests: they build the site with typedoc (tens of seconds) and drive Chromium, so
 * they get long timeouts and run one file at a time (the CI box has 2 cores).
 */
export default defineConfig({
  resolve: { conditions: ['@luzts/source'] },
  ssr: { resolve: { conditions: ['@luzts/source'] } },
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
