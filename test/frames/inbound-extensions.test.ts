// applyInboundExtensions (frames/rsv.ts): the one place received frames go through the
// negotiated extensions' hooks (Frame.parse and the sans-IO FrameDecoder), RFC 6455 §9.
import { afterAll, describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { ParseFailed } from '../../src/errors';
import { PerMessageDeflate } from '../../src/extensions/permessage-deflate';
import { Opcode } from '../../src/frames/opcode';
import { deflatePair } from '../helpers/deflate-pair';
import { applyInboundExtensions, RSV1, RSV2, type FrameTransform } from '../../src/frames/rsv';

afterAll(() => PerMessageDeflate.releaseSharedStreams());

/** An extension of RSV2 that upper-cases payloads and appends "!" at the end of a message. */
class Shout implements FrameTransform {
  readonly rsvMask = RSV2;
  readonly seen: string[] = [];
  frameInboundHeader(opcode: Opcode, rsv: { rsv1: boolean; rsv2: boolean; rsv3: boolean }): { rsv1: boolean; rsv2: boolean; rsv3: boolean } {
    this.seen.push(`header ${opcode}`);
    return { ...rsv, rsv2: false };
  }
  frameInboundPayloadData(data: Uint8Array): Uint8Array {
    this.seen.push('payload');
    return Buffer.from(Buffer.from(data).toString().toUpperCase());
  }
  frameInboundComplete(fin: boolean): Uint8Array | null {
    this.seen.push(`complete ${fin}`);
    return fin ? Buffer.from('!') : null;
  }
  frameOutbound(_opcode: Opcode, rsv: { rsv1: boolean; rsv2: boolean; rsv3: boolean }, data: Uint8Array): { rsv: { rsv1: boolean; rsv2: boolean; rsv3: boolean }; data: Uint8Array } {
    return { rsv, data };
  }
}

function closeCode(fn: () => unknown): number | null {
  try {
    fn();
  } catch (err) {
    if (err instanceof ParseFailed) return err.closeCode;
    throw err;
  }
  return null;
}

describe(`applyInboundExtensions (${backendName})`, () => {
  it('runs header, payload and completion hooks in order on a data frame', () => {
    const shout = new Shout();
    const out = applyInboundExtensions([shout], Opcode.TEXT, RSV2, Buffer.from('hi'), true, 100);
    expect(Buffer.from(out).toString()).toBe('HI!');
    expect(shout.seen).toEqual(['header 1', 'payload', 'complete true']);
  });

  it('gives control frames the header hook only', () => {
    const shout = new Shout();
    const ping = Buffer.from('ping');
    expect(applyInboundExtensions([shout], Opcode.PING, 0, ping, true, 0)).toBe(ping);
    expect(shout.seen).toEqual(['header 9']);
  });

  it('fails a frame with an RSV bit no extension claims (1002)', () => {
    expect(closeCode(() => applyInboundExtensions([new Shout()], Opcode.BINARY, RSV1, Buffer.from('x'), true, 100))).toBe(1002);
  });

  it('inflates a permessage-deflate frame within maxOutput, and refuses past it (1009)', () => {
    const { client, server } = deflatePair();
    const message = Buffer.alloc(10_000, 0x61);
    const out = applyInboundExtensions([server], Opcode.TEXT, RSV1, client.compressMessage(message), true, 10_000);
    expect(Buffer.from(out).equals(message)).toBe(true);
    expect(closeCode(() => applyInboundExtensions([server], Opcode.TEXT, RSV1, client.compressMessage(message), true, 9_999))).toBe(1009);
  });
});
