/**
 * A real browser against our server: headless Chromium (Debian package chromium) driven by
 * playwright-core, running test/interop/chromium-page.html, which uses the browser's own
 * WebSocket. The page is served by an http server that our WebSocketServer shares, so the
 * handshake carries a real Origin. Covered: permessage-deflate negotiated (the browser
 * offers it), text, binary (ArrayBuffer), 16 MiB messages both ways, fragmented messages
 * from our side, our ping answered by the browser's pong, close codes both ways.
 *
 * Chromium is started once for the file (it takes seconds) with a fresh --user-data-dir,
 * and closed in afterAll. Without /usr/bin/chromium the suite is skipped, or fails under
 * WSCORE_REQUIRE_PEERS=1 (CI): see peers.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { WebSocketServer } from '../../src/io';
import { ScenarioServer, within, words } from './helpers';
import { CHROMIUM, describeWithPeer } from './peers';

/** Playwright adds --headless (headless: true); the rest keeps the browser quiet and local. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];
const MiB = 1024 * 1024;

/** What the page's functions return (see chromium-page.html). */
interface Opened {
  id: number;
  extensions: string;
  protocol: string;
}
interface Check {
  type: 'text' | 'binary';
  equal: boolean;
  length: number;
  head?: string;
}
interface Closed {
  code: number;
  reason: string;
  wasClean: boolean;
}

