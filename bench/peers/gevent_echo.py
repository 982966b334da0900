#!/usr/bin/python3
"""The gevent tutorial's echo server and N clients in Python gevent, in ONE process, as a bench peer.

Server: the tutorial's accept loop (socket, SO_REUSEADDR, bind, listen(5) raised to 511 as in geventjs real mode, spawn(talk, conn, addr),
recv(1024), send(upper)) on gevent's cooperative socket module -- the tutorial's commented alternative
to monkey.patch_all(), the same sockets without patching the standard library. Clients: greenlets
(the tutorial's threads), each connecting, then sending '<Thread-i> say hello <count>' `messages` times
and reading until the whole upper-cased reply is back -- what sim/echo.ts does. Server and clients
share one process and one hub, as geventjs real mode does (baselines.md's "one process" row).

  /usr/bin/python3 bench/peers/gevent_echo.py [--clients 500] [--messages 100] [--size 0] [--warmup 1] [--runs 3]
                                              [--serve]   -> one JSON line on stdout, progress on stderr

With --serve (run.js) each run waits for the parent's go over the Node IPC channel (NODE_CHANNEL_FD:
newline-delimited JSON), like the Node bench children, so contenders can be interleaved run by run.
--size B pads every message with dots to B bytes, as sim/echo.ts's size option does.
Exits 1 if any reply is wrong or missing.
"""
import gc
import json
import os
import resource
import sys
import time

import gevent
import gevent.event
from gevent import socket


def parse_args(argv):
    out = {'clients': 500, 'messages': 100, 'size': 0, 'warmup': 1, 'runs': 3, 'serve': False}
    i = 0
    while i < len(argv):
        key = argv[i][2:]
        if i + 1 < len(argv) and not argv[i + 1].startswith('--'):
            out[key] = int(argv[i + 1])
            i += 2
        else:
            out[key] = True
            i += 1
    return out


# ------------------------------------------------------------------ the tutorial's server

NODE_BACKLOG = 511

def server(server_ip, port, bound):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((server_ip, port))
    # the tutorial's listen(5), raised to Node's 511 as geventjs real mode does: with 5, Linux drops (and
    # resets) the handshakes of hundreds of simultaneous clients and they stall for seconds in retries
    s.listen(max(5, NODE_BACKLOG))
    bound.set(s.getsockname())
    try:
        while True:
            conn, addr = s.accept()
            gevent.spawn(talk, conn, addr)
    finally:
        s.close()


def talk(conn, addr):
    try:
        while True:
            res = conn.recv(1024)
            # the tutorial's loop never ends: stop at EOF (b''), as sim/echo.ts does
            if not res:
                break
            conn.send(res.upper())
    except Exception as e:
        print(e, file=sys.stderr)
    finally:
        conn.close()


# ------------------------------------------------------------------ the clients (the tutorial's threads)

def client(server_ip, port, name, messages, size, tally):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        c.connect((server_ip, port))
        for count in range(messages):
            msg = ('%s say hello %s' % (name, count)).encode('utf-8').ljust(size, b'.')
            sent = c.send(msg)
            want = msg.upper()
            reply = b''
            while len(reply) < len(want):
                data = c.recv(1024)
                if not data:
                    break
                reply += data
            if sent != len(msg) or reply != want:
                raise ValueError('sent %r, got %r' % (msg, reply))
            tally['roundTrips'] += 1
            tally['bytes'] += sent + len(reply)
    except Exception as e:
        tally['failures'].append('%s: %s' % (name, e))
    finally:
        c.close()


def echo_once(clients, messages, size):
    """One run: a fresh server on port 0 and `clients` client greenlets; returns the tally."""
    bound = gevent.event.AsyncResult()
    srv = gevent.spawn(server, '127.0.0.1', 0, bound)
    _, port = bound.get()
    tally = {'roundTrips': 0, 'bytes': 0, 'failures': []}
    gs = [gevent.spawn(client, '127.0.0.1', port, 'Thread-%d' % i, messages, size, tally) for i in range(1, clients + 1)]
    gevent.joinall(gs)
    srv.kill()
    expected = clients * messages
    if tally['failures'] or tally['roundTrips'] != expected:
        raise SystemExit('echo: %d of %d round trips; %d clients failed %s' % (
            tally['roundTrips'], expected, len(tally['failures']), tally['failures'][:5]))
    return tally


