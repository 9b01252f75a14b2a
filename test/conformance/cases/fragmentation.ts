/**
 * Case family 5: fragmentation (RFC 6455 §5.4), after Autobahn|Testsuite's case5_*.
 */
import { CLEAN_BY_ME, failedByPeer, msg, pong, type CaseDef } from '../case-run';
import type { SendFrameOptions } from '../session';
import { OP } from '../wire';

type Chop = 'one' | 'frame' | 'octet';
const CHOP_TEXT: Record<Chop, string> = { one: 'sent in one chop', frame: 'sent in frame-wise chops', octet: 'sent in octet-wise chops' };

function chopOpts(chop: Chop): Partial<SendFrameOptions> {
  return chop === 'frame' ? { sync: true } : chop === 'octet' ? { chopsize: 1 } : {};
}

type F = Pick<SendFrameOptions, 'opcode' | 'fin' | 'payload'>;

/** The frames are a protocol error: the peer fails the connection, echoing `echo` first if given. */
function fails(id: string, description: string, frames: F[], chop: Chop, echo?: string): CaseDef {
  return {
    id,
    description: `${description}, ${CHOP_TEXT[chop]}.`,
    expectation: 'The connection is failed immediately (1002), since the fragments are out of order.',
    onOpen(c) {
      if (echo === undefined) {
        c.expected.set('OK', []);
      } else {
        c.expected.set('OK', [msg(echo, false)]);
        c.expected.set('NON-STRICT', []);
      }
      c.expectedClose = failedByPeer(1002);
      for (const f of frames) c.p.sendFrame({ ...f, ...chopOpts(chop) });
      c.p.killAfter(1);
    },
  };
}

/** A valid fragmented message (maybe with a ping inside): pong first, then the echo. */
function echoes(id: string, description: string, chop: Chop, ping?: string): CaseDef {
  return {
    id,
    description: `${description}, ${CHOP_TEXT[chop]}.`,
    expectation: ping === undefined ? "Message is processed and echo'ed back to us." : "A pong is received, then the message is echo'ed back to us.",
    onOpen(c) {
      const o = chopOpts(chop);
      c.expected.set('OK', ping === undefined ? [msg('fragment1fragment2', false)] : [pong(ping), msg('fragment1fragment2', false)]);
      c.expectedClose = CLEAN_BY_ME;
      c.p.sendFrame({ opcode: OP.TEXT, fin: false, payload: 'fragment1', ...o });
      if (ping !== undefined) c.p.sendFrame({ opcode: OP.PING, payload: ping, ...o });
      c.p.sendFrame({ opcode: OP.CONT, fin: true, payload: 'fragment2', ...o });
      c.p.closeAfter(1);
    },
  };
}

/** 5.19/5.20: fragments, a ping, a pause, more fragments, a ping, the last fragment. */
function pingsBetweenFragments(id: string, sync: boolean): CaseDef {
  const fragments = ['fragment1', 'fragment2', 'fragment3', 'fragment4', 'fragment5'];
  const pings = ['pongme 1!', 'pongme 2!'];
  return {
    id,
    description: `A fragmented text message in 5 frames; a ping after the first 2, a pause, 2 more fragments, another ping, the last fragment${sync ? ' (every frame written on its own)' : ''}.`,
    expectation: "The first ping is answered before the message's last fragment arrives; both pongs echo their ping; the message is echo'ed.",
    onOpen(c) {
      c.expected.set('OK', [pong(pings[0]), pong(pings[1]), msg(fragments.join(''), false)]);
      c.expectedClose = CLEAN_BY_ME;
      c.p.sendFrame({ opcode: OP.TEXT, fin: false, payload: fragments[0], sync });
      c.p.sendFrame({ opcode: OP.CONT, fin: false, payload: fragments[1], sync });
      c.p.sendFrame({ opcode: OP.PING, payload: pings[0], sync });
      c.p.continueLater(1, () => {
        c.p.sendFrame({ opcode: OP.CONT, fin: false, payload: fragments[2], sync });
        c.p.sendFrame({ opcode: OP.CONT, fin: false, payload: fragments[3], sync });
        c.p.sendFrame({ opcode: OP.PING, payload: pings[1], sync });
        c.p.sendFrame({ opcode: OP.CONT, fin: true, payload: fragments[4], sync });
        c.p.closeAfter(1);
      });
    },
  };
}

