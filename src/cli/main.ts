/**
 * The `geventjs` command (a Node driver: the only layer besides the TCP adapter that uses Node built-ins).
 *
 *   geventjs run <file> [--seed N] [--faults preset] [--real] [--json] [--trace file] [--<option> value]
 *   geventjs explore <scenario> --seeds A..B [--workers N] [--shard i/n] [--faults preset] [--all] [--json]
 *
 * Exit codes: 0 ok; 1 failure, uncaught error or LoopExit (with its report); 2 usage; 130 on SIGINT.
 */
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import { resolve, relative } from 'node:path';
import { rt } from '../core/runtime.js';
import { Hub, defaultReporter, type Mode, type Reporter, type NeverRan } from '../core/hub.js';
import { formatEvent } from '../core/trace.js';
import { LoopExit } from '../core/errors.js';
import { isScenario, parseScenarioOptions, runScenario, type Scenario } from '../sim/scenario.js';
import { parseArgs, parseSeed, UsageError } from './args.js';
import { importFile } from './load.js';
import { cmdExplore, parseFaults, EXPLORE_FLAGS, EXPLORE_BOOLEANS } from './explore.js';
import { FAULT_PRESETS, replayCommand as seedReplay, type FaultPreset } from './seed.js';

const HELP = `geventjs — gevent's programming model on a deterministic simulator

Usage:
  geventjs run <file> [--seed N] [--faults preset] [--real] [--json] [--trace file] [--<option> value ...]
      Runs a scenario (a module whose default export is defineScenario(...)) or a plain program
      (module-level code) on a fresh hub. Scenario options are given as --<option> value.
  geventjs explore <scenario> --seeds A..B [--workers N] [--shard i/n] [--faults preset] [--all]
                   [--json] [--<option> value ...]
      Runs a scenario once per seed of the inclusive range A..B, each seed on a fresh sim-mode hub,
      in worker threads, and prints every failing seed with its error and a replay command
      (geventjs run <scenario> --seed N ...). Stops at the lowest failing seed unless --all.
  geventjs --help | --version

Flags of run:
  --seed N        seed of the hub's PRNG (default: GEVENTJS_SEED or 1)
  --faults preset faults drawn from the seed (sim mode; default none):
                  ${FAULT_PRESETS.join(', ')}
  --real          real time and real TCP (same as GEVENTJS_MODE=real); default is simulation
  --json          print one JSON object with the result on stdout (program output goes to stderr)
  --trace file    write every trace event to <file>, one JSON object per line

Flags of explore:
  --seeds A..B    the seeds to run, inclusive (or a single seed)
  --workers N     worker threads (default: one per core); the findings do not depend on N
  --shard i/n     run only shard i of n (1-based): the seeds A+i-1, A+i-1+n, A+i-1+2n, ... so n
                  CI machines can split one sweep; every seed falls in exactly one shard
  --faults preset as for run; the replay commands carry it
  --all           run every seed and list every failure (default: stop at the first failure and
                  report the lowest failing seed — the same one whatever the number of workers)
  --json          one JSON object on stdout: { scenario, file, seeds: [A, B], shard, faults, options,
                  workers, ran, failures: [{ seed, error, replay }], wallMs, seedsPerSecond, ok }
  A progress bar (seeds done, failures, seeds/s) is drawn on stderr when it is a terminal.
  A seed fails when the scenario throws, on LoopExit, or when a greenlet dies of an error nobody
  handled. The scenario's console output is silenced in the workers: replay a seed to see it.

Examples:
  geventjs explore sim/echo.ts --seeds 1..100 --faults chaos --clients 10   # finds echo's framing bug
  geventjs explore sim/kv.ts --seeds 1..10000 --faults partitions --all --json > found.json
  geventjs explore sim/kv-fixed.ts --seeds 1..10000 --faults all --shard 2/4  # CI machine 2 of 4

In a test suite (vitest), the same sweep in-process:
  import { simTest } from 'geventjs/vitest';
  import echo from '../sim/echo-framed.js';
  simTest('echo-framed survives chaos', echo, { seeds: '1..200', faults: 'chaos', file: 'sim/echo-framed.ts' });
  // a failure's message carries the seed, the scenario's error and the replay command

Exit codes: 0 ok, 1 failure / uncaught error / LoopExit (explore: a failing seed), 2 usage error,
130 interrupted.`;