# ------------------------------------------------------------------ the measure loop and the IPC protocol

class Channel:
    """Node's IPC channel seen from a non-Node child: newline-delimited JSON on NODE_CHANNEL_FD."""

    def __init__(self):
        fd = os.environ.get('NODE_CHANNEL_FD')
        if fd is None:
            raise SystemExit('--serve needs an IPC channel (run.js starts children with one)')
        self.fd = int(fd)
        self.buf = b''

    def send(self, obj):
        data = (json.dumps(obj) + '\n').encode('utf-8')
        while data:
            data = data[os.write(self.fd, data):]

    def receive(self):
        while b'\n' not in self.buf:
            chunk = os.read(self.fd, 4096)
            if not chunk:
                raise SystemExit('the parent closed the IPC channel')
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def summary(xs):
    return {'min': min(xs), 'median': median(xs), 'max': max(xs)}


def max_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def main():
    args = parse_args(sys.argv[1:])
    clients, messages, size = args['clients'], args['messages'], args['size']
    channel = Channel() if args['serve'] else None
    label = 'echo gevent %dx%d%s' % (clients, messages, ' %d B' % size if size else '')
    print('%s: %d warm-up + %d runs (%d round trips each), gevent %s, Python %s' % (
        label, args['warmup'], args['runs'], clients * messages, gevent.__version__, sys.version.split()[0]), file=sys.stderr)
    rss_after_load = max_rss_bytes()
    results = []
    checks = set()
    total = args['warmup'] + args['runs']
    for k in range(total):
        measured = k >= args['warmup']
        if channel is not None:
            channel.send({'type': 'ready'})
            channel.receive()
        gc.collect()
        cpu0 = os.times()
        t0 = time.perf_counter()
        tally = echo_once(clients, messages, size)
        ms = (time.perf_counter() - t0) * 1000
        cpu1 = os.times()
        cpu_us = ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) * 1e6
        run = {
            'ms': ms,
            'ops': tally['roundTrips'],
            'opsPerSec': tally['roundTrips'] / (ms / 1000),
            'check': '%drt/%dB' % (tally['roundTrips'], tally['bytes']),
            'cpuUsPerRoundTrip': cpu_us / tally['roundTrips'],
            'peakRss': max_rss_bytes(),
        }
        print('  %s %s: %.0f ms, %.1fk/s' % (
            label, 'run %d/%d' % (k - args['warmup'] + 1, args['runs']) if measured else 'warm-up %d/%d' % (k + 1, args['warmup']),
            ms, run['opsPerSec'] / 1000), file=sys.stderr)
        if channel is not None:
            channel.send({'type': 'run', 'measured': measured, 'run': run})
        if measured:
            results.append(run)
            checks.add(run['check'])
    out = {
        'workload': 'echo',
        'contender': 'gevent',
        'what': 'Python gevent: the tutorial server (accept loop; listen(5) raised to 511 as geventjs real mode does) and greenlet clients in one process, on gevent.socket',
        'gevent': gevent.__version__,
        'python': sys.version.split()[0],
        'clients': clients,
        'messages': messages,
        'size': size,
        'warmup': args['warmup'],
        'runs': len(results),
        'ops': results[0]['ops'],
        'check': results[0]['check'] if len(checks) == 1 else None,
        'checkStable': len(checks) == 1,
        'ms': summary([r['ms'] for r in results]),
        'opsPerSec': summary([r['opsPerSec'] for r in results]),
        'cpuUsPerRoundTrip': median([r['cpuUsPerRoundTrip'] for r in results]),
        'rssAfterLoadBytes': rss_after_load,
        'maxRssBytes': max_rss_bytes(),
        'perRun': [{'ms': round(r['ms'], 1), 'opsPerSec': round(r['opsPerSec'])} for r in results],
    }
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()


if __name__ == '__main__':
    main()
