/**
 * The network layer: the `Net` interface and the in-memory fabric. The real-TCP adapter (`tcp.ts`)
 * is not exported from here, so the browser entry reaches no Node built-in.
 */
export { READ, WRITE, getNet, type Net, type NetSocket, type NetStats, type Address, type Direction, type HostDirectory } from './net.js';
export { MemoryNet, DEFAULT_LATENCY, DEFAULT_WINDOW, RTO_MIN_NS, RTO_MAX_NS, TCP_RETRIES2, type MemoryNetOptions, type WriteSplitter, type ChaosSpec } from './fabric.js';
export { Host, MemSocket, EPHEMERAL_LOW, EPHEMERAL_HIGH, SYN_RETRIES } from './kernel.js';
export { Router, DROP, PASS, HOLD, type Rule, type RuleOptions, type Verdict, type LatencyNs } from './router.js';
export { latencySampler, describeLatency, type LatencySpec } from './latency.js';
export { Segment, SYN, SYN_ACK, DATA, FIN, RST, ACK } from './segment.js';