const KNOWN = ['seed', 'real', 'json', 'trace', 'help', 'version', 'mode', 'faults'];
const BOOLEANS = ['real', 'json', 'help', 'version'];

interface Output {
  /** Lines of the CLI itself (header, summary). */
  info(line: string): void;
  warn(line: string): void;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

function formatSeconds(s: number): string {
  return `${s.toFixed(6).replace(/\.?0+$/, '') || '0'} s`;
}

function formatWall(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

/** A progress line on stderr, for runs longer than a second on a TTY. */
function startProgress(getHub: () => Hub | null, wall0: number): () => void {
  if (!process.stderr.isTTY) return () => {};
  let shown = false;
  const timer = setInterval(() => {
    const hub = getHub();
    if (hub === null || rt.host.now() - wall0 < 1000) return;
    shown = true;
    const line = `  t=${hub.now().toFixed(3)}s  events=${hub.trace.length.toLocaleString('en-US')}  greenlets=${hub.greenlets.size}  wall=${formatWall(rt.host.now() - wall0)}`;
    process.stderr.write(`\r${line}\x1b[K`);
  }, 250);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (shown) process.stderr.write('\r\x1b[K');
  };
}

function replayCommand(file: string, seed: number, mode: Mode, faults: FaultPreset, options: Record<string, string | boolean>): string {
  return seedReplay(relative(process.cwd(), file) || file, seed, faults, options, mode === 'real' ? ['--real'] : []);
}

/** A run that failed for errors reported as they happened: its message is all there is to say. */
class ReportedFailures extends Error {}

function describeError(e: unknown): string {
  if (e instanceof LoopExit) return `LoopExit: ${e.message}`;
  if (e instanceof ReportedFailures) return e.message;
  if (e instanceof Error) return e.stack ?? `${e.name}: ${e.message}`;
  return String(e);
}

async function cmdRun(parsed: ReturnType<typeof parseArgs>): Promise<number> {
  const fileArg = parsed.positional[0];
  if (fileArg === undefined) throw new UsageError('run needs a file: geventjs run <file>');
  if (parsed.positional.length > 1) throw new UsageError(`unexpected argument ${parsed.positional[1]!}`);
  const file = resolve(fileArg);
  if (!existsSync(file)) throw new UsageError(`no such file: ${fileArg}`);

  const json = parsed.flags.get('json') === true;
  let mode: Mode = (process.env.GEVENTJS_MODE || 'sim') as Mode;
  const modeFlag = parsed.flags.get('mode');
  if (modeFlag !== undefined) {
    if (modeFlag !== 'sim' && modeFlag !== 'real') throw new UsageError(`--mode must be sim or real, got ${String(modeFlag)}`);
    mode = modeFlag;
  }
  if (parsed.flags.get('real') === true) mode = 'real';
  if (mode !== 'sim' && mode !== 'real') throw new UsageError(`GEVENTJS_MODE must be sim or real, got ${String(mode)}`);
  const seedFlag = parsed.flags.get('seed');
  const seed = typeof seedFlag === 'string' ? parseSeed(seedFlag) : process.env.GEVENTJS_SEED ? parseSeed(process.env.GEVENTJS_SEED) : 1;
  const traceFile = parsed.flags.get('trace');
  const trace = typeof traceFile === 'string';
  const faults = parseFaults(parsed.flags.get('faults'));
  if (faults !== 'none' && mode === 'real') throw new UsageError(`--faults ${faults} needs sim mode (faults cannot be injected into real time and real TCP)`);

  // The program's own output goes to stderr with --json, so stdout carries only the result.
  const restoreConsole = json ? redirectConsole() : () => {};
  const out: Output = {
    info: (line) => (json ? process.stderr.write(line + '\n') : process.stdout.write(line + '\n')),
    warn: (line) => process.stderr.write(line + '\n'),
  };

  process.env.GEVENTJS_MODE = mode;
  process.env.GEVENTJS_SEED = String(seed);
  let failures = 0;
  const reporter: Reporter = (error, greenlet, hub) => {
    failures++;
    defaultReporter(error, greenlet, hub);
  };
  // a plain program's run starts when its code first uses the hub, not while tsx loads the file
  let programWall0: number | null = null;
  rt.defaultHubFactory = () => {
    programWall0 ??= rt.host.now();
    return new Hub({ mode, seed, trace, reporter });
  };

  out.info(`geventjs: ${relative(process.cwd(), file) || file} — mode ${mode}, seed ${seed}`);
  const wall0 = rt.host.now();
  let hub: Hub | null = null;
  let interrupted = false;
  const stopProgress = startProgress(() => hub ?? rt.defaultHub, wall0);
  const onSigint = (): void => {
    interrupted = true;
    process.once('SIGINT', () => process.exit(130));
    const h = hub ?? rt.defaultHub;
    if (h === null || h.closed) process.exit(130);
    out.warn('\ngeventjs: interrupted, killing greenlets (Ctrl-C again to quit at once)');
    const main = h.main;
    if (h.implicitMain && main !== null && main.res !== null) {
      // module-level code waits in a blocking call: throw into it, so its finally blocks run and the
      // module settles (left pending, Node would end the process with code 13); the rest are killed
      // once it has
      main.killNoWait(new ReportedFailures('interrupted (SIGINT)'));
    } else if (h.implicitMain) void h.endMain();
    else if (main !== null) main.killNoWait(new ReportedFailures('interrupted (SIGINT)'));
  };
  process.once('SIGINT', onSigint);
  // A rejected promise nothing awaited: Node would crash at some tick (in real mode, mid-run) or, as the
  // CLI exits right after the run, never say a word. Report each one and fail the run, in both modes.
  let strayRejections = 0;
  const onRejection = (reason: unknown): void => {
    strayRejections++;
    out.warn(`geventjs: unhandled promise rejection (nothing awaited it): ${describeError(reason)}`);
  };
  process.on('unhandledRejection', onRejection);

  let error: unknown = null;
  let scenario: Scenario | null = null;
  let summary: unknown = undefined;
  let neverRan: readonly NeverRan[] = [];
  let options: Record<string, unknown> = {};
  let runWallMs: number | null = null; // a scenario's own run, without loading the file
  try {
    const mod = await importFile(file);
    if (isScenario(mod.default)) {
      scenario = mod.default;
      let overrides;
      try {
        overrides = parseScenarioOptions(scenario, parsed.options);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const runOptions: Parameters<typeof runScenario>[1] = {
        seed,
        mode,
        faults,
        options: overrides,
        trace,
        hub: { reporter },
        onHub: (h) => (hub = h),
      };
      const result = await runScenario(scenario, runOptions);
      summary = result.summary;
      options = result.options;
      runWallMs = result.wallMs;
      neverRan = result.hub.neverRanDetails;
    } else {
      if (faults !== 'none') throw new UsageError(`--faults needs a scenario, and ${fileArg} is not one (no defineScenario default export)`);
      if (Object.keys(parsed.options).length > 0) {
        throw new UsageError(`--${Object.keys(parsed.options)[0]!} is not a flag of geventjs run, and ${fileArg} is not a scenario (no defineScenario default export)`);
      }
      hub = rt.defaultHub;
      if (hub !== null) await hub.endMain();
      neverRan = hub?.neverRanDetails ?? [];
    }
  } catch (e) {
    if (e instanceof UsageError) {
      stopProgress();
      restoreConsole();
      throw e;
    }
    error = e;
    // a plain program whose module-level code threw (or was interrupted): its greenlets still die
    const h = rt.defaultHub;
    if (scenario === null && h !== null && h.implicitMain && !h.closed) {
      hub = h;
      try {
        await h.endMain();
      } catch {
        /* the error above is what counts */
      }
    }
  } finally {
    stopProgress();
    process.removeListener('SIGINT', onSigint);
    // Node looks for unhandled rejections after a macrotask's microtasks: let it look once more
    for (let i = 0; i < 2; i++) await new Promise<void>((r) => setImmediate(r));
    process.removeListener('unhandledRejection', onRejection);
  }
  hub ??= rt.defaultHub;
  const wallMs = runWallMs ?? rt.host.now() - (programWall0 ?? wall0);
  const virtualSeconds = hub !== null ? hub.now() : 0;
  const traceHash = hub !== null ? hub.traceHash() : null;
  restoreConsole();

  if (trace && hub !== null && typeof traceFile === 'string') {
    writeFileSync(traceFile, hub.traceEvents().map(formatEvent).join('\n') + '\n');
  }
  for (const { name, why } of neverRan) {
    const what =
      why === 'never started'
        ? 'was created but never started (start() was not called)'
        : why === 'start was still due'
          ? 'was to start later, but main returned first'
          : 'was spawned but never ran (main never blocked after spawning it)';
    out.warn(`geventjs: warning: ${name} ${what}`);
  }
  if (failures > 0 && error === null) {
    error = new ReportedFailures(`${failures} greenlet error${failures === 1 ? '' : 's'} nobody handled (reported above)`);
  }
  if (strayRejections > 0 && error === null) {
    error = new ReportedFailures(`${strayRejections} unhandled promise rejection${strayRejections === 1 ? '' : 's'} (reported above)`);
  }
  const ok = error === null && !interrupted;
  const replay = replayCommand(file, seed, mode, faults, parsed.options);

  if (json) {
    const result = {
      ok,
      file: relative(process.cwd(), file) || file,
      scenario: scenario?.name ?? null,
      mode,
      seed,
      faults,
      options,
      summary: summary ?? null,
      virtualSeconds,
      wallMs: Math.round(wallMs * 1000) / 1000,
      traceHash,
      neverRan: neverRan.map((u) => u.name),
      ...(error !== null ? { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), replay } : {}),
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  }
  if (error !== null) {
    out.warn(`geventjs: ${describeError(error)}`);
    out.warn(`geventjs: replay with: ${replay}`);
  }
  if (!json) {
    if (summary !== undefined) out.info(`summary: ${JSON.stringify(summary)}`);
    // in real mode the hub's clock is real time and the trace is not reproducible: say so
    const clock = mode === 'real' ? 'hub time (real)' : 'virtual';
    const hash = traceHash ? ` · trace ${traceHash}${mode === 'real' ? ' (real mode: differs run to run)' : ''}` : '';
    out.info(`${clock} ${formatSeconds(virtualSeconds)} · wall ${formatWall(wallMs)}${hash}`);
  }
  if (interrupted) return 130;
  return ok ? 0 : 1;
}

/** Sends console.log/info/debug to stderr (for --json). Returns the undo. */
function redirectConsole(): () => void {
  const saved = { log: console.log, info: console.info, debug: console.debug };
  const toErr = (...args: unknown[]): void => console.error(...args);
  console.log = toErr;
  console.info = toErr;
  console.debug = toErr;
  return () => Object.assign(console, saved);
}

/** Parses argv with the flags of its command (every other flag is a scenario option). */
function parseCommandLine(argv: readonly string[]): ReturnType<typeof parseArgs> {
  let command: string | null = null;
  try {
    command = parseArgs(argv, [...KNOWN, ...EXPLORE_FLAGS], [...BOOLEANS, ...EXPLORE_BOOLEANS]).command;
  } catch {
    command = argv[0] ?? null;
  }
  return command === 'explore' ? parseArgs(argv, EXPLORE_FLAGS, EXPLORE_BOOLEANS) : parseArgs(argv, KNOWN, BOOLEANS);
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (!stream.writable) resolve();
    else stream.write('', () => resolve());
  });
}

/**
 * Entry point: returns the exit code once stdout and stderr are flushed (bin/geventjs.js exits the
 * process at once, and a large --json report on a pipe would be cut short otherwise).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const code = await command(argv);
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  return code;
}

async function command(argv: readonly string[]): Promise<number> {
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.flags.get('help') === true || parsed.command === 'help') {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (parsed.flags.get('version') === true) {
      process.stdout.write(version() + '\n');
      return 0;
    }
    switch (parsed.command) {
      case 'run':
        return await cmdRun(parsed);
      case 'explore':
        return await cmdExplore(parsed);
      case null:
        throw new UsageError('missing command', { help: true });
      default:
        throw new UsageError(`unknown command ${parsed.command}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(e.help ? `geventjs: ${e.message}\n\n${HELP}\n` : `geventjs: ${e.message}\n(geventjs --help for usage)\n`);
      return 2;
    }
    process.stderr.write(`geventjs: ${describeError(e)}\n`);
    return 1;
  }
}
