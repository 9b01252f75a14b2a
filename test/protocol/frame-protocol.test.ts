/**
 * wsproto's low level: FrameProtocol, FrameDecoder, MessageDecoder, and the FrameWriter
 * underneath the send side.
 */
import { describe, expect, it } from 'vitest';

import { LocalProtocolError, ParseFailed } from '../../src/errors';
import type { Extension } from '../../src/extensions/extension';
import type { RsvBits } from '../../src/frames/rsv';
import { Close, Opcode } from '../../src/frames/frame';
import { CloseReason, FrameDecoder, FrameProtocol, MessageDecoder, parseHeader, type ReceivedFrame } from '../../src/protocol/frame-protocol';
import { frameHeaderSize } from '../../src/frames/header';
import { FrameWriter } from '../../src/protocol/frame-writer';
import { cat, split, wire } from '../helpers/wire';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function receive(p: FrameProtocol, ...chunks: Uint8Array[]): ReceivedFrame[] {
  const out: ReceivedFrame[] = [];
  for (const c of chunks) {
    p.receiveBytes(c);
    out.push(...p.receivedFrames());
  }
  return out;
}

describe('FrameProtocol: receiving', () => {
  it('yields text as strings, binary as bytes, close as Close, pings as bytes', () => {
    const p = new FrameProtocol(false, []);
    const frames = receive(
      p,
      cat(
        wire({ opcode: 1, payload: 'Hel', fin: false, mask: true }),
        wire({ opcode: 9, payload: 'hb', mask: true }),
        wire({ opcode: 0, payload: 'lo', mask: true }),
        wire({ opcode: 2, payload: Uint8Array.of(1, 2), mask: true }),
        wire({ opcode: 8, payload: Uint8Array.of(0x03, 0xe8, 0x62, 0x79, 0x65), mask: true }),
      ),
    );
    expect(frames.map((f) => [f.opcode, f.frameFinished, f.messageFinished])).toEqual([
      [Opcode.TEXT, true, false],
      [Opcode.PING, true, true],
      [Opcode.TEXT, true, true],
      [Opcode.BINARY, true, true],
      [Opcode.CLOSE, true, true],
    ]);
    expect(frames[0]!.payload).toBe('Hel');
    expect(hex(frames[1]!.payload as Uint8Array)).toBe(hex(Buffer.from('hb')));
    expect(frames[2]!.payload).toBe('lo');
    expect(Array.from(frames[3]!.payload as Uint8Array)).toEqual([1, 2]);
    expect(frames[4]!.payload).toBeInstanceOf(Close);
    expect(frames[4]!.payload).toMatchObject({ code: 1000, reason: 'bye' });
  });

  it('decodes a character split across frames whole in the later part', () => {
    const euro = Buffer.from('€'); // e2 82 ac
    const bytes = cat(
      wire({ opcode: 1, payload: cat(Buffer.from('a'), euro.subarray(0, 1)), fin: false }),
      wire({ opcode: 0, payload: euro.subarray(1, 2), fin: false }),
      wire({ opcode: 0, payload: cat(euro.subarray(2), Buffer.from('b')) }),
    );
    for (const pieces of [[bytes.slice()], split(bytes, 1)]) {
      const texts = receive(new FrameProtocol(true, []), ...pieces).map((f) => f.payload);
      expect(texts).toEqual(['a', '', '€b']);
    }
  });

  it('an empty close is 1005 with an empty reason', () => {
    const [f] = receive(new FrameProtocol(true, []), wire({ opcode: 8 }));
    expect(f!.payload).toMatchObject({ code: CloseReason.NO_STATUS_RCVD, reason: '' });
  });

  it('throws ParseFailed with the close code, after the frames before it', () => {
    const p = new FrameProtocol(false, []);
    p.receiveBytes(cat(wire({ opcode: 2, payload: 'x', mask: true }), wire({ opcode: 1, payload: Uint8Array.of(0xff), mask: true })));
    const gen = p.receivedFrames();
    expect(gen.next().value).toMatchObject({ opcode: Opcode.BINARY });
    let err: unknown;
    try {
      gen.next();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseFailed);
    expect((err as ParseFailed).code).toBe(CloseReason.INVALID_FRAME_PAYLOAD_DATA);
  });

  it('honours maxPayload', () => {
    const p = new FrameProtocol(false, [], { maxPayload: 10 });
    p.receiveBytes(wire({ opcode: 2, payload: new Uint8Array(11), mask: true }));
    expect(() => [...p.receivedFrames()]).toThrow(expect.objectContaining({ code: 1009 }));
  });

  it('FrameDecoder returns null until a frame is complete', () => {
    const d = new FrameDecoder(true);
    const bytes = wire({ opcode: 2, payload: 'abcdef' });
    d.receiveBytes(bytes.slice(0, 4));
    expect(d.processBuffer()).toBeNull();
    d.receiveBytes(bytes.slice(4));
    expect(d.processBuffer()).toMatchObject({ opcode: Opcode.BINARY, messageFinished: true, rsv: { rsv1: false, rsv2: false, rsv3: false } });
    expect(d.processBuffer()).toBeNull();
  });
});

