/**
 * Case families 9 (limits and performance) and 10 (auto-fragmentation), after
 * Autobahn|Testsuite's case9_* and case10_1_1. Sizes and counts are Autobahn's unless the
 * profile scales them (see SCALES in index.ts); 9.3.1 and 9.4.1 (4 MiB in 65,536 fragments
 * of 64 bytes) always run at full size.
 */
import { CLEAN_BY_ME, msg, type CaseDef, type CaseRun } from '../case-run';
import { OP } from '../wire';

export interface LimitsScale {
  /** Largest message of 9.1/9.2 (Autobahn: 16 MiB). */
  maxMessage: number;
  /** Message size of 9.5/9.6 (Autobahn: 1 MiB). */
  choppedMessage: number;
  /** Round trips of 9.7/9.8 (Autobahn: 1000). */
  roundTrips: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;

function sizeText(n: number): string {
  return n >= MIB ? `${n / MIB} MiB` : `${n / KIB} KiB`;
}

/** Shared by all of family 9: OK once the single echo arrives with the right type and length. */
function expectEcho(c: CaseRun, binary: boolean, length: number, waitSecs: number): void {
  c.behavior = 'FAILED';
  c.expectedClose = CLEAN_BY_ME;
  c.result = `Did not receive message within ${waitSecs} seconds.`;
  c.vars.set('want', [binary, length]);
  c.p.closeAfter(waitSecs);
}

function checkEcho(c: CaseRun, payload: Buffer, binary: boolean): void {
  const [wantBinary, wantLength] = c.vars.get('want') as [boolean, number];
  if (binary !== wantBinary) c.result = `Expected ${wantBinary ? 'binary' : 'text'} message, got ${binary ? 'binary' : 'text'}.`;
  else if (payload.length !== wantLength) c.result = `Expected payload of length ${wantLength}, got ${payload.length}.`;
  else {
    c.behavior = 'OK';
    c.result = `Received ${binary ? 'binary' : 'text'} message of length ${payload.length}.`;
  }
  c.p.sendClose(1000);
}

function bigMessage(id: string, binary: boolean, length: number, waitSecs: number, chopsize?: number): CaseDef {
  const kind = binary ? 'binary' : 'text';
  const pattern = binary ? Buffer.from([0x00, 0xfe, 0x23, 0xfa, 0xf0]) : Buffer.from('BAsd7&jh23');
  return {
    id,
    description: `Send ${kind} message with payload of length ${sizeText(length)}${chopsize === undefined ? '' : `, sent in chops of ${chopsize} octets`}.`,
    expectation: `Receive echo'ed ${kind} message (with payload as sent).`,
    heavy: length >= MIB || chopsize !== undefined,
    onOpen(c) {
      expectEcho(c, binary, length, waitSecs);
      c.p.sendFrame({ opcode: binary ? OP.BINARY : OP.TEXT, payload: pattern, payloadLen: length, chopsize });
    },
    onMessage: checkEcho,
  };
}

function fragmented(id: string, binary: boolean, fragSize: number): CaseDef {
  const kind = binary ? 'binary' : 'text';
  return {
    id,
    description: `Send fragmented ${kind} message with payload of length 4 MiB, in fragments of ${fragSize >= KIB ? sizeText(fragSize) : `${fragSize} bytes`}.`,
    expectation: `Receive echo'ed ${kind} message (with payload as sent).`,
    heavy: true,
    onOpen(c) {
      expectEcho(c, binary, 4 * MIB, 100);
      c.p.sendMessage(Buffer.alloc(4 * MIB, binary ? 0xfe : 0x2a), binary, fragSize);
    },
    onMessage: checkEcho,
  };
}

function roundTrips(id: string, binary: boolean, length: number, count: number, waitSecs: number): CaseDef {
  const kind = binary ? 'binary' : 'text';
  const send = (c: CaseRun): void => {
    c.p.sendFrame({ opcode: binary ? OP.BINARY : OP.TEXT, payload: binary ? Buffer.from([0xfe]) : '*', payloadLen: length });
    c.vars.set('count', (c.vars.get('count') as number) + 1);
  };
  return {
    id,
    description: `Send ${count} ${kind} messages of payload size ${length}, one after the other's echo (round-trip time).`,
    expectation: `Receive echo'ed ${kind} messages (with payload as sent). Timeout case after ${waitSecs} secs.`,
    onOpen(c) {
      c.behavior = 'FAILED';
      c.expectedClose = CLEAN_BY_ME;
      c.result = `Case did not finish within ${waitSecs} seconds.`;
      c.p.closeAfter(waitSecs);
      c.vars.set('count', 0);
      send(c);
    },
    onMessage(c, payload, isBinary) {
      if (isBinary !== binary || payload.length !== length) {
        c.behavior = 'FAILED';
        c.result = `Echo'ed message type or length differs from what I sent (got binary = ${isBinary}, payload length = ${payload.length}).`;
        c.p.sendClose(1000);
      } else if ((c.vars.get('count') as number) < count) {
        send(c);
      } else {
        c.behavior = 'OK';
        c.result = 'Ok, received all echo\'ed messages in time.';
        c.p.sendClose(1000);
      }
    },
  };
}

export function family9(scale: LimitsScale): CaseDef[] {
  const out: CaseDef[] = [];
  const sizes: Array<[number, number, number]> = [[64 * KIB, 10, 10], [256 * KIB, 10, 10], [MIB, 100, 10], [4 * MIB, 100, 10], [8 * MIB, 100, 100], [16 * MIB, 100, 100]];
  sizes.forEach(([len, textWait], i) => {
    out.push(bigMessage(`9.1.${i + 1}`, false, Math.min(len, scale.maxMessage), textWait));
  });
  sizes.forEach(([len, , binWait], i) => {
    out.push(bigMessage(`9.2.${i + 1}`, true, Math.min(len, scale.maxMessage), binWait));
  });
  const fragSizes = [64, 256, KIB, 4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, MIB, 4 * MIB];
  fragSizes.forEach((f, i) => out.push(fragmented(`9.3.${i + 1}`, false, f)));
  fragSizes.forEach((f, i) => out.push(fragmented(`9.4.${i + 1}`, true, f)));
  const chops = [64, 128, 256, 512, 1024, 2048];
  chops.forEach((chop, i) => out.push(bigMessage(`9.5.${i + 1}`, false, scale.choppedMessage, 1000, chop)));
  chops.forEach((chop, i) => out.push(bigMessage(`9.6.${i + 1}`, true, scale.choppedMessage, 1000, chop)));
  const rtt: Array<[number, number]> = [[0, 60], [16, 60], [64, 60], [256, 120], [1024, 240], [4096, 480]];
  rtt.forEach(([len, wait], i) => out.push(roundTrips(`9.7.${i + 1}`, false, len, scale.roundTrips, wait)));
  rtt.forEach(([len, wait], i) => out.push(roundTrips(`9.8.${i + 1}`, true, len, scale.roundTrips, wait)));
  return out;
}

export function family10(): CaseDef[] {
  const payload = Buffer.alloc(65536, '*');
  const fragment = 1300;
  return [
    {
      id: '10.1.1',
      description: 'Send text message with payload of length 65536, auto-fragmented into frames of 1300 octets.',
      expectation: "Receive echo'ed text message (with payload as sent and transmitted frame counts as expected). Clean close with normal code.",
      onOpen(c) {
        c.p.autoFragmentSize = fragment;
        c.expected.set('OK', [msg(payload, false)]);
        c.expectedClose = CLEAN_BY_ME;
        c.p.sendMessage(payload, false);
        c.p.killAfter(10);
      },
      onConnectionLost(c) {
        // Autobahn's own check of the fuzzer's fragmentation: 50 continuation frames + 1 text frame.
        const want = [Math.floor(payload.length / fragment), payload.length % fragment > 0 ? 1 : 0];
        const got = [c.p.txFrames.get(OP.CONT) ?? 0, c.p.txFrames.get(OP.TEXT) ?? 0];
        if (want[0] !== got[0] || want[1] !== got[1]) {
          c.behavior = 'FAILED';
          c.result = `Frames transmitted {0: ${got[0]}, 1: ${got[1]}} do not match the expected {0: ${want[0]}, 1: ${want[1]}}.`;
        }
      },
    },
  ];
}
