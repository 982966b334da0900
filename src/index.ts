/**
 * geventjs: gevent's programming model in TypeScript, on a deterministic virtual-time hub with an
 * in-memory network — or, with one flag, on real time and real TCP.
 * @packageDocumentation
 */
export * from './core/index.js';
export * from './sync/index.js';
export * from './sim/scenario.js';
export * from './sim/index.js';
export * from './socket/index.js';
export * from './server/index.js';
export { MemoryNet, getNet, type Net, type NetStats, type Address, type MemoryNetOptions } from './net/index.js';
export { TcpNet } from './net/tcp.js';

import { rt } from './core/runtime.js';
import { MemoryNet } from './net/fabric.js';
import { TcpNet } from './net/tcp.js';

// The hub's mode picks the network: the in-memory fabric in sim mode, node:net in real mode.
rt.netFactory = (hub) => (hub.mode === 'sim' ? new MemoryNet(hub) : new TcpNet(hub));
