// FrameReader shares one parse-records array among all readers (it is only used inside a
// synchronous parse). These tests pin the two ways that sharing could go wrong.
import { describe, expect, it } from 'vitest';

import { FrameReader } from '../../src/protocol/reader';
import { cat, wire } from '../helpers/wire';

const decoder = new TextDecoder();

function textFrames(prefix: string, n: number): Uint8Array {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < n; i++) frames.push(wire({ opcode: 1, payload: `${prefix}${i}`, mask: true }));
  return cat(...frames);
}

describe('FrameReader shared records', () => {
  it('a handler that feeds another reader mid-batch does not corrupt either batch', () => {
    const outer = new FrameReader({ role: 'server' });
    const inner = new FrameReader({ role: 'server' });
    const outerSeen: string[] = [];
    const innerSeen: string[] = [];
    const innerBytes = textFrames('in-', 50);
    outer.feed(textFrames('out-', 50), (_info, payload) => {
      outerSeen.push(decoder.decode(payload));
      // Re-enter the parser while the outer batch's records are still being walked.
      if (outerSeen.length === 3) inner.feed(innerBytes, (_i, p) => innerSeen.push(decoder.decode(p)));
    });
    expect(outerSeen).toEqual(Array.from({ length: 50 }, (_, i) => `out-${i}`));
    expect(innerSeen).toEqual(Array.from({ length: 50 }, (_, i) => `in-${i}`));
  });

  it('readers interleaved chunk by chunk keep their own state', () => {
    const a = new FrameReader({ role: 'server' });
    const b = new FrameReader({ role: 'server' });
    const aBytes = textFrames('a', 2000); // more frames than one records batch holds
    const bBytes = textFrames('b', 2000);
    const seenA: string[] = [];
    const seenB: string[] = [];
    for (let at = 0; at < aBytes.length; at += 997) {
      a.feed(aBytes.subarray(at, at + 997), (_i, p) => seenA.push(decoder.decode(p)));
      b.feed(bBytes.subarray(at, at + 997), (_i, p) => seenB.push(decoder.decode(p)));
    }
    expect(seenA).toEqual(Array.from({ length: 2000 }, (_, i) => `a${i}`));
    expect(seenB).toEqual(Array.from({ length: 2000 }, (_, i) => `b${i}`));
  });
});
