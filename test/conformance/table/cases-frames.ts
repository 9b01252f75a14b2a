/**
 * Table cases: data framing (RFC 6455 §5.2, §5.6), masking (§5.1, §5.3), fragmentation
 * (§5.4), control frames (§5.5, §5.5.2, §5.5.3), maxPayload (1009, §7.4.1) and what our side
 * sends. Rules that hold for both ends are run in both roles ({@link bothRoles}).
 */
import { wire } from '../../helpers/wire';
import type { Case, PeerFrame } from './script';

export const TEXT = 1;
export const BINARY = 2;
export const CONT = 0;
export const CLOSE = 8;
export const PING = 9;
export const PONG = 10;

/** A frame from the peer (masked as its role requires unless `mask` says otherwise). */
export function f(opcode: number, payload: string | Uint8Array = '', more: Omit<Exclude<PeerFrame, Uint8Array>, 'opcode' | 'payload'> = {}): PeerFrame {
  return { opcode, payload, ...more };
}

/** `frame` `n` times over, as one piece of bytes. */
function repeated(frame: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(frame.length * n);
  for (let i = 0; i < n; i++) out.set(frame, i * frame.length);
  return out;
}

/** A close frame's payload: the code (2 bytes, big-endian) and the reason. */
export function closePayload(code: number, reason: string | Uint8Array = ''): Uint8Array {
  return Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);
}

/** The case in both roles ("(server)" / "(client)" appended to its name). */
export function bothRoles(c: Omit<Case, 'role'>): Case[] {
  return (['server', 'client'] as const).map((role) => ({ ...c, role, name: `${c.name} (${role})` }));
}

/** The outcome when the peer broke a rule: we send close `code` and report it. */
export function fails(code: number, events: string[] = [], before: string[] = []): Case['expect'] {
  return { events, out: [...before, `close:${code}*`], closed: [code], failed: code };
}

/** Nothing happens until the peer's EOF (1006, §7.1.5). */
export function quiet(events: string[], out: string[] = []): Case['expect'] {
  return { events, out, closed: [1006, ''] };
}

const a200 = 'a'.repeat(200);
const b70k = new Uint8Array(70_000).fill(0x62);

