/**
 * The runner's verdict rules (Autobahn's case.py, restated in case-run.ts) on synthetic
 * outcomes, so a conformance run's "0 FAILED" cannot come from rules that never fail.
 */
import { describe, expect, it } from 'vitest';

import { CaseRun, CLEAN_BY_ME, failedByPeer, msg, pong, wrongCodeFails, type CaseDef } from './case-run';
import type { FuzzSession } from './session';

type Flags = Pick<FuzzSession, 'closedByMe' | 'wasClean' | 'remoteCloseCode' | 'isServer' | 'droppedByMe'>;

function run(def: Partial<CaseDef>, flags: Partial<Flags>, setup: (c: CaseRun) => void): CaseRun {
  const closes: Array<number | undefined> = [];
  const p = { closedByMe: true, wasClean: true, remoteCloseCode: 1000, isServer: true, droppedByMe: false, ...flags, sendClose: (code?: number) => closes.push(code) };
  const c = new CaseRun({ id: 'x', description: '', expectation: '', onOpen: () => {}, ...def }, p as unknown as FuzzSession);
  setup(c);
  c.evaluate();
  return c;
}

describe('verdict rules', () => {
  it('OK only for the exact events, in order, text vs binary included', () => {
    const expect2 = (c: CaseRun): void => void c.expected.set('OK', [pong('a'), msg('b', false)]);
    expect(run({}, {}, (c) => { expect2(c); c.onPong(Buffer.from('a')); c.onMessage(Buffer.from('b'), false); }).behavior).toBe('OK');
    expect(run({}, {}, (c) => { expect2(c); c.onMessage(Buffer.from('b'), false); c.onPong(Buffer.from('a')); }).behavior).toBe('FAILED');
    expect(run({}, {}, (c) => { expect2(c); c.onPong(Buffer.from('a')); c.onMessage(Buffer.from('b'), true); }).behavior).toBe('FAILED');
    expect(run({}, {}, (c) => { expect2(c); c.onPong(Buffer.from('a')); }).behavior).toBe('FAILED');
  });

  it('picks NON-STRICT when only its events match', () => {
    const c = run({}, { closedByMe: false, remoteCloseCode: 1002 }, (r) => {
      r.expected.set('OK', [msg('x', false)]);
      r.expected.set('NON-STRICT', []);
      r.expectedClose = failedByPeer(1002);
    });
    expect([c.behavior, c.behaviorClose]).toEqual(['NON-STRICT', 'OK']);
  });

  it('judges the close: wrong endpoint, unclean, wrong code, dropped by the client', () => {
    const clean = (c: CaseRun): void => { c.expected.set('OK', []); c.expectedClose = CLEAN_BY_ME; };
    expect(run({}, { closedByMe: false }, clean).behaviorClose).toBe('FAILED');
    expect(run({}, { wasClean: false }, clean).behaviorClose).toBe('UNCLEAN');
    expect(run({}, { remoteCloseCode: 1002 }, clean).behaviorClose).toBe('WRONG CODE');
    expect(run({}, { remoteCloseCode: null }, clean).behaviorClose).toBe('OK');
    expect(run({}, { isServer: false, droppedByMe: true }, clean).behaviorClose).toBe('FAILED BY CLIENT');
    expect(run({ onConnectionLost: wrongCodeFails }, { remoteCloseCode: 1002 }, clean).behavior).toBe('FAILED');
  });

  it('fails a UTF-8 case closed by the wrong endpoint even when the events match', () => {
    const c = run({}, { closedByMe: true }, (r) => { r.expected.set('OK', []); r.expectedClose = failedByPeer(1007, true); });
    expect([c.behavior, c.behaviorClose]).toEqual(['FAILED', 'FAILED']);
  });
});
