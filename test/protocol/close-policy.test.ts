import { describe, expect, it } from 'vitest';

import { clipCloseReason, encodeClosePayload } from '../../src/protocol/close-policy';

/** Code points of s, so a test can check that a cut is the longest one that fits. */
const codePoints = (s: string): string[] => Array.from(s);
const fits = (s: string): boolean => Buffer.byteLength(s) <= 123;
const wellFormed = (s: string): boolean => Buffer.from(s).toString() === s;

describe('clipCloseReason (RFC 6455 §5.5.1: at most 123 UTF-8 bytes)', () => {
  it('returns a reason that fits as it is, the same string', () => {
    const r = 'é'.repeat(61) + 'a'; // 123 bytes
    expect(clipCloseReason(r)).toBe(r);
    expect(clipCloseReason(r, '...')).toBe(r);
    expect(clipCloseReason('')).toBe('');
  });

  for (const lead of [0, 1, 2, 3]) {
    const reason = 'a'.repeat(lead) + '😀'.repeat(40) + 'tail';
    it(`never cuts a surrogate pair and keeps the longest prefix (${lead} ASCII before 4-byte characters)`, () => {
      const cut = clipCloseReason(reason);
      expect(fits(cut)).toBe(true);
      expect(wellFormed(cut)).toBe(true);
      expect(reason.startsWith(cut)).toBe(true);
      const next = codePoints(reason)[codePoints(cut).length]!;
      expect(fits(cut + next)).toBe(false);
    });
    it(`with a suffix: prefix + "..." within 123 bytes, no surrogate cut (${lead} ASCII)`, () => {
      const cut = clipCloseReason(reason, '...');
      expect(cut.endsWith('...')).toBe(true);
      const prefix = cut.slice(0, -3);
      expect(fits(cut)).toBe(true);
      expect(wellFormed(cut)).toBe(true);
      expect(reason.startsWith(prefix)).toBe(true);
      const next = codePoints(reason)[codePoints(prefix).length]!;
      expect(fits(prefix + next + '...')).toBe(false);
    });
  }

  it('counts a lone surrogate as the 3 bytes of U+FFFD it is sent as', () => {
    const reason = '\ud800'.repeat(50);
    const cut = clipCloseReason(reason);
    expect(cut).toBe('\ud800'.repeat(41));
    expect(Buffer.byteLength(cut)).toBe(123);
  });
});

describe('encodeClosePayload (§5.5.1)', () => {
  it('writes the code in network byte order, then the reason bytes', () => {
    expect([...encodeClosePayload(4001, Buffer.from('hi'))]).toEqual([0x0f, 0xa1, 0x68, 0x69]);
    expect([...encodeClosePayload(1000, new Uint8Array(0))]).toEqual([0x03, 0xe8]);
  });
});
