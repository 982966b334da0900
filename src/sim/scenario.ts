/**
 * The scenario format: one module shape used by the CLI, tests, benchmarks, `explore` and the
 * playground alike.
 *
 * A scenario module's default export is `defineScenario({ name, options, run })`. `run(options, hub)`
 * runs as the main greenlet of a fresh hub — a `Simulation`, so it may add hosts (`hub.host(...)`,
 * `hub.client(...)`) and call faults — returns a plain JSON summary, and throws when an invariant
 * breaks.
 */
import type { Hub, HubOptions, Mode } from '../core/hub.js';
import { env } from '../core/runtime.js';
import { wallClock } from '../core/wallclock.js';
import { Simulation } from './simulation.js';
import { applyFaults, isFaultPreset, FAULT_PRESETS, type FaultPreset, type FaultPlan } from './presets.js';

/** Values a scenario option may take (what a `--name value` flag can carry). */
export type OptionValue = number | string | boolean;

/** Widens literal defaults (`false`, `'egon'`, `5`) to their types, so options can be overridden. */
export type WidenOptions<O> = { [K in keyof O]: O[K] extends boolean ? boolean : O[K] extends number ? number : O[K] extends string ? string : O[K] };

/**
 * What `defineScenario` takes: a name, option defaults, and the `run` function.
 * @example
 * defineScenario({ name: 'ping', options: { count: 3 }, async run({ count }, hub) { return { count }; } });
 */
export interface ScenarioDefinition<O extends Record<string, OptionValue>, S> {
  /** Short name, used in reports and replay commands. */
  name: string;
  /** One line on what the scenario does. */
  description?: string;
  /** Defaults of every option; flags such as `--clients 500` override them, typed like the default. */
  options: O;
  /** Hub options derived from the scenario's options (network latency, …). */
  hubOptions?: (options: WidenOptions<O>) => HubOptions;
  /**
   * The scenario itself: runs as the main greenlet of a fresh `Simulation` (in real mode too, where
   * its hosts get loopback addresses of their own and faults throw); returns a plain JSON summary;
   * throws on failure.
   */
  run(options: WidenOptions<O>, hub: Simulation): S | Promise<S>;
}

const SCENARIO = Symbol.for('geventjs.scenario');

/** A scenario, as `defineScenario` returns it: its options typed wide (`boolean`, not `false`). */
export type Scenario<O extends Record<string, OptionValue> = Record<string, OptionValue>, S = unknown> = Readonly<{
  name: string;
  description?: string;
  options: O;
  hubOptions?: (options: O) => HubOptions;
  /** Runs the scenario as the main greenlet of `hub` — a `Simulation` if it adds hosts (`runScenario` makes one). */
  run(options: O, hub: Hub): S | Promise<S>;
}> & { readonly [SCENARIO]: true };

/**
 * Declares a scenario; make it the module's default export.
 * @example
 * export default defineScenario({
 *   name: 'tutorial',
 *   options: { name: 'egon' },
 *   async run({ name }, hub) {
 *     await joinall([spawn(eat, name), spawn(play, name)]);
 *     return { virtual: hub.now() };
 *   },
 * });
 */
export function defineScenario<O extends Record<string, OptionValue>, S>(definition: ScenarioDefinition<O, S>): Scenario<WidenOptions<O>, S> {
  if (typeof definition !== 'object' || definition === null) throw new TypeError('defineScenario() needs an object');
  if (typeof definition.name !== 'string' || definition.name === '') throw new TypeError('a scenario needs a name');
  if (typeof definition.run !== 'function') throw new TypeError(`scenario ${definition.name}: run must be a function`);
  const options = definition.options ?? ({} as O);
  for (const [k, v] of Object.entries(options)) {
    if (!['number', 'string', 'boolean'].includes(typeof v)) {
      throw new TypeError(`scenario ${definition.name}: option ${k} must default to a number, string or boolean`);
    }
  }
  return Object.freeze({ ...definition, options: Object.freeze({ ...options }), [SCENARIO]: true as const }) as unknown as Scenario<WidenOptions<O>, S>;
}

/**
 * Whether `x` is a scenario made by `defineScenario` (by any copy of geventjs).
 * @example
 * const mod = await import(file);
 * if (isScenario(mod.default)) await runScenario(mod.default);
 */
export function isScenario(x: unknown): x is Scenario {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[SCENARIO] === true;
}

/**
 * Turns `--flag value` strings into option values typed like the scenario's defaults.
 * Throws a TypeError naming the option when a flag is unknown or its value does not fit.
 * @example
 * parseScenarioOptions(echo, { clients: '50', verbose: true }); // { clients: 50, verbose: true }
 */
