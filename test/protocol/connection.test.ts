import { describe, expect, it } from 'vitest';

import { LocalProtocolError, ParseFailed } from '../../src/errors';
import {
  BytesMessage,
  CloseConnection,
  Connection,
  ConnectionState,
  ConnectionType,
  type Event,
  Ping,
  Pong,
  RejectConnection,
  TextMessage,
} from '../../src/protocol';
import { FakeExtension } from '../helpers/fake-extension';
import { cat, split, wire, type WireFrame } from '../helpers/wire';

const { CLIENT, SERVER } = ConnectionType;
const { OPEN, REMOTE_CLOSING, LOCAL_CLOSING, CLOSED } = ConnectionState;
const enc = (s: string) => new TextEncoder().encode(s);

function drain(conn: Connection): Event[] {
  return [...conn.events()];
}

/** Feeds `data` whole, or in pieces of `size` bytes (copies: the connection unmasks in place). */
function feed(conn: Connection, data: Uint8Array, size?: number): Event[] {
  const out: Event[] = [];
  for (const piece of size === undefined ? [data.slice()] : split(data, size)) {
    conn.receiveData(piece);
    out.push(...drain(conn));
  }
  return out;
}

/** Simple views of events for toEqual. */
function view(events: Event[]): unknown[] {
  return events.map((e) => {
    switch (e.type) {
      case 'text':
      case 'bytes':
        return [e.type, typeof e.data === 'string' ? e.data : Buffer.from(e.data).toString('hex'), e.frameFinished, e.messageFinished];
      case 'ping':
      case 'pong':
        return [e.type, Buffer.from(e.payload).toString()];
      case 'close':
        return ['close', e.code, e.reason];
      default:
        return [e.type];
    }
  });
}

/** Frames as the peer of `type` sends them: masked when the peer is a client. */
function fromPeer(us: ConnectionType, ...frames: WireFrame[]): Uint8Array {
  return cat(...frames.map((f) => wire({ mask: us === SERVER, ...f })));
}

