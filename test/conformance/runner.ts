/**
 * Runs the case table against wscore in one of two modes, on whichever backend src/ picked
 * (WSCORE_BACKEND):
 *   server: wscore's WebSocketServer echoes every message, our fuzzing client tests it;
 *   client: wscore's WebSocket connects to our fuzzing server per case and echoes.
 * Light cases run a few at a time (each has its own connection, as Autobahn's cases do one
 * after another); heavy ones (large messages, many round trips) run alone.
 */
import { once } from 'node:events';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

import { backendName, WebSocket, WebSocketServer, type RawData } from '../../src';
import type { CaseDef } from './case-run';
import type { Profile } from './cases';
import { runClientCase } from './fuzzing-client';
import { runClientCaseH2, WINDOW } from './fuzzing-client-h2';
import { FuzzingServer } from './fuzzing-server';
import { handshakeFailure, type CaseResult } from './result';

/** The role wscore plays ('server-h2': the server, on RFC 8441 streams over h2c). */
export type Mode = 'server' | 'client' | 'server-h2';

export interface ModeRun {
  mode: Mode;
  backend: string;
  profile: string;
  wallMs: number;
  results: CaseResult[];
}

export interface RunOptions {
  /** Light cases in flight at once (default 4). */
  concurrency?: number;
  /** Called after each case (progress output). */
  onResult?: (r: CaseResult) => void;
}

const AGENT = 'wscore';

async function inPool(cases: CaseDef[], concurrency: number, run: (c: CaseDef) => Promise<CaseResult>, onResult?: (r: CaseResult) => void): Promise<CaseResult[]> {
  const order = new Map(cases.map((c, i) => [c.id, i]));
  const results: CaseResult[] = [];
  const record = (r: CaseResult): void => {
    results.push(r);
    onResult?.(r);
  };
  const light = cases.filter((c) => c.heavy !== true);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < light.length) record(await run(light[next++]));
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  for (const c of cases.filter((x) => x.heavy === true)) record(await run(c));
  return results.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
}

function echo(ws: WebSocket): void {
  // Protocol errors surface as 'error' events; the close code is what the case judges.
  ws.on('error', () => {});
  ws.on('message', (data: RawData, isBinary: boolean) => ws.send(data as Buffer, { binary: isBinary }));
}

function hardCap(profile: Profile): number {
  return profile.name === 'full' ? 900_000 : 30_000;
}

/** wscore as the server: an echo WebSocketServer with permessage-deflate enabled. */
async function againstServer(cases: CaseDef[], profile: Profile, o: RunOptions): Promise<CaseResult[]> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true });
  await once(wss, 'listening');
  const { port } = wss.address() as AddressInfo;
  wss.on('connection', echo);
  try {
    return await inPool(cases, o.concurrency ?? 4, (c) => runClientCase('127.0.0.1', port, c, profile.timing, hardCap(profile)), o.onResult);
  } finally {
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
}

/**
 * wscore as the server over HTTP/2 (RFC 8441): the echo WebSocketServer attached to an h2c
 * server that advertises the extended CONNECT; one HTTP/2 connection and stream per case.
 */
async function againstServerH2(cases: CaseDef[], profile: Profile, o: RunOptions): Promise<CaseResult[]> {
  const server = http2.createServer({ settings: { enableConnectProtocol: true, initialWindowSize: WINDOW } });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s: http2.ServerHttp2Session) => {
    s.setLocalWindowSize(WINDOW);
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: true });
  wss.on('connection', echo);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    return await inPool(cases, o.concurrency ?? 4, (c) => runClientCaseH2('127.0.0.1', port, c, profile.timing, hardCap(profile)), o.onResult);
  } finally {
    await wss.close();
    for (const s of sessions) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** wscore as the client: one echo WebSocket per case, as Autobahn's client test drives it. */
async function againstClient(cases: CaseDef[], profile: Profile, o: RunOptions): Promise<CaseResult[]> {
  const server = new FuzzingServer(new Map(cases.map((c) => [c.id, c])), profile.timing, hardCap(profile));
  const port = await server.listen();
  const runOne = async (c: CaseDef): Promise<CaseResult> => {
    const result = server.result(c.id, AGENT);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/runCase?case=${encodeURIComponent(c.id)}&agent=${AGENT}`, { perMessageDeflate: true });
    echo(ws);
    // (events.once would reject on the 'error' that precedes a failed connection's close.)
    await new Promise((resolve) => ws.once('close', resolve));
    // The client may see its 'close' before our side of TCP is gone; a missing result after
    // a grace period means the handshake never completed.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<CaseResult>((resolve) => {
      timer = setTimeout(() => resolve(handshakeFailure(c.id, c.description, 'the client closed without completing a case')), 5_000);
    });
    try {
      return await Promise.race([result, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    return await inPool(cases, o.concurrency ?? 4, runOne, o.onResult);
  } finally {
    await server.close();
  }
}

export async function runMode(mode: Mode, cases: CaseDef[], profile: Profile, o: RunOptions = {}): Promise<ModeRun> {
  const started = Date.now();
  const run = mode === 'server' ? againstServer : mode === 'server-h2' ? againstServerH2 : againstClient;
  const results = await run(cases, profile, o);
  return { mode, backend: backendName, profile: profile.name, wallMs: Date.now() - started, results };
}
