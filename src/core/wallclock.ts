/**
 * Wall-clock time for reports, outside the simulation.
 */
import { rt } from './runtime.js';

/**
 * Milliseconds on the real monotonic clock captured when geventjs loaded — unaffected by virtual time
 * and by later patches of `performance.now`. For reports (a scenario's wall time), never for behaviour:
 * in sim mode a program must read time from its hub (`hub.now()`).
 * @example
 * const t0 = wallClock();
 * await runTheSimulation();
 * console.log(`${(wallClock() - t0).toFixed(1)} ms of wall time`);
 */
export function wallClock(): number {
  return rt.host.now();
}