describe.each([
  ['client', CLIENT],
  ['server', SERVER],
])('Connection as %s', (_name, us) => {
  const peer = us === CLIENT ? SERVER : CLIENT;

  it.each([undefined, 1])('we close first: OPEN -> LOCAL_CLOSING -> CLOSED (pieces: %s)', (size) => {
    const a = new Connection(us);
    const b = new Connection(peer);
    const close = a.send(new CloseConnection({ code: 1000, reason: 'bye' }));
    expect(a.state).toBe(LOCAL_CLOSING);
    const got = feed(b, close, size);
    expect(view(got)).toEqual([['close', 1000, 'bye']]);
    expect(b.state).toBe(REMOTE_CLOSING);
    const answer = b.send((got[0] as CloseConnection).response());
    expect(b.state).toBe(CLOSED);
    expect(view(feed(a, answer, size))).toEqual([['close', 1000, 'bye']]);
    expect(a.state).toBe(CLOSED);
    // Closed on both sides: the end of the transport is not an abnormal closure any more.
    a.receiveData(null);
    b.receiveData(null);
    expect(drain(a)).toEqual([]);
    expect(drain(b)).toEqual([]);
  });

  it('the peer closes without a code: 1005, answered with an empty close', () => {
    const conn = new Connection(us);
    const [ev] = feed(conn, fromPeer(us, { opcode: 8 }));
    expect(view([ev!])).toEqual([['close', 1005, '']]);
    const answer = conn.send((ev as CloseConnection).response());
    // An empty close frame: no code on the wire (1005 is local only, RFC 6455 §7.4.1).
    expect(answer.length).toBe(us === CLIENT ? 6 : 2);
    expect(answer[0]).toBe(0x88);
    expect(answer[1]! & 0x7f).toBe(0);
    expect(conn.state).toBe(CLOSED);
  });

  it('echoes the code of the peer (RFC 6455 §5.5.1)', () => {
    const conn = new Connection(us);
    const [ev] = feed(conn, fromPeer(us, { opcode: 8, payload: cat(Uint8Array.of(0x0f, 0xa1), enc('x')) }));
    expect((ev as CloseConnection).code).toBe(4001);
    const b = new Connection(peer);
    expect(view(feed(b, conn.send((ev as CloseConnection).response())))).toEqual([['close', 4001, 'x']]);
  });

  it('both close at once', () => {
    const a = new Connection(us);
    const b = new Connection(peer);
    const fromA = a.send(new CloseConnection({ code: 1001 }));
    const fromB = b.send(new CloseConnection({ code: 1000 }));
    expect(view(feed(a, fromB))).toEqual([['close', 1000, '']]);
    expect(view(feed(b, fromA))).toEqual([['close', 1001, '']]);
    expect([a.state, b.state]).toEqual([CLOSED, CLOSED]);
  });

  it('ignores everything after the close frame', () => {
    const conn = new Connection(us);
    const data = fromPeer(us, { opcode: 1, payload: 'before' }, { opcode: 8, payload: Uint8Array.of(3, 232) }, { opcode: 1, payload: 'after' }, { opcode: 3 });
    expect(view(feed(conn, data))).toEqual([
      ['text', 'before', true, true],
      ['close', 1000, ''],
    ]);
    conn.receiveData(fromPeer(us, { opcode: 1, payload: 'later' }));
    expect(drain(conn)).toEqual([]);
  });

  it('receiveData(null) without a close frame is an abnormal closure (1006)', () => {
    for (const closeFirst of [false, true]) {
      const conn = new Connection(us);
      if (closeFirst) conn.send(new CloseConnection({ code: 1000 }));
      conn.receiveData(null);
      expect(view(drain(conn))).toEqual([['close', 1006, '']]);
      expect(conn.state).toBe(CLOSED);
      conn.receiveData(null);
      // wsproto: bytes fed once CLOSED are the program's mistake.
      expect(() => conn.receiveData(fromPeer(us, { opcode: 1, payload: 'x' }))).toThrow(LocalProtocolError);
      expect(drain(conn)).toEqual([]);
    }
    // After the peer's close frame the code is known: no second close event.
    const conn = new Connection(us);
    feed(conn, fromPeer(us, { opcode: 8 }));
    conn.receiveData(null);
    expect(drain(conn)).toEqual([]);
    expect(conn.state).toBe(CLOSED);
  });

  it('delivers what arrived before the end of the transport, then 1006', () => {
    const ext = new FakeExtension('x');
    const conn = new Connection(us, [ext]);
    conn.receiveData(fromPeer(us, { opcode: 1, payload: 'last words' }, { opcode: 9 }));
    conn.receiveData(null);
    expect(conn.state).toBe(CLOSED);
    expect(ext.disposed).toBe(0); // the inbound hooks still have frames to see
    expect(view(drain(conn))).toEqual([['text', 'last words', true, true], ['ping', ''], ['close', 1006, '']]);
    expect(ext.disposed).toBe(1);
    expect(() => conn.send(new Pong())).toThrow(LocalProtocolError);
    // A close frame among them: its code, not 1006.
    const other = new Connection(us);
    other.receiveData(fromPeer(us, { opcode: 8, payload: Uint8Array.of(0x03, 0xe9) }));
    other.receiveData(null);
    expect(view(drain(other))).toEqual([['close', 1001, '']]);
    expect(other.state).toBe(CLOSED);
  });

  it('refuses to send after our close (RFC 6455 §5.5.1)', () => {
    const conn = new Connection(us);
    conn.send(new CloseConnection({ code: 1000 }));
    for (const ev of [new TextMessage({ data: 'x' }), new BytesMessage({ data: enc('x') }), new Ping(), new Pong(), new CloseConnection({ code: 1000 })]) {
      expect(() => conn.send(ev)).toThrow(LocalProtocolError);
    }
    expect(() => new Connection(us).send(new RejectConnection())).toThrow(LocalProtocolError);
  });

  it('may finish a message after the peer closed, before answering', () => {
    const a = new Connection(us);
    const b = new Connection(peer);
    const first = a.send(new TextMessage({ data: 'hel', messageFinished: false }));
    feed(a, b.send(new CloseConnection({ code: 1000 })));
    expect(a.state).toBe(REMOTE_CLOSING);
    const rest = a.send(new TextMessage({ data: 'lo' }));
    a.send(new CloseConnection({ code: 1000 }));
    expect(a.state).toBe(CLOSED);
    expect(view(feed(b, cat(first, rest)))).toEqual([
      ['text', 'hel', true, false],
      ['text', 'lo', true, true],
    ]);
  });

  it('checks close codes and control payload sizes it sends', () => {
    const conn = new Connection(us);
    expect(() => conn.send(new CloseConnection({ code: 999 }))).toThrow(LocalProtocolError);
    expect(() => conn.send(new CloseConnection({ code: 1004 }))).toThrow(LocalProtocolError);
    expect(() => conn.send(new Ping({ payload: new Uint8Array(126) }))).toThrow(LocalProtocolError);
    expect(conn.state).toBe(OPEN);
  });

  it('sends and receives text, binary, fragments, pings and pongs', () => {
    const a = new Connection(us);
    const b = new Connection(peer);
    const bytes = cat(
      a.send(new TextMessage({ data: 'héllo' })),
      a.send(new BytesMessage({ data: Uint8Array.of(0, 1, 2) })),
      a.send(new TextMessage({ data: 'frag', messageFinished: false })),
      a.send(new Ping({ payload: enc('p') })),
      a.send(new TextMessage({ data: 'ment€', messageFinished: false })),
      a.send(new TextMessage({ data: '' })),
      a.send(new Pong({ payload: enc('q') })),
    );
    const expected = [
      ['text', 'héllo', true, true],
      ['bytes', '000102', true, true],
      ['text', 'frag', true, false],
      ['ping', 'p'],
      ['text', 'ment€', true, false],
      ['text', '', true, true],
      ['pong', 'q'],
    ];
    expect(view(feed(b, bytes))).toEqual(expected);
    expect(view(feed(new Connection(peer), bytes, 1))).toEqual(expected);
  });

  it('answers a ping with ping.response()', () => {
    const conn = new Connection(us);
    const [ping] = feed(conn, fromPeer(us, { opcode: 9, payload: 'abc' }));
    expect(ping).toBeInstanceOf(Ping);
    const pong = conn.send((ping as Ping).response());
    expect(view(feed(new Connection(peer), pong))).toEqual([['pong', 'abc']]);
  });

  it('refuses a type change inside a fragmented message', () => {
    const conn = new Connection(us);
    conn.send(new TextMessage({ data: 'a', messageFinished: false }));
    expect(() => conn.send(new BytesMessage({ data: enc('b') }))).toThrow(LocalProtocolError);
  });

  it('processes trailing handshake data given to the constructor', () => {
    const conn = new Connection(us, [], fromPeer(us, { opcode: 1, payload: 'early' }));
    expect(view(drain(conn))).toEqual([['text', 'early', true, true]]);
  });

  it('disposes its extensions once when CLOSED', () => {
    const ext = new FakeExtension('x');
    const conn = new Connection(us, [ext]);
    conn.send(new CloseConnection({ code: 1000 }));
    feed(conn, fromPeer(us, { opcode: 8 }));
    conn.receiveData(null);
    expect(ext.disposed).toBe(1);
  });

  type Violation = [label: string, frames: WireFrame[], code: number];
  const pad = (n: number) => new Uint8Array(n);
  const violations: Violation[] = [
    ['a reserved opcode', [{ opcode: 3 }], 1002],
    ['a reserved control opcode', [{ opcode: 0xb }], 1002],
    ['RSV1 without an extension', [{ opcode: 1, payload: 'x', rsv: 4 }], 1002],
    ['RSV3', [{ opcode: 2, rsv: 1 }], 1002],
    ['a fragmented ping', [{ opcode: 9, fin: false }], 1002],
    ['a 126-byte ping', [{ opcode: 9, payload: pad(126) }], 1002],
    ['a continuation without a message', [{ opcode: 0, payload: 'x' }], 1002],
    ['a new message inside a fragmented one', [{ opcode: 1, payload: 'a', fin: false }, { opcode: 2, payload: 'b' }], 1002],
    ['invalid UTF-8', [{ opcode: 1, payload: Uint8Array.of(0x61, 0xff) }], 1007],
    ['a surrogate in UTF-8', [{ opcode: 1, payload: Uint8Array.of(0xed, 0xa0, 0x80) }], 1007],
    ['text ending inside a character', [{ opcode: 1, payload: Uint8Array.of(0xe2, 0x82), fin: false }, { opcode: 0, payload: Uint8Array.of() }], 1007],
    ['a 1-byte close payload', [{ opcode: 8, payload: Uint8Array.of(3) }], 1002],
    ['close code 1005 on the wire', [{ opcode: 8, payload: Uint8Array.of(0x03, 0xed) }], 1002],
    ['close code 999', [{ opcode: 8, payload: Uint8Array.of(0x03, 0xe7) }], 1002],
    ['close code 5000', [{ opcode: 8, payload: Uint8Array.of(0x13, 0x88) }], 1002],
    ['a close reason that is not UTF-8', [{ opcode: 8, payload: Uint8Array.of(0x03, 0xe8, 0xff) }], 1007],
    ['a 64-bit length with the top bit set', [{ opcode: 2, length64: 1n << 63n }], 1002],
    ['a frame over maxPayload', [{ opcode: 2, payload: pad(1025) }], 1009],
    ['a message over maxPayload', [{ opcode: 2, payload: pad(600), fin: false }, { opcode: 0, payload: pad(600) }], 1009],
  ];

  describe.each([
    ['whole', undefined],
    ['1-byte pieces', 1],
  ])('peer violations (%s)', (_how, size) => {
    it.each(violations.map(([l, f, c]) => [`${l} -> close ${c}`, f, c] as Violation))('%s', (_label, frames, code) => {
      const conn = new Connection(us, [], undefined, { maxPayload: 1024 });
      const data = fromPeer(us, { opcode: 1, payload: 'ok' }, { opcode: 9, payload: 'p' }, ...frames, { opcode: 1, payload: 'never' });
      const events = feed(conn, data, size);
      // What came before the violation is delivered; nothing after it.
      expect(view(events.slice(0, 2))).toEqual([
        ['text', 'ok', true, true],
        ['ping', 'p'],
      ]);
      // (the first fragment of a message that later breaks a rule is delivered too)
      const rest = events.slice(2).filter((e) => !((e instanceof TextMessage || e instanceof BytesMessage) && !e.messageFinished));
      expect(rest).toHaveLength(1);
      const close = rest[0] as CloseConnection;
      expect(close).toBeInstanceOf(CloseConnection);
      expect(close.code).toBe(code);
      expect(close.error).toBeInstanceOf(ParseFailed);
      expect(close.reason.length).toBeGreaterThan(0);
      expect(new TextEncoder().encode(close.reason).length).toBeLessThanOrEqual(123);
      expect(conn.state).toBe(REMOTE_CLOSING);
      // Only the close may be sent now; it carries the code and ends the connection (§7.1.7).
      expect(() => conn.send(new TextMessage({ data: 'x' }))).toThrow(LocalProtocolError);
      const answer = conn.send(close.response());
      expect(conn.state).toBe(CLOSED);
      expect(view(feed(new Connection(peer), answer))).toEqual([['close', code, close.reason]]);
    });
  });

  it('a violation after our close goes straight to CLOSED', () => {
    const conn = new Connection(us);
    conn.send(new CloseConnection({ code: 1000 }));
    const [ev] = feed(conn, fromPeer(us, { opcode: 3 }));
    expect((ev as CloseConnection).code).toBe(1002);
    expect(conn.state).toBe(CLOSED);
    conn.receiveData(null);
    expect(drain(conn)).toEqual([]);
  });
});

it('refuses frames with the wrong masking for the role (RFC 6455 §5.1)', () => {
  const server = new Connection(SERVER);
  expect(view(feed(server, wire({ opcode: 1, payload: 'x' })))).toEqual([['close', 1002, expect.stringContaining('unmasked') as unknown as string]]);
  const client = new Connection(CLIENT);
  expect(view(feed(client, wire({ opcode: 1, payload: 'x', mask: true })))).toEqual([['close', 1002, expect.stringContaining('masked') as unknown as string]]);
});
