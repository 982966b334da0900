/**
 * The errors a socket user meets, with Node's codes, errno numbers and messages, and gevent's meaning.
 * Observable conditions become these errors; a broken invariant of the fabric throws a plain Error.
 * @internal
 */
import { codedError } from '../core/errors.js';

/** Node's (negative, libuv) errno numbers. */
const ERRNO: Record<string, number> = {
  EPIPE: -32,
  EAGAIN: -11,
  EBADF: -9,
  EINVAL: -22,
  EADDRINUSE: -98,
  EADDRNOTAVAIL: -99,
  ECONNRESET: -104,
  EISCONN: -106,
  ENOTCONN: -107,
  ETIMEDOUT: -110,
  ECONNREFUSED: -111,
  EINPROGRESS: -115,
  ENOTFOUND: -3008,
};

const DESCRIPTION: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  EBADF: 'bad file descriptor',
  EINVAL: 'invalid argument',
  EISCONN: 'socket is already connected',
  ENOTCONN: 'socket is not connected',
  EAGAIN: 'resource temporarily unavailable',
  EINPROGRESS: 'operation in progress',
};

/** An error of a socket call, as Node formats it: `connect ECONNREFUSED 127.0.0.1:8080`. */
export function sysError(code: string, syscall: string, host?: string, port?: number): Error {
  const desc = DESCRIPTION[code];
  let message = desc !== undefined && code !== 'ECONNREFUSED' ? `${syscall} ${code}: ${desc}` : `${syscall} ${code}`;
  const extra: Record<string, unknown> = { errno: ERRNO[code] ?? 0, syscall };
  if (host !== undefined) {
    message += ` ${host}:${String(port)}`;
    extra.address = host;
    extra.port = port;
  }
  return codedError(code, message, extra);
}

/** gevent's `socket.timeout('timed out')`, raised when a `settimeout` expires: code `ETIMEDOUT`. */
export function timeoutError(syscall: string): Error {
  return codedError('ETIMEDOUT', 'timed out', { errno: ERRNO.ETIMEDOUT, syscall });
}

/** gevent's `cancel_wait_ex`: the socket a greenlet waited on was closed by another greenlet. */
export function cancelWaitError(): Error {
  return codedError('EBADF', 'File descriptor was closed in another greenlet', { errno: ERRNO.EBADF });
}

/** Node's `getaddrinfo ENOTFOUND <name>`. */
export function notFoundError(hostname: string): Error {
  return codedError('ENOTFOUND', `getaddrinfo ENOTFOUND ${hostname}`, { errno: ERRNO.ENOTFOUND, syscall: 'getaddrinfo', hostname });
}

/** Node's `RangeError [ERR_SOCKET_BAD_PORT]`. */
export function badPortError(port: unknown): RangeError {
  const err = new RangeError(`Port should be >= 0 and < 65536. Received ${describeValue(port)}.`) as RangeError & { code: string };
  err.code = 'ERR_SOCKET_BAD_PORT';
  return err;
}

/** How Node names a received value in its messages: `type number (70000)`. */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return `function ${v.name}`;
  if (typeof v === 'object') return `an instance of ${(v as object).constructor?.name ?? 'Object'}`;
  if (typeof v === 'string') return `type string (${JSON.stringify(v)})`;
  return `type ${typeof v} (${String(v)})`;
}

/** The node error code of `e`, if any. */
export function errorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? ((e as { code?: unknown }).code as string | undefined) : undefined;
}
