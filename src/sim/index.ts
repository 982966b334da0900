/**
 * The simulation layer: several hosts on one hub, the fault chain, crash/restart/pause, stream chaos,
 * fault presets drawn from the seed, and the determinism self-check. (The scenario format is exported
 * by the package entry from `scenario.ts`.)
 */
export {
  Simulation,
  SimHost,
  FaultHandle,
  currentHost,
  type SimulationOptions,
  type HostMain,
  type HostOptions,
  type HostRef,
  type HostGroup,
  type HostState,
  type RuleVerdict,
  type FaultRule,
  type FaultRuleOptions,
  type LinkOptions,
} from './simulation.js';
export { Message, HeldMessage, type MessageKind } from './message.js';
export { FAULT_PRESETS, applyFaults, isFaultPreset, type FaultPreset, type FaultPlan, type ApplyFaultsOptions } from './presets.js';
export { checkDeterminism, NondeterminismError, type DeterminismReport } from './determinism.js';
export type { LatencySpec } from '../net/latency.js';
export type { ChaosSpec } from '../net/fabric.js';
