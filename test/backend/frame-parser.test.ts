/**
 * backend.parseFrames (the active backend) called directly: RFC 6455 §5.7 examples, the
 * record and ctl layout, streaming of data payloads across calls, limits.
 */
import { describe, expect, it } from 'vitest';

import { backend } from '../../src/backend';
import { PARSE_CTL_SIZE, ParseCtl, ParseError, ParseRecord } from '../../src/backend/types';
import { cat, wire } from '../helpers/wire';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16)));

function setup(opts: { server: boolean; maxPayload?: number; allowedRsv?: number; capacity?: number }) {
  const ctl = new Float64Array(PARSE_CTL_SIZE);
  ctl[ParseCtl.FLAGS] = opts.server ? 1 : 0;
  ctl[ParseCtl.ALLOWED_RSV] = opts.allowedRsv ?? 0;
  ctl[ParseCtl.MAX_PAYLOAD] = opts.maxPayload ?? 64 * 1024 * 1024;
  return { ctl, records: new Int32Array((opts.capacity ?? 64) * ParseRecord.SIZE) };
}

function records(rec: Int32Array, n: number) {
  const out: Array<{ info: number; offset: number; length: number }> = [];
  for (let i = 0; i < n; i++) out.push({ info: rec[i * 3]!, offset: rec[i * 3 + 1]!, length: rec[i * 3 + 2]! });
  return out;
}

const SE = ParseRecord.START | ParseRecord.END;
const text = (b: Uint8Array, r: { offset: number; length: number }) => new TextDecoder().decode(b.subarray(r.offset, r.offset + r.length));

describe('parseFrames: RFC 6455 §5.7 examples', () => {
  it('a single-frame unmasked text message (server to client)', () => {
    const buf = hex('81 05 48 65 6c 6c 6f');
    const { ctl, records: rec } = setup({ server: false });
    const n = backend.parseFrames(buf, 0, buf.length, ctl, rec);
    expect(n).toBe(1);
    const [r] = records(rec, n);
    expect(r).toEqual({ info: 0x81 | SE | ParseRecord.UTF8, offset: 2, length: 5 });
    expect(text(buf, r!)).toBe('Hello');
    expect(ctl[ParseCtl.CONSUMED]).toBe(7);
    expect(ctl[ParseCtl.ERROR]).toBe(0);
  });

  it('a single-frame masked text message (client to server), unmasked in place', () => {
    const buf = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    const { ctl, records: rec } = setup({ server: true });
    const n = backend.parseFrames(buf, 0, buf.length, ctl, rec);
    expect(records(rec, n)).toEqual([{ info: 0x81 | SE | ParseRecord.UTF8, offset: 6, length: 5 }]);
    expect(text(buf, { offset: 6, length: 5 })).toBe('Hello');
  });

  it('a fragmented unmasked text message', () => {
    const buf = hex('01 03 48 65 6c 80 02 6c 6f');
    const { ctl, records: rec } = setup({ server: false });
    const n = backend.parseFrames(buf, 0, buf.length, ctl, rec);
    const rs = records(rec, n);
    expect(rs.map((r) => r.info)).toEqual([0x01 | SE | ParseRecord.UTF8, 0x80 | SE | ParseRecord.UTF8]);
    expect(rs.map((r) => text(buf, r)).join('')).toBe('Hello');
    expect(ctl[ParseCtl.MESSAGE]).toBe(0);
  });

  it('an unmasked ping and a masked pong', () => {
    const ping = hex('89 05 48 65 6c 6c 6f');
    const a = setup({ server: false });
    expect(records(a.records, backend.parseFrames(ping, 0, ping.length, a.ctl, a.records))).toEqual([{ info: 0x89 | SE, offset: 2, length: 5 }]);
    const pong = hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58');
    const b = setup({ server: true });
    expect(records(b.records, backend.parseFrames(pong, 0, pong.length, b.ctl, b.records))).toEqual([{ info: 0x8a | SE, offset: 6, length: 5 }]);
    expect(text(pong, { offset: 6, length: 5 })).toBe('Hello');
  });

  it('256 bytes and 64 KiB binary messages in single unmasked frames (16- and 64-bit lengths)', () => {
    const b256 = cat(hex('82 7e 01 00'), new Uint8Array(256).fill(7));
    const b64k = cat(hex('82 7f 00 00 00 00 00 01 00 00'), new Uint8Array(65536).fill(9));
    const { ctl, records: rec } = setup({ server: false });
    const buf = cat(b256, b64k);
    const n = backend.parseFrames(buf, 0, buf.length, ctl, rec);
    expect(records(rec, n)).toEqual([
      { info: 0x82 | SE, offset: 4, length: 256 },
      { info: 0x82 | SE, offset: 260 + 10, length: 65536 },
    ]);
  });
});

