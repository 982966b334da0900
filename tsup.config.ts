import { defineConfig } from 'tsup';

// One package, ESM + CJS + .d.ts. The CLI and the explore workers are Node drivers and get their own
// entries; everything reachable from `src/index.ts` except the real-TCP adapter stays free of Node
// built-ins so the same engine runs in Chromium (`src/browser.ts` has no TCP at all).
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    browser: 'src/browser.ts',
    cli: 'src/cli/index.ts',
    'explore-worker': 'src/cli/explore-worker.ts',
    vitest: 'src/vitest.ts',
  },
  format: ['esm', 'cjs'],
  // the declarations use Symbol.dispose and Disposable (locks, Timeout, sockets): name their lib, so
  // a project compiles them without @types/node or lib esnext (a browser project, or `types: []`)
  dts: { banner: '/// <reference lib="esnext.disposable" />' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  // import.meta.url in the CJS build of the CLI (its worker path, its version) needs the shim
  shims: true,
});