export function parseScenarioOptions<O extends Record<string, OptionValue>>(
  scenario: Scenario<O, unknown>,
  raw: Record<string, string | boolean>,
): Partial<O> {
  const out: Record<string, OptionValue> = {};
  const known = Object.keys(scenario.options);
  for (const [key, value] of Object.entries(raw)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `unknown option --${key} for scenario ${scenario.name}` + (known.length ? ` (its options: ${known.map((k) => `--${k}`).join(', ')})` : ' (it has no options)'),
      );
    }
    const def = scenario.options[key];
    if (typeof def === 'number') {
      const n = typeof value === 'string' ? Number(value) : NaN;
      if (value === '' || Number.isNaN(n)) throw new TypeError(`option --${key} needs a number, got ${JSON.stringify(value)}`);
      out[key] = n;
    } else if (typeof def === 'boolean') {
      if (value === true || value === 'true' || value === '1' || value === 'yes') out[key] = true;
      else if (value === false || value === 'false' || value === '0' || value === 'no') out[key] = false;
      else throw new TypeError(`option --${key} needs true or false, got ${JSON.stringify(value)}`);
    } else {
      if (typeof value !== 'string') throw new TypeError(`option --${key} needs a value`);
      out[key] = value;
    }
  }
  return out as Partial<O>;
}

/**
 * Options of `runScenario`.
 * @example
 * await runScenario(kv, { seed: 7, faults: 'partitions', options: { clients: 5 } });
 */
export interface RunScenarioOptions<O> {
  seed?: number;
  mode?: Mode;
  /** Overrides of the scenario's option defaults. */
  options?: Partial<O>;
  /** Keep the full trace on the hub. */
  trace?: boolean;
  /** Further hub options (merged over the scenario's own `hubOptions`). */
  hub?: HubOptions;
  /** Called with the hub before the scenario starts (progress displays, tooling). */
  onHub?: (hub: Hub) => void;
  /**
   * A fault preset drawn from the seed (`none` by default; see `applyFaults`), applied to the
   * scenario's Simulation before it runs. Anything but `none` needs sim mode.
   */
  faults?: FaultPreset;
  /**
   * Perturbed scheduling (sim mode): the ready greenlets and callbacks of one instant run in an order
   * drawn from the seed instead of FIFO, to explore interleavings. Off by default.
   */
  perturb?: boolean;
}

/**
 * What `runScenario` returns: the summary and the facts of the run.
 * @example
 * const { summary, virtualSeconds, traceHash } = await runScenario(echo, { seed: 1 });
 */
export interface ScenarioResult<S> {
  scenario: string;
  mode: Mode;
  seed: number;
  options: Record<string, OptionValue>;
  summary: S;
  /** Hub time at the end, seconds (virtual in sim mode). */
  virtualSeconds: number;
  /** Wall-clock milliseconds the run took. */
  wallMs: number;
  traceHash: string;
  hub: Simulation;
  /** The fault preset applied, and what it drew from the seed. */
  faults: FaultPlan;
}

/**
 * Runs a scenario on a fresh hub (a `Simulation`, with the fault preset `faults` drawn from the seed)
 * and returns its summary with the run's facts.
 * @example
 * const r = await runScenario(echo, { seed: 7, options: { clients: 50 } });
 * console.log(r.summary, r.traceHash);
 * await runScenario(kv, { seed: 12, mode: 'sim', faults: 'partitions' }); // throws if the invariant breaks
 */
export async function runScenario<O extends Record<string, OptionValue>, S>(
  scenario: Scenario<O, S>,
  opts: RunScenarioOptions<O> = {},
): Promise<ScenarioResult<S>> {
  const options = { ...scenario.options, ...(opts.options ?? {}) } as O;
  const hubOptions: HubOptions = {
    ...(scenario.hubOptions ? scenario.hubOptions(options) : {}),
    ...(opts.hub ?? {}),
  };
  if (opts.seed !== undefined) hubOptions.seed = opts.seed;
  if (opts.mode !== undefined) hubOptions.mode = opts.mode;
  else hubOptions.mode ??= (env('GEVENTJS_MODE') as Mode | undefined) ?? 'sim';
  if (opts.trace) hubOptions.trace = true;
  if (opts.perturb !== undefined) hubOptions.perturb = opts.perturb;
  const preset = opts.faults ?? 'none';
  if (!isFaultPreset(preset)) throw new RangeError(`unknown fault preset ${JSON.stringify(preset)} (presets: ${FAULT_PRESETS.join(', ')})`);
  const hub = new Simulation(hubOptions);
  const faults = applyFaults(hub, preset);
  opts.onHub?.(hub);
  const wall0 = wallClock();
  const summary = await hub.run(() => scenario.run(options, hub));
  const wallMs = wallClock() - wall0;
  return {
    scenario: scenario.name,
    mode: hub.mode,
    seed: hub.seed,
    options,
    summary: summary as S,
    virtualSeconds: hub.now(),
    wallMs,
    traceHash: hub.traceHash(),
    hub,
    faults,
  };
}

