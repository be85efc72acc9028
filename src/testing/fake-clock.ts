import type { Clock } from '../clock.js';

export interface FakeClock {
  /** Pass as the `now` option of `refreshing` and of the providers. */
  readonly now: Clock;
  /** Moves time forward (or back, with a negative value). */
  advance(ms: number): void;
  /** Sets the time, as ms since the epoch or a Date. */
  set(time: number | Date): void;
}

/** A clock that only moves when told to, so tests of expiry and renewal never sleep. */
export function createFakeClock(start: number | Date = Date.UTC(2026, 0, 1)): FakeClock {
  let current = typeof start === 'number' ? start : start.getTime();
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
    set: (time) => {
      current = typeof time === 'number' ? time : time.getTime();
    },
  };
}
