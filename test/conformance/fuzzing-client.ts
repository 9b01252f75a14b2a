/**
 * Mode "fuzzingclient": the runner is the client and tests a WebSocket server. One
 * connection per case; the opening handshake (RFC 6455 §4.1) is checked here, then the
 * case runs on a FuzzSession.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

import { CaseRun, type CaseDef } from './case-run';
import { offerHeader, parseResponse, type DeflateOffer, type DeflateParams } from './pmd';
import { caseResult, handshakeFailure, type CaseResult } from './result';
import { FuzzSession, type Timing } from './session';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** Runs one case against the server at host:port; resolves when TCP is gone. */
export function runClientCase(host: string, port: number, def: CaseDef, timing: Timing, hardCapMs: number): Promise<CaseResult> {
  return new Promise((resolve) => {
    const key = randomBytes(16).toString('base64');
    const offers = def.deflate?.clientOffers ?? [];
    const headers: Record<string, string> = {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Version': '13',
      'User-Agent': 'wscore-conformance',
    };
    if (offers.length > 0) headers['Sec-WebSocket-Extensions'] = offers.map(offerHeader).join(', ');
    const req = http.request({ host, port, path: `/case/${def.id}`, headers, agent: false });
    const fail = (why: string): void => resolve(handshakeFailure(def.id, def.description, why));
    req.on('error', (err) => fail(`connection failed: ${err.message}`));
    req.on('response', (res) => {
      res.resume();
      fail(`the server answered the upgrade with HTTP ${res.statusCode}`);
    });
    req.on('upgrade', (res: http.IncomingMessage, socket: Socket, head: Buffer) => {
      if (res.headers['sec-websocket-accept'] !== acceptFor(key)) {
        socket.destroy();
        return fail('wrong Sec-WebSocket-Accept');
      }
      const deflate = negotiated(res.headers['sec-websocket-extensions'], offers);
      if (typeof deflate === 'string') {
        socket.destroy();
        return fail(deflate);
      }
      runCaseOn(socket, head, def, deflate, timing, hardCapMs, resolve);
    });
    req.end();
  });
}

/**
 * The permessage-deflate parameters the server accepted, or why its answer fails the
 * connection (§4.1: an extension the client did not offer).
 */
export function negotiated(ext: string | undefined, offers: DeflateOffer[]): DeflateParams | null | string {
  if (ext === undefined) return null;
  return offers.length === 0 ? `extension "${ext}" was not offered` : parseResponse(ext, offers);
}

/** Runs the case on an opened connection (a socket, or an HTTP/2 stream); resolves at its end. */
export function runCaseOn(
  socket: Socket | Duplex,
  head: Buffer,
  def: CaseDef,
  deflate: DeflateParams | null,
  timing: Timing,
  hardCapMs: number,
  resolve: (r: CaseResult) => void,
): void {
  const session = new FuzzSession(socket, false, deflate, timing);
  const run = new CaseRun(def, session);
  const cap = setTimeout(() => session.dropConnection(true), hardCapMs);
  session.hooks = {
    onMessage: (payload, binary) => run.onMessage(payload, binary),
    onPong: (payload) => run.onPong(payload),
    onLost: () => {
      clearTimeout(cap);
      run.evaluate();
      resolve(caseResult(run));
    },
  };
  def.onOpen(run);
  session.feed(head);
}
