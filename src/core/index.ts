export { Hub, getHub, run, defaultReporter, type HubOptions, type RunOptions, type Mode, type Reporter, type NetworkOptions } from './hub.js';
export { Greenlet, spawn, spawnLater, sleep, getcurrent, type KillException, type KillOptions, type GetOptions } from './greenlet.js';
export { wait, iwait, joinall, killall, idle, type WaitOptions, type JoinallOptions, type KillallOptions } from './wait.js';
export { Timeout, withTimeout, type TimeoutException, type WithTimeoutOptions } from './timeout.js';
export { GreenletExit, LoopExit, ConcurrentObjectUseError, type BlockedGreenlet } from './errors.js';
export { Linkable, type LinkCallback } from './linkable.js';
export { Random } from './random.js';
export { wallClock } from './wallclock.js';
export { Trace, formatEvent, type TraceEvent, type TraceListener } from './trace.js';
