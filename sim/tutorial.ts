/**
 * The tutorial's first program: two greenlets that eat and play, switching on gevent.sleep.
 *
 *   geventjs run sim/tutorial.ts            # virtual time: exactly 2 s, milliseconds of wall time
 *   geventjs run sim/tutorial.ts --real     # about 2 s of wall time, the same order
 */
import { defineScenario, spawn, sleep, joinall } from 'geventjs';

async function eat(name: string): Promise<void> {
  console.log(`${name} eat 1`);
  await sleep(2);
  console.log(`${name} eat 2`);
}

async function play(name: string): Promise<void> {
  console.log(`${name} play 1`);
  await sleep(1);
  console.log(`${name} play 2`);
}

export default defineScenario({
  name: 'tutorial',
  description: "the gevent tutorial's eat/play greenlets",
  options: { name: 'egon' },
  async run({ name }, hub) {
    const g1 = spawn(eat, name);
    const g2 = spawn(play, name);
    await joinall([g1, g2]);
    console.log('主');
    return { greenlets: 2, elapsed: hub.now() };
  },
});