describeWithPeer('chromium', 'headless Chromium', () => {
  let httpServer: http.Server | null = null;
  let server: ScenarioServer;
  let context: BrowserContext | null = null;
  let page: Page;
  let userDataDir: string | null = null;
  const pageErrors: string[] = [];

  /**
   * Calls `window.wst[method](...args)` in the page. The call is sent as a string expression
   * with JSON arguments: a function would be serialized with whatever the TypeScript
   * transform added to it.
   */
  function call<T>(method: string, ...args: unknown[]): Promise<T> {
    const expr = `window.wst.${method}(${args.map((a) => JSON.stringify(a)).join(', ')})`;
    const what = `${method}(${args.map((a) => JSON.stringify(a)?.slice(0, 40)).join(', ')}) in the page`;
    return within(page.evaluate(expr) as Promise<T>, 60_000, `${what}; page errors: ${pageErrors.join('; ')}`);
  }

  const url = (path: string): string => `ws://127.0.0.1:${server.port}${path}`;

  beforeAll(async () => {
      const html = readFileSync(join(__dirname, 'chromium-page.html'));
    httpServer = http.createServer((req, res) => {
      if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
      else res.writeHead(404).end();
    });
    const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: true, rawFrames: true });
    httpServer.listen(0, '127.0.0.1');
    await within(new Promise<void>((resolve) => httpServer!.once('listening', resolve)), 5_000, 'the http server to listen');
    server = ScenarioServer.attach(wss, (httpServer.address() as AddressInfo).port);

    userDataDir = mkdtempSync(join(tmpdir(), 'wscore-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    await page.goto(`http://127.0.0.1:${server.port}/`, { timeout: 15_000 });
  }, 60_000);

  afterAll(async () => {
    // Each step on its own, so that one failing does not leave the browser running.
    await context?.close().catch(() => undefined);
    if (userDataDir !== null) rmSync(userDataDir, { recursive: true, force: true });
    await server?.close().catch(() => undefined);
    if (httpServer !== null) await new Promise((resolve) => httpServer!.close(resolve));
  }, 30_000);

  describe('headless Chromium against our server', () => {
    it('negotiates permessage-deflate and a subprotocol, and echoes text and binary', async () => {
      const opened = await call<Opened>('open', url('/chromium/messages'), ['chat', 'other']);
      expect(opened.extensions).toMatch(/^permessage-deflate/);
      expect(opened.protocol).toBe('chat');
      const { id } = opened;
      for (const text of ['héllo ☃ from Chromium', '', words(70000, 3)]) {
        expect(await call<Check>('echoText', id, text)).toEqual({ type: 'text', equal: true, length: text.length });
      }
      for (const size of [0, 1, 125, 126, 65535, 65536]) {
        expect(await call<Check>('echoBinary', id, size, 'pattern'), `binary ${size}`).toEqual({ type: 'binary', equal: true, length: size });
      }
      expect(await call<Check>('echoBinary', id, MiB, 'random')).toEqual({ type: 'binary', equal: true, length: MiB });
      expect(await call<Closed>('close', id, 1000, 'done')).toEqual({ code: 1000, reason: 'done', wasClean: true });

      const rec = await server.closedConnection('/chromium/messages');
      expect(rec.extensions).toMatch(/^permessage-deflate/);
      expect(rec.close).toEqual({ code: 1000, reason: 'done' });
      // Chromium decides how to frame and whether to compress each message; some must have
      // come compressed.
      expect(rec.compressedFrames, 'messages Chromium sent compressed').toBeGreaterThan(0);
    });

    it('exchanges 16 MiB messages both ways', async () => {
      const { id } = await call<Opened>('open', url('/chromium/large'));
      // In: random bytes (incompressible: the compressed message stays 16 MiB), checked by
      // their SHA-256 (echoing them would mean compressing 16 MiB of noise again, seconds on
      // the pure-TS backend; the 1 MiB echo above covers that direction with noise).
      expect(await call<Check>('digestBinary', id, 16 * MiB)).toMatchObject({ type: 'text', equal: true });
      // Out: pattern bytes, checked whole in the page.
      const conn = server.connections.find((c) => c.path === '/chromium/large')!;
      const before = conn.bytesWritten();
      await call<void>('sendText', id, `cmd:pattern:${16 * MiB}:1`);
      expect(await call<Check>('expectPattern', id, 16 * MiB)).toEqual({ type: 'binary', equal: true, length: 16 * MiB });
      // It went out compressed: far fewer bytes on the wire than in the message.
      expect(conn.bytesWritten() - before).toBeLessThan(MiB);
      expect(await call<Closed>('close', id, 1000, '')).toEqual({ code: 1000, reason: '', wasClean: true });
    }, 90_000); // 32 MiB through zlib (pako on the js backend) on 2 cores, beside other suites

    it('receives fragmented messages from our server whole', async () => {
      const { id } = await call<Opened>('open', url('/chromium/fragments'));
      // Five frames cut at byte offsets: some inside a UTF-8 sequence (é, ö, ☃, €), which a
      // fragment may do (RFC 6455 §5.6: only the whole message must be valid UTF-8).
      const text = words(10000, 2);
      await call<void>('sendText', id, `cmd:fragment:5:${text}`);
      expect(await call<Check>('expectText', id, text)).toMatchObject({ type: 'text', equal: true });
      await call<void>('sendText', id, 'cmd:pattern:1000000:7');
      expect(await call<Check>('expectPattern', id, 1000000)).toEqual({ type: 'binary', equal: true, length: 1000000 });
      await call<void>('sendText', id, `cmd:pattern:${4 * MiB}:64`);
      expect(await call<Check>('expectPattern', id, 4 * MiB)).toEqual({ type: 'binary', equal: true, length: 4 * MiB });
      expect((await call<Closed>('close', id, 1000, '')).code).toBe(1000);
    });

    it("answers our ping with a pong (the browser's automatic reply)", async () => {
      const { id } = await call<Opened>('open', url('/chromium/ping'));
      await call<void>('sendText', id, 'cmd:ping:from-server');
      expect(await call<Check>('expectText', id, 'pong:from-server')).toMatchObject({ equal: true });
      expect((await call<Closed>('close', id, 1000, '')).code).toBe(1000);
      const rec = await server.closedConnection('/chromium/ping');
      expect(rec.pongs).toEqual(['from-server']);
    });

    it('closes with 4000 and a reason from the browser', async () => {
      const { id } = await call<Opened>('open', url('/chromium/client-close'));
      expect(await call<Closed>('close', id, 4000, 'browser bye')).toEqual({ code: 4000, reason: 'browser bye', wasClean: true });
      expect((await server.closedConnection('/chromium/client-close')).close).toEqual({ code: 4000, reason: 'browser bye' });
    });

    it.each([
      [1001, 'going away'],
      [4001, 'server bye'],
    ])('is closed by our server with %i', async (code, reason) => {
      const path = `/chromium/server-close-${code}`;
      const { id } = await call<Opened>('open', url(path));
      await call<void>('sendText', id, `cmd:close:${code}:${reason}`);
      expect(await call<Closed>('closed', id)).toEqual({ code, reason, wasClean: true });
      // The browser echoes the code in its close frame (RFC 6455 §5.5.1).
      expect((await server.closedConnection(path)).close?.code).toBe(code);
    });
  });
});
