/**
 * Case family 7: close handling (RFC 6455 §5.5.1, §7), after Autobahn|Testsuite's case7_*.
 * In every 7.x case a WRONG CODE close fails the case; 7.1.6 and 7.13.x are informational.
 */
import { CLEAN_BY_ME, msg, wrongCodeFails, type CaseDef, type CaseRun, type ExpectedClose } from '../case-run';
import { OP } from '../wire';

const KOSME_SURROGATE = Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex');

function closeCase(id: string, description: string, expectation: string, expectedClose: ExpectedClose, send: (c: CaseRun) => void): CaseDef {
  return {
    id,
    description,
    expectation,
    onOpen(c) {
      c.suppressClose = true;
      c.expected.set('OK', []);
      c.expectedClose = expectedClose;
      send(c);
      c.p.killAfter(1);
    },
    onConnectionLost: wrongCodeFails,
  };
}

const PROTOCOL_ERROR_OR_DROP: ExpectedClose = { closedByMe: true, closeCode: [1002], requireClean: false };

function informational(c: CaseRun): void {
  c.behavior = 'INFORMATIONAL';
  c.behaviorClose = 'INFORMATIONAL';
  c.result = 'Actual events are undefined by the spec.';
}

export function family7(): CaseDef[] {
  const out: CaseDef[] = [
    {
      id: '7.1.1',
      description: 'Send a message followed by a close frame.',
      expectation: "Echo'ed message followed by clean close with normal code.",
      onOpen(c) {
        c.expected.set('OK', [msg('Hello World!', false)]);
        c.expectedClose = CLEAN_BY_ME;
        c.p.sendFrame({ opcode: OP.TEXT, payload: 'Hello World!' });
        c.p.killAfter(1);
      },
      onConnectionLost: wrongCodeFails,
    },
    closeCase('7.1.2', 'Send two close frames.', 'Clean close with normal code. Second close frame ignored.', CLEAN_BY_ME, (c) => {
      c.p.sendClose(1000);
      c.p.sendFrame({ opcode: OP.CLOSE });
    }),
    closeCase('7.1.3', 'Send a ping after the close frame.', 'Clean close with normal code, no pong.', CLEAN_BY_ME, (c) => {
      c.p.sendClose(1000);
      c.p.sendFrame({ opcode: OP.PING });
    }),
    closeCase('7.1.4', 'Send a text message after the close frame.', 'Clean close with normal code. Text message ignored.', CLEAN_BY_ME, (c) => {
      c.p.sendClose(1000);
      c.p.sendFrame({ opcode: OP.TEXT, payload: 'Hello World!' });
    }),
    closeCase('7.1.5', 'Send message fragment 1, then close, then fragment 2.', 'Clean close with normal code.', CLEAN_BY_ME, (c) => {
      c.p.sendFrame({ opcode: OP.TEXT, fin: false, payload: 'fragment1' });
      c.p.sendClose(1000);
      c.p.sendFrame({ opcode: OP.CONT, fin: true, payload: 'fragment2' });
    }),
    {
      id: '7.1.6',
      description: 'Send a 256 KiB message, a small message, a close and a ping, back to back.',
      expectation: 'Implementation-defined: the small message may or may not be echoed before the close is processed.',
      onOpen(c) {
        c.suppressClose = true;
        c.expected.set('OK', [msg('Hello World!', false)]);
        c.expected.set('NON-STRICT', []);
        c.expectedClose = CLEAN_BY_ME;
        c.p.sendFrame({ opcode: OP.TEXT, payload: 'BAsd7&jh23', payloadLen: 256 * 1024 });
        c.p.sendFrame({ opcode: OP.TEXT, payload: 'Hello World!' });
        c.p.sendClose(1000);
        c.p.sendFrame({ opcode: OP.PING });
        c.p.killAfter(1);
      },
      onConnectionLost(c) {
        c.result = c.behavior === 'OK' ? 'Text message was processed before close.' : c.behavior === 'NON-STRICT' ? 'Close was processed before text message could be returned.' : c.result;
        c.behavior = 'INFORMATIONAL';
        c.behaviorClose = 'INFORMATIONAL';
      },
    },
    closeCase('7.3.1', 'Send a close frame with payload length 0 (no code, no reason).', 'Clean close with normal code.', CLEAN_BY_ME, (c) => c.p.sendCloseFrame()),
    closeCase('7.3.2', 'Send a close frame with payload length 1.', 'Clean close with protocol error or drop TCP.', PROTOCOL_ERROR_OR_DROP, (c) => c.p.sendCloseFrame(undefined, Buffer.from('a'))),
    closeCase('7.3.3', 'Send a close frame with payload length 2 (regular close with a code).', 'Clean close with normal code.', CLEAN_BY_ME, (c) => c.p.sendClose(1000)),
    closeCase('7.3.4', 'Send a close frame with close code and close reason.', 'Clean close with normal code.', CLEAN_BY_ME, (c) => c.p.sendClose(1000, 'Hello World!')),
    closeCase('7.3.5', 'Send a close frame with close code and a close reason of maximum length (123).', 'Clean close with normal code.', CLEAN_BY_ME, (c) => c.p.sendClose(1000, '*'.repeat(123))),
    closeCase('7.3.6', 'Send a close frame with close code and a close reason which is too long (124): payload 126 octets.', 'Clean close with protocol error code or dropped TCP connection.', PROTOCOL_ERROR_OR_DROP, (c) =>
      c.p.sendCloseFrame(1000, Buffer.alloc(124, '*')),
    ),
    closeCase('7.5.1', 'Send a close frame with invalid UTF-8 payload.', 'Clean close with protocol error or invalid utf8 code or dropped TCP.', { closedByMe: true, closeCode: [1002, 1007], requireClean: false }, (c) =>
      c.p.sendCloseFrame(1000, KOSME_SURROGATE),
    ),
  ];
  [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999].forEach((code, i) => {
    out.push(closeCase(`7.7.${i + 1}`, `Send close with valid close code ${code}.`, 'Clean close with normal or echoed code.', { closedByMe: true, closeCode: [1000, code], requireClean: true }, (c) => c.p.sendCloseFrame(code)));
  });
  [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999].forEach((code, i) => {
    out.push(closeCase(`7.9.${i + 1}`, `Send close with invalid close code ${code}.`, 'Clean close with protocol error code or drop TCP.', PROTOCOL_ERROR_OR_DROP, (c) => c.p.sendCloseFrame(code)));
  });
  [5000, 65535].forEach((code, i) => {
    out.push({
      id: `7.13.${i + 1}`,
      description: `Send close with close code ${code}.`,
      expectation: 'Actual events are undefined by the spec.',
      onOpen(c) {
        c.suppressClose = true;
        c.expected.set('OK', []);
        c.expectedClose = { closedByMe: true, closeCode: [1000, code, 1002], requireClean: false };
        c.p.sendCloseFrame(code);
        c.p.killAfter(1);
      },
      onConnectionLost: informational,
    });
  });
  return out;
}
