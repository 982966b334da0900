import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  resolve: {
    // tests and the scenarios they load run against the sources; the build has its own tests
    alias: [
      { find: /^geventjs$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^geventjs\/vitest$/, replacement: fileURLToPath(new URL('./src/vitest.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