describe('parseFrames: streaming and state', () => {
  it('streams a data payload across calls and keeps the key phase', () => {
    const payload = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const buf = wire({ opcode: 2, payload, mask: true });
    const { ctl, records: rec } = setup({ server: true });
    // Header (8 bytes) + 5 payload bytes: a START record without END.
    let n = backend.parseFrames(buf, 0, 13, ctl, rec);
    expect(records(rec, n)).toEqual([{ info: 0x82 | ParseRecord.START, offset: 8, length: 5 }]);
    expect(ctl[ParseCtl.FRAME_REMAINING]).toBe(995);
    expect(ctl[ParseCtl.CONSUMED]).toBe(13);
    n = backend.parseFrames(buf, 13, 500, ctl, rec);
    expect(records(rec, n)).toEqual([{ info: 0x82, offset: 13, length: 487 }]);
    n = backend.parseFrames(buf, 500, buf.length, ctl, rec);
    expect(records(rec, n)).toEqual([{ info: 0x82 | ParseRecord.END, offset: 500, length: 508 }]);
    expect(Array.from(buf.subarray(8))).toEqual(Array.from(payload));
    expect(ctl[ParseCtl.FRAME]).toBe(0);
  });

  it('reports a data frame whose payload has not started yet with a 0-length START record', () => {
    const buf = wire({ opcode: 2, payload: new Uint8Array(300) });
    const { ctl, records: rec } = setup({ server: false });
    const n = backend.parseFrames(buf, 0, 4, ctl, rec);
    expect(records(rec, n)).toEqual([{ info: 0x82 | ParseRecord.START, offset: 4, length: 0 }]);
    expect(ctl[ParseCtl.FRAME_REMAINING]).toBe(300);
  });

  it('consumes control frames only whole, and incomplete headers not at all', () => {
    const buf = cat(wire({ opcode: 9, payload: 'abc' }), wire({ opcode: 2, length64: 70000n }).subarray(0, 6));
    const { ctl, records: rec } = setup({ server: false });
    expect(backend.parseFrames(buf, 0, 4, ctl, rec)).toBe(0);
    expect(ctl[ParseCtl.CONSUMED]).toBe(0);
    expect(backend.parseFrames(buf, 0, buf.length, ctl, rec)).toBe(1);
    expect(ctl[ParseCtl.CONSUMED]).toBe(5);
  });

  it('stops when the records array is full', () => {
    const buf = cat(...Array.from({ length: 5 }, () => wire({ opcode: 2, payload: 'x' })));
    const { ctl, records: rec } = setup({ server: false, capacity: 2 });
    expect(backend.parseFrames(buf, 0, buf.length, ctl, rec)).toBe(2);
    expect(ctl[ParseCtl.CONSUMED]).toBe(6);
    expect(backend.parseFrames(buf, 6, buf.length, ctl, rec)).toBe(2);
    expect(backend.parseFrames(buf, 12, buf.length, ctl, rec)).toBe(1);
    expect(ctl[ParseCtl.CONSUMED]).toBe(buf.length);
  });

  it('does not validate UTF-8 of a text message whose first frame has RSV1 (compressed)', () => {
    const buf = cat(wire({ opcode: 1, rsv: 4, fin: false, payload: Uint8Array.of(0xff) }), wire({ opcode: 0, payload: Uint8Array.of(0xfe) }));
    const { ctl, records: rec } = setup({ server: false, allowedRsv: 4 });
    const n = backend.parseFrames(buf, 0, buf.length, ctl, rec);
    expect(ctl[ParseCtl.ERROR]).toBe(0);
    expect(records(rec, n).map((r) => r.info)).toEqual([0x41 | SE, 0x80 | SE]);
  });

  it('fails fast on invalid UTF-8 at the exact offset, before the message ends', () => {
    const buf = wire({ opcode: 1, fin: false, payload: Uint8Array.of(0x61, 0x62, 0xc3, 0x28) });
    const { ctl, records: rec } = setup({ server: false });
    expect(backend.parseFrames(buf, 0, buf.length, ctl, rec)).toBe(0);
    expect(ctl[ParseCtl.ERROR]).toBe(1007);
    expect(ctl[ParseCtl.ERROR_REASON]).toBe(ParseError.INVALID_UTF8);
    expect(ctl[ParseCtl.ERROR_OFFSET]).toBe(2 + 3);
  });

  it('refuses lengths of 2^53 and 2^63 cleanly, accepts 2^53 - 1 in the header', () => {
    for (const [len, code, reason] of [
      [2n ** 53n, 1009, ParseError.FRAME_TOO_BIG],
      [2n ** 64n - 1n, 1002, ParseError.LENGTH_MSB_SET],
      [2n ** 63n, 1002, ParseError.LENGTH_MSB_SET],
    ] as const) {
      const buf = wire({ opcode: 2, length64: len, mask: true });
      const { ctl, records: rec } = setup({ server: true, maxPayload: 2 ** 53 - 1 });
      expect(backend.parseFrames(buf, 0, buf.length, ctl, rec)).toBe(0);
      expect([ctl[ParseCtl.ERROR], ctl[ParseCtl.ERROR_REASON]]).toEqual([code, reason]);
    }
    const buf = wire({ opcode: 2, length64: 2n ** 53n - 1n, mask: true });
    const { ctl, records: rec } = setup({ server: true, maxPayload: 2 ** 53 - 1 });
    expect(backend.parseFrames(buf, 0, buf.length, ctl, rec)).toBe(1);
    expect(ctl[ParseCtl.FRAME_REMAINING]).toBe(2 ** 53 - 1);
  });

  it('validates its arguments', () => {
    const { ctl, records: rec } = setup({ server: true });
    const f = backend.parseFrames as (...a: unknown[]) => number;
    expect(() => f('x', 0, 0, ctl, rec)).toThrow(TypeError);
    expect(() => f(new Uint8Array(2), 0, 3, ctl, rec)).toThrow(RangeError);
    expect(() => f(new Uint8Array(2), 0, 2, new Float64Array(3), rec)).toThrow(RangeError);
    expect(() => f(new Uint8Array(2), 0, 2, ctl, new Float64Array(3))).toThrow(TypeError);
    ctl[ParseCtl.UTF8] = 9;
    expect(() => f(new Uint8Array(2), 0, 2, ctl, rec)).toThrow('ctl[4] is out of range');
  });
});
