// The one frame-header writer (RFC 6455 §5.2) and whole-frame encoder of frames/header.ts,
// which Frame, the sans-IO FrameWriter, io's sender and broadcast all use.
import { describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { ParseFailed } from '../../src/errors';
import { encodeFrame, frameHeaderSize, maskInto, readPayloadLength, writeFrameHeader, writeHeader } from '../../src/frames/header';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

function xor(data: Uint8Array, key: Uint8Array): Buffer {
  return Buffer.from(data.map((b, i) => b ^ key[i & 3]!));
}

describe(`frames/header: one header writer (${backendName})`, () => {
  it('writes the shortest length form at each boundary, masked or not', () => {
    for (const len of [0, 125, 126, 0xffff, 0x10000, 2 ** 32 + 7]) {
      for (const key of [null, KEY]) {
        const out = new Uint8Array(14);
        const n = writeHeader(out, 0, 0x82, len, key);
        expect(n).toBe(frameHeaderSize(len, key !== null));
        // The checked writer gives the same bytes.
        const checked = new Uint8Array(14);
        expect(writeFrameHeader(checked, 0, { opcode: 2, length: len, ...(key !== null ? { maskKey: key } : {}) })).toBe(n);
        expect(hex(out.subarray(0, n))).toBe(hex(checked.subarray(0, n)));
      }
    }
    const out = new Uint8Array(14);
    expect(hex(out.subarray(0, writeHeader(out, 0, 0x81, 126, null)))).toBe('817e007e');
    expect(hex(out.subarray(0, writeHeader(out, 0, 0x82, 2 ** 32 + 7, null)))).toBe('827f0000000100000007');
  });

  it('writes at an offset and leaves the bytes around it alone', () => {
    const out = new Uint8Array(10).fill(0xee);
    expect(writeHeader(out, 3, 0x89, 5, null)).toBe(2);
    expect(hex(out)).toBe('eeeeee8905eeeeeeeeee');
  });
});

describe(`frames/header: encodeFrame and maskInto (${backendName})`, () => {
  it('masks in one pass (the RFC 6455 §5.7 example) and leaves the payload as it was', () => {
    const payload = Buffer.from('Hello');
    expect(hex(encodeFrame(0x81, payload, KEY))).toBe('818537fa213d7f9f4d5158');
    expect(payload.toString()).toBe('Hello');
    expect(hex(encodeFrame(0x81, payload, null))).toBe('810548656c6c6f');
  });

  it('short (inline) and long (backend) payloads give the same bytes as a plain XOR', () => {
    for (const len of [0, 1, 63, 64, 65, 1000, 70_000]) {
      const payload = Buffer.from(Array.from({ length: len }, (_, i) => (i * 31) & 0xff));
      const frame = encodeFrame(0x82, payload, KEY);
      const h = frameHeaderSize(len, true);
      expect(frame.length).toBe(h + len);
      expect(frame.subarray(h).equals(xor(payload, KEY))).toBe(true);
      expect(encodeFrame(0x82, payload, null).subarray(frameHeaderSize(len, false)).equals(payload)).toBe(true);
      // In place: the source is the target range.
      const copy = Buffer.from(payload);
      maskInto(copy, KEY, copy, 0);
      expect(copy.equals(xor(payload, KEY))).toBe(true);
    }
  });
});

describe('frames/header: readPayloadLength', () => {
  it('reads what writeHeader wrote, and -1 until the extended length is there', () => {
    for (const len of [0, 125, 126, 0xffff, 0x10000, 2 ** 53 - 1]) {
      const out = new Uint8Array(14);
      const n = writeHeader(out, 0, 0x82, len, null);
      expect(readPayloadLength(out.subarray(0, n))).toBe(len);
      if (n > 2) expect(readPayloadLength(out.subarray(0, n - 1))).toBe(-1);
    }
  });

  it('refuses a 64-bit length of 2^53 or more (1009); strict, one with its top bit set is a protocol error (1002)', () => {
    const closeCode = (high: string, strict: boolean): number | null => {
      try {
        readPayloadLength(Buffer.from(`827f${high}00000000`, 'hex'), strict);
      } catch (err) {
        expect(err).toBeInstanceOf(ParseFailed);
        return (err as ParseFailed).closeCode;
      }
      return null;
    };
    expect([closeCode('00200000', false), closeCode('00200000', true)]).toEqual([1009, 1009]);
    expect([closeCode('80000000', false), closeCode('80000000', true)]).toEqual([1009, 1002]);
    expect(closeCode('001fffff', true)).toBeNull();
  });
});
