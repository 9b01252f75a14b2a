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
    // Asserts on recorded firing times, not on sleeps: a loaded machine may run callbacks
    // late, which is allowed; firing a cancelled entry, or a re-armed one early, is not.
    const wheel = new TimerWheel();
    const start = performance.now();
    const fired: Array<{ owner: string; at: number }> = [];
    const record = (owner: string): void => {
      fired.push({ owner, at: performance.now() - start });
    };
    const a = new TimerEntry('a', record);
    const b = new TimerEntry('b', record);
    a.arm(15, wheel);
    b.arm(15, wheel);
    a.cancel();
    expect(a.armed).toBe(false);
    b.arm(40, wheel); // re-arm moves it to another list
    const deadline = Date.now() + 5000;
    while (fired.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 30)); // room for a wrongly kept 'a' to show up
    expect(fired.map((f) => f.owner)).toEqual(['b']);
    // The wheel coalesces deadlines and may fire up to 1/32 of the duration early.
    expect(fired[0]!.at).toBeGreaterThanOrEqual(40 - 40 / 32 - 1);
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
