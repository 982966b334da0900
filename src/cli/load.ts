/**
 * Loading user modules for the CLI and the explore workers: TypeScript goes through tsx.
 */
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';

const TS = ['.ts', '.mts', '.cts', '.tsx'];
let tsxRegistered = false;

/**
 * Imports a user module by path; a TypeScript file registers tsx's loader first (once per thread:
 * a worker thread has its own module loader and registers its own).
 * @example
 * const mod = await importFile('/abs/path/sim/echo.ts');
 * isScenario(mod.default); // true
 */
export async function importFile(file: string): Promise<Record<string, unknown>> {
  if (TS.includes(extname(file)) && !tsxRegistered) {
    const api = (await import('tsx/esm/api')) as { register(): unknown };
    api.register();
    tsxRegistered = true;
  }
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}
