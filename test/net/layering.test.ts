/**
 * The layering rule of the network: the real-TCP adapter is the only module below the CLI that imports
 * a Node built-in, and the browser entry cannot reach it.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)) {
    out.push((m[1] ?? m[2])!);
  }
  return out;
}

function isBuiltin(spec: string): boolean {
  return spec.startsWith('node:') || builtinModules.includes(spec);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('layering', () => {
  it('in the network layers and below them, only src/net/tcp.ts imports a Node built-in', () => {
    const layers = ['core/', 'sync/', 'net/', 'socket/', 'server/'];
    const offenders = tsFiles(src)
      .filter((f) => layers.some((l) => relative(src, f).startsWith(l)))
      .filter((f) => imports(f).some(isBuiltin))
      .map((f) => relative(root, f));
    expect(offenders).toEqual(['src/net/tcp.ts']);
  });

  it('the browser entry reaches no Node built-in and not the TCP adapter', () => {
    const seen = new Set<string>();
    const builtins: string[] = [];
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of imports(file)) {
        if (isBuiltin(spec)) builtins.push(`${relative(root, file)} -> ${spec}`);
        else if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
    };
    visit(join(src, 'browser.ts'));
    expect(builtins).toEqual([]);
    expect([...seen].map((f) => relative(root, f))).not.toContain('src/net/tcp.ts');
    expect([...seen].map((f) => relative(root, f))).toContain('src/net/fabric.ts');
  });
});