describe('parseHeader', () => {
  it('decodes a header without judging it (wsproto Header / RsvBits)', () => {
    const bytes = wire({ opcode: 3, rsv: 5, fin: false, payload: new Uint8Array(300), mask: true });
    expect(parseHeader(bytes.subarray(0, 7))).toBeNull();
    const { header, headerLength: n } = parseHeader(bytes)!;
    expect(n).toBe(8);
    expect(header).toMatchObject({ fin: false, opcode: 3, payloadLen: 300, rsv: { rsv1: true, rsv2: false, rsv3: true } });
    expect(Array.from(header.maskingKey!)).toEqual([0x37, 0xfa, 0x21, 0x3d]);
    let caught: unknown = null;
    try {
      parseHeader(wire({ opcode: 2, length64: 2n ** 53n }));
    } catch (err) {
      caught = err;
    }
    // The length is the peer's: a typed protocol error with the close code to send.
    expect(caught).toBeInstanceOf(ParseFailed);
    expect((caught as ParseFailed).closeCode).toBe(1009);
  });
});

describe('MessageDecoder', () => {
  const frame = (opcode: Opcode, payload: Uint8Array, fin = true) => ({ opcode, payload, frameFinished: true, messageFinished: fin });

  it('checks fragment order and validates text it is given', () => {
    const m = new MessageDecoder();
    expect(() => m.processFrame(frame(Opcode.CONT, new Uint8Array(0)))).toThrow(/continuation frame without/);
    expect(m.processFrame(frame(Opcode.TEXT, Buffer.from('ab'), false))).toMatchObject({ opcode: Opcode.TEXT, payload: 'ab' });
    expect(() => m.processFrame(frame(Opcode.BINARY, new Uint8Array(0)))).toThrow(ParseFailed);
    const m2 = new MessageDecoder();
    expect(() => m2.processFrame(frame(Opcode.TEXT, Uint8Array.of(0xc3)))).toThrow(expect.objectContaining({ code: 1007 }));
  });

  it('keeps text as bytes with decodeText: false', () => {
    const m = new MessageDecoder({ decodeText: false });
    expect(m.processFrame(frame(Opcode.TEXT, Buffer.from('hi'))).payload).toBeInstanceOf(Uint8Array);
  });
});

/** A toy extension on RSV1: XORs payloads of RSV1 messages with 0x20 both ways. */
function xorExtension(): Extension & { seen: number } {
  let compressed = false;
  const ext = {
    name: 'x-xor',
    rsvMask: 4,
    seen: 0,
    enabled: () => true,
    offer: () => true,
    accept: () => true,
    finalize: () => undefined,
    frameInboundHeader(opcode: Opcode, rsv: RsvBits): RsvBits {
      if (opcode === Opcode.TEXT || opcode === Opcode.BINARY) compressed = rsv.rsv1;
      return { ...rsv, rsv1: false };
    },
    frameInboundPayloadData(data: Uint8Array): Uint8Array {
      ext.seen++;
      return compressed ? data.map((b) => b ^ 0x20) : data;
    },
    frameInboundComplete: () => null,
    frameOutbound(opcode: Opcode, rsv: RsvBits, data: Uint8Array) {
      if (opcode !== Opcode.TEXT && opcode !== Opcode.BINARY) return { rsv, data };
      return { rsv: { ...rsv, rsv1: true }, data: data.map((b) => b ^ 0x20) };
    },
  };
  return ext;
}

describe('FrameProtocol: extensions', () => {
  it('round-trips through the hooks, validating UTF-8 after the transform', () => {
    const client = new FrameProtocol(true, [xorExtension()]);
    const server = new FrameProtocol(false, [xorExtension()]);
    const bytes = client.sendData('héllo');
    expect(bytes[0]).toBe(0xc1); // FIN + RSV1 + TEXT
    expect(receive(server, bytes).map((f) => f.payload)).toEqual(['héllo']);
    // Raw bytes valid, transformed bytes invalid (0xe0 ^ 0x20 = 0xc0): 1007 from the TS side.
    const bad = wire({ opcode: 1, rsv: 4, payload: Uint8Array.of(0xe0, 0xaf), mask: true });
    expect(() => receive(new FrameProtocol(false, [xorExtension()]), bad)).toThrow(expect.objectContaining({ code: 1007 }));
  });

  it('without extensions RSV bits are refused', () => {
    const server = new FrameProtocol(false, []);
    expect(() => receive(server, new FrameProtocol(true, [xorExtension()]).sendData('x'))).toThrow(expect.objectContaining({ code: 1002 }));
  });
});

