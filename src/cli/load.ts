/**
 * Loading user modules for the CLI and the explore workers: TypeScript goes through tsx.
 */
import { basename, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from './args.js';

const TS = ['.ts', '.mts', '.cts', '.tsx'];
let tsxRegistered = false;

/**
 * Imports a user module by path and returns its exports; a TypeScript file registers tsx's loaders
 * first (once per thread: a worker thread has its own module loader and registers its own).
 *
 * A `.ts` file in a package without `"type": "module"` is CommonJS to Node, as it is to `tsx file.ts`:
 * tsx compiles its `import`/`export` to `require`/`exports`, and the default export is found through
 * the `__esModule` marker. CommonJS has no top-level await, so a module-level program there is a usage
 * error that says what to change (Node's own message is about a require cycle).
 * @example
 * const mod = await importFile('/abs/path/sim/echo.ts');
 * isScenario(mod.default); // true
 */
export async function importFile(file: string): Promise<Record<string, unknown>> {
  const ts = TS.includes(extname(file));
  if (ts && !tsxRegistered) {
    const esm = (await import('tsx/esm/api')) as { register(): unknown };
    const cjs = (await import('tsx/cjs/api')) as { register(): unknown };
    esm.register();
    cjs.register();
    tsxRegistered = true;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    if (ts && isTopLevelAwaitInCommonJs(e)) {
      const name = basename(file);
      throw new UsageError(
        `${name} uses top-level await, but it is loaded as CommonJS (the nearest package.json has no "type": "module"): ` +
          `add "type": "module" to that package.json, or rename the file to ${name.replace(/\.[^.]+$/, '.mts')}`,
      );
    }
    throw e;
  }
  // CommonJS compiled from ES module syntax: Node's namespace has the exports object as `default`
  const exportsObject = mod.default as Record<string, unknown> | null | undefined;
  if (typeof exportsObject === 'object' && exportsObject !== null && exportsObject.__esModule === true) return exportsObject;
  return mod;
}

/** What Node and tsx raise when a file compiled to CommonJS has a top-level await. */
function isTopLevelAwaitInCommonJs(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  return (
    code === 'ERR_REQUIRE_ASYNC_MODULE' ||
    code === 'ERR_REQUIRE_CYCLE_MODULE' ||
    e.message.includes('Top-level await is currently not supported with the "cjs" output format')
  );
}
