/**
 * Protocol errors as ws reports them on 'error': ws's class (RangeError, or Error for UTF-8),
 * ws's string `code`, the close code in `closeCode`, the detailed ParseFailed as `cause`;
 * and the one table behind it (src/error-codes.ts) agrees with what the parser reports.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { ParseError } from '../../src/backend/types';
import { PARSE_ERRORS } from '../../src/error-codes';
import { ParseFailed } from '../../src/errors';
import { FrameReader } from '../../src/protocol/reader';
import { FrameWriter } from '../../src/protocol/frame-writer';
import { WebSocket } from '../../src/io';
import { cleanup, rawClient, startServer } from './helpers';

afterEach(cleanup);

/** A masked frame with any header bits (FrameWriter refuses reserved opcodes; a bad peer does not). */
function clientFrame(opcode: number, payload: Buffer | string, fin = true, rsv = 0): Buffer {
  const data = Buffer.from(payload);
  if (data.length > 125) {
    const head = Buffer.from([(fin ? 0x80 : 0) | (rsv << 4) | opcode, 0x80 | 126, data.length >> 8, data.length & 0xff, 1, 2, 3, 4]);
    return Buffer.concat([head, data.map((b, i) => b ^ [1, 2, 3, 4][i % 4]!)]);
  }
  const head = Buffer.from([(fin ? 0x80 : 0) | (rsv << 4) | opcode, 0x80 | data.length, 1, 2, 3, 4]);
  return Buffer.concat([head, data.map((b, i) => b ^ [1, 2, 3, 4][i % 4]!)]);
}

interface Seen {
  name: string;
  message: string;
  code: unknown;
  closeCode: unknown;
  cause: boolean;
  peerClose: number;
}

/** Sends `bytes` from a raw client and reports the server-side 'error' and close code. */
async function violation(bytes: Buffer, options: { maxPayload?: number } = {}): Promise<Seen> {
  const { wss, port } = await startServer(options);
  const error = new Promise<Error>((resolve) => wss.once('connection', (ws: WebSocket) => ws.once('error', resolve)));
  const { socket } = await rawClient(port);
  const replies: Buffer[] = [];
  socket.on('data', (c: Buffer) => replies.push(c));
  socket.write(bytes);
  const err = (await error) as Error & { code?: unknown; closeCode?: unknown };
  await new Promise((resolve) => socket.once('close', resolve));
  const reply = Buffer.concat(replies);
  // The server's close frame: 0x88, length, then the code (RFC 6455 §5.5.1).
  const peerClose = reply[0] === 0x88 ? reply.readUInt16BE(2) : -1;
  return { name: err.constructor.name, message: err.message, code: err.code, closeCode: err.closeCode, cause: err.cause instanceof ParseFailed, peerClose };
}

