// What a parked greenlet is made of: heap snapshots with 0 and with N greenlets parked on one Event
// (or sleeping), diffed by object kind — objects and bytes per parked greenlet. A memory aid for
// "fewer, smaller objects per park"; not part of `npm run bench`.
//
//   node --expose-gc bench/parked-objects.js [--count 10000] [--on event|sleep|ceiling] [--top 20]
import v8 from 'node:v8';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importDist, parseArgs, collectGarbage } from './lib/common.js';

const args = parseArgs(process.argv.slice(2), { count: 10000, on: 'event', top: 20 });

/** Object count and self size per (type, name) of a heap snapshot. */
function census() {
  collectGarbage();
  const file = path.join(os.tmpdir(), `geventjs-parked-${process.pid}-${Date.now()}.heapsnapshot`);
  v8.writeHeapSnapshot(file);
  const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.unlinkSync(file);
  const meta = snap.snapshot.meta;
  const F = meta.node_fields.length;
  const iType = meta.node_fields.indexOf('type');
  const iName = meta.node_fields.indexOf('name');
  const iSize = meta.node_fields.indexOf('self_size');
  const types = meta.node_types[iType];
  const out = new Map();
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += F) {
    const type = types[nodes[i + iType]];
    let name = snap.strings[nodes[i + iName]];
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)';
    else if (type === 'number') name = '(heap number)';
    else if (type === 'code') name = '(code)';
    else if (name.length > 60) name = name.slice(0, 57) + '...';
    const key = `${type}\u0000${name}`;
    const e = out.get(key) ?? { type, name, count: 0, bytes: 0 };
    e.count++;
    e.bytes += nodes[i + iSize];
    out.set(key, e);
  }
  return out;
}

async function parkAndCount(N) {
  if (args.on === 'ceiling') {
    // the ceiling's greenlet: an async function parked on a promise it created
    let release;
    const gate = new Promise((r) => (release = r));
    const park = () => gate;
    const body = async () => {
      await park();
    };
    const before = census();
    const ps = new Array(N);
    for (let i = 0; i < N; i++) ps[i] = body();
    const after = census();
    release();
    await Promise.all(ps);
    return [before, after];
  }
  const gevent = await importDist(args.dist);
  const { Hub, spawn, sleep, joinall } = gevent;
  let before = null;
  let after = null;
  await new Hub({ seed: 1 }).run(async () => {
    const ev = new gevent.Event();
    // an async body, as in bench/spawn.js (what users write)
    const body =
      args.on === 'sleep'
        ? async () => {
            await sleep(1);
          }
        : async () => {
            await ev.wait();
          };
    before = census();
    const gs = new Array(N);
    for (let i = 0; i < N; i++) gs[i] = spawn(body);
    await sleep(0);
    after = census();
    ev.set();
    await joinall(gs);
  });
  return [before, after];
}

async function main() {
  const N = args.count;
  const [before, after] = await parkAndCount(N);
  const rows = [];
  for (const [key, a] of after) {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    const dc = a.count - b.count;
    const db = a.bytes - b.bytes;
    if (dc > N / 2 || db > N * 4) rows.push({ ...a, perGreenlet: dc / N, bytesPerGreenlet: db / N });
  }
  rows.sort((x, y) => y.bytesPerGreenlet - x.bytesPerGreenlet);
  const total = rows.reduce((s, r) => s + r.bytesPerGreenlet, 0);
  const objects = rows.reduce((s, r) => s + r.perGreenlet, 0);
  console.log(`${N} greenlets parked on ${args.on}: ${total.toFixed(0)} B and ${objects.toFixed(1)} objects per greenlet (kinds with ≥ 0.5 object or 4 B each)`);
  console.log('  objects/greenlet  bytes/greenlet  kind');
  for (const r of rows.slice(0, args.top)) {
    console.log(`${r.perGreenlet.toFixed(2).padStart(18)} ${r.bytesPerGreenlet.toFixed(0).padStart(15)}  ${r.type} ${r.name}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
