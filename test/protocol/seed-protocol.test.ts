/**
 * Issue 17, sans-IO items: wsproto's H11Handshake as its own class, Connection.receiveData
 * after CLOSED, the logger and maskKey options; websocket-client's continuous_frame and
 * frame_buffer. Both backends (the parser, masking and UTF-8 checks go through them).
 */
import { describe, expect, it } from 'vitest';

import { ContinuousFrame } from '../../src/frames/continuous-frame';
import type { LoggerLike } from '../../src/handshake/datastructures';
import { LocalProtocolError, ParseFailed } from '../../src/errors';
import { Frame, Opcode } from '../../src/frames/frame';
import { ConnectionLostError, FrameBuffer } from '../../src/io/frame-buffer';
import {
  AcceptConnection,
  CloseConnection,
  Connection,
  ConnectionState,
  ConnectionType,
  FrameProtocol,
  H11Handshake,
  Request,
  TextMessage,
  WSConnection,
} from '../../src/protocol';
import { cat, wire } from '../helpers/wire';

const { CLIENT, SERVER } = ConnectionType;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function recordingLogger(): { logger: LoggerLike; lines: string[] } {
  const lines: string[] = [];
  const push = (m: string) => lines.push(m);
  return { logger: { debug: push, info: push, warn: push, error: push }, lines };
}

