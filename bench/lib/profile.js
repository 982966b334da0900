// The profiling aid: `node bench/switch.js --profile [...]` (or spawn.js) runs one contender once under --cpu-prof and
// prints the functions with the most self time (dist locations mapped back to src/ through the
// source maps). The .cpuprofile stays in bench/profiles/ for Chrome DevTools or speedscope.
import { spawn as spawnChild } from 'node:child_process';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';
import { BENCH_DIR, ROOT, progress } from './common.js';

/**
 * Re-runs `script` (a bench child) with `argv` minus the profiling options, once (`--runs 1`, no
 * warm-up unless `--warmup` is given), under --cpu-prof; then prints the top functions by self time.
 * `nodeFlags` go to the profiled node (e.g. `--no-turbo-inlining`). Resolves with the profile's path
 * and its parsed contents, for callers that summarise it further.
 */
export async function profile(scriptUrl, argv, args, nodeFlags = []) {
  const dir = path.join(BENCH_DIR, 'profiles');
  fs.mkdirSync(dir, { recursive: true });
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--profile') continue;
    if (a === '--top' || a === '--interval' || a === '--runs') {
      i++;
      continue;
    }
    rest.push(a);
  }
  if (!rest.includes('--warmup')) rest.push('--warmup', '0');
  rest.push('--runs', '1');
  const script = fileURLToPath(scriptUrl);
  const name = `${path.basename(script, '.js')}-${args.contender}-${Date.now()}.cpuprofile`;
  const childArgs = [
    '--expose-gc',
    ...nodeFlags,
    '--cpu-prof',
    '--cpu-prof-dir', dir,
    '--cpu-prof-name', name,
    ...(args.interval ? ['--cpu-prof-interval', String(args.interval)] : []),
    script,
    ...rest,
  ];
  progress(`node ${childArgs.join(' ')}`);
  const code = await new Promise((resolve, reject) => {
    const p = spawnChild(process.execPath, childArgs, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', reject);
    p.on('close', resolve);
  });
  if (code !== 0) throw new Error(`profiled run failed (exit ${code})`);
  const file = path.join(dir, name);
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const top = summarizeProfile(prof, args.top ?? 15);
  console.log(`profile: ${path.relative(ROOT, file)}  (${top.totalMs.toFixed(0)} ms sampled; self time, top ${top.rows.length})`);
  console.log('  self ms     %   function  (location)');
  for (const r of top.rows) {
    console.log(`${r.ms.toFixed(1).padStart(8)} ${r.pct.toFixed(1).padStart(5)}   ${r.fn}  (${r.where})`);
  }
  return { file, prof };
}

const maps = new Map();
function sourceMapFor(url) {
  if (maps.has(url)) return maps.get(url);
  let sm = null;
  try {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    const mapFile = `${file}.map`;
    if (fs.existsSync(mapFile)) sm = { dir: path.dirname(mapFile), map: new SourceMap(JSON.parse(fs.readFileSync(mapFile, 'utf8'))) };
  } catch {
    sm = null;
  }
  maps.set(url, sm);
  return sm;
}

function location(cf) {
  if (!cf.url) return '';
  const sm = sourceMapFor(cf.url);
  if (sm !== null) {
    const e = sm.map.findEntry(cf.lineNumber, cf.columnNumber);
    if (e && e.originalSource) {
      const src = path.relative(ROOT, path.resolve(sm.dir, e.originalSource.replace(/^file:\/\//, '')));
      return `${src}:${e.originalLine + 1}`;
    }
  }
  const file = cf.url.startsWith('file:') ? path.relative(ROOT, fileURLToPath(cf.url)) : cf.url;
  return `${file}:${cf.lineNumber + 1}`;
}

/** Self time per function (aggregated over the profile's call tree), largest first. */
export function summarizeProfile(prof, n) {
  const byId = new Map(prof.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  for (let k = 0; k < prof.samples.length; k++) {
    // the time until the next sample is spent in this sample's node
    const dt = (k + 1 < prof.timeDeltas.length ? prof.timeDeltas[k + 1] : 0) / 1000;
    const id = prof.samples[k];
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  }
  const agg = new Map();
  for (const [id, ms] of self) {
    const cf = byId.get(id).callFrame;
    const fn = cf.functionName || '(anonymous)';
    const where = location(cf);
    const key = `${fn}\u0000${where}`;
    const row = agg.get(key) ?? { fn, where, ms: 0 };
    row.ms += ms;
    agg.set(key, row);
  }
  const rows = [...agg.values()].sort((a, b) => b.ms - a.ms).slice(0, n);
  for (const r of rows) r.pct = (100 * r.ms) / total;
  return { totalMs: total, rows };
}
