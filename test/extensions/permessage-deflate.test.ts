// PerMessageDeflate (RFC 7692): negotiation on both sides, the frame hooks, the
// whole-message API, shared streams.
import * as zlib from 'node:zlib';

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { LocalProtocolError, ParseFailed, RemoteProtocolError } from '../../src/errors';
import { PerMessageDeflate, type PerMessageDeflateOptions } from '../../src/extensions/permessage-deflate';
import { type DeflateParams, parseDeflateParams } from '../../src/extensions/permessage-deflate-params';
import { Opcode } from '../../src/frames/frame';
import { FrameProtocol } from '../../src/protocol/frame-protocol';

const NO_RSV = { rsv1: false, rsv2: false, rsv3: false };
const RSV1 = { rsv1: true, rsv2: false, rsv3: false };
const BIG = 1 << 30;

afterAll(() => PerMessageDeflate.releaseSharedStreams());

function json(n: number, seed = 1): Buffer {
  const items: string[] = [];
  for (let i = 0, len = 0; len < n; i++) len += items[items.push(`{"id":${i * seed},"px":${(i * 37) % 1000}.25,"side":"${i % 3 ? 'buy' : 'sell'}"}`) - 1]!.length + 1;
  return Buffer.from(`[${items.join(',')}]`.slice(0, n));
}

/** Runs the handshake: the client's offers in order until the server accepts one. */
function negotiate(clientOptions: PerMessageDeflateOptions, serverOptions: PerMessageDeflateOptions) {
  const client = new PerMessageDeflate({ threshold: 0, ...clientOptions });
  const server = new PerMessageDeflate({ threshold: 0, ...serverOptions });
  for (const offer of client.offers()) {
    const answer = server.accept(offer === true ? '' : (offer as string));
    if (answer !== null && answer !== false) {
      client.finalize(answer === true ? '' : answer);
      return { client, server, offer, answer };
    }
  }
  return { client, server, offer: null, answer: null };
}

/** Sends a message through the frame hooks of `from` and receives it through `to`'s. */
function sendFrames(from: PerMessageDeflate, to: PerMessageDeflate, message: Uint8Array, fragments = 1): Buffer {
  const step = Math.ceil(message.length / fragments) || 1;
  const out: Uint8Array[] = [];
  for (let i = 0; i < fragments; i++) {
    const fin = i === fragments - 1;
    const opcode = i === 0 ? Opcode.BINARY : Opcode.CONT;
    const sent = from.frameOutbound(opcode, NO_RSV, message.subarray(i * step, (i + 1) * step), fin);
    if (sent.rsv.rsv1 !== (i === 0 && from.shouldCompress(Math.min(step, message.length)))) throw new Error('RSV1 misplaced');
    const rsv = to.frameInboundHeader(opcode, sent.rsv, sent.data.length);
    if (rsv.rsv1) throw new Error('RSV1 not claimed');
    out.push(to.frameInboundPayloadData(sent.data, BIG));
    const tail = to.frameInboundComplete(fin, BIG);
    if (tail !== null) out.push(tail);
  }
  return Buffer.concat(out);
}

