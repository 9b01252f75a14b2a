/**
 * Case families 1 (framing), 2 (pings and pongs), 3 (reserved bits) and 4 (reserved
 * opcodes), after Autobahn|Testsuite's case1_*..case4_* (facts only: payloads, chopping,
 * timers, expectations).
 */
import { CLEAN_BY_ME, failedByPeer, msg, pong, type CaseDef } from '../case-run';
import { OP } from '../wire';

const FE = (n: number): Buffer => Buffer.alloc(n, 0xfe);

function framingCases(): CaseDef[] {
  const sizes: Array<[number, number | undefined]> = [[0, undefined], [125, undefined], [126, undefined], [127, undefined], [128, undefined], [65535, undefined], [65536, undefined], [65536, 997]];
  const out: CaseDef[] = [];
  for (const binary of [false, true]) {
    sizes.forEach(([len, chop], i) => {
      const payload = binary ? FE(len) : Buffer.alloc(len, '*');
      const kind = binary ? 'binary' : 'text';
      out.push({
        id: `1.${binary ? 2 : 1}.${i + 1}`,
        description: `Send ${kind} message with payload of length ${len}${chop === undefined ? '' : `, sent in chops of ${chop} octets`}.`,
        expectation: `Receive echo'ed ${kind} message (with payload as sent). Clean close with normal code.`,
        onOpen(c) {
          c.expected.set('OK', [msg(payload, binary)]);
          c.expectedClose = CLEAN_BY_ME;
          c.p.sendFrame({ opcode: binary ? OP.BINARY : OP.TEXT, payload, chopsize: chop });
          c.p.killAfter(len > 128 ? 10 : 1);
        },
      });
    });
  }
  return out;
}

function pingCase(id: string, description: string, payload: Buffer | string, chopsize?: number): CaseDef {
  return {
    id,
    description,
    expectation: "Pong with payload echo'ed is sent in reply to Ping. Clean close with normal code.",
    onOpen(c) {
      c.expected.set('OK', [pong(payload)]);
      c.expectedClose = CLEAN_BY_ME;
      c.p.sendFrame({ opcode: OP.PING, payload, chopsize });
      c.p.closeAfter(chopsize === undefined ? 1 : 2);
    },
  };
}

function tenPings(id: string, chopsize?: number): CaseDef {
  return {
    id,
    description: `Send 10 Pings with payload${chopsize === undefined ? '' : ', sent in octet-wise chops'}.`,
    expectation: 'Pongs for our Pings with all the payloads, in order (not required by the spec; Autobahn checks it). Clean close with normal code.',
    onOpen(c) {
      const pongs = [];
      for (let i = 0; i < 10; i++) {
        pongs.push(pong(`payload-${i}`));
        c.p.sendFrame({ opcode: OP.PING, payload: `payload-${i}`, chopsize });
      }
      c.expected.set('OK', pongs);
      c.expectedClose = CLEAN_BY_ME;
      c.p.closeAfter(3);
    },
  };
}

function pingPongCases(): CaseDef[] {
  return [
    pingCase('2.1', 'Send ping without payload.', ''),
    pingCase('2.2', 'Send ping with small text payload.', 'Hello, world!'),
    pingCase('2.3', 'Send ping with small binary (non UTF-8) payload.', Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff])),
    pingCase('2.4', 'Send ping with binary payload of 125 octets.', FE(125)),
    {
      id: '2.5',
      description: 'Send ping with binary payload of 126 octets.',
      expectation: 'Connection is failed immediately (1002/Protocol Error): control frames carry at most 125 octets.',
      onOpen(c) {
        c.expected.set('OK', []);
        c.expectedClose = failedByPeer(1002);
        c.p.sendFrame({ opcode: OP.PING, payload: FE(126) });
        c.p.killAfter(1);
      },
    },
    pingCase('2.6', 'Send ping with binary payload of 125 octets, sent in octet-wise chops.', FE(125), 1),
    ...(['', 'unsolicited pong payload'] as const).map(
      (payload, i): CaseDef => ({
        id: `2.${7 + i}`,
        description: `Send unsolicited pong ${payload === '' ? 'without' : 'with'} payload, then close.`,
        expectation: 'Nothing in reply. Clean close with normal code.',
        onOpen(c) {
          c.expected.set('OK', []);
          c.expectedClose = CLEAN_BY_ME;
          c.p.sendFrame({ opcode: OP.PONG, payload });
          c.p.sendClose(1000);
          c.p.closeAfter(1);
        },
      }),
    ),
    {
      id: '2.9',
      description: 'Send unsolicited pong with payload, then ping with payload.',
      expectation: "Nothing in reply to our pong, a pong echo'ing the ping. Clean close with normal code.",
      onOpen(c) {
        c.expected.set('OK', [pong('ping payload')]);
        c.expectedClose = CLEAN_BY_ME;
        c.p.sendFrame({ opcode: OP.PONG, payload: 'unsolicited pong payload' });
        c.p.sendFrame({ opcode: OP.PING, payload: 'ping payload' });
        c.p.closeAfter(1);
      },
    },
    tenPings('2.10'),
    tenPings('2.11', 1),
  ];
}

