/**
 * Mode "fuzzingclient" over HTTP/2 (RFC 8441): the runner opens an h2c connection per case,
 * checks that the server advertised SETTINGS_ENABLE_CONNECT_PROTOCOL (§3), sends an extended
 * CONNECT (§4-§5: no Sec-WebSocket-Key, a 200 instead of a 101), and runs the case on the
 * stream. The stream stands for the TCP connection of RFC 6455: END_STREAM is the FIN,
 * RST_STREAM the reset (RFC 8441 §5), so the verdicts read the same flags.
 */
import * as http2 from 'node:http2';

import type { CaseDef } from './case-run';
import { negotiated, runCaseOn } from './fuzzing-client';
import { offerHeader } from './pmd';
import { handshakeFailure, type CaseResult } from './result';
import type { Timing } from './session';

const EMPTY = Buffer.alloc(0);
/** 16 MiB: the per-stream and connection receive windows of the fuzzer (and the server). */
export const WINDOW = 16 * 1024 * 1024;

/** Runs one case against the h2c server at host:port; resolves when the stream is gone. */
export function runClientCaseH2(host: string, port: number, def: CaseDef, timing: Timing, hardCapMs: number): Promise<CaseResult> {
  return new Promise((resolve) => {
    let settled = false;
    // Windows as large as a case's messages: HTTP/2 flow control must not pace the fuzzer.
    const session = http2.connect(`http://${host}:${port}`, { settings: { initialWindowSize: WINDOW } });
    session.once('connect', () => session.setLocalWindowSize(WINDOW));
    const done = (r: CaseResult): void => {
      if (settled) return;
      settled = true;
      session.close();
      resolve(r);
    };
    const fail = (why: string): void => {
      session.destroy();
      done(handshakeFailure(def.id, def.description, why));
    };
    session.on('error', (err) => fail(`HTTP/2 connection failed: ${err.message}`));
    session.once('remoteSettings', (settings) => {
      if (settings.enableConnectProtocol !== true) return fail('the server did not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL');
      const offers = def.deflate?.clientOffers ?? [];
      const headers: http2.OutgoingHttpHeaders = {
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'http',
        ':path': `/case/${def.id}`,
        ':authority': `${host}:${port}`,
        'sec-websocket-version': '13',
        'user-agent': 'wscore-conformance',
      };
      if (offers.length > 0) headers['sec-websocket-extensions'] = offers.map(offerHeader).join(', ');
      const stream = session.request(headers, { endStream: false });
      stream.on('error', () => {});
      stream.once('response', (res) => {
        const status = Number(res[':status']);
        if (status !== 200) return fail(`the server answered the extended CONNECT with HTTP ${status}`);
        const ext = res['sec-websocket-extensions'];
        const deflate = negotiated(Array.isArray(ext) ? ext.join(', ') : ext, offers);
        if (typeof deflate === 'string') return fail(deflate);
        // The peer's END_STREAM is its FIN: as a TCP socket without allowHalfOpen does, our
        // side ends too, so the stream closes (RFC 8441 §5 maps the one onto the other).
        stream.once('end', () => stream.end());
        runCaseOn(stream, EMPTY, def, deflate, timing, hardCapMs, done);
      });
    });
  });
}
