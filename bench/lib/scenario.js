// Loads a TypeScript scenario (sim/*.ts) the way the CLI does — through tsx — but bound to the BUILT
// package: the repo's tsconfig maps `geventjs` to src/index.ts (for tests and editors), and tsx honours
// those paths, so a plain register() would run the scenario on a second copy of the library compiled
// from source. Here tsx gets a tsconfig of its own whose only path maps `geventjs` to the dist under
// test (dist/index.js, GEVENTJS_DIST or --dist), so the scenario and runScenario share one build.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, distPath, importDist } from './common.js';

/**
 * Imports `file` (relative to the repo root) through tsx with `geventjs` resolved to the build under
 * test; resolves with `{ scenario, gevent, dist }` (the default export, the dist module, its path).
 */
export async function loadScenario(file, distOverride) {
  const dist = distPath(distOverride);
  const gevent = await importDist(distOverride);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geventjs-bench-'));
  const tsconfig = path.join(dir, 'tsconfig.json');
  fs.writeFileSync(
    tsconfig,
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', paths: { geventjs: [dist] } } }),
  );
  const imported = [];
  const { register } = await import('tsx/esm/api');
  register({ tsconfig, onImport: (url) => imported.push(url) });
  let mod;
  try {
    mod = await import(pathToFileURL(path.resolve(ROOT, file)).href);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // a scenario that reached src/ would be measuring the sources, not the build: refuse
  const srcDir = pathToFileURL(path.join(ROOT, 'src') + path.sep).href;
  const stray = imported.filter((u) => u.startsWith(srcDir));
  if (stray.length > 0) throw new Error(`${file} imported ${stray[0]} instead of the build ${dist}`);
  if (!gevent.isScenario(mod.default)) throw new Error(`${file}: its default export is not a scenario`);
  return { scenario: mod.default, gevent, dist };
}