type Chop = 'one' | 'frame' | 'octet';

function sendOpts(chop: Chop): { sync?: boolean; chopsize?: number } {
  return chop === 'frame' ? { sync: true } : chop === 'octet' ? { chopsize: 1 } : {};
}

/** Text message, then a bad frame, then a ping: OK = the echo only, NON-STRICT = nothing. */
function echoThenBad(id: string, description: string, bad: { opcode: number; rsv?: number; payload?: string }, chop: Chop): CaseDef {
  return {
    id,
    description,
    expectation: 'Echo for the first message, then the connection is failed immediately (1002). No pong.',
    onOpen(c) {
      const o = sendOpts(chop);
      c.expected.set('OK', [msg('Hello, world!', false)]);
      c.expected.set('NON-STRICT', []);
      c.expectedClose = failedByPeer(1002);
      c.p.sendFrame({ opcode: OP.TEXT, payload: 'Hello, world!', ...o });
      c.p.sendFrame({ ...bad, ...o });
      c.p.sendFrame({ opcode: OP.PING, ...o });
      c.p.killAfter(1);
    },
  };
}

/** A single bad frame: the peer must fail the connection with 1002. */
function failsAlone(id: string, description: string, frame: { opcode: number; rsv?: number; payload?: Buffer | string }): CaseDef {
  return {
    id,
    description,
    expectation: 'The connection is failed immediately (1002/protocol error).',
    onOpen(c) {
      c.expected.set('OK', []);
      c.expectedClose = failedByPeer(1002);
      c.p.sendFrame(frame);
      c.p.killAfter(1);
    },
  };
}

function reservedBitsCases(): CaseDef[] {
  return [
    failsAlone('3.1', 'Send small text message with RSV = 1.', { opcode: OP.TEXT, payload: 'Hello, world!', rsv: 1 }),
    echoThenBad('3.2', 'Send small text message, then again with RSV = 2, then a ping.', { opcode: OP.TEXT, payload: 'Hello, world!', rsv: 2 }, 'one'),
    echoThenBad('3.3', 'As 3.2 with RSV = 3, sent in frame-wise chops.', { opcode: OP.TEXT, payload: 'Hello, world!', rsv: 3 }, 'frame'),
    echoThenBad('3.4', 'As 3.2 with RSV = 4, sent in octet-wise chops.', { opcode: OP.TEXT, payload: 'Hello, world!', rsv: 4 }, 'octet'),
    failsAlone('3.5', 'Send small binary message with RSV = 5.', { opcode: OP.BINARY, payload: Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]), rsv: 5 }),
    // Autobahn's 3.6 says "Ping" but sends a binary frame; kept as it is.
    failsAlone('3.6', 'Send a binary frame with RSV = 6.', { opcode: OP.BINARY, payload: 'Hello, world!', rsv: 6 }),
    failsAlone('3.7', 'Send Close with RSV = 7.', { opcode: OP.CLOSE, rsv: 7 }),
  ];
}

function opcodeCases(): CaseDef[] {
  const reserved = 'reserved opcode payload';
  return [
    failsAlone('4.1.1', 'Send frame with reserved non-control opcode 3.', { opcode: 3 }),
    failsAlone('4.1.2', 'Send frame with reserved non-control opcode 4 and non-empty payload.', { opcode: 4, payload: reserved }),
    echoThenBad('4.1.3', 'Send small text message, then reserved non-control opcode 5, then ping.', { opcode: 5 }, 'one'),
    echoThenBad('4.1.4', 'As 4.1.3 with opcode 6 and a payload.', { opcode: 6, payload: 'Hello, world!' }, 'one'),
    echoThenBad('4.1.5', 'As 4.1.3 with opcode 7 and a payload, in octet-wise chops.', { opcode: 7, payload: 'Hello, world!' }, 'octet'),
    failsAlone('4.2.1', 'Send frame with reserved control opcode 11.', { opcode: 11 }),
    failsAlone('4.2.2', 'Send frame with reserved control opcode 12 and non-empty payload.', { opcode: 12, payload: reserved }),
    echoThenBad('4.2.3', 'Send small text message, then reserved control opcode 13, then ping.', { opcode: 13 }, 'one'),
    echoThenBad('4.2.4', 'As 4.2.3 with opcode 14 and a payload.', { opcode: 14, payload: 'Hello, world!' }, 'one'),
    echoThenBad('4.2.5', 'As 4.2.3 with opcode 15 and a payload, in octet-wise chops.', { opcode: 15, payload: 'Hello, world!' }, 'octet'),
  ];
}

export function families1to4(): CaseDef[] {
  return [...framingCases(), ...pingPongCases(), ...reservedBitsCases(), ...opcodeCases()];
}