export function family5(): CaseDef[] {
  const contFinThenText: F[] = [
    { opcode: OP.CONT, fin: true, payload: 'non-continuation payload' },
    { opcode: OP.TEXT, fin: true, payload: 'Hello, world!' },
  ];
  const contThenText: F[] = [
    { opcode: OP.CONT, fin: false, payload: 'non-continuation payload' },
    { opcode: OP.TEXT, fin: true, payload: 'Hello, world!' },
  ];
  const twice = (fin: boolean): F[] => {
    const once: F[] = [
      { opcode: OP.CONT, fin, payload: 'fragment1' },
      { opcode: OP.TEXT, fin: false, payload: 'fragment2' },
      { opcode: OP.CONT, fin: true, payload: 'fragment3' },
    ];
    return [...once, ...once];
  };
  return [
    fails('5.1', 'Send Ping fragmented into 2 fragments', [
      { opcode: OP.PING, fin: false, payload: 'fragment1' },
      { opcode: OP.CONT, fin: true, payload: 'fragment2' },
    ], 'one'),
    fails('5.2', 'Send Pong fragmented into 2 fragments', [
      { opcode: OP.PONG, fin: false, payload: 'fragment1' },
      { opcode: OP.CONT, fin: true, payload: 'fragment2' },
    ], 'one'),
    echoes('5.3', 'Send text message fragmented into 2 fragments', 'one'),
    echoes('5.4', 'Send text message fragmented into 2 fragments', 'frame'),
    echoes('5.5', 'Send text message fragmented into 2 fragments', 'octet'),
    echoes('5.6', 'Send text message in 2 fragments, one ping with payload in between', 'one', 'ping payload'),
    echoes('5.7', 'Send text message in 2 fragments, one ping with payload in between', 'frame', 'ping payload'),
    echoes('5.8', 'Send text message in 2 fragments, one ping with payload in between', 'octet', 'ping payload'),
    fails('5.9', 'Send unfragmented text message after a continuation frame with FIN = true (nothing to continue)', contFinThenText, 'one'),
    fails('5.10', 'Send unfragmented text message after a continuation frame with FIN = true (nothing to continue)', contFinThenText, 'frame'),
    fails('5.11', 'Send unfragmented text message after a continuation frame with FIN = true (nothing to continue)', contFinThenText, 'octet'),
    fails('5.12', 'Send unfragmented text message after a continuation frame with FIN = false (nothing to continue)', contThenText, 'one'),
    fails('5.13', 'Send unfragmented text message after a continuation frame with FIN = false (nothing to continue)', contThenText, 'frame'),
    fails('5.14', 'Send unfragmented text message after a continuation frame with FIN = false (nothing to continue)', contThenText, 'octet'),
    fails('5.15', 'Send text message in 2 fragments, then a continuation frame with FIN = false (nothing to continue), then a text message', [
      { opcode: OP.TEXT, fin: false, payload: 'fragment1' },
      { opcode: OP.CONT, fin: true, payload: 'fragment2' },
      { opcode: OP.CONT, fin: false, payload: 'fragment3' },
      { opcode: OP.TEXT, fin: true, payload: 'fragment4' },
    ], 'one', 'fragment1fragment2'),
    fails('5.16', 'Repeated 2x: continuation frame with FIN = false (nothing to continue), then text message in 2 fragments', twice(false), 'one'),
    fails('5.17', 'Repeated 2x: continuation frame with FIN = true (nothing to continue), then text message in 2 fragments', twice(true), 'one'),
    fails('5.18', 'Send text message in 2 fragments, both frames with the text opcode', [
      { opcode: OP.TEXT, fin: false, payload: 'fragment1' },
      { opcode: OP.TEXT, fin: true, payload: 'fragment2' },
    ], 'one'),
    pingsBetweenFragments('5.19', false),
    pingsBetweenFragments('5.20', true),
  ];
}
