/**
 * The replicated key-value store of sim/kv.ts with its bug fixed: a replica acknowledges a write only
 * once every replica has it, so no acknowledged write is lost to a partition or a crash.
 *
 *   geventjs explore sim/kv-fixed.ts --seeds 1..200 --faults all   # passes every seed
 */
import { kvScenario } from './kv.js';

export default kvScenario(true);
