/**
 * Case families 12 and 13: permessage-deflate (RFC 7692), after Autobahn|Testsuite's
 * case12_x_x. Each case sends `count` messages of one size, one after the other's echo, and
 * checks type, length and content of every echo. 12.x: five kinds of payload with the
 * default offer; 13.x: one payload with seven offer/accept combinations. A connection where
 * the peer declines permessage-deflate makes the case UNIMPLEMENTED.
 */
import { CLEAN_BY_ME, type CaseDef, type CaseRun, type DeflateCase } from '../case-run';
import { offer, type DeflateAccept, type DeflateOffer } from '../pmd';
import { slice, testData, type TestData } from './testdata';

export interface CompressionScale {
  /** Messages per case of a given message size (Autobahn: always 1000). */
  messages(size: number): number;
}

/** [message size, wait in seconds, auto-fragment size] (Autobahn's MSG_SIZES). */
const MSG_SIZES: Array<[number, number, number]> = [
  [16, 60, 0], [64, 60, 0], [256, 120, 0], [1024, 240, 0], [4096, 480, 0], [8192, 480, 0], [16384, 480, 0], [32768, 480, 0], [65536, 480, 0], [131072, 480, 0],
  [8192, 480, 256], [16384, 480, 256], [32768, 480, 256], [65536, 480, 256], [131072, 480, 256], [131072, 480, 1024], [131072, 480, 4096], [131072, 480, 32768],
];

type Accept = (offers: DeflateOffer[]) => DeflateAccept | null;

function acceptWith(nct: boolean, bits: number): Accept {
  return (offers) => {
    const o = offers.find((x) => (!nct || x.acceptNoContextTakeover) && (bits === 0 || x.acceptMaxWindowBits));
    return o === undefined ? null : { offer: o, requestNoContextTakeover: nct, requestMaxWindowBits: bits };
  };
}

const accept5 = acceptWith(true, 9);
const accept2 = acceptWith(true, 0);
const accept1 = acceptWith(false, 0);

/** Client offers and server accepts of 13.1-13.7; the descriptions are Autobahn's. */
const DEFLATE_PARAMS: Array<[DeflateOffer[], Accept, string]> = [
  [[offer()], accept1, '[(False, 0)]'],
  [[offer(true, 0)], accept2, '[(True, 0)]'],
  [[offer(false, 9)], acceptWith(false, 9), '[(False, 9)]'],
  [[offer(false, 15)], acceptWith(false, 15), '[(False, 15)]'],
  [[offer(true, 9)], accept5, '[(True, 9)]'],
  [[offer(true, 15)], acceptWith(true, 15), '[(True, 15)]'],
  [[offer(true, 9), offer(true, 0), offer()], (o) => accept5(o) ?? accept2(o) ?? accept1(o), '[(True, 9), (True, 0), (False, 0)]'],
];

function describeOffers(offers: DeflateOffer[]): string {
  return `[${offers.map((o) => `(${o.requestNoContextTakeover ? 'True' : 'False'}, ${o.requestMaxWindowBits})`).join(', ')}]`;
}

function sendOne(c: CaseRun, data: TestData, length: number): void {
  const [payload, next] = slice(data, c.vars.get('pointer') as number, length);
  c.vars.set('pointer', next);
  c.vars.set('sent', payload);
  c.vars.set('count', (c.vars.get('count') as number) + 1);
  c.p.sendMessage(payload, data.binary);
}

function compressionCase(id: string, description: string, deflate: DeflateCase, data: TestData, [length, waitSecs, fragment]: [number, number, number], count: number): CaseDef {
  return {
    id,
    description,
    expectation: `Receive echo'ed messages (with payload as sent). Timeout case after ${waitSecs} secs.`,
    deflate,
    onOpen(c) {
      c.expectedClose = CLEAN_BY_ME;
      c.p.autoFragmentSize = fragment;
      if (c.p.deflate === null) {
        c.behavior = 'UNIMPLEMENTED';
        c.result = 'permessage-deflate was not agreed.';
        c.p.sendClose(1000);
        return;
      }
      c.behavior = 'FAILED';
      c.result = `Case did not finish within ${waitSecs} seconds.`;
      c.p.closeAfter(waitSecs);
      c.vars.set('pointer', 0);
      c.vars.set('count', 0);
      sendOne(c, data, length);
    },
    onMessage(c, payload, binary) {
      const sent = c.vars.get('sent') as Buffer;
      if (binary !== data.binary || !payload.equals(sent)) {
        c.behavior = 'FAILED';
        c.result =
          binary !== data.binary
            ? `Echo'ed message type differs from what I sent (got binary ${binary}, expected binary ${data.binary}).`
            : payload.length !== sent.length
              ? `Echo'ed message length differs from what I sent (got ${payload.length} bytes, expected ${sent.length}).`
              : "Echo'ed message contents differ from what I sent.";
        c.p.sendClose(1000);
      } else if ((c.vars.get('count') as number) < count) {
        sendOne(c, data, length);
      } else {
        c.behavior = 'OK';
        c.result = "Ok, received all echo'ed messages in time.";
        c.p.sendClose(1000);
      }
    },
  };
}

export function family12(scale: CompressionScale): CaseDef[] {
  const out: CaseDef[] = [];
  testData().forEach((data, j) => {
    MSG_SIZES.forEach((size, i) => {
      const n = scale.messages(size[0]);
      const description = `${data.description}: send ${n} compressed messages each of payload size ${size[0]}, auto-fragment to ${size[2]} octets. Default permessage-deflate offer.`;
      out.push(compressionCase(`12.${j + 1}.${i + 1}`, description, { clientOffers: [offer()], serverAccept: accept1 }, data, size, n));
    });
  });
  return out;
}

export function family13(scale: CompressionScale): CaseDef[] {
  const out: CaseDef[] = [];
  const data = testData()[0];
  DEFLATE_PARAMS.forEach(([offers, accept, acceptText], j) => {
    MSG_SIZES.forEach((size, i) => {
      const n = scale.messages(size[0]);
      const description =
        `Send ${n} compressed messages each of payload size ${size[0]}, auto-fragment to ${size[2]} octets. ` +
        `Client offers (requestNoContextTakeover, requestMaxWindowBits): ${describeOffers(offers)} / server accept (requestNoContextTakeover, requestMaxWindowBits): ${acceptText}.`;
      out.push(compressionCase(`13.${j + 1}.${i + 1}`, description, { clientOffers: offers, serverAccept: accept }, data, size, n));
    });
  });
  return out;
}
