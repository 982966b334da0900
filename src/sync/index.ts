// gevent.event / queue / lock / pool.
export { Event, AsyncResult, type ResultSource, type AsyncResultGetOptions } from './event.js';
export {
  Queue,
  JoinableQueue,
  LifoQueue,
  PriorityQueue,
  Channel,
  Empty,
  Full,
  StopIteration,
  pythonCompare,
  type QueueGetOptions,
  type QueuePutOptions,
  type Compare,
} from './queue.js';
export { Semaphore, BoundedSemaphore, DummySemaphore, Lock, RLock, type AcquireOptions, type Held } from './lock.js';
export { GroupBase, Group, Pool, PoolFull, IMapIterator, type GroupKillOptions, type IMapOptions, type Items } from './pool.js';
