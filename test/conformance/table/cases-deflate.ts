/**
 * Table cases: permessage-deflate (RFC 7692): compressed messages in (whole, fragmented,
 * with and without context takeover, the §7.2.3 examples), RSV1 where it may not be (§6.1),
 * bad compressed data (1007), a decompression bomb (maxPayload, 1009), and what we send.
 * Compressed payloads are made by node:zlib, independently of src/.
 */
import { constants, deflateRawSync } from 'node:zlib';

import { bothRoles, CLOSE, closePayload, CONT, f, fails, PING, quiet, TEXT, BINARY } from './cases-frames';
import type { Case, DeflateSetup, Role } from './script';

const hex = (s: string): Uint8Array => Buffer.from(s, 'hex');

/** `data` compressed as one message without context (RFC 7692 §7.2.1: 00 00 ff ff removed). */
function deflated(data: string | Uint8Array): Uint8Array {
  const out = deflateRawSync(Buffer.from(data), { finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** The RFC 7692 §7.2.3.1 "Hello" (one block, fixed Huffman codes). */
const HELLO = hex('f248cdc9c90700');
/** §7.2.3.2: the second "Hello" of a context, referring to the first. */
const HELLO_AGAIN = hex('f200110000');
/** §7.2.3.3: "Hello" in an uncompressed DEFLATE block. */
const HELLO_STORED = hex('000500faff48656c6c6f00');
/** §7.2.3.4: "Hello" in a block with BFINAL set. */
const HELLO_BFINAL = hex('f348cdc9c90700000000');

/** A close frame of our side as {@link canonicalBytes} writes it (a client's mask key zeroed). */
function closeFrameHex(role: Role, code: number, reason: string): string {
  const payload = closePayload(code, reason);
  const mask = role === 'client' ? '00000000' : '';
  return `88${((role === 'client' ? 0x80 : 0) | payload.length).toString(16)}${mask}${Buffer.from(payload).toString('hex')}`;
}

const PMD: DeflateSetup = { agreed: 'permessage-deflate' };
/** Our side compresses every message (threshold 0), so short sends show compression. */
const PMD_ALL: DeflateSetup = { agreed: 'permessage-deflate', options: { threshold: 0 } };
/** The client's compressor restarts every message (§7.1.1.2). */
const CLIENT_NCT: DeflateSetup = { agreed: 'permessage-deflate; client_no_context_takeover', options: { threshold: 0 } };
/** The server's compressor restarts every message (§7.1.1.1). */
const SERVER_NCT: DeflateSetup = { agreed: 'permessage-deflate; server_no_context_takeover', options: { threshold: 0 } };

const lorem = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(8);
const LOREM_DEFLATED = deflated(lorem);

export const deflateCases: Case[] = [
  ...bothRoles({ name: 'RFC 7692 §7.2.3.1 compressed "Hello"', rule: 'RFC 7692 §7.2.3.1', deflate: PMD, steps: [{ peer: [f(TEXT, HELLO, { rsv: 4 })] }], expect: quiet(['text:Hello']) }),
  ...bothRoles({
    name: 'RFC 7692 §7.2.3.1 compressed "Hello" in two fragments',
    rule: 'RFC 7692 §6.1, §7.2.3.1',
    deflate: PMD,
    steps: [{ peer: [f(TEXT, HELLO.subarray(0, 3), { rsv: 4, fin: false }), f(CONT, HELLO.subarray(3))] }],
    expect: quiet(['text:Hello']),
  }),
  ...bothRoles({
    name: 'RFC 7692 §7.2.3.2 two messages sharing a window',
    rule: 'RFC 7692 §7.2.3.2',
    deflate: PMD,
    steps: [{ peer: [f(TEXT, HELLO, { rsv: 4 })] }, { peer: [f(TEXT, HELLO_AGAIN, { rsv: 4 })] }],
    expect: quiet(['text:Hello', 'text:Hello']),
  }),
  ...bothRoles({ name: 'RFC 7692 §7.2.3.3 an uncompressed DEFLATE block', rule: 'RFC 7692 §7.2.3.3', deflate: PMD, steps: [{ peer: [f(TEXT, HELLO_STORED, { rsv: 4 })] }], expect: quiet(['text:Hello']) }),
  ...bothRoles({ name: 'RFC 7692 §7.2.3.4 a block with BFINAL set', rule: 'RFC 7692 §7.2.3.4', deflate: PMD, steps: [{ peer: [f(TEXT, HELLO_BFINAL, { rsv: 4 })] }], expect: quiet(['text:Hello']) }),
  ...bothRoles({
    name: 'an uncompressed message while deflate is agreed',
    rule: 'RFC 7692 §6',
    deflate: PMD,
    steps: [{ peer: [f(TEXT, 'plain'), f(BINARY, deflated('z'), { rsv: 4 })] }],
    expect: quiet(['text:plain', 'binary:7a']),
  }),
  {
    name: 'the peer compresses without context takeover (server, client_no_context_takeover)',
    rule: 'RFC 7692 §7.1.1.2',
    role: 'server',
    deflate: CLIENT_NCT,
    steps: [{ peer: [f(TEXT, deflated(lorem), { rsv: 4 }), f(TEXT, deflated(lorem), { rsv: 4 })], cuts: [3, 40] }],
    expect: quiet([`text:${lorem}`, `text:${lorem}`]),
  },
  {
    name: 'a compressed text message of 456 bytes in 1-byte fragments (client)',
    rule: 'RFC 7692 §6.1',
    role: 'client',
    deflate: PMD,
    steps: [{ peer: Array.from(LOREM_DEFLATED, (b, i) => f(i === 0 ? TEXT : CONT, Uint8Array.of(b), { rsv: i === 0 ? 4 : 0, fin: i === LOREM_DEFLATED.length - 1 })) }],
    expect: quiet([`text:${lorem}`]),
  },
  ...bothRoles({
    name: 'compressed empty messages: one empty block, and no payload at all',
    rule: 'RFC 7692 §7.2.3.6',
    deflate: PMD,
    steps: [{ peer: [f(TEXT, hex('00'), { rsv: 4 }), f(BINARY, '', { rsv: 4 })] }],
    expect: quiet(['text:', 'binary:']),
  }),
  {
    name: 'a back-reference into the last message when the peer agreed to reset its window (server, client_no_context_takeover)',
    rule: 'RFC 7692 §7.1.1.2',
    role: 'server',
    deflate: CLIENT_NCT,
    steps: [{ peer: [f(TEXT, HELLO, { rsv: 4 })] }, { peer: [f(TEXT, HELLO_AGAIN, { rsv: 4 })] }],
    expect: fails(1007, ['text:Hello']),
  },
  {
    name: 'a back-reference into the last message when the server agreed to reset its window (client, server_no_context_takeover)',
    rule: 'RFC 7692 §7.1.1.1',
    role: 'client',
    deflate: SERVER_NCT,
    steps: [{ peer: [f(TEXT, HELLO, { rsv: 4 }), f(TEXT, HELLO_AGAIN, { rsv: 4 })] }],
    expect: fails(1007, ['text:Hello']),
  },
  ...bothRoles({
    name: 'we send empty messages compressed (threshold 0)',
    rule: 'RFC 7692 §7.2.3.6',
    deflate: PMD_ALL,
    steps: [{ send: '' }, { send: new Uint8Array(0) }],
    expect: quiet([], ['text~:x00', 'binary~:x00']),
  }),
  ...bothRoles({ name: 'RSV1 on a continuation frame', rule: 'RFC 7692 §6.1', deflate: PMD, steps: [{ peer: [f(TEXT, HELLO.subarray(0, 3), { rsv: 4, fin: false }), f(CONT, HELLO.subarray(3), { rsv: 4 })] }], expect: fails(1002) }),
  ...bothRoles({ name: 'RSV1 on a ping', rule: 'RFC 7692 §6.1', deflate: PMD, steps: [{ peer: [f(PING, 'x', { rsv: 4 })] }], expect: fails(1002) }),
  { name: 'RSV1 on a close frame (server)', rule: 'RFC 7692 §6.1', role: 'server', deflate: PMD, steps: [{ peer: [f(CLOSE, closePayload(1000), { rsv: 4 })] }], expect: fails(1002) },
  { name: 'RSV2 while deflate is agreed (client)', rule: 'RFC 6455 §5.2', role: 'client', deflate: PMD, steps: [{ peer: [f(TEXT, HELLO, { rsv: 2 })] }], expect: fails(1002) },
  ...bothRoles({ name: 'invalid compressed data', rule: 'RFC 7692 §7.2.2', deflate: PMD, steps: [{ peer: [f(BINARY, hex('ffffffff'), { rsv: 4 })] }], expect: fails(1007) }),
  ...(['server', 'client'] as const).map((role): Case => ({
    name: `compressed text that inflates to invalid UTF-8 (${role})`,
    rule: 'RFC 6455 §8.1, RFC 7692 §6.2',
    role,
    deflate: PMD,
    steps: [{ peer: [f(TEXT, deflated(hex('48ff49')), { rsv: 4 })] }],
    expect: fails(1007),
  })),
  ...bothRoles({
    name: 'a decompression bomb stops at maxPayload',
    rule: 'RFC 6455 §7.4.1, RFC 7692 §8',
    deflate: PMD,
    maxPayload: 1000,
    steps: [{ peer: [f(BINARY, deflated(new Uint8Array(100_000)), { rsv: 4 })] }],
    expect: fails(1009),
  }),
  {
    name: 'a compressed message of exactly maxPayload (server)',
    rule: 'RFC 6455 §7.4.1',
    role: 'server',
    deflate: PMD,
    maxPayload: 1000,
    steps: [{ peer: [f(TEXT, deflated('y'.repeat(1000)), { rsv: 4 })] }],
    expect: quiet([`text:${'y'.repeat(1000)}`]),
  },
  ...bothRoles({
    name: 'we send "Hello" compressed (threshold 0)',
    rule: 'RFC 7692 §7.2.1',
    deflate: PMD_ALL,
    steps: [{ send: 'Hello' }],
    expect: quiet([], ['text~:xf248cdc9c90700']),
  }),
  {
    name: 'below the threshold we send uncompressed (server)',
    rule: 'RFC 7692 §6',
    role: 'server',
    deflate: PMD,
    steps: [{ send: 'short' }, { ping: 'p' }],
    expect: quiet([], ['text:short', 'ping:p']),
  },
  {
    name: 'we send with context takeover: the second message refers to the first (server)',
    rule: 'RFC 7692 §7.2.3.2',
    role: 'server',
    deflate: PMD_ALL,
    steps: [{ send: 'Hello' }, { send: 'Hello' }],
    expect: quiet([], ['text~:xf248cdc9c90700', 'text~:xf200110000']),
  },
  {
    name: 'we send without context takeover (server, server_no_context_takeover)',
    rule: 'RFC 7692 §7.1.1.1',
    role: 'server',
    deflate: SERVER_NCT,
    steps: [{ send: 'Hello' }, { send: 'Hello' }],
    expect: quiet([], ['text~:xf248cdc9c90700', 'text~:xf248cdc9c90700']),
  },
  {
    name: 'we send without context takeover (client, client_no_context_takeover)',
    rule: 'RFC 7692 §7.1.1.2',
    role: 'client',
    deflate: CLIENT_NCT,
    steps: [{ send: Uint8Array.of(1, 2, 3) }, { send: Uint8Array.of(1, 2, 3) }],
    expect: quiet([], [`binary~:x${Buffer.from(deflated(Uint8Array.of(1, 2, 3))).toString('hex')}`, `binary~:x${Buffer.from(deflated(Uint8Array.of(1, 2, 3))).toString('hex')}`]),
  },
  {
    name: 'we send a fragmented message with deflate agreed (server)',
    rule: 'RFC 7692 §6.1',
    role: 'server',
    deflate: PMD_ALL,
    steps: [{ send: 'Hel', fin: false }, { send: 'lo' }],
    // RFC 7692 allows both: a fragmented message compressed (RSV1 on its first frame) or not.
    expect: quiet([], ['text+~:xf248cd01000000ffff', 'cont:xcac90700']),
    disagreement: {
      why: 'io compresses only whole messages (send with fin: false goes out uncompressed, src/io/websocket.ts sendNow); WSConnection compresses fragmented messages too (PerMessageDeflate.frameOutbound)',
      io: { bytes: '010348656c80026c6f', out: ['text+:Hel', 'cont:lo'] },
    },
  },
  ...bothRoles({
    name: 'control frames are never compressed; the close echo neither',
    rule: 'RFC 7692 §6.1',
    deflate: PMD_ALL,
    steps: [{ peer: [f(PING, 'ping me'), f(CLOSE, closePayload(1000, 'done'))] }],
    expect: { events: ['ping:ping me'], out: ['pong:ping me', 'close:1000:done'], closed: [1000, 'done'] },
  }),
];
