/**
 * Addresses: checking `[host, port]` arguments the way Python and Node do, and IPv4 helpers.
 * @internal
 */
import { badPortError } from './errors.js';
import type { Address } from './net.js';

/** Every local address of a host (`INADDR_ANY`). */
export const ANY = '0.0.0.0';
/** The loopback address every host answers to. */
export const LOOPBACK = '127.0.0.1';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Whether `s` is a dotted-quad IPv4 address. */
export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** Whether `s` is in 127.0.0.0/8. */
export function isLoopback(s: string): boolean {
  return s.startsWith('127.') && isIPv4(s);
}

/** Checks a port as Node does: an integer in 0–65535, else `RangeError [ERR_SOCKET_BAD_PORT]`. */
export function checkPort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw badPortError(port);
  return port;
}

/**
 * Checks an AF_INET address argument: a `[host, port]` pair with a string host. Returns a fresh pair.
 * Python raises TypeError for anything else (`AF_INET address must be tuple, not str`).
 */
export function checkAddress(address: unknown, what: string): Address {
  if (!Array.isArray(address) || address.length !== 2) {
    const got = address === null ? 'null' : Array.isArray(address) ? `an array of length ${address.length}` : typeof address;
    throw new TypeError(`${what}(): AF_INET address must be a [host, port] pair, not ${got}`);
  }
  const [host, port] = address as [unknown, unknown];
  if (typeof host !== 'string') throw new TypeError(`${what}(): host must be a string, not ${host === null ? 'null' : typeof host}`);
  return [host, checkPort(port)];
}

/** `host:port` for messages and traces. */
export function formatAddress(host: string, port: number): string {
  return `${host}:${port}`;
}
