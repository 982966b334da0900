/**
 * geventjs: gevent's programming model in TypeScript, on a deterministic virtual-time hub with an
 * in-memory network — or, with one flag, on real time and real TCP.
 * @packageDocumentation
 */
export * from './core/index.js';
export * from './sync/index.js';
export * from './sim/scenario.js';
