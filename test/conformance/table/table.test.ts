/**
 * One conformance table, two drivers (issue 13): every case of the table runs through the
 * sans-IO WSConnection and through the io WebSocket on an in-memory stream, as scripted and
 * with every peer byte in its own read. Each driver must give the table's outcome, and the
 * two must agree exactly: the same events, the same close, the same bytes out (mask keys
 * zeroed). Runs on both backends (vitest projects).
 *
 * A case may record a known `disagreement` of the two layers (see script.ts): the test then
 * asserts that exact difference, so the day a layer changes, the case says so.
 * Adding a case: pick the file of its rule (cases-frames.ts §5, cases-close.ts §7 and §8.1,
 * cases-deflate.ts RFC 7692), write the peer's frames and our actions, and the outcome.
 */
import { describe, expect, it } from 'vitest';

import { runIo } from './driver-io';
import { runSansIo } from './driver-sansio';
import { closeCases } from './cases-close';
import { deflateCases } from './cases-deflate';
import { frameCases } from './cases-frames';
import { outMatches, type Case, type Outcome } from './script';

const table: Case[] = [...frameCases, ...closeCases, ...deflateCases];

function checkExpected(c: Case, o: Outcome): void {
  const e = c.expect;
  expect(o.events, 'events').toEqual(e.events);
  expect(outMatches(o.out, e.out), `frames out: ${JSON.stringify(o.out)}`).toBe(true);
  expect(o.closed[0], 'close code').toBe(e.closed[0]);
  if (e.closed[1] !== undefined) expect(o.closed[1], 'close reason').toBe(e.closed[1]);
  expect(o.failed, 'failure code').toBe(e.failed ?? null);
}

it('the table has a case per rule, with unique names', () => {
  expect(new Set(table.map((c) => c.name)).size).toBe(table.length);
  expect(table.length).toBeGreaterThanOrEqual(60);
});

describe.each([
  ['as scripted', undefined],
  ['one byte per read', 'bytes'],
] as const)('conformance table (%s)', (_how, split) => {
  const cases = split === undefined ? table : table.filter((c) => c.large === undefined);
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const sansIo = runSansIo(c, split);
    const io = await runIo(c, split);
    checkExpected(c, sansIo);
    const known = c.disagreement;
    if (known !== undefined && (split === undefined || known.asScripted !== true)) {
      expect(io, known.why).toEqual({ ...sansIo, ...known.io });
      return;
    }
    checkExpected(c, io);
    expect(io).toEqual(sansIo);
  });
});
