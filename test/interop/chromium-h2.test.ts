/**
 * A real browser over RFC 8441: headless Chromium (Debian package chromium, driven by
 * playwright-core) against wscore's WebSocketServer attached to a TLS http2 server that
 * advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, with a self-signed certificate made by openssl
 * for the run and trusted through Chromium's SPKI pin list. The page (chromium-page.html) is
 * served by the same http2 server, so the browser holds an HTTP/2 connection to the origin
 * and opens its WebSockets as extended CONNECT streams on it.
 *
 * Proved from the server side: every connection's request is an HTTP/2 one (httpVersion
 * '2.0', an http2 stream under it, `:protocol websocket`), not an HTTP/1.1 fallback. Covered:
 * permessage-deflate and a subprotocol, text, binary, 16 MiB both ways, close codes both
 * ways, and the pitfall of docs/http2.md: an HTTP/1.1 upgrade to the same server while the
 * browser's HTTP/2 WebSocket is open.
 *
 * Without /usr/bin/chromium (or openssl) the suite is skipped, or fails under
 * WSCORE_REQUIRE_PEERS=1 (CI): see peers.ts.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type * as http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { WebSocket, WebSocketServer } from '../../src/io';
import { closable, listen, secureServer } from '../io/http2-helpers';
import { makeCert, removeCert, type TestCert } from '../helpers/cert';
import { ScenarioServer, within, words } from './helpers';
import { CHROMIUM, describeWithPeer, peerGate } from './peers';

const MiB = 1024 * 1024;

interface Opened {
  id: number;
  extensions: string;
  protocol: string;
}
interface Check {
  type: 'text' | 'binary';
  equal: boolean;
  length: number;
}
interface Closed {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** How a connection arrived, as the server saw it. */
interface Arrival {
  httpVersion: string;
  overStream: boolean;
  protocolPseudoHeader: unknown;
}

/** base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo: Chromium's pin format. */
function spkiPin(pem: Buffer): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

// Both peers are needed (openssl makes the certificate): either missing skips, or fails in CI.
const gates = [peerGate('chromium'), peerGate('openssl')];
const gate = { skip: gates.some((g) => g.skip), missing: gates.map((g) => g.missing).find((m) => m !== null) ?? null };

