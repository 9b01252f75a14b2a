/**
 * wscore's RFC 8441 client against a server nobody here wrote: Hypercorn (Debian
 * python3-hypercorn: HTTP/2 by python3-h2, WebSocket frames by wsproto), which advertises
 * SETTINGS_ENABLE_CONNECT_PROTOCOL and serves extended CONNECTs. The peer reports the HTTP
 * version of each WebSocket it accepted, so "over HTTP/2" is proved by the other side.
 * (Debian has no Python RFC 8441 client: python3-h2 is a bare HTTP/2 state machine, without
 * WebSockets; Hypercorn is the one h2-based peer that speaks RFC 8441, as a server.)
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';

import { WebSocket } from '../../src/io';
import { cleanup, closeEvent, nextMessage, track } from '../io/helpers';
import { makeCert, removeCert, type TestCert } from '../helpers/cert';
import { pattern, startPythonServer, type PythonPeer, words } from './helpers';
import { describeWithPeer, peerGate } from './peers';

afterEach(cleanup);

const gates = [peerGate('python3-hypercorn'), peerGate('openssl')];
const gate = { skip: gates.some((g) => g.skip), missing: gates.map((g) => g.missing).find((m) => m !== null) ?? null };

describeWithPeer(
  'python3-hypercorn',
  'wscore client over HTTP/2 against Hypercorn',
  () => {
    let cert: TestCert | null = null;
    const peers: PythonPeer[] = [];
    beforeAll(() => {
      cert = makeCert();
    });
    afterAll(async () => {
      for (const p of peers) await p.finish().catch(() => p.kill());
      removeCert(cert);
    });

    async function start(tls: boolean): Promise<{ peer: PythonPeer; port: number }> {
      expect(cert, 'openssl made the test certificate').not.toBeNull();
      const args = tls ? [`${cert!.dir}/cert.pem`, `${cert!.dir}/key.pem`] : [];
      const started = await startPythonServer('hypercorn_h2_peer.py', args);
      peers.push(started.peer);
      return started;
    }

    it.each([
      ['wss (h2 over TLS)', true],
      ['ws (h2c, prior knowledge)', false],
    ])('talks RFC 8441 with Hypercorn: %s', async (_name, tls) => {
      const { peer, port } = await start(tls);
      const scheme = tls ? 'wss' : 'ws';
      const path = `/${scheme}/echo?x=1`;
      const ws = track(new WebSocket(`${scheme}://localhost:${port}${path}`, ['chat', 'other'], { ca: cert!.cert, http2: true, maxPayload: 32 * 1024 * 1024 }));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      const seen = await peer.waitFor((l) => l.event === 'connection' && l.path === path, 10_000, 'the connection');
      expect(seen.http_version).toBe('2');
      expect(seen.subprotocols).toEqual(['chat', 'other']);
      expect(ws.protocol).toBe('chat');
      // Hypercorn's wsproto accepts permessage-deflate (RFC 7692).
      expect(ws.extensions).toMatch(/^permessage-deflate/);
      for (const text of ['héllo ☃', '', words(100000, 5)]) {
        ws.send(text);
        expect(await nextMessage(ws)).toEqual([Buffer.from(text), false]);
      }
      const big = pattern(16 * 1024 * 1024);
      ws.send(big);
      const [echo, isBinary] = await nextMessage(ws);
      expect(isBinary).toBe(true);
      expect(echo.equals(big)).toBe(true);
      // The 4002 we get back is Hypercorn's echo of our close frame (wsproto answers it,
      // RFC 6455 §5.5.1). Hypercorn 0.13 then tells its app 1006 whatever the code: its
      // 'websocket.disconnect' does not carry the peer's close code.
      const closed = closeEvent(ws);
      ws.close(4002, 'bye');
      expect(await closed).toEqual([4002, 'bye']);
      await peer.waitFor((l) => l.event === 'disconnect' && l.path === path, 10_000, 'the disconnect');
    }, 60_000);

    it('is closed by Hypercorn with its code', async () => {
      const { port } = await start(true);
      const ws = track(new WebSocket(`wss://localhost:${port}/server-close`, { ca: cert!.cert, http2: true }));
      await new Promise<void>((resolve) => ws.once('open', () => resolve()));
      const closed = closeEvent(ws);
      ws.send('close:4003');
      expect((await closed)[0]).toBe(4003);
    });
  },
  gate,
);
