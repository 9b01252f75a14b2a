/**
 * What one case run reports, with the evidence a FAILED verdict needs: the events we
 * received next to each expected list, the peer's close code, and its wire violations.
 */
import type { CaseRun, CloseVerdict, Event, Verdict } from './case-run';

export interface CaseResult {
  id: string;
  description: string;
  behavior: Verdict;
  behaviorClose: CloseVerdict;
  result: string;
  resultClose: string;
  /** The peer's close code (null: no close frame, or one without a code). */
  remoteCloseCode: number | null;
  closedByMe: boolean;
  wasClean: boolean;
  durationMs: number;
  received: string[];
  expected: Record<string, string[]>;
  violations: string[];
}

/** Autobahn shows behaviorClose FAILED and UNCLEAN in red too: both count as failures here. */
export function isFailure(r: CaseResult): boolean {
  return r.behavior === 'FAILED' || r.behaviorClose === 'FAILED' || r.behaviorClose === 'UNCLEAN';
}

function show(payload: Buffer, text: boolean): string {
  const max = 40;
  const head = payload.subarray(0, max);
  const body = text ? JSON.stringify(head.toString('utf8')) : `0x${head.toString('hex')}`;
  return payload.length > max ? `${body}... (${payload.length} B)` : body;
}

export function describeEvent(e: Event): string {
  if (e[0] === 'timeout') return `timeout ${e[1]}`;
  if (e[0] === 'pong') return `pong ${show(e[1], true)}`;
  return `${e[2] ? 'binary' : 'text'} ${show(e[1], !e[2])}`;
}

export function caseResult(c: CaseRun): CaseResult {
  const expected: Record<string, string[]> = {};
  for (const [verdict, events] of c.expected) expected[verdict] = events.map(describeEvent);
  return {
    id: c.def.id,
    description: c.def.description,
    behavior: c.behavior,
    behaviorClose: c.behaviorClose,
    result: c.result,
    resultClose: c.resultClose,
    remoteCloseCode: c.p.remoteCloseCode,
    closedByMe: c.p.closedByMe,
    wasClean: c.p.wasClean,
    durationMs: Date.now() - c.started,
    received: c.received.map(describeEvent),
    expected,
    violations: [...c.p.violations],
  };
}

/** A case whose connection never opened. */
export function handshakeFailure(id: string, description: string, why: string): CaseResult {
  return {
    id,
    description,
    behavior: 'FAILED',
    behaviorClose: 'FAILED',
    result: why,
    resultClose: 'The WebSocket opening handshake was never completed!',
    remoteCloseCode: null,
    closedByMe: false,
    wasClean: false,
    durationMs: 0,
    received: [],
    expected: {},
    violations: [],
  };
}