describeWithPeer(
  'chromium',
  'headless Chromium over HTTP/2 (RFC 8441)',
  () => {
    let cert: TestCert | null = null;
    let server: ScenarioServer;
    let h2server: http2.Http2SecureServer | null = null;
    let closeH2: (() => Promise<void>) | null = null;
    let context: BrowserContext | null = null;
    let page: Page;
    let userDataDir: string | null = null;
    const pageErrors: string[] = [];
    const arrivals = new Map<string, Arrival>();

    function call<T>(method: string, ...args: unknown[]): Promise<T> {
      const expr = `window.wst.${method}(${args.map((a) => JSON.stringify(a)).join(', ')})`;
      const what = `${method}(${args.map((a) => JSON.stringify(a)?.slice(0, 40)).join(', ')}) in the page`;
      return within(page.evaluate(expr) as Promise<T>, 60_000, `${what}; page errors: ${pageErrors.join('; ')}`);
    }

    const url = (path: string): string => `wss://localhost:${server.port}${path}`;

    beforeAll(async () => {
      cert = makeCert();
      expect(cert, 'openssl made the test certificate').not.toBeNull();
      const html = readFileSync(join(__dirname, 'chromium-page.html'));
      h2server = secureServer(cert!, true, (req, res) => {
        if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
        else res.writeHead(404).end();
      });
      closeH2 = closable(h2server).close;
      const wss = new WebSocketServer({ server: h2server, perMessageDeflate: true, rawFrames: true, maxPayload: 32 * MiB });
      wss.on('connection', (_ws: WebSocket, req: IncomingMessage) => {
        arrivals.set(req.url ?? '', {
          httpVersion: req.httpVersion,
          overStream: (req as unknown as http2.Http2ServerRequest).stream !== undefined,
          protocolPseudoHeader: req.headers[':protocol'],
        });
      });
      server = ScenarioServer.attach(wss, await listen(h2server));

      userDataDir = mkdtempSync(join(tmpdir(), 'wscore-chromium-h2-'));
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        timeout: 30_000,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--disable-quic',
          // The test certificate is trusted by its key (no certificate error, so nothing in
          // the browser treats the origin as broken).
          `--ignore-certificate-errors-spki-list=${spkiPin(cert!.cert)}`,
        ],
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error') pageErrors.push(msg.text());
      });
      await page.goto(`https://localhost:${server.port}/`, { timeout: 15_000 });
    }, 60_000);

    afterAll(async () => {
      await context?.close().catch(() => undefined);
      if (userDataDir !== null) rmSync(userDataDir, { recursive: true, force: true });
      await server?.close().catch(() => undefined);
      await closeH2?.();
      removeCert(cert);
    }, 30_000);

    /** The connection to `path` came over HTTP/2, as an extended CONNECT. */
    function expectHttp2(path: string): void {
      expect(arrivals.get(path), `how ${path} arrived`).toEqual({ httpVersion: '2.0', overStream: true, protocolPseudoHeader: 'websocket' });
    }

    describe('headless Chromium against our HTTP/2 server', () => {
      it('loaded the page over HTTP/2', async () => {
        expect(await page.evaluate("performance.getEntriesByType('navigation')[0].nextHopProtocol")).toBe('h2');
      });

      it('opens an extended CONNECT with permessage-deflate and a subprotocol, and echoes text and binary', async () => {
        const opened = await call<Opened>('open', url('/h2/messages'), ['chat', 'other']);
        expectHttp2('/h2/messages');
        expect(opened.extensions).toMatch(/^permessage-deflate/);
        expect(opened.protocol).toBe('chat');
        const { id } = opened;
        for (const text of ['héllo ☃ over HTTP/2', '', words(70000, 3)]) {
          expect(await call<Check>('echoText', id, text)).toMatchObject({ type: 'text', equal: true, length: text.length });
        }
        for (const size of [0, 1, 125, 126, 65535, 65536]) {
          expect(await call<Check>('echoBinary', id, size, 'pattern'), `binary ${size}`).toMatchObject({ type: 'binary', equal: true, length: size });
        }
        expect(await call<Check>('echoBinary', id, MiB, 'random')).toMatchObject({ type: 'binary', equal: true, length: MiB });
        expect(await call<Closed>('close', id, 1000, 'done')).toEqual({ code: 1000, reason: 'done', wasClean: true });
        const rec = await server.closedConnection('/h2/messages');
        expect(rec.close).toEqual({ code: 1000, reason: 'done' });
        expect(rec.compressedFrames, 'messages Chromium sent compressed').toBeGreaterThan(0);
      });

      it('exchanges 16 MiB messages both ways on one stream', async () => {
        const { id } = await call<Opened>('open', url('/h2/large'));
        expectHttp2('/h2/large');
        expect(await call<Check>('digestBinary', id, 16 * MiB)).toMatchObject({ type: 'text', equal: true });
        await call<void>('sendText', id, `cmd:pattern:${16 * MiB}:1`);
        expect(await call<Check>('expectPattern', id, 16 * MiB)).toMatchObject({ type: 'binary', equal: true, length: 16 * MiB });
        expect(await call<Closed>('close', id, 1000, '')).toEqual({ code: 1000, reason: '', wasClean: true });
      }, 90_000);

      it('closes with 4000 and a reason from the browser', async () => {
        const { id } = await call<Opened>('open', url('/h2/client-close'));
        expectHttp2('/h2/client-close');
        expect(await call<Closed>('close', id, 4000, 'browser bye')).toEqual({ code: 4000, reason: 'browser bye', wasClean: true });
        expect((await server.closedConnection('/h2/client-close')).close).toEqual({ code: 4000, reason: 'browser bye' });
      });

      it.each([
        [1001, 'going away'],
        [4001, 'server bye'],
      ])('is closed by our server with %i', async (code, reason) => {
        const path = `/h2/server-close-${code}`;
        const { id } = await call<Opened>('open', url(path));
        expectHttp2(path);
        await call<void>('sendText', id, `cmd:close:${code}:${reason}`);
        expect(await call<Closed>('closed', id)).toEqual({ code, reason, wasClean: true });
        expect((await server.closedConnection(path)).close?.code).toBe(code);
      });

      it('serves an HTTP/1.1 upgrade on the same server while the browser is on HTTP/2', async () => {
        const { id } = await call<Opened>('open', url('/h2/side-by-side'));
        expectHttp2('/h2/side-by-side');
        const h1 = new WebSocket(url('/h1/side-by-side'), { ca: cert!.cert });
        await new Promise<void>((resolve, reject) => {
          h1.once('open', () => resolve());
          h1.once('error', reject);
        });
        expect(arrivals.get('/h1/side-by-side')?.httpVersion).toBe('1.1');
        h1.send('over 1.1');
        const [echo] = await new Promise<[Buffer]>((resolve) => h1.once('message', (d) => resolve([d as Buffer])));
        expect(echo.toString()).toBe('over 1.1');
        expect(await call<Check>('echoText', id, 'over 2')).toMatchObject({ type: 'text', equal: true });
        h1.close(1000);
        expect(await call<Closed>('close', id, 1000, '')).toMatchObject({ code: 1000 });
      });
    });
  },
  gate,
);