describe(`permessage-deflate negotiation (${backendName})`, () => {
  const windowChoices = [undefined, 8, 9, 10, 11, 12, 13, 14, 15];
  const clientConfigs: PerMessageDeflateOptions[] = [];
  for (const serverNoContextTakeover of [false, true])
    for (const clientNoContextTakeover of [false, true])
      for (const serverMaxWindowBits of windowChoices)
        for (const clientMaxWindowBits of [false, true, ...windowChoices.slice(1)])
          clientConfigs.push({
            // true or unset ("no preference"; an explicit false refuses, tested below)
            serverNoContextTakeover: serverNoContextTakeover || undefined,
            clientNoContextTakeover: clientNoContextTakeover || undefined,
            serverMaxWindowBits,
            clientMaxWindowBits,
          });
  const serverConfigs: PerMessageDeflateOptions[] = [
    {},
    { serverNoContextTakeover: true },
    { clientNoContextTakeover: true },
    { serverMaxWindowBits: 10 },
    { clientMaxWindowBits: 9 },
    { serverMaxWindowBits: false },
    { serverNoContextTakeover: false },
    { clientMaxWindowBits: false, sharedCompressor: false },
  ];

  it('every offer of RFC 7692 §7.1 against every server policy: a valid, honoured agreement', () => {
    const message = json(700);
    let agreements = 0;
    // Checked with plain comparisons (an expect() per check would dominate the run time).
    const failures: string[] = [];
    const check = (ok: boolean, what: string, c: object, s: object): void => {
      if (!ok && failures.length < 20) failures.push(`${what}: client ${JSON.stringify(c)} server ${JSON.stringify(s)}`);
    };
    for (const c of clientConfigs) {
      for (const s of serverConfigs) {
        const { client, server, answer, offer } = negotiate(c, s);
        if (answer === null) {
          // Only declined when the server's policy refuses every offer.
          check(s.clientMaxWindowBits === 9 && c.clientMaxWindowBits === false, 'declined', c, s);
          continue;
        }
        agreements++;
        check(typeof parseDeflateParams(answer === true ? '' : (answer as string), 'response') === 'object', 'invalid response', c, s);
        const ca = client.agreement!;
        const sa = server.agreement!;
        // Each compressor stays within what the other side decompresses with...
        check(ca.deflateWindowBits <= sa.inflateWindowBits && sa.deflateWindowBits <= ca.inflateWindowBits, 'window', c, s);
        // ...and resets whenever the other side expects it to.
        check(!sa.inflateNoContextTakeover || ca.deflateNoContextTakeover, 'client context', c, s);
        check(!ca.inflateNoContextTakeover || sa.deflateNoContextTakeover, 'server context', c, s);
        // The options were honoured.
        const accepted = parseDeflateParams(offer === true ? '' : (offer as string), 'offer') as DeflateParams;
        check(!accepted.serverNoContextTakeover || sa.deflateNoContextTakeover, 'asked server_no_context_takeover', c, s);
        check(accepted.serverMaxWindowBits === undefined || sa.deflateWindowBits <= accepted.serverMaxWindowBits, 'asked server window', c, s);
        check(!s.serverNoContextTakeover || sa.deflateNoContextTakeover, 'server option nct', c, s);
        check(!s.clientNoContextTakeover || ca.deflateNoContextTakeover, 'server option client nct', c, s);
        check(typeof c.clientMaxWindowBits !== 'number' || ca.deflateWindowBits <= c.clientMaxWindowBits, 'client promise', c, s);
        check(s.serverMaxWindowBits !== 10 || sa.deflateWindowBits <= 10, 'server window option', c, s);
        check(s.clientMaxWindowBits !== 9 || ca.deflateWindowBits <= 9, 'client window option', c, s);
        // Messages flow both ways, twice (context takeover or not), through both APIs.
        for (let i = 0; i < 2; i++) {
          check(sendFrames(client, server, message, 1 + i).equals(message), 'frames c->s', c, s);
          check(message.equals(server.decompressMessage(client.compressMessage(message), BIG)), 'message c->s', c, s);
          check(sendFrames(server, client, message).equals(message), 'frames s->c', c, s);
          check(message.equals(client.decompressMessage(server.compressMessage(message), BIG)), 'message s->c', c, s);
        }
        client.dispose();
        server.dispose();
      }
    }
    expect(failures).toEqual([]);
    expect(agreements).toBeGreaterThan(2500);
  });

  it('server: declines invalid offers (§7.1) and takes the next valid one', () => {
    const invalid = [
      'server_max_window_bits=1000',
      'server_max_window_bits',
      'server_max_window_bits=10; server_max_window_bits=10',
      'server_max_window_bits=10; server_max_window_bits=11',
      'client_max_window_bits=9; client_max_window_bits',
      'client_max_window_bits; client_max_window_bits',
      'server_no_context_takeover; server_no_context_takeover',
      'server_no_context_takeover=true',
      'client_no_context_takeover="x"',
      'server_max_window_bits=08',
      'server_max_window_bits=7',
      'server_max_window_bits=16',
      'server_max_window_bits=-9',
      'server_max_window_bits=9.0',
      'client_max_window_bits=0x9',
      'server_max_window_bits="1 0"',
      'unknown_parameter',
      'x=1; server_no_context_takeover',
      ';',
      'server_no_context_takeover;',
      'a b',
      'server_max_window_bits=10,',
      '"quoted"',
      '=10',
    ];
    for (const offer of invalid) {
      const server = new PerMessageDeflate();
      expect(server.accept(offer), offer).toBeNull();
      expect(server.enabled()).toBe(false);
      expect(server.accept('client_max_window_bits')).toBe(true);
      expect(server.enabled()).toBe(true);
    }
    // Quoted values are fine when they are tokens once unquoted (RFC 6455 §9.1).
    expect(new PerMessageDeflate().accept('server_max_window_bits="10"')).toBe('server_max_window_bits=10');
    // Whitespace around parameters.
    expect(new PerMessageDeflate().accept(' server_no_context_takeover ;client_max_window_bits = 11 ')).toBe(
      'server_no_context_takeover; client_max_window_bits=11',
    );
  });

  it('server: options shape the response', () => {
    expect(new PerMessageDeflate().accept('')).toBe(true);
    expect(new PerMessageDeflate({ serverMaxWindowBits: 11 }).accept('')).toBe('server_max_window_bits=11');
    expect(new PerMessageDeflate({ serverMaxWindowBits: 11 }).accept('server_max_window_bits=9')).toBe('server_max_window_bits=9');
    expect(new PerMessageDeflate({ clientMaxWindowBits: 10 }).accept('')).toBeNull();
    expect(new PerMessageDeflate({ clientMaxWindowBits: 10 }).accept('client_max_window_bits')).toBe('client_max_window_bits=10');
    expect(new PerMessageDeflate({ clientMaxWindowBits: 10 }).accept('client_max_window_bits=9')).toBe('client_max_window_bits=9');
    expect(new PerMessageDeflate({ clientMaxWindowBits: false }).accept('client_max_window_bits=9')).toBe(true);
    expect(new PerMessageDeflate({ serverNoContextTakeover: false }).accept('server_no_context_takeover')).toBeNull();
    expect(new PerMessageDeflate({ serverMaxWindowBits: false }).accept('server_max_window_bits=10')).toBeNull();
    expect(new PerMessageDeflate({ serverNoContextTakeover: true, clientNoContextTakeover: true }).accept('')).toBe(
      'server_no_context_takeover; client_no_context_takeover',
    );
    const once = new PerMessageDeflate();
    expect(once.accept('')).toBe(true);
    expect(once.accept('')).toBeNull(); // one offer per connection
  });

  it('client: offers with a fallback, fails the connection on an invalid response (§7.1)', () => {
    expect(new PerMessageDeflate().offers()).toEqual(['client_max_window_bits']);
    expect(new PerMessageDeflate({ clientMaxWindowBits: false }).offers()).toEqual([true]);
    expect(new PerMessageDeflate({ serverNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 }).offers()).toEqual([
      'server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12',
      'client_max_window_bits=12',
    ]);
    expect(new PerMessageDeflate({ serverMaxWindowBits: 10, fallback: false }).offer()).toBe('server_max_window_bits=10; client_max_window_bits');
    const bad: Array<[PerMessageDeflateOptions, string]> = [
      [{}, 'client_max_window_bits'], // a response must give it a value
      [{}, 'client_max_window_bits=16'],
      [{}, 'server_max_window_bits'],
      [{}, 'mystery'],
      [{}, 'server_max_window_bits=9; server_max_window_bits=9'], // CVE-2026-2229's shape
      [{}, 'server_no_context_takeover; server_no_context_takeover'],
      [{ clientMaxWindowBits: false }, 'client_max_window_bits=10'], // not offered
      [{ clientMaxWindowBits: 10 }, 'client_max_window_bits=11'], // more than offered
      [{ serverMaxWindowBits: 10, fallback: false }, 'server_max_window_bits=11'],
      [{ serverMaxWindowBits: 10, fallback: false }, ''], // declined what was asked, no fallback
      [{ serverNoContextTakeover: true, fallback: false }, ''],
      [{ clientNoContextTakeover: false }, 'client_no_context_takeover'],
      [{}, 'server_no_context_takeover=1'],
    ];
    for (const [options, response] of bad) {
      const client = new PerMessageDeflate(options);
      expect(() => client.finalize(response), response).toThrow(RemoteProtocolError);
      expect(client.enabled()).toBe(false);
    }
    // The server may add these on its own (§7.1.1.1, §7.1.1.2, §7.1.2.1), and answer the fallback.
    for (const response of ['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits=8', '']) {
      const client = new PerMessageDeflate({ serverMaxWindowBits: 12 });
      client.finalize(response === '' || response === 'client_no_context_takeover' ? response : response);
      expect(client.enabled()).toBe(true);
    }
    const c = new PerMessageDeflate({ clientMaxWindowBits: 11 });
    c.finalize('client_max_window_bits=9; server_max_window_bits=10');
    expect(c.agreement).toMatchObject({ role: 'client', deflateWindowBits: 9, inflateWindowBits: 10 });
  });

  it('window bits 8: we compress with what a 256-byte window holds, and decompress with 512', () => {
    const { client, server } = negotiate({ serverMaxWindowBits: 8, clientMaxWindowBits: 8 }, {});
    expect(client.agreement).toMatchObject({ deflateWindowBits: 8, inflateWindowBits: 9 });
    expect(server.agreement).toMatchObject({ deflateWindowBits: 8, inflateWindowBits: 9 });
    const m = json(5000);
    const c = server.compressMessage(m);
    expect(zlib.inflateRawSync(Buffer.concat([c, Buffer.from([0, 0, 255, 255])]), { windowBits: 8, finishFlush: 2, chunkSize: 64 })).toEqual(m);
  });

  it('never crashes on arbitrary parameter strings', () => {
    const piece = fc.constantFrom('server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits', '=', ';', ' ', '"', '\\', '9', '15', '08', 'x', ',', '\t');
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.array(piece, { maxLength: 12 }).map((p) => p.join('')));
    fc.assert(
      fc.property(text, (t) => {
        const answer = new PerMessageDeflate().accept(t);
        expect(answer === null || answer === true || typeof answer === 'string').toBe(true);
        try {
          new PerMessageDeflate().finalize(t);
        } catch (err) {
          expect(err).toBeInstanceOf(RemoteProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects bad options', () => {
    expect(() => new PerMessageDeflate({ serverMaxWindowBits: 16 })).toThrow(RangeError);
    expect(() => new PerMessageDeflate({ clientMaxWindowBits: 7 })).toThrow(RangeError);
    expect(() => new PerMessageDeflate({ memLevel: 0 })).toThrow(RangeError);
    expect(() => new PerMessageDeflate({ zlibDeflateOptions: { level: 11 } })).toThrow(RangeError);
    expect(() => new PerMessageDeflate({ threshold: -1 })).toThrow(RangeError);
    expect(() => new PerMessageDeflate({ sharedCompressor: 1 as never })).toThrow(TypeError);
  });
});

describe(`permessage-deflate messages (${backendName})`, () => {
  it('RSV1 only on the first frame of a compressed message; never on control frames', () => {
    const { client, server } = negotiate({}, {});
    const sent = client.frameOutbound(Opcode.TEXT, NO_RSV, json(3000), false);
    expect(sent.rsv.rsv1).toBe(true);
    const cont = client.frameOutbound(Opcode.CONT, NO_RSV, json(3000), true);
    expect(cont.rsv.rsv1).toBe(false);
    const ping = client.frameOutbound(Opcode.PING, NO_RSV, Buffer.from('p'), true);
    expect(ping).toEqual({ rsv: NO_RSV, data: Buffer.from('p') });
    // Receiving: RSV1 on a control frame or a continuation frame is a protocol error.
    for (const opcode of [Opcode.PING, Opcode.PONG, Opcode.CLOSE, Opcode.CONT]) {
      const err = catchError(() => server.frameInboundHeader(opcode, RSV1, 0));
      expect(err).toBeInstanceOf(ParseFailed);
      expect((err as ParseFailed).code).toBe(1002);
    }
    // Not negotiated: RSV1 is left unclaimed for the frame layer to reject (1002).
    const none = new PerMessageDeflate();
    expect(none.frameInboundHeader(Opcode.TEXT, RSV1, 10)).toEqual(RSV1);
    expect(none.frameOutbound(Opcode.TEXT, NO_RSV, json(2000), true).rsv.rsv1).toBe(false);
    expect(() => none.compressMessage(json(10))).toThrow(LocalProtocolError);
  });

  it('fragmented compressed messages with control frames in between, and uncompressed ones', () => {
    const { client, server } = negotiate({}, {});
    const m = json(9000);
    const pieces = [m.subarray(0, 3000), m.subarray(3000, 6000), m.subarray(6000)];
    const got: Uint8Array[] = [];
    pieces.forEach((p, i) => {
      const opcode = i === 0 ? Opcode.TEXT : Opcode.CONT;
      const fin = i === pieces.length - 1;
      const f = client.frameOutbound(opcode, NO_RSV, p, fin);
      server.frameInboundHeader(opcode, f.rsv, f.data.length);
      // The payload may arrive in pieces.
      for (let at = 0; at < f.data.length; at += 100) got.push(server.frameInboundPayloadData(f.data.subarray(at, at + 100), BIG));
      const t = server.frameInboundComplete(fin, BIG);
      if (t !== null) got.push(t);
      // A ping between fragments passes untouched.
      expect(server.frameInboundHeader(Opcode.PING, NO_RSV, 4)).toEqual(NO_RSV);
      expect(server.frameInboundPayloadData(Buffer.from('ping'), BIG)).toEqual(Buffer.from('ping'));
      expect(server.frameInboundComplete(true, BIG)).toBeNull();
    });
    expect(Buffer.concat(got)).toEqual(m);
    // An uncompressed message (below the threshold, or compress: false) passes as is.
    const small = new PerMessageDeflate({ threshold: 100 });
    small.accept('');
    expect(small.frameOutbound(Opcode.TEXT, NO_RSV, json(99), true).rsv.rsv1).toBe(false);
    expect(small.frameOutbound(Opcode.TEXT, NO_RSV, json(100), true).rsv.rsv1).toBe(true);
    expect(small.frameOutbound(Opcode.TEXT, NO_RSV, json(5000), true, false).rsv.rsv1).toBe(false);
    expect(small.shouldCompress(5000, false)).toBe(false);
    expect(new PerMessageDeflate().threshold).toBe(1024);
    expect(server.frameInboundHeader(Opcode.TEXT, NO_RSV, 5)).toEqual(NO_RSV);
    expect(server.frameInboundPayloadData(Buffer.from('plain'), BIG)).toEqual(Buffer.from('plain'));
    expect(server.frameInboundComplete(true, BIG)).toBeNull();
  });

  it('invalid deflate data -> 1007; past maxPayload -> 1009; the connection state stays sane', () => {
    const { client, server } = negotiate({}, { clientNoContextTakeover: true });
    const bad = Buffer.from([0xff, 0xee, 0xdd, 0xcc]);
    expect(codeOf(() => server.decompressMessage(bad, BIG))).toBe(1007);
    server.frameInboundHeader(Opcode.BINARY, RSV1, bad.length);
    expect(codeOf(() => (server.frameInboundPayloadData(bad, BIG), server.frameInboundComplete(true, BIG)))).toBe(1007);
    // A 1 KiB message that inflates to 1 MiB.
    const bomb = client.compressMessage(Buffer.alloc(1 << 20));
    expect(bomb.length).toBeLessThan(1100);
    expect(codeOf(() => server.decompressMessage(bomb, 64 * 1024))).toBe(1009);
    server.frameInboundHeader(Opcode.BINARY, RSV1, bomb.length);
    expect(codeOf(() => (server.frameInboundPayloadData(bomb, 64 * 1024), server.frameInboundComplete(true, 64 * 1024)))).toBe(1009);
    // Empty compressed payload: an empty message.
    expect(server.decompressMessage(Buffer.alloc(0), BIG).length).toBe(0);
    expect(server.decompressMessage([], BIG).length).toBe(0);
    const m = json(2000);
    expect(server.decompressMessage(client.compressMessage(m), BIG)).toEqual(m);
    expect(server.decompressMessage([client.compressMessage(m)], m.length)).toEqual(m);
  });

  it('a whole message in several parts, and the two APIs do not mix mid-message', () => {
    const { client, server } = negotiate({}, {});
    const m = json(20000);
    const c = Buffer.from(client.compressMessage(m));
    expect(server.decompressMessage([c.subarray(0, 10), c.subarray(10, 500), c.subarray(500)], BIG)).toEqual(m);
    client.frameOutbound(Opcode.TEXT, NO_RSV, m, false);
    expect(() => client.compressMessage(m)).toThrow(LocalProtocolError);
    expect(() => client.frameOutbound(Opcode.TEXT, NO_RSV, m, true)).toThrow(LocalProtocolError);
    server.frameInboundHeader(Opcode.TEXT, RSV1, 10);
    server.frameInboundPayloadData(c.subarray(0, 10), BIG);
    expect(() => server.decompressMessage(c, BIG)).toThrow(LocalProtocolError);
    client.dispose();
    client.dispose();
    server.dispose();
    expect(client.enabled()).toBe(false);
  });

  it('inflateFrame: a message frame by frame; abortInflate drops a half-inflated one (its stream reset)', () => {
    for (const options of [{}, { serverNoContextTakeover: true, clientNoContextTakeover: true }]) {
      const { client, server } = negotiate(options, {});
      const m = json(20000);
      const c = Buffer.from(client.compressMessage(m));
      const parts = [server.inflateFrame(c.subarray(0, 100), false, BIG), server.inflateFrame(c.subarray(100), true, BIG)];
      expect(Buffer.concat(parts)).toEqual(m);
      // Half a message, then dropped: the next message inflates from a clean stream.
      const { client: fresh } = negotiate(options, {});
      server.inflateFrame(Buffer.from(client.compressMessage(m)).subarray(0, 100), false, BIG);
      expect(() => server.decompressMessage(c, BIG)).toThrow(LocalProtocolError);
      server.abortInflate();
      expect(server.decompressMessage(fresh.compressMessage(m), BIG)).toEqual(m);
      client.dispose();
      server.dispose();
      fresh.dispose();
    }
  });

  it('shared streams: interleaved connections without context takeover stay independent', () => {
    const pairs = Array.from({ length: 3 }, () => negotiate({ serverNoContextTakeover: true, clientNoContextTakeover: true }, {}));
    const messages = pairs.map((_, i) => json(4000, i + 1));
    // Fragmented messages of all three, frame by frame in turn, both directions.
    const out: Uint8Array[][] = pairs.map(() => []);
    for (let f = 0; f < 4; f++) {
      pairs.forEach(({ client, server }, i) => {
        const part = messages[i]!.subarray(f * 1000, (f + 1) * 1000);
        const frame = client.frameOutbound(f === 0 ? Opcode.TEXT : Opcode.CONT, NO_RSV, part, f === 3);
        server.frameInboundHeader(f === 0 ? Opcode.TEXT : Opcode.CONT, frame.rsv, frame.data.length);
        out[i]!.push(server.frameInboundPayloadData(frame.data, BIG));
        const t = server.frameInboundComplete(f === 3, BIG);
        if (t !== null) out[i]!.push(t);
      });
    }
    pairs.forEach((_, i) => expect(Buffer.concat(out[i]!)).toEqual(messages[i]));
    // Whole messages share one stream: the same input compresses to the same bytes.
    const a = pairs[0]!.server.compressMessage(messages[0]!);
    const b = pairs[1]!.server.compressMessage(messages[0]!);
    expect(Buffer.from(a)).toEqual(Buffer.from(b));
    for (const { client, server } of pairs) {
      client.dispose();
      server.dispose();
    }
  });
});

describe(`permessage-deflate through FrameProtocol (${backendName})`, () => {
  const pair = (maxPayload = BIG) => {
    const { client, server } = negotiate({ threshold: 0 }, { threshold: 0 });
    return { c: new FrameProtocol(true, [client], { maxPayload }), s: new FrameProtocol(false, [server], { maxPayload }) };
  };
  const receive = (p: FrameProtocol, bytes: Uint8Array) => {
    p.receiveBytes(Buffer.from(bytes));
    return [...p.receivedFrames()];
  };

  it('text and binary messages, fragmented or not, with pings in between', () => {
    const { c, s } = pair();
    const text = 'héllo wörld '.repeat(300);
    const frames = receive(s, Buffer.concat([c.sendData(text), c.sendData(json(3000), false), c.ping('x'), c.sendData(json(3000, 2), true)]));
    expect(frames.map((f) => f.opcode)).toEqual([Opcode.TEXT, Opcode.BINARY, Opcode.PING, Opcode.BINARY]);
    expect(frames[0]!.payload).toBe(text);
    expect(Buffer.concat([frames[1]!.payload as Uint8Array, frames[3]!.payload as Uint8Array])).toEqual(Buffer.concat([json(3000), json(3000, 2)]));
    expect(receive(c, s.sendData(text))[0]!.payload).toBe(text);
  });

  it('1009 past maxPayload after inflation, 1007 for bad data or bad UTF-8, 1002 for RSV1 out of place', () => {
    const bomb = pair(64 * 1024);
    expect(codeOf(() => receive(bomb.s, bomb.c.sendData(Buffer.alloc(1 << 20))))).toBe(1009);
    // FIN|RSV1|BINARY, masked with a zero key, payload: a block of the reserved type 3.
    expect(codeOf(() => receive(pair().s, Buffer.from([0xc2, 0x85, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff])))).toBe(1007);
    // Compressed invalid UTF-8 in a text frame: caught after inflation.
    const utf8 = pair();
    const { client } = negotiate({ threshold: 0 }, {});
    const payload = client.compressMessage(Buffer.from([0x61, 0xff, 0x62]));
    const raw = Buffer.concat([Buffer.from([0xc1, 0x80 | payload.length, 0, 0, 0, 0]), payload]); // FIN|RSV1|TEXT, mask 0
    expect(codeOf(() => receive(utf8.s, raw))).toBe(1007);
    // RSV1 on a ping, and RSV1 when nothing was negotiated.
    expect(codeOf(() => receive(pair().s, Buffer.from([0xc9, 0x80, 0, 0, 0, 0])))).toBe(1002);
    const plain = new FrameProtocol(false, [new PerMessageDeflate()]);
    expect(codeOf(() => receive(plain, Buffer.from([0xc1, 0x81, 0, 0, 0, 0, 0x61])))).toBe(1002);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function codeOf(fn: () => unknown): number | undefined {
  const err = catchError(fn);
  if (!(err instanceof ParseFailed)) throw new Error(`expected ParseFailed, got ${String(err)}`);
  return err.code;
}
