/**
 * A case definition and one run of it: the observed events, the expected ones, and
 * Autobahn's verdict rules (testsuite case/case.py), restated:
 *
 * - behavior: the first verdict (OK, NON-STRICT, ...) whose expected event list equals the
 *   received one exactly (order, payloads, text vs binary); FAILED if none does. Cases with
 *   their own logic (9.x, 12.x, 13.x) set it themselves.
 * - behaviorClose: FAILED when the wrong endpoint started the close; UNCLEAN when the case
 *   requires a clean closing handshake and it was not; WRONG CODE when the peer's close code
 *   is not in the allowed set (no code is always allowed); FAILED BY CLIENT when the fuzzer,
 *   as client, had to drop TCP itself; else OK.
 * - "closedByWrongEndpointIsFatal" (UTF-8 cases): the wrong closer also fails behavior,
 *   since then the peer never detected the invalid payload.
 * - As soon as the received events match every expectation and the fuzzer is the one to
 *   close, it closes (finishWhenDone); otherwise the case's own timers end it.
 */
import type { DeflateAccept, DeflateOffer } from './pmd';
import type { FuzzSession } from './session';

export type Verdict = 'OK' | 'NON-STRICT' | 'INFORMATIONAL' | 'UNIMPLEMENTED' | 'FAILED';
export type CloseVerdict = 'OK' | 'WRONG CODE' | 'UNCLEAN' | 'FAILED BY CLIENT' | 'INFORMATIONAL' | 'FAILED';

export type Event = ['message', Buffer, boolean] | ['pong', Buffer] | ['timeout', string];

export interface ExpectedClose {
  closedByMe: boolean;
  closeCode: number[];
  requireClean: boolean;
  closedByWrongEndpointIsFatal?: boolean;
}

/** permessage-deflate behaviour of a case (12.x, 13.x). */
export interface DeflateCase {
  /** What the fuzzer offers when it is the client. */
  clientOffers: DeflateOffer[];
  /** What the fuzzer answers when it is the server (null: decline). */
  serverAccept(offers: DeflateOffer[]): DeflateAccept | null;
}

export interface CaseDef {
  /** "1.1.1" */
  id: string;
  description: string;
  expectation: string;
  deflate?: DeflateCase;
  /** Run alone: the case is CPU-heavy, parallel cases would only slow each other. */
  heavy?: boolean;
  onOpen(c: CaseRun): void;
  /** Replaces the default (record the message, then finishWhenDone). */
  onMessage?(c: CaseRun, payload: Buffer, binary: boolean): void;
  /** Runs after the default verdict rules (7.x: WRONG CODE fails the case, ...). */
  onConnectionLost?(c: CaseRun): void;
}

export class CaseRun {
  readonly received: Event[] = [];
  readonly expected = new Map<Verdict, Event[]>();
  expectedClose: ExpectedClose = { closedByMe: true, closeCode: [1000], requireClean: true };
  behavior: Verdict = 'FAILED';
  behaviorClose: CloseVerdict = 'FAILED';
  result = 'Actual events differ from any expected.';
  resultClose = 'TCP connection was dropped without close handshake';
  /** The fuzzer never starts the close on its own (cases that send their own close). */
  suppressClose = false;
  /** Case-local state (counters, payload pointers). */
  readonly vars = new Map<string, unknown>();
  readonly started = Date.now();

  constructor(readonly def: CaseDef, readonly p: FuzzSession) {}

  onMessage(payload: Buffer, binary: boolean): void {
    if (this.def.onMessage !== undefined) return this.def.onMessage(this, payload, binary);
    this.received.push(['message', payload, binary]);
    this.finishWhenDone();
  }

  onPong(payload: Buffer): void {
    this.received.push(['pong', payload]);
    this.finishWhenDone();
  }

  /** A case's own marker (6.4.x: "we waited and the connection was still open"). */
  mark(tag: string): void {
    this.received.push(['timeout', tag]);
  }

  private finishWhenDone(): void {
    for (const events of this.expected.values()) if (!sameEvents(this.received, events)) return;
    if (this.expectedClose.closedByMe && !this.suppressClose) this.p.sendClose(this.expectedClose.closeCode[0]);
  }

  /** The verdicts, once TCP is gone. */
  evaluate(): void {
    for (const [verdict, events] of this.expected) {
      if (sameEvents(this.received, events)) {
        this.behavior = verdict;
        this.result = 'Actual events match at least one expected.';
        break;
      }
    }
    const p = this.p;
    const ec = this.expectedClose;
    if (ec.closedByMe !== p.closedByMe) {
      this.behaviorClose = 'FAILED';
      this.resultClose = 'The connection was failed by the wrong endpoint';
    } else if (ec.requireClean && !p.wasClean) {
      this.behaviorClose = 'UNCLEAN';
      this.resultClose = 'The spec requires the connection to be failed cleanly here';
    } else if (p.remoteCloseCode !== null && !ec.closeCode.includes(p.remoteCloseCode)) {
      this.behaviorClose = 'WRONG CODE';
      this.resultClose = `The close code should have been ${ec.closeCode.join(',')} or empty`;
    } else if (!p.isServer && p.droppedByMe) {
      this.behaviorClose = 'FAILED BY CLIENT';
      this.resultClose = 'It is preferred that the server close the TCP connection';
    } else {
      this.behaviorClose = 'OK';
      this.resultClose = 'Connection was properly closed';
    }
    if (ec.closedByWrongEndpointIsFatal === true && ec.closedByMe !== p.closedByMe) this.behavior = 'FAILED';
    this.def.onConnectionLost?.(this);
  }
}

function sameEvent(a: Event, b: Event): boolean {
  if (a[0] !== b[0]) return false;
  if (a[0] === 'timeout') return a[1] === b[1];
  if (!(a[1] as Buffer).equals(b[1] as Buffer)) return false;
  return a[0] !== 'message' || a[2] === b[2];
}

export function sameEvents(a: Event[], b: Event[]): boolean {
  return a.length === b.length && a.every((e, i) => sameEvent(e, b[i]));
}

/** "message" event with a UTF-8 (text) or byte payload. */
export function msg(payload: Buffer | string, binary: boolean): Event {
  return ['message', typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload, binary];
}

export function pong(payload: Buffer | string): Event {
  return ['pong', typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload];
}

/** The expectation most cases share: the peer echoes and we close with 1000, cleanly. */
export const CLEAN_BY_ME: ExpectedClose = { closedByMe: true, closeCode: [1000], requireClean: true };
/** The peer must fail the connection with `code` (clean or not). */
export function failedByPeer(code: number, fatal = false): ExpectedClose {
  return fatal ? { closedByMe: false, closeCode: [code], requireClean: false, closedByWrongEndpointIsFatal: true } : { closedByMe: false, closeCode: [code], requireClean: false };
}

/** 7.x: a WRONG CODE close is a failed case (case7_*.py). */
export function wrongCodeFails(c: CaseRun): void {
  if (c.behaviorClose === 'WRONG CODE') {
    c.behavior = 'FAILED';
    c.result = c.resultClose;
  }
}