export const frameCases: Case[] = [
  ...bothRoles({ name: 'a text message', rule: 'RFC 6455 §5.6', steps: [{ peer: [f(TEXT, 'Hello')] }], expect: quiet(['text:Hello']) }),
  ...bothRoles({ name: 'a binary message', rule: 'RFC 6455 §5.6', steps: [{ peer: [f(BINARY, Uint8Array.of(0, 1, 0xff))] }], expect: quiet(['binary:0001ff']) }),
  ...bothRoles({ name: 'empty text and binary messages', rule: 'RFC 6455 §5.6', steps: [{ peer: [f(TEXT), f(BINARY)] }], expect: quiet(['text:', 'binary:']) }),
  ...bothRoles({
    name: 'a 16-bit length, split inside the header',
    rule: 'RFC 6455 §5.2',
    steps: [{ peer: [f(TEXT, a200)], cuts: [1, 3, 5] }],
    expect: quiet([`text:${a200}`]),
  }),
  {
    name: 'a 64-bit length (70,000 bytes), split inside the header and the payload (server)',
    rule: 'RFC 6455 §5.2',
    role: 'server',
    large: true,
    steps: [{ peer: [f(BINARY, b70k)], cuts: [2, 9, 13, 40_000] }],
    expect: quiet([`binary:${Buffer.from(b70k).toString('hex')}`]),
  },
  ...bothRoles({
    name: 'a small payload in the 8-byte length form is accepted',
    rule: 'RFC 6455 §5.2',
    steps: [{ peer: [f(TEXT, 'hi', { lengthForm: 64 })] }],
    expect: quiet(['text:hi']),
  }),
  ...bothRoles({
    name: 'several messages in one read',
    rule: 'RFC 6455 §5.6',
    steps: [{ peer: [f(TEXT, 'one'), f(BINARY, 'two'), f(TEXT, 'three')] }],
    expect: quiet(['text:one', 'binary:74776f', 'text:three']),
  }),

  ...bothRoles({
    name: 'frames in the handshake read: a message, a ping, a fragment',
    rule: 'RFC 6455 §4.1, §4.2.2',
    withHandshake: true,
    steps: [{ peer: [f(TEXT, 'early'), f(PING, 'e'), f(BINARY, 'a', { fin: false })] }, { peer: [f(CONT, 'b')] }],
    expect: quiet(['text:early', 'ping:e', 'binary:6162'], ['pong:e']),
  }),
  ...bothRoles({
    name: 'a violation in the handshake read',
    rule: 'RFC 6455 §4, §5.2',
    withHandshake: true,
    steps: [{ peer: [f(TEXT, 'ok'), f(TEXT, 'x', { rsv: 2 })] }],
    expect: fails(1002, ['text:ok']),
  }),
  ...bothRoles({
    name: 'a close in the handshake read',
    rule: 'RFC 6455 §4, §5.5.1',
    withHandshake: true,
    steps: [{ peer: [f(CLOSE, closePayload(1001, 'gone'))] }],
    expect: { events: [], out: ['close:1001:gone'], closed: [1001, 'gone'] },
  }),

  // §5.4 fragmentation
  ...bothRoles({
    name: 'a text message in three fragments',
    rule: 'RFC 6455 §5.4',
    steps: [{ peer: [f(TEXT, 'Hel', { fin: false }), f(CONT, 'l', { fin: false }), f(CONT, 'o')] }],
    expect: quiet(['text:Hello']),
  }),
  ...bothRoles({
    name: 'a binary message with empty fragments, in separate reads',
    rule: 'RFC 6455 §5.4',
    steps: [{ peer: [f(BINARY, '', { fin: false })] }, { peer: [f(CONT, 'ab', { fin: false }), f(CONT, '', { fin: false })] }, { peer: [f(CONT, '')] }],
    expect: quiet(['binary:6162']),
  }),
  ...bothRoles({
    name: 'a ping between fragments is answered at once (Autobahn 5.6)',
    rule: 'RFC 6455 §5.4, §5.5.2',
    steps: [{ peer: [f(TEXT, 'frag', { fin: false }), f(PING, 'mid'), f(CONT, 'ment')] }],
    expect: quiet(['ping:mid', 'text:fragment'], ['pong:mid']),
  }),
  ...bothRoles({
    name: 'the peer vanishes inside a fragmented message: 1006, nothing delivered',
    rule: 'RFC 6455 §7.1.5',
    steps: [{ peer: [f(TEXT, 'never', { fin: false }), f(CONT, 'ends', { fin: false })] }],
    expect: quiet([]),
  }),
  ...bothRoles({
    name: 'a ping then a violation in one read: the pong leaves before the close',
    rule: 'RFC 6455 §5.5.2, §7.1.7',
    steps: [{ peer: [f(PING, 'first'), f(CONT, 'x')] }],
    expect: fails(1002, ['ping:first'], ['pong:first']),
  }),
  {
    name: 'control frames do not count toward maxPayload (server)',
    rule: 'RFC 6455 §7.4.1',
    role: 'server',
    maxPayload: 5,
    steps: [{ peer: [f(BINARY, 'ab', { fin: false }), f(PING, 'ping'), f(PONG, 'pong'), f(CONT, 'cd')] }],
    expect: quiet(['ping:ping', 'pong:pong', 'binary:61626364'], ['pong:ping']),
  },
  {
    name: 'a message of 131,073 empty fragments (default maxFragments + 1) is a flood (server)',
    rule: 'RFC 6455 §5.4 (docs/security.md, maxFragments)',
    role: 'server',
    large: true,
    steps: [{ peer: [f(BINARY, '', { fin: false }), repeated(wire({ opcode: CONT, fin: false, mask: true }), 131_071), f(CONT, '')] }],
    expect: fails(1008),
  },
  ...bothRoles({ name: 'a continuation with no message started', rule: 'RFC 6455 §5.4', steps: [{ peer: [f(CONT, 'x')] }], expect: fails(1002) }),
  ...bothRoles({
    name: 'a new message inside a fragmented one',
    rule: 'RFC 6455 §5.4',
    steps: [{ peer: [f(TEXT, 'a', { fin: false }), f(TEXT, 'b')] }],
    expect: fails(1002),
  }),
  {
    name: 'a message before the violation is delivered (server)',
    rule: 'RFC 6455 §5.4, §7.1.7',
    role: 'server',
    steps: [{ peer: [f(TEXT, 'ok'), f(BINARY, 'a', { fin: false }), f(BINARY, 'b')] }],
    expect: fails(1002, ['text:ok']),
  },

  // §5.2 reserved opcodes and bits
  ...[3, 7, 0xb, 0xf].map((op): Case => ({ name: `reserved opcode ${op}`, rule: 'RFC 6455 §5.2', role: 'server', steps: [{ peer: [f(op, 'x')] }], expect: fails(1002) })),
  { name: 'reserved opcode 4 (client)', rule: 'RFC 6455 §5.2', role: 'client', steps: [{ peer: [f(4)] }], expect: fails(1002) },
  ...bothRoles({ name: 'RSV1 without an extension', rule: 'RFC 6455 §5.2', steps: [{ peer: [f(TEXT, 'x', { rsv: 4 })] }], expect: fails(1002) }),
  { name: 'RSV2 (server)', rule: 'RFC 6455 §5.2', role: 'server', steps: [{ peer: [f(TEXT, 'x', { rsv: 2 })] }], expect: fails(1002) },
  { name: 'RSV3 on a ping (client)', rule: 'RFC 6455 §5.2', role: 'client', steps: [{ peer: [f(PING, 'x', { rsv: 1 })] }], expect: fails(1002) },

  // §5.1 / §5.3 masking
  { name: 'a server refuses an unmasked frame', rule: 'RFC 6455 §5.1', role: 'server', steps: [{ peer: [f(TEXT, 'x', { mask: false })] }], expect: fails(1002) },
  { name: 'a server refuses an unmasked ping', rule: 'RFC 6455 §5.1', role: 'server', steps: [{ peer: [f(PING, '', { mask: false })] }], expect: fails(1002) },
  { name: 'a client refuses a masked frame', rule: 'RFC 6455 §5.1', role: 'client', steps: [{ peer: [f(TEXT, 'x', { mask: true })] }], expect: fails(1002) },
  {
    name: 'a server accepts any mask key',
    rule: 'RFC 6455 §5.3',
    role: 'server',
    steps: [{ peer: [f(TEXT, 'key', { mask: Uint8Array.of(0, 0, 0, 0) }), f(TEXT, 'key', { mask: Uint8Array.of(0xff, 1, 0x80, 7) })] }],
    expect: quiet(['text:key', 'text:key']),
  },

  // §5.5 control frames
  ...bothRoles({ name: 'a ping is answered with its payload', rule: 'RFC 6455 §5.5.2', steps: [{ peer: [f(PING, 'hi')] }], expect: quiet(['ping:hi'], ['pong:hi']) }),
  ...bothRoles({ name: 'an empty ping', rule: 'RFC 6455 §5.5.2', steps: [{ peer: [f(PING)] }], expect: quiet(['ping:'], ['pong:']) }),
  ...bothRoles({
    name: 'a 125-byte binary ping payload is echoed',
    rule: 'RFC 6455 §5.5, §5.5.3',
    steps: [{ peer: [f(PING, new Uint8Array(125).fill(0xfe))] }],
    expect: quiet([`ping:x${'fe'.repeat(125)}`], [`pong:x${'fe'.repeat(125)}`]),
  }),
  ...bothRoles({ name: 'a 126-byte ping', rule: 'RFC 6455 §5.5', steps: [{ peer: [f(PING, 'p'.repeat(126))] }], expect: fails(1002) }),
  ...bothRoles({ name: 'a fragmented ping', rule: 'RFC 6455 §5.5', steps: [{ peer: [f(PING, 'x', { fin: false })] }], expect: fails(1002) }),
  { name: 'a fragmented pong (server)', rule: 'RFC 6455 §5.5', role: 'server', steps: [{ peer: [f(PONG, 'x', { fin: false })] }], expect: fails(1002) },
  ...bothRoles({ name: 'an unsolicited pong is reported, not answered', rule: 'RFC 6455 §5.5.3', steps: [{ peer: [f(PONG, 'beat')] }], expect: quiet(['pong:beat']) }),
  {
    name: 'ten pings in one read get ten pongs, in order (Autobahn 2.10)',
    rule: 'RFC 6455 §5.5.2',
    role: 'server',
    steps: [{ peer: Array.from({ length: 10 }, (_, i) => f(PING, `p${i}`)) }],
    expect: quiet(
      Array.from({ length: 10 }, (_, i) => `ping:p${i}`),
      Array.from({ length: 10 }, (_, i) => `pong:p${i}`),
    ),
  },
  {
    name: 'pings and messages interleaved: each answered in order (client)',
    rule: 'RFC 6455 §5.5.2',
    role: 'client',
    steps: [{ peer: [f(PING, '1'), f(TEXT, 'a'), f(PING, '2'), f(BINARY, 'b')], cuts: [4, 9] }],
    expect: quiet(['ping:1', 'text:a', 'ping:2', 'binary:62'], ['pong:1', 'pong:2']),
  },

  // maxPayload (RFC 6455 §7.4.1: 1009)
  ...bothRoles({ name: 'a message of exactly maxPayload', rule: 'RFC 6455 §7.4.1', maxPayload: 10, steps: [{ peer: [f(TEXT, '0123456789')] }], expect: quiet(['text:0123456789']) }),
  ...bothRoles({ name: 'a frame over maxPayload', rule: 'RFC 6455 §7.4.1', maxPayload: 10, steps: [{ peer: [f(TEXT, '0123456789a')] }], expect: fails(1009) }),
  {
    name: 'fragments adding up to more than maxPayload (server)',
    rule: 'RFC 6455 §7.4.1',
    role: 'server',
    maxPayload: 10,
    steps: [{ peer: [f(BINARY, '012345', { fin: false }), f(CONT, '678901')] }],
    expect: fails(1009),
  },
  {
    name: 'a frame over maxPayload is refused from its header alone (client)',
    rule: 'RFC 6455 §7.4.1',
    role: 'client',
    maxPayload: 10,
    steps: [{ peer: [Uint8Array.of(0x82, 126, 0x10, 0x00)] }],
    expect: fails(1009),
  },
  {
    name: 'a declared length of 2^62 is refused from its header (server, default maxPayload)',
    rule: 'RFC 6455 §7.4.1',
    role: 'server',
    steps: [{ peer: [f(BINARY, '', { length64: 2n ** 62n })] }],
    expect: fails(1009),
  },
  ...bothRoles({
    name: 'a 64-bit length with the top bit set',
    rule: 'RFC 6455 §5.2',
    steps: [{ peer: [f(BINARY, '', { length64: 2n ** 63n })] }],
    expect: fails(1002),
  }),

  // what our side sends (§5.3: a client masks, a server does not)
  ...bothRoles({
    name: 'we send text, binary, a ping and a pong',
    rule: 'RFC 6455 §5.3, §5.6',
    steps: [{ send: 'abc' }, { send: Uint8Array.of(1, 2) }, { ping: 'p' }, { pong: 'q' }],
    expect: quiet([], ['text:abc', 'binary:x0102', 'ping:p', 'pong:q']),
  }),
  ...bothRoles({
    name: 'we send a message in fragments',
    rule: 'RFC 6455 §5.4',
    steps: [{ send: 'ab', fin: false }, { send: 'cd', fin: false }, { send: 'e' }],
    expect: quiet([], ['text+:ab', 'cont+:cd', 'cont:e']),
  }),
  ...bothRoles({ name: 'we send empty messages', rule: 'RFC 6455 §5.6', steps: [{ send: '' }, { send: new Uint8Array(0) }, { ping: '' }], expect: quiet([], ['text:', 'binary:', 'ping:']) }),
  ...bothRoles({
    name: 'the peer closes while we send a fragmented message: the echo goes between fragments',
    rule: 'RFC 6455 §5.4, §5.5.1',
    steps: [{ send: 'part', fin: false }, { peer: [f(CLOSE, closePayload(1000))] }],
    expect: { events: [], out: ['text+:part', 'close:1000:'], closed: [1000, ''] },
  }),
  {
    name: 'we send 200 and 70,000 bytes: 16- and 64-bit lengths (client)',
    rule: 'RFC 6455 §5.2',
    role: 'client',
    steps: [{ send: a200 }, { send: b70k }],
    expect: quiet([], [`text:${a200}`, `binary:${'b'.repeat(70_000)}`]),
  },
  ...bothRoles({
    name: 'we answer a ping between our own sends',
    rule: 'RFC 6455 §5.5.2',
    steps: [{ send: 'before' }, { peer: [f(PING, 'x')] }, { send: 'after' }],
    expect: quiet(['ping:x'], ['text:before', 'pong:x', 'text:after']),
  }),
];