describe("protocol errors reach 'error' as ws's", () => {
  it('reserved opcode: RangeError WS_ERR_INVALID_OPCODE, 1002', async () => {
    expect(await violation(clientFrame(5, ''))).toEqual({
      name: 'RangeError',
      message: 'Invalid WebSocket frame: invalid opcode 5',
      code: 'WS_ERR_INVALID_OPCODE',
      closeCode: 1002,
      cause: true,
      peerClose: 1002,
    });
  });

  it('unmasked client frame: RangeError WS_ERR_EXPECTED_MASK, 1002', async () => {
    const unmasked = Buffer.from(new FrameWriter({ mask: false }).frame(1, 'hi'));
    expect(await violation(unmasked)).toMatchObject({ name: 'RangeError', message: 'Invalid WebSocket frame: MASK must be set', code: 'WS_ERR_EXPECTED_MASK', closeCode: 1002 });
  });

  it('invalid UTF-8: Error WS_ERR_INVALID_UTF8, 1007', async () => {
    expect(await violation(clientFrame(1, Buffer.from([0xff, 0xfe])))).toMatchObject({
      name: 'Error',
      message: 'Invalid WebSocket frame: invalid UTF-8 sequence',
      code: 'WS_ERR_INVALID_UTF8',
      closeCode: 1007,
      peerClose: 1007,
    });
  });

  it('invalid close code: RangeError WS_ERR_INVALID_CLOSE_CODE, 1002', async () => {
    const payload = Buffer.from([0x03, 0xe7]); // 999
    expect(await violation(clientFrame(8, payload))).toMatchObject({ name: 'RangeError', message: 'Invalid WebSocket frame: invalid status code 999', code: 'WS_ERR_INVALID_CLOSE_CODE', closeCode: 1002 });
  });

  it('too big: RangeError WS_ERR_UNSUPPORTED_MESSAGE_LENGTH, 1009', async () => {
    expect(await violation(clientFrame(2, Buffer.alloc(200)), { maxPayload: 100 })).toMatchObject({
      name: 'RangeError',
      message: 'Max payload size exceeded',
      code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      closeCode: 1009,
      peerClose: 1009,
    });
  });

  it('RSV1 without an extension: WS_ERR_UNEXPECTED_RSV_1; RSV2: WS_ERR_UNEXPECTED_RSV_2_3', async () => {
    expect(await violation(clientFrame(1, 'x', true, 4))).toMatchObject({ code: 'WS_ERR_UNEXPECTED_RSV_1', message: 'Invalid WebSocket frame: RSV1 must be clear' });
    expect(await violation(clientFrame(1, 'x', true, 2))).toMatchObject({ code: 'WS_ERR_UNEXPECTED_RSV_2_3', message: 'Invalid WebSocket frame: RSV2 and RSV3 must be clear' });
  });
});

describe('the error-code table', () => {
  it("has a row for every parser reason, and the parser's close code agrees with it", () => {
    const reasons = Object.values(ParseError).filter((v): v is ParseError => typeof v === 'number' && v !== ParseError.NONE);
    expect(Object.keys(PARSE_ERRORS).map(Number).sort((a, b) => a - b)).toEqual(reasons.sort((a, b) => a - b));
    // One violation per reason that a server-side reader can be shown directly.
    const server = (): FrameReader => new FrameReader({ role: 'server', maxPayload: 100 });
    const cases: Array<[ParseError, Uint8Array]> = [
      [ParseError.RESERVED_OPCODE, clientFrame(3, '')],
      [ParseError.CONTROL_FRAGMENTED, clientFrame(9, '', false)],
      [ParseError.UNEXPECTED_CONTINUATION, clientFrame(0, 'x')],
      [ParseError.INVALID_UTF8, clientFrame(1, Buffer.from([0xc0]))],
      [ParseError.CLOSE_CODE_INVALID, clientFrame(8, Buffer.from([0x03, 0xe7]))],
      [ParseError.CLOSE_PAYLOAD_ONE_BYTE, clientFrame(8, Buffer.from([0x03]))],
      [ParseError.FRAME_TOO_BIG, clientFrame(2, Buffer.alloc(101))],
    ];
    for (const [reason, bytes] of cases) {
      let failed: ParseFailed | null = null;
      try {
        server().feed(bytes, () => undefined);
      } catch (err) {
        failed = err as ParseFailed;
      }
      const row = PARSE_ERRORS[reason as Exclude<ParseError, ParseError.NONE>];
      expect([reason, failed?.closeCode, failed?.errorCode]).toEqual([reason, row.closeCode, row.code]);
    }
  });

  it('ParseFailed keeps its numeric code (wsproto) and detailed message for protocol/ users', () => {
    let failed: ParseFailed | null = null;
    try {
      new FrameReader({ role: 'server' }).feed(clientFrame(3, ''), () => undefined);
    } catch (err) {
      failed = err as ParseFailed;
    }
    expect([failed?.code, failed?.errorCode, failed?.summary]).toEqual([1002, 'WS_ERR_INVALID_OPCODE', 'Invalid WebSocket frame: invalid opcode 3']);
    expect(failed?.message).toMatch(/reserved opcode/);
  });
});
