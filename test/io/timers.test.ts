import { describe, expect, it } from 'vitest';

import { TimerEntry, TimerWheel } from '../../src/io/timers';

describe('TimerWheel', () => {
  it('fires entries of one duration in order and only once', async () => {
    const wheel = new TimerWheel();
    const fired: number[] = [];
    const entries = [1, 2, 3].map((n) => new TimerEntry(n, (owner) => fired.push(owner)));
    for (const e of entries) e.arm(20, wheel);
    expect(wheel.size).toBe(3);
    await new Promise((r) => setTimeout(r, 60));
    expect(fired).toEqual([1, 2, 3]);
    expect(wheel.size).toBe(0);
  });

  it('cancels and re-arms without firing early', async () => {
    const wheel = new TimerWheel();
    const fired: string[] = [];
    const a = new TimerEntry('a', (o) => fired.push(o));
    const b = new TimerEntry('b', (o) => fired.push(o));
    a.arm(15, wheel);
    b.arm(15, wheel);
    a.cancel();
    expect(a.armed).toBe(false);
    b.arm(40, wheel); // re-arm moves it to another list
    await new Promise((r) => setTimeout(r, 25));
    expect(fired).toEqual([]);
    await new Promise((r) => setTimeout(r, 40));
    expect(fired).toEqual(['b']);
  });

  it('lets a callback re-arm its own entry and survives a throwing callback', async () => {
    const wheel = new TimerWheel();
    let count = 0;
    const entry: TimerEntry<null> = new TimerEntry(null, () => {
      if (++count < 3) entry.arm(5, wheel);
    });
    entry.arm(5, wheel);
    const errors: unknown[] = [];
    const onUncaught = (err: unknown): void => {
      errors.push(err);
    };
    process.on('uncaughtException', onUncaught);
    const bad = new TimerEntry(null, () => {
      throw new Error('boom');
    });
    bad.arm(5, wheel);
    await new Promise((r) => setTimeout(r, 80));
    process.off('uncaughtException', onUncaught);
    expect(count).toBe(3);
    expect(errors).toHaveLength(1);
  });

  it('batches entries due within the slack into one wake-up', () => {
    const wheel = new TimerWheel();
    expect(wheel.slack(30_000)).toBe(100);
    expect(wheel.slack(320)).toBe(10);
  });
});
