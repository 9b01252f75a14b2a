/**
 * Table cases: the closing handshake (RFC 6455 §5.5.1, §7.1-§7.4: the echo rule, codes that
 * may not be on the wire, close payload sizes, what happens after a close frame) and UTF-8
 * (§8.1: text messages, fragments, close reasons).
 */
import { BINARY, bothRoles, CLOSE, closePayload, CONT, f, fails, PING, quiet, TEXT } from './cases-frames';
import type { Case } from './script';

const hex = (s: string): Uint8Array => Buffer.from(s, 'hex');
const r123 = 'r'.repeat(123);
/** κόσμε as in Autobahn 6.2 (its ό is U+1F79). */
const KOSME = Buffer.from('cebae1bdb9cf83cebcceb5', 'hex').toString();

/** Codes a peer may not send (RFC 6455 §7.4.1, §7.4.2): each fails the connection with 1002. */
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
/** Codes a peer may send: echoed (§5.5.1). */
const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999];

export const closeCases: Case[] = [
  ...bothRoles({
    name: 'the peer closes with a code and a reason: echoed',
    rule: 'RFC 6455 §5.5.1',
    steps: [{ peer: [f(CLOSE, closePayload(1000, 'bye'))] }],
    expect: { events: [], out: ['close:1000:bye'], closed: [1000, 'bye'] },
  }),
  ...bothRoles({
    name: 'an empty close is answered empty (1005)',
    rule: 'RFC 6455 §5.5.1, §7.1.5',
    steps: [{ peer: [f(CLOSE)] }],
    expect: { events: [], out: ['close'], closed: [1005, ''] },
  }),
  ...VALID_CODES.map((code): Case => ({
    name: `close code ${code} is echoed`,
    rule: 'RFC 6455 §7.4',
    role: code % 2 === 0 ? 'server' : 'client',
    steps: [{ peer: [f(CLOSE, closePayload(code))] }],
    expect: { events: [], out: [`close:${code}:`], closed: [code, ''] },
  })),
  ...INVALID_CODES.map((code): Case => ({
    name: `close code ${code} may not be received`,
    rule: 'RFC 6455 §7.4',
    role: code % 2 === 0 ? 'client' : 'server',
    steps: [{ peer: [f(CLOSE, closePayload(code))] }],
    expect: fails(1002),
  })),
  ...bothRoles({ name: 'a 1-byte close payload', rule: 'RFC 6455 §5.5.1', steps: [{ peer: [f(CLOSE, Uint8Array.of(3))] }], expect: fails(1002) }),
  ...bothRoles({
    name: 'a 125-byte close payload (123-byte reason) is echoed whole',
    rule: 'RFC 6455 §5.5',
    steps: [{ peer: [f(CLOSE, closePayload(1000, r123))] }],
    expect: { events: [], out: [`close:1000:${r123}`], closed: [1000, r123] },
  }),
  ...bothRoles({ name: 'a 126-byte close payload', rule: 'RFC 6455 §5.5', steps: [{ peer: [f(CLOSE, closePayload(1000, `${r123}r`))] }], expect: fails(1002) }),
  { name: 'a fragmented close (server)', rule: 'RFC 6455 §5.5', role: 'server', steps: [{ peer: [f(CLOSE, closePayload(1000), { fin: false })] }], expect: fails(1002) },
  ...bothRoles({
    name: 'nothing after the peer close frame counts',
    rule: 'RFC 6455 §5.5.1',
    steps: [{ peer: [f(TEXT, 'before'), f(CLOSE, closePayload(1000)), f(TEXT, 'after'), f(PING, 'late'), f(7)] }],
    expect: { events: ['text:before'], out: ['close:1000:'], closed: [1000, ''] },
  }),
  ...bothRoles({
    name: "a ping then a close in one read: the pong leaves before the close's echo",
    rule: 'RFC 6455 §5.5.1, §5.5.2',
    steps: [{ peer: [f(PING, 'p'), f(CLOSE, closePayload(1001, 'away'))] }],
    expect: { events: ['ping:p'], out: ['pong:p', 'close:1001:away'], closed: [1001, 'away'] },
  }),
  {
    name: 'a close in the middle of a fragmented message ends it undelivered (server)',
    rule: 'RFC 6455 §5.5.1, §5.4',
    role: 'server',
    steps: [{ peer: [f(TEXT, 'half', { fin: false }), f(CLOSE, closePayload(1000))] }],
    expect: { events: [], out: ['close:1000:'], closed: [1000, ''] },
  },

  // we close first (§7.1.2)
  ...bothRoles({
    name: 'we close, the peer answers',
    rule: 'RFC 6455 §7.1.2',
    steps: [{ close: 1000, reason: 'done' }, { peer: [f(CLOSE, closePayload(1000))] }],
    expect: { events: [], out: ['close:1000:done'], closed: [1000, ''] },
  }),
  ...bothRoles({
    name: 'we close without a code, the peer answers empty',
    rule: 'RFC 6455 §7.1.2, §7.1.5',
    steps: [{ close: undefined }, { peer: [f(CLOSE)] }],
    expect: { events: [], out: ['close'], closed: [1005, ''] },
  }),
  ...bothRoles({
    name: 'after our close, messages still arrive until the peer closes',
    rule: 'RFC 6455 §7.1.2',
    steps: [{ close: 4000, reason: 'app' }, { peer: [f(TEXT, 'in flight'), f(BINARY, 'x'), f(CLOSE, closePayload(4000, 'app'))] }],
    expect: { events: ['text:in flight', 'binary:78'], out: ['close:4000:app'], closed: [4000, 'app'] },
  }),
  ...bothRoles({
    name: 'after our close, a ping is not answered',
    rule: 'RFC 6455 §5.5.1',
    steps: [{ close: 1000 }, { peer: [f(PING, 'late'), f(CLOSE, closePayload(1000))] }],
    expect: { events: ['ping:late'], out: ['close:1000:'], closed: [1000, ''] },
  }),
  ...bothRoles({
    name: 'we close and the peer vanishes: 1006',
    rule: 'RFC 6455 §7.1.5',
    steps: [{ close: 1000 }],
    expect: { events: [], out: ['close:1000:'], closed: [1006, ''] },
  }),
  ...bothRoles({
    name: 'a violation after our close: no second close frame',
    rule: 'RFC 6455 §7.1.7',
    steps: [{ close: 1000 }, { peer: [f(TEXT, 'x', { rsv: 2 })] }],
    expect: { events: [], out: ['close:1000:'], closed: [1002], failed: 1002 },
  }),
  ...bothRoles({
    name: 'queued messages leave before our close frame',
    rule: 'RFC 6455 §7.1.2',
    steps: [{ send: 'last' }, { close: 1000, reason: 'bye' }, { peer: [f(CLOSE, closePayload(1000))] }],
    expect: { events: [], out: ['text:last', 'close:1000:bye'], closed: [1000, ''] },
  }),

  // UTF-8 (§8.1)
  ...bothRoles({ name: 'invalid UTF-8 in a text message', rule: 'RFC 6455 §8.1', steps: [{ peer: [f(TEXT, hex('48ff49'))] }], expect: fails(1007) }),
  ...bothRoles({
    name: 'invalid UTF-8 in a later fragment',
    rule: 'RFC 6455 §8.1',
    steps: [{ peer: [f(TEXT, 'ok', { fin: false }), f(CONT, hex('c0af'))] }],
    expect: fails(1007),
  }),
  ...bothRoles({
    name: 'a code point split across fragments',
    rule: 'RFC 6455 §8.1',
    steps: [{ peer: [f(TEXT, hex('636166c3'), { fin: false }), f(CONT, hex('a9'))] }],
    expect: quiet(['text:café']),
  }),
  {
    name: 'a 4-byte code point split across three fragments (server)',
    rule: 'RFC 6455 §8.1',
    role: 'server',
    steps: [{ peer: [f(TEXT, hex('f0'), { fin: false }), f(CONT, hex('9f98'), { fin: false })] }, { peer: [f(CONT, hex('80'))] }],
    expect: quiet(['text:\u{1f600}']),
  },
  ...bothRoles({
    name: 'a message ending inside a code point',
    rule: 'RFC 6455 §8.1',
    steps: [{ peer: [f(TEXT, hex('61e282'))] }],
    expect: fails(1007),
  }),
  {
    name: 'a fragmented message ending inside a code point (client)',
    rule: 'RFC 6455 §8.1',
    role: 'client',
    steps: [{ peer: [f(TEXT, hex('61'), { fin: false }), f(CONT, hex('e282'))] }],
    expect: fails(1007),
  },
  { name: 'an encoded surrogate (server)', rule: 'RFC 6455 §8.1', role: 'server', steps: [{ peer: [f(TEXT, hex('eda080'))] }], expect: fails(1007) },
  { name: 'a code point past U+10FFFF (client)', rule: 'RFC 6455 §8.1', role: 'client', steps: [{ peer: [f(TEXT, hex('f4908080'))] }], expect: fails(1007) },
  ...bothRoles({
    name: 'valid multi-byte text (κόσμε)',
    rule: 'RFC 6455 §8.1',
    steps: [{ peer: [f(TEXT, hex('cebae1bdb9cf83cebcceb5'))] }],
    expect: quiet([`text:${KOSME}`]),
  }),
  { name: 'invalid UTF-8 in a binary message is fine (server)', rule: 'RFC 6455 §5.6', role: 'server', steps: [{ peer: [f(BINARY, hex('ff'))] }], expect: quiet(['binary:ff']) },
  ...bothRoles({
    name: 'invalid UTF-8 in a close reason',
    rule: 'RFC 6455 §5.5.1, §8.1',
    steps: [{ peer: [f(CLOSE, closePayload(1000, hex('ff')))] }],
    expect: fails(1007),
  }),
  {
    name: 'a close reason ending inside a code point (client)',
    rule: 'RFC 6455 §5.5.1, §8.1',
    role: 'client',
    steps: [{ peer: [f(CLOSE, closePayload(1000, hex('cebae1bd')))] }],
    expect: fails(1007),
  },
  {
    name: 'a multi-byte close reason is echoed (server)',
    rule: 'RFC 6455 §5.5.1',
    role: 'server',
    steps: [{ peer: [f(CLOSE, closePayload(3001, 'κόσμε'))] }],
    expect: { events: [], out: ['close:3001:κόσμε'], closed: [3001, 'κόσμε'] },
  },
];