describe('FrameProtocol: sending', () => {
  it('server frames are unmasked (RFC 6455 §5.7 example bytes)', () => {
    const p = new FrameProtocol(false, []);
    expect(hex(p.sendData('Hello'))).toBe('810548656c6c6f');
    expect(hex(p.sendData('Hel', false))).toBe('010348656c');
    expect(hex(p.sendData('lo', true))).toBe('80026c6f');
    expect(hex(p.ping(Buffer.from('Hello')))).toBe('890548656c6c6f');
  });

  it('client frames are masked with a fresh key and round-trip', () => {
    const c = new FrameProtocol(true, []);
    const a = c.sendData(Buffer.from('same'));
    const b = c.sendData(Buffer.from('same'));
    expect(a[1]! & 0x80).toBe(0x80);
    expect(hex(a.subarray(2, 6))).not.toBe(hex(b.subarray(2, 6)));
    const frames = receive(new FrameProtocol(false, []), a, b, c.pong('p'), c.close(1001, 'away'));
    expect(frames.map((f) => f.opcode)).toEqual([Opcode.BINARY, Opcode.BINARY, Opcode.PONG, Opcode.CLOSE]);
    expect(frames[3]!.payload).toMatchObject({ code: 1001, reason: 'away' });
  });

  it('refuses a type change inside a fragmented message', () => {
    const p = new FrameProtocol(false, []);
    p.sendData('a', false);
    expect(() => p.sendData(Buffer.from('b'))).toThrow(TypeError);
  });

  it('close() follows wsproto', () => {
    const p = new FrameProtocol(false, []);
    expect(hex(p.close())).toBe('8800');
    expect(hex(p.close(CloseReason.NO_STATUS_RCVD))).toBe('8800');
    expect(hex(p.close(1006))).toBe('880203e8');
    expect(() => p.close(undefined, 'why')).toThrow(TypeError);
    expect(() => p.close(999)).toThrow(LocalProtocolError);
    const long = p.close(1000, '€'.repeat(50)); // 150 bytes of UTF-8, cut to 123 -> 41 chars
    expect(long.length).toBe(2 + 2 + 123);
    const [f] = receive(new FrameProtocol(true, []), long);
    expect((f!.payload as Close).reason).toBe('€'.repeat(41));
  });

  it('refuses control payloads over 125 bytes', () => {
    const p = new FrameProtocol(true, []);
    expect(() => p.ping(new Uint8Array(126))).toThrow(LocalProtocolError);
    expect(() => p.pong(new Uint8Array(126))).toThrow(LocalProtocolError);
    expect(p.ping(new Uint8Array(125)).length).toBe(2 + 4 + 125);
  });
});

describe('FrameWriter', () => {
  it('uses the shortest length form', () => {
    for (const [len, h] of [[0, 2], [125, 2], [126, 4], [65535, 4], [65536, 10]] as const) {
      expect(frameHeaderSize(len, false)).toBe(h);
      expect(new FrameWriter({ mask: false }).frame(Opcode.BINARY, new Uint8Array(len)).length).toBe(h + len);
      expect(new FrameWriter({ mask: true }).frame(Opcode.BINARY, new Uint8Array(len)).length).toBe(h + 4 + len);
    }
  });

  it('server frames: header and the payload itself for writev, no copy', () => {
    const payload = new Uint8Array(5000);
    const parts = new FrameWriter({ mask: false }).frameParts(Opcode.BINARY, payload);
    expect(parts.length).toBe(2);
    expect(parts[1]).toBe(payload);
    expect(hex(parts[0]!)).toBe('827e1388');
    expect(new FrameWriter({ mask: true }).frameParts(Opcode.BINARY, payload).length).toBe(1);
  });

  it('masks in one pass with the given key (RFC 6455 §5.7 example)', () => {
    const key = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
    expect(hex(new FrameWriter({ mask: true }).frame(Opcode.TEXT, 'Hello', { maskKey: key }))).toBe('818537fa213d7f9f4d5158');
  });

  it('validates control frames', () => {
    const w = new FrameWriter({ mask: false });
    expect(() => w.frame(Opcode.CLOSE, new Uint8Array(126))).toThrow(LocalProtocolError);
    expect(() => w.frame(Opcode.PING, '', { fin: false })).toThrow(LocalProtocolError);
    expect(() => w.frame(3 as Opcode, '')).toThrow(LocalProtocolError);
  });
});
