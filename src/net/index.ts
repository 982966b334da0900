/**
 * The network layer: the `Net` interface and the in-memory fabric. The real-TCP adapter (`tcp.ts`)
 * is not exported from here, so the browser entry reaches no Node built-in.
 */
export { READ, WRITE, getNet, type Net, type NetSocket, type NetStats, type Address, type Direction } from './net.js';
export { MemoryNet, DEFAULT_LATENCY, DEFAULT_WINDOW, type MemoryNetOptions, type WriteSplitter } from './fabric.js';
export { Host, MemSocket, EPHEMERAL_LOW, EPHEMERAL_HIGH, SYN_RETRIES } from './kernel.js';
export { Router, DROP, PASS, type Rule, type Verdict } from './router.js';
export { Segment, SYN, SYN_ACK, DATA, FIN, RST, ACK } from './segment.js';
