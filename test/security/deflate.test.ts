/**
 * Bad-input suite, permessage-deflate (docs/security.md): decompression bombs against the
 * server and the client, corrupt compressed data, and hostile extension parameters in both
 * directions (offers to the server, responses to the client).
 *
 * The bombs come first in this file on purpose: each test file runs in a fresh process, so
 * the process's peak resident set (`resourceUsage().maxRSS`) before them is the baseline,
 * and its growth is the true peak of the attack — inflating happens in one synchronous call
 * that no sampler could observe.
 */
import { once } from 'node:events';
import zlib from 'node:zlib';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { InvalidServerHandshakeError, WebSocket } from '../../src/io';
import { arena, attacker, cat, cleanup, KiB, mb, MiB, note, rawServer, readFramesUntil, serverClose, switchingProtocols, track, within, wire } from './helpers';

afterEach(cleanup);

const BINARY = 0x2;
const TEXT = 0x1;
const RSV1 = 4;

/**
 * A raw-deflate stream of `mebibytes` MiB of zeros, built without ever holding the output:
 * after the first sync-flushed 1 MiB, every further 1 MiB of zeros compresses to the same
 * ~1 KiB (the window is all zeros), so the stream is the first two pieces and copies of the
 * second. RFC 7692 §7.2.1: the trailing 00 00 ff ff of the last flush is removed.
 */
async function zeroBomb(mebibytes: number): Promise<Buffer> {
  const d = zlib.createDeflateRaw({ level: 9, memLevel: 9 });
  const pieces: Buffer[] = [];
  let current: Buffer[] = [];
  d.on('data', (c: Buffer) => current.push(c));
  const zeros = Buffer.alloc(MiB);
  for (let i = 0; i < 3; i++) {
    d.write(zeros);
    await new Promise<void>((resolve) => d.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
    pieces.push(Buffer.concat(current));
    current = [];
  }
  d.close();
  expect(pieces[1]!.equals(pieces[2]!)).toBe(true); // the repetition the construction relies on
  const stream = Buffer.concat([pieces[0]!, ...Array<Buffer>(mebibytes - 1).fill(pieces[1]!)]);
  expect(stream.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))).toBe(true);
  return stream.subarray(0, stream.length - 4);
}

