import { describe, it, expect } from 'vitest';
import { run, spawn, sleep, joinall, getcurrent } from 'geventjs';

describe('the tutorial: eat and play', () => {
  it('interleaves on sleep and ends at exactly 2 virtual seconds', async () => {
    const out: string[] = [];
    const end = await run(async () => {
      const eat = async (name: string) => { out.push(`${name} eat 1`); await sleep(2); out.push(`${name} eat 2`); };
      const play = async (name: string) => { out.push(`${name} play 1`); await sleep(1); out.push(`${name} play 2`); };
      await joinall([spawn(eat, 'egon'), spawn(play, 'egon')]);
      out.push('主');
      return getcurrent().hub.now();
    }, { mode: 'sim' });
    expect(out).toEqual(['egon eat 1', 'egon play 1', 'egon play 2', 'egon eat 2', '主']);
    expect(end).toBe(2);
  });
});
