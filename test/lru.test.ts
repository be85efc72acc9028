import { describe, expect, it } from 'vitest';
import { LruMap } from '../src/lru.js';
import { createFakeClock } from '../src/testing/fake-clock.js';

describe('LruMap (the STS session cache store)', () => {
  it('keeps at most maxEntries; the least recently used (by get or set) leaves first', () => {
    const clock = createFakeClock(0);
    const m = new LruMap<string, number>(2, clock.now);
    m.set('a', 1, 1000);
    m.set('b', 2, 1000);
    expect(m.get('a')).toBe(1); // a is now the most recently used
    m.set('c', 3, 1000); // evicts b
    expect(m.size).toBe(2);
    expect(m.get('b')).toBeUndefined();
    expect(m.get('a')).toBe(1);
    expect(m.get('c')).toBe(3);
    m.set('a', 10, 1000); // re-set moves a to the end, value replaced
    m.set('d', 4, 1000); // evicts c
    expect(m.get('c')).toBeUndefined();
    expect(m.get('a')).toBe(10);
    expect(m.delete('a')).toBe(true);
    expect(m.size).toBe(1);
    m.clear();
    expect(m.size).toBe(0);
  });

  it('each entry expires at its own ttl: live until now < set time + ttl, gone from then on', () => {
    const clock = createFakeClock(1_000);
    const m = new LruMap<string, string>(10, clock.now);
    m.set('short', 's', 100);
    m.set('long', 'l', 10_000);
    m.set('never', 'n', 0); // not stored
    expect(m.size).toBe(2);
    clock.advance(99);
    expect(m.get('short')).toBe('s');
    clock.advance(1);
    expect(m.get('short')).toBeUndefined(); // read drops it
    expect(m.size).toBe(1);
    m.set('short2', 's', 50);
    clock.advance(50);
    expect(m.size).toBe(2); // expired but not yet touched
    m.purgeStale();
    expect(m.size).toBe(1);
    expect(m.get('long')).toBe('l');
  });

  it('rejects a maxEntries below 1 or not an integer', () => {
    expect(() => new LruMap(0, Date.now)).toThrow(/maxEntries must be an integer >= 1/);
    expect(() => new LruMap(1.5, Date.now)).toThrow(/maxEntries/);
  });
});