describe('H11Handshake (seed 004)', () => {
  it('runs a handshake on its own and hands over the connection', () => {
    const client = new H11Handshake(CLIENT);
    const server = new H11Handshake(SERVER);
    expect([client.state, client.connection]).toEqual([ConnectionState.CONNECTING, null]);
    server.receiveData(client.send(new Request({ host: 'example.com', target: '/chat' })));
    const [request] = [...server.events()];
    expect(request).toBeInstanceOf(Request);
    expect((request as Request).target).toBe('/chat');
    expect(server.connection).toBeNull();
    // The client's first frame rides in the same read as the server's 101.
    const response = server.send(new AcceptConnection());
    expect(server.state).toBe(ConnectionState.OPEN);
    expect(server.connection).toBeInstanceOf(Connection);
    const hello = server.connection!.send(new TextMessage({ data: 'hello' }));
    client.receiveData(cat(response, hello));
    expect([...client.events()].map((e) => e.type)).toEqual(['accept']);
    expect(client.state).toBe(ConnectionState.OPEN);
    const connection = client.connection!;
    expect([...connection.events()].map((e) => (e as TextMessage).data)).toEqual(['hello']);
    // Once established, sending goes to the connection; bytes fed here are passed on.
    expect(() => client.send(new TextMessage({ data: 'x' }))).toThrow(LocalProtocolError);
    client.receiveData(server.connection!.send(new TextMessage({ data: 'again' })));
    expect([...connection.events()].map((e) => (e as TextMessage).data)).toEqual(['again']);
  });

  it('initiateUpgradeConnection is for servers; WSConnection exposes its handshake', () => {
    expect(() => new H11Handshake(CLIENT).initiateUpgradeConnection({}, '/')).toThrow(LocalProtocolError);
    const ws = new WSConnection(SERVER);
    expect(ws.handshake).toBeInstanceOf(H11Handshake);
    ws.initiateUpgradeConnection(
      { Host: 'h', Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' },
      '/x',
    );
    expect([...ws.events()].map((e) => e.type)).toEqual(['request']);
    ws.send(new AcceptConnection());
    expect(ws.connection).toBe(ws.handshake.connection);
    expect(ws.state).toBe(ConnectionState.OPEN);
  });
});

describe('Connection.receiveData after CLOSED (seed 004)', () => {
  it('raises LocalProtocolError after the closing handshake, as wsproto', () => {
    const conn = new Connection(CLIENT);
    conn.send(new CloseConnection({ code: 1000 }));
    conn.receiveData(wire({ opcode: 8, payload: Uint8Array.of(3, 232) }));
    expect([...conn.events()].map((e) => e.type)).toEqual(['close']);
    expect(conn.state).toBe(ConnectionState.CLOSED);
    expect(() => conn.receiveData(wire({ opcode: 1, payload: 'late' }))).toThrow(LocalProtocolError);
    conn.receiveData(null); // the end of the transport is still fine
  });
});

describe('logger option (seed 000 LoggerLike)', () => {
  it('logs events sent and received and the state changes', () => {
    const { logger, lines } = recordingLogger();
    const conn = new Connection(CLIENT, [], undefined, { logger });
    conn.send(new TextMessage({ data: 'hello' }));
    conn.receiveData(wire({ opcode: 8, payload: Uint8Array.of(3, 232, 0x62, 0x79, 0x65) }));
    const events = [...conn.events()];
    conn.send((events[0] as CloseConnection).response());
    expect(lines).toEqual(['> text [5 chars]', '< close 1000 bye', '= connection is REMOTE_CLOSING', '> close 1000 bye', '= connection is CLOSED']);
  });

  it('reaches the handshake and the connection through WSConnection; console fits', () => {
    const { logger, lines } = recordingLogger();
    const client = new WSConnection(CLIENT, { logger });
    client.send(new Request({ host: 'h', target: '/' }));
    expect(lines).toEqual(['> request']);
    const acceptsConsole: WSConnection = new WSConnection(CLIENT, { logger: console });
    expect(acceptsConsole.state).toBe(ConnectionState.CONNECTING);
  });
});

describe('maskKey hook (seed 002 MaskingCallable)', () => {
  it('a client FrameProtocol / Connection takes its masking keys from the hook', () => {
    const asked: number[] = [];
    const maskKey = (n: number) => {
      asked.push(n);
      return Uint8Array.of(1, 2, 3, 4);
    };
    const proto = new FrameProtocol(true, [], { maskKey });
    expect(hex(proto.sendData(Uint8Array.of(0, 0, 0, 0)))).toBe('8284' + '01020304' + '01020304');
    const conn = new Connection(CLIENT, [], undefined, { maskKey });
    expect(hex(conn.send(new TextMessage({ data: '\u0000' })))).toBe('8181' + '01020304' + '01');
    expect(asked).toEqual([4, 4]);
    expect(() => new FrameProtocol(true, [], { maskKey: () => new Uint8Array(2) }).ping()).toThrow(LocalProtocolError);
    // A server does not mask: the hook is not called.
    expect(hex(new FrameProtocol(false, [], { maskKey }).ping())).toBe('8900');
    expect(asked).toHaveLength(2);
  });
});

describe('ContinuousFrame (seed 002 continuous_frame)', () => {
  const data = (op: Opcode, text: string | Uint8Array, fin: boolean) => new Frame(op, text, { fin });

  function assemble(cont: ContinuousFrame, frames: Frame[]): Array<[Opcode, string]> {
    const out: Array<[Opcode, string]> = [];
    for (const f of frames) {
      cont.validate(f);
      cont.add(f);
      if (cont.isFire(f)) {
        const [op, frame] = cont.extract(f);
        out.push([op, Buffer.from(frame.data).toString()]);
      }
    }
    return out;
  }

  it('assembles a fragmented message into one (opcode, frame)', () => {
    const frames = [data(Opcode.TEXT, 'This is a ', false), data(Opcode.CONT, 'long message', false), data(Opcode.CONT, '!', true), data(Opcode.BINARY, 'b', true)];
    expect(assemble(new ContinuousFrame(), frames)).toEqual([
      [Opcode.TEXT, 'This is a long message!'],
      [Opcode.BINARY, 'b'],
    ]);
  });

  it('fire_cont_frame hands out each fragment under its own opcode', () => {
    const frames = [data(Opcode.TEXT, 'ab', false), data(Opcode.CONT, 'cd', true)];
    expect(assemble(new ContinuousFrame(true, false), frames)).toEqual([
      [Opcode.TEXT, 'ab'],
      [Opcode.CONT, 'cd'],
    ]);
  });

  it('validate() refuses out-of-order frames; extract() refuses bad UTF-8 unless skipped', () => {
    const cont = new ContinuousFrame();
    expect(() => cont.validate(data(Opcode.CONT, 'x', true))).toThrow(ParseFailed);
    cont.add(data(Opcode.TEXT, 'x', false));
    expect(() => cont.validate(data(Opcode.BINARY, 'y', true))).toThrow(ParseFailed);
    const bad = data(Opcode.CONT, Uint8Array.of(0xff), true);
    cont.add(bad);
    let err: unknown;
    try {
      cont.extract(bad);
    } catch (e) {
      err = e;
    }
    expect((err as ParseFailed).code).toBe(1007);
    const lax = new ContinuousFrame({ skipUtf8Validation: true });
    const frame = data(Opcode.TEXT, Uint8Array.of(0xff), true);
    lax.add(frame);
    expect(lax.extract(frame)[0]).toBe(Opcode.TEXT);
  });
});

describe('FrameBuffer (seed 002 frame_buffer)', () => {
  /** A recv function over `bytes`, giving at most `chunk` bytes per call; records the sizes asked. */
  function source(bytes: Uint8Array, chunk: number, asked: number[] = []) {
    let at = 0;
    return (size: number) => {
      asked.push(size);
      const n = Math.min(size, chunk, bytes.length - at);
      at += n;
      return Promise.resolve(bytes.subarray(at - n, at));
    };
  }

  it('pulls whole frames, split anywhere, masked or not, reporting mask_value', async () => {
    const big = Buffer.alloc(70000, 'z');
    const stream = cat(wire({ opcode: 1, payload: 'Hel', fin: false, mask: true }), wire({ opcode: 0, payload: 'lo', mask: true }), wire({ opcode: 2, payload: big }), wire({ opcode: 9, payload: 'p' }));
    const asked: number[] = [];
    const fb = new FrameBuffer(source(stream, 3, asked));
    const frames = [await fb.recvFrame(), await fb.recvFrame(), await fb.recvFrame(), await fb.recvFrame()];
    expect(frames.map((f) => [f.opcode, f.fin, f.masked, f.data.length])).toEqual([
      [Opcode.TEXT, false, true, 3],
      [Opcode.CONT, true, true, 2],
      [Opcode.BINARY, true, false, 70000],
      [Opcode.PING, true, false, 1],
    ]);
    expect(Buffer.from(frames[0]!.data).toString() + Buffer.from(frames[1]!.data).toString()).toBe('Hello');
    expect(Math.max(...asked)).toBe(16384);
    await expect(fb.recvFrame()).rejects.toBeInstanceOf(ConnectionLostError);
  });

  it('takes a synchronous recv; concurrent calls are served in order', async () => {
    const stream = cat(wire({ opcode: 1, payload: 'a' }), wire({ opcode: 1, payload: 'b' }));
    let at = 0;
    const fb = new FrameBuffer((n) => stream.subarray(at, (at += n)));
    const [a, b] = await Promise.all([fb.recvFrame(), fb.recvFrame()]);
    expect([Buffer.from(a.data).toString(), Buffer.from(b.data).toString()]).toEqual(['a', 'b']);
  });

  it('checks frames (close rules, RSV, maxPayload) and skip_utf8_validation', async () => {
    const bad = wire({ opcode: 8, payload: Uint8Array.of(3, 232, 0xff) });
    await expect(new FrameBuffer(source(bad, 100)).recvFrame()).rejects.toMatchObject({ code: 1007 });
    expect((await new FrameBuffer(source(bad, 100), true).recvFrame()).opcode).toBe(Opcode.CLOSE);
    await expect(new FrameBuffer(source(wire({ opcode: 1, rsv: 4 }), 100)).recvFrame()).rejects.toMatchObject({ code: 1002 });
    await expect(new FrameBuffer(source(wire({ opcode: 1, rsv: 4 }), 100), { check: false }).recvFrame()).resolves.toMatchObject({ rsv1: true });
    const asked: number[] = [];
    const huge = new FrameBuffer(source(wire({ opcode: 2, length64: 2n ** 40n }), 100, asked), { maxPayload: 1000 });
    await expect(huge.recvFrame()).rejects.toMatchObject({ code: 1009 });
    expect(asked.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(10); // nothing read past the header
  });

  it('clear() drops an unfinished frame after a recv error; the next call resumes cleanly', async () => {
    const parts = [wire({ opcode: 1, payload: 'lost' }).subarray(0, 3), null, wire({ opcode: 1, payload: 'next' })];
    const fb = new FrameBuffer(() => {
      const part = parts.shift();
      if (part === null) throw new Error('timeout');
      return part ?? null;
    });
    await expect(fb.recvFrame()).rejects.toThrow('timeout');
    expect(fb.bufferedAmount).toBe(3);
    fb.clear();
    expect(fb.bufferedAmount).toBe(0);
    expect(Buffer.from((await fb.recvFrame()).data).toString()).toBe('next');
  });
});
