// The gevent tutorial's first program, at module level: run it with `npx geventjs run examples/tutorial.ts`
// (add --real for real time). Module-level code is the main greenlet of the default hub.
import { spawn, sleep, joinall } from 'geventjs';

async function eat(name: string) {
  console.log(`${name} eat 1`);
  await sleep(2);
  console.log(`${name} eat 2`);
}

async function play(name: string) {
  console.log(`${name} play 1`);
  await sleep(1);
  console.log(`${name} play 2`);
}

const g1 = spawn(eat, 'egon');
const g2 = spawn(play, 'egon');
await joinall([g1, g2]); // or: await g1.join(); await g2.join();
console.log('主');
