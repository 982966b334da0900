/**
 * The browser entry: the same engine with only the in-memory network (no Node built-ins).
 * @packageDocumentation
 */
export * from './core/index.js';
export * from './sync/index.js';
export * from './sim/scenario.js';
export * from './sim/index.js';
export * from './socket/index.js';
export * from './server/index.js';
export { MemoryNet, getNet, type Net, type NetStats, type Address, type MemoryNetOptions } from './net/index.js';

import { rt } from './core/runtime.js';
import { MemoryNet } from './net/fabric.js';

// Only the in-memory network here: real TCP needs Node (a Node entry loaded alongside keeps its factory).
rt.netFactory ??= (hub) => {
  if (hub.mode !== 'sim') throw new Error('real mode needs real TCP, which the browser build does not have: use sim mode');
  return new MemoryNet(hub);
};