let gibBomb: Buffer;
beforeAll(async () => {
  gibBomb = await zeroBomb(1024);
  // Check what it is without inflating 1 GiB (nor raising this process's peak RSS, the
  // baseline of the measurements below): its first 4 pieces are exactly 4 MiB of zeros.
  const prefix = gibBomb.subarray(0, 1037 + 3 * 1036);
  const out = zlib.inflateRawSync(prefix, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  expect(out.length).toBe(4 * MiB);
  expect(out.every((b) => b === 0)).toBe(true);
});

/** Peak resident set of this process so far, in bytes. */
const maxRss = (): number => process.resourceUsage().maxRSS * 1024;

describe('decompression bombs', () => {
  it('a 1 MiB message inflating to 1 GiB closes 1009 with peak RSS growth under 2x maxPayload (python-websockets CVE-2018-1000518, undici CVE-2026-1526)', async () => {
    const maxPayload = 16 * MiB;
    const a = await arena({ maxPayload, perMessageDeflate: true });
    const { socket, response, rest } = await attacker(a.port, 'Sec-WebSocket-Extensions: permessage-deflate\r\n');
    expect(response).toMatch(/permessage-deflate/);
    const frame = wire({ opcode: BINARY, payload: gibBomb, rsv: RSV1, mask: true });
    // The growth of the peak over max(peak so far, now): an underestimate by at most how
    // far the peak so far is above the current RSS (kept small: this test comes first).
    const before = Math.max(maxRss(), process.memoryUsage().rss);
    const closed = serverClose(socket, rest, 60_000);
    socket.write(frame);
    const { code, reason } = await closed;
    const peak = maxRss() - before;
    note('1 GiB bomb (1 MiB compressed), maxPayload 16 MiB', { compressed: gibBomb.length, code: String(code), peakRssGrowth: peak });
    expect(code).toBe(1009);
    expect(reason).toMatch(/larger than the size limit/);
    expect(peak, `peak RSS grew by ${mb(peak)}`).toBeLessThan(2 * maxPayload);
    await a.checkWitness();
  });

  it('the same bomb split into 64 fragments closes 1009 just the same', async () => {
    const maxPayload = 16 * MiB;
    const a = await arena({ maxPayload, perMessageDeflate: true });
    const { socket, rest } = await attacker(a.port, 'Sec-WebSocket-Extensions: permessage-deflate\r\n');
    const size = Math.ceil(gibBomb.length / 64);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 64; i++) {
      frames.push(wire({ opcode: i === 0 ? BINARY : 0, payload: gibBomb.subarray(i * size, (i + 1) * size), rsv: i === 0 ? RSV1 : 0, fin: i === 63, mask: true }));
    }
    const before = maxRss();
    const closed = serverClose(socket, rest, 60_000);
    socket.write(cat(...frames));
    expect((await closed).code).toBe(1009);
    expect(maxRss() - before).toBeLessThan(2 * maxPayload);
    await a.checkWitness();
  });

  it('a 1 KiB message inflating to 1 MiB is refused under a 64 KiB maxPayload; the server lives', async () => {
    const small = await zeroBomb(1);
    expect(small.length).toBeLessThan(1100);
    const a = await arena({ maxPayload: 64 * KiB, perMessageDeflate: true });
    const { socket, rest } = await attacker(a.port, 'Sec-WebSocket-Extensions: permessage-deflate\r\n');
    socket.write(wire({ opcode: TEXT, payload: small, rsv: RSV1, mask: true }));
    expect((await serverClose(socket, rest)).code).toBe(1009);
    await a.checkWitness();
  });

  it('a malicious server cannot bomb our client either (1009, bounded memory)', async () => {
    const maxPayload = 16 * MiB;
    const { url } = await rawServer(
      (socket) => socket.write(wire({ opcode: BINARY, payload: gibBomb, rsv: RSV1 })),
      (key) => switchingProtocols(key, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'),
    );
    const before = maxRss();
    const ws = track(new WebSocket(url, { maxPayload }));
    const errors: Error[] = [];
    ws.on('error', (e) => errors.push(e));
    // (Not events.once: it rejects when 'error' comes first, as it does here.)
    const code = await within(new Promise<number>((resolve) => ws.once('close', resolve)), 30_000, 'the client to close');
    expect(code).toBe(1009);
    expect([errors[0]?.message, (errors[0] as Error & { code?: string }).code]).toEqual(['Max payload size exceeded', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
    expect((errors[0]?.cause as Error).message).toMatch(/larger than the size limit/);
    expect(maxRss() - before).toBeLessThan(2 * maxPayload);
  });
});

describe('corrupt compressed data', () => {
  it('invalid deflate data closes 1007; compressed text that inflates to invalid UTF-8 closes 1007', async () => {
    const a = await arena({ perMessageDeflate: true });
    const cases: Array<[string, Uint8Array]> = [
      ['garbage', wire({ opcode: BINARY, payload: Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x01]), rsv: RSV1, mask: true })],
      ['stored block lengths that disagree', wire({ opcode: BINARY, payload: Uint8Array.from([0x00, 0x10, 0x00, 0x00, 0x00, 0x61]), rsv: RSV1, mask: true })],
      ['reserved block type 11', wire({ opcode: BINARY, payload: Uint8Array.from([0x06, 0x00, 0x00]), rsv: RSV1, mask: true })],
      ['invalid UTF-8 inside compressed text', wire({ opcode: TEXT, payload: zlib.deflateRawSync(Buffer.from([0x61, 0xff, 0x62]), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4), rsv: RSV1, mask: true })],
    ];
    for (const [name, bytes] of cases) {
      const { socket, rest } = await attacker(a.port, 'Sec-WebSocket-Extensions: permessage-deflate\r\n');
      socket.write(bytes);
      expect([name, (await serverClose(socket, rest)).code]).toEqual([name, 1007]);
    }
    // A good compressed message on the same kind of connection is delivered (the control).
    const { socket, rest } = await attacker(a.port, 'Sec-WebSocket-Extensions: permessage-deflate\r\n');
    const text = 'hello '.repeat(500);
    socket.write(wire({ opcode: TEXT, payload: zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4), rsv: RSV1, mask: true }));
    const frames = await readFramesUntil(socket, rest, (f) => f.length >= 1);
    const echoed = frames[0]!;
    // The echo is compressed too (3000 bytes of text are over the threshold): inflate it.
    const body = zlib.inflateRawSync(Buffer.concat([echoed.payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    expect(body.toString()).toBe(text);
    socket.destroy();
    await a.checkWitness();
  });
});

describe('compressed text is validated as it inflates (RFC 6455 §8.1)', () => {
  it('a fragmented compressed text message whose first fragment inflates to invalid UTF-8 closes 1007 before its last fragment', async () => {
    const a = await arena({ perMessageDeflate: true });
    const { socket, rest } = await attacker(a.port, 'Sec-WebSocket-Extensions: permessage-deflate\r\n');
    // Level 0 (stored blocks): the first half of the stream inflates to the first ~5,000 bytes.
    const compressed = zlib.deflateRawSync(Buffer.concat([Buffer.from([0x61, 0xff]), Buffer.from('x'.repeat(10_000))]), { level: 0, finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
    expect(zlib.inflateRawSync(compressed.subarray(0, compressed.length >> 1), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, 2)).toEqual(Buffer.from([0x61, 0xff]));
    // Only the first of two fragments: without FIN, the message is still open.
    const half = compressed.length >> 1;
    socket.write(wire({ opcode: TEXT, fin: false, payload: compressed.subarray(0, half), rsv: RSV1, mask: true }));
    expect((await serverClose(socket, rest)).code).toBe(1007);
    await a.checkWitness();
  });
});

describe('hostile permessage-deflate parameters (undici CVE-2026-2229)', () => {
  const hostile = [
    'server_max_window_bits=1000',
    'server_max_window_bits=0',
    'server_max_window_bits=7',
    'server_max_window_bits=16',
    'server_max_window_bits=08',
    'server_max_window_bits=-1',
    'server_max_window_bits=9.5',
    'server_max_window_bits=0x0f',
    'server_max_window_bits="1000"',
    'server_max_window_bits',
    'server_max_window_bits=10; server_max_window_bits=10',
    'server_max_window_bits=10; server_max_window_bits=11',
    'client_max_window_bits=1000',
    'client_max_window_bits=10; client_max_window_bits=10',
    'server_no_context_takeover=1',
    'server_no_context_takeover; server_no_context_takeover',
    'unknown_parameter',
    'server_max_window_bits=' + '9'.repeat(400),
  ];

  /** A raw server that accepts the handshake with `extensions` as its answer. */
  async function answering(extensions: string): Promise<number> {
    const { port } = await rawServer(
      () => undefined,
      (key) => switchingProtocols(key, `Sec-WebSocket-Extensions: ${extensions}\r\n`),
    );
    return port;
  }

  it('the client fails responses with invalid, duplicated or value-less window bits (and other bad parameters)', async () => {
    // client_max_window_bits without a value is valid in an offer only (RFC 7692 §7.1.2.2).
    for (const params of [...hostile, 'client_max_window_bits']) {
      const port = await answering(`permessage-deflate; ${params}`);
      const ws = track(new WebSocket(`ws://127.0.0.1:${port}`));
      const [err] = (await within(once(ws, 'error'), 5000, `the client to fail on ${params.slice(0, 40)}`)) as [Error];
      expect([params.slice(0, 40), err instanceof InvalidServerHandshakeError]).toEqual([params.slice(0, 40), true]);
      expect(ws.readyState).not.toBe(WebSocket.OPEN);
    }
    // Two answers for one extension are refused as well.
    const port = await answering('permessage-deflate, permessage-deflate');
    const ws = track(new WebSocket(`ws://127.0.0.1:${port}`));
    expect(((await within(once(ws, 'error'), 5000, 'the client error')) as [Error])[0]).toBeInstanceOf(InvalidServerHandshakeError);
  });

  it('the client accepts a valid server_max_window_bits (the control case)', async () => {
    const port = await answering('permessage-deflate; server_max_window_bits=10');
    const ws = track(new WebSocket(`ws://127.0.0.1:${port}`));
    await within(once(ws, 'open'), 5000, 'open');
    expect(ws.extensions).toBe('permessage-deflate; server_max_window_bits=10');
  });

  it('the server declines such offers (101 without the extension) and takes a later valid one', async () => {
    const a = await arena({ perMessageDeflate: true });
    for (const params of hostile) {
      const alone = await attacker(a.port, `Sec-WebSocket-Extensions: permessage-deflate; ${params}\r\n`);
      expect([params.slice(0, 40), /sec-websocket-extensions/i.test(alone.response)]).toEqual([params.slice(0, 40), false]);
      alone.socket.destroy();
      const withFallback = await attacker(a.port, `Sec-WebSocket-Extensions: permessage-deflate; ${params}, permessage-deflate\r\n`);
      const accepted = /sec-websocket-extensions: *([^\r]*)/i.exec(withFallback.response)?.[1];
      expect([params.slice(0, 40), accepted]).toEqual([params.slice(0, 40), 'permessage-deflate']);
      withFallback.socket.destroy();
    }
    await a.checkWitness();
  });
});
