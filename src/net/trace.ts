/**
 * Network events in the hub's trace. Greenlet-level events (listen, connect, accept, send, recv, close)
 * are recorded by the socket layer, so both Nets trace the same; deliveries, drops and control
 * segments by the Net that carries them. Sizes go into the hash; the bytes themselves are only the
 * payload of the full list (`trace: true`).
 * @internal
 */
import { defineKind } from '../core/trace.js';

/** A socket listens: a = fd, b = port. */
export const K_LISTEN = defineKind('listen', { a: ['fd', 'int'], b: ['port', 'int'] });
/** A connect completed: a = fd, b = local port; s = the peer's `host:port`. */
export const K_CONNECT = defineKind('connect', { a: ['fd', 'int'], b: ['port', 'int'], s: 'peer' });
/** accept returned: a = listening fd, b = the new fd; s = the peer's `host:port`. */
export const K_ACCEPT = defineKind('accept', { a: ['fd', 'int'], b: ['conn', 'int'], s: 'peer' });
/** send accepted bytes: a = fd, b = size. */
export const K_SEND = defineKind('send', { a: ['fd', 'int'], b: ['size', 'int'], s: 'bytes' });
/** recv returned bytes (0 = EOF): a = fd, b = size. */
export const K_RECV = defineKind('recv', { a: ['fd', 'int'], b: ['size', 'int'], s: 'bytes' });
/** Bytes arrived at a socket: a = receiving fd, b = size. */
export const K_DELIVER = defineKind('deliver', { a: ['fd', 'int'], b: ['size', 'int'], s: 'bytes' });
/** A control segment arrived: a = receiving fd (-1 for a SYN), b = segment type; s = its name. */
export const K_SEGMENT = defineKind('segment', { a: ['fd', 'int'], b: ['type', 'int'], s: 'segment' });
/** A segment was dropped (router verdict or full backlog): a = sending fd, b = segment type; s = why. */
export const K_DROP = defineKind('drop', { a: ['fd', 'int'], b: ['type', 'int'], s: 'reason' });
/** close(): a = fd, b = 1 when it reset the connection (unread data), else 0. */
export const K_CLOSE = defineKind('close', { a: ['fd', 'int'], b: ['reset', 'int'] });
/** A fault lost a segment that TCP will retransmit: a = sending fd, b = segment type; s = why. */
export const K_LOST = defineKind('lost', { a: ['fd', 'int'], b: ['type', 'int'], s: 'reason' });
/** A lost segment is sent again (its retransmission timer fired): a = sending fd, b = retransmissions so far. */
export const K_RETRANSMIT = defineKind('retransmit', { a: ['fd', 'int'], b: ['retries', 'int'] });
/** A segment was held (a hold rule, a paused destination): a = sending fd, b = segment type; s = by what. */
export const K_HELD = defineKind('held', { a: ['fd', 'int'], b: ['type', 'int'], s: 'by' });
/** A held segment was released: a = sending fd, b = segment type. */
export const K_RELEASE = defineKind('release', { a: ['fd', 'int'], b: ['type', 'int'] });
/** TCP gave up on a connection (retransmissions exhausted): a = fd; s = the error code. */
export const K_ABORT = defineKind('abort', { a: ['fd', 'int'], s: 'code' });
/** Stream chaos: a = sending fd, b = pieces; s = `split` (one write, several segments) or `coalesce` (several writes, one segment). */
export const K_CHAOS = defineKind('chaos', { a: ['fd', 'int'], b: ['pieces', 'int'], s: 'what' });
