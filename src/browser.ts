/**
 * The browser entry: the same engine with only the in-memory network (no Node built-ins).
 * @packageDocumentation
 */
export * from './core/index.js';
export * from './sync/index.js';
export * from './sim/scenario.js';
