/**
 * Observability (src/io/diagnostics.ts, docs/diagnostics.md): every diagnostics_channel
 * event with a real connection and its payload, NODE_DEBUG=wscore logging (in a child
 * process: Node reads NODE_DEBUG at startup), WebSocketServer#stats() and `wscore serve
 * --stats`.
 */
import { spawnSync } from 'node:child_process';
import * as dc from 'node:diagnostics_channel';
import { once } from 'node:events';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import { serveCommand } from '../../src/cli';
import { WebSocket, WebSocketServer, diagnosticsChannels, type CloseDiagnostic, type FrameDiagnostic, type OpenDiagnostic } from '../../src';
import { cleanup, closeEvent, nextMessage, openClient, rawClient, startServer, track } from './helpers';

/** Subscriptions made by a test, removed after it. */
const subscriptions: Array<[string, (message: unknown) => void]> = [];

afterEach(async () => {
  for (const [name, fn] of subscriptions.splice(0)) dc.unsubscribe(name, fn);
  await cleanup();
});

/** Records every message published on `name` (frame payloads copied: they are views). */
function record<T>(name: string): T[] {
  const seen: T[] = [];
  const fn = (message: unknown): void => {
    const m = message as T & { payload?: Uint8Array };
    seen.push(m.payload instanceof Uint8Array ? ({ ...m, payload: Buffer.from(m.payload) } as T) : m);
  };
  dc.subscribe(name, fn);
  subscriptions.push([name, fn]);
  return seen;
}

/** A connected pair: the client and the server's side of it. */
async function pair(options: ConstructorParameters<typeof WebSocketServer>[0] = {}, protocols?: string[]) {
  const { wss, url } = await startServer(options);
  const serverSide = once(wss, 'connection');
  const client = await openClient(`${url}/chat`, protocols);
  const [server] = (await serverSide) as [WebSocket];
  return { wss, url, client, server };
}

describe('diagnostics_channel events', () => {
  it('names its channels once, in one module', () => {
    expect(Object.values(diagnosticsChannels).map((c) => c.name)).toEqual([
      'wscore:server:upgrade',
      'wscore:server:reject',
      'wscore:open',
      'wscore:frame:received',
      'wscore:frame:sent',
      'wscore:error',
      'wscore:close',
    ]);
  });

  it('wscore:server:upgrade: the server, the request and its socket', async () => {
    const upgrades = record<{ server: unknown; request: { url: string }; socket: unknown }>('wscore:server:upgrade');
    const { wss } = await pair();
    expect(upgrades).toHaveLength(1);
    expect(upgrades[0]!.server).toBe(wss);
    expect(upgrades[0]!.request.url).toBe('/chat');
    expect(upgrades[0]!.socket).toBeDefined();
  });

  it('wscore:server:reject: the status and message of a refused handshake', async () => {
    const rejects = record<{ statusCode: number; message: string; socket: unknown }>('wscore:server:reject');
    const { wss, url } = await startServer({ verifyClient: () => false });
    const ws = track(new WebSocket(url));
    ws.on('error', () => undefined);
    await closeEvent(ws);
    expect(rejects.map((r) => [r.statusCode, r.message])).toEqual([[401, 'Unauthorized']]);
    expect(wss.stats().rejected).toBe(1);
  });

  it('wscore:open: both sides, with the subprotocol and extensions', async () => {
    const opens = record<OpenDiagnostic>('wscore:open');
    const { client, server } = await pair({ perMessageDeflate: true }, ['chat']);
    const bySide = new Map(opens.map((o) => [o.isServer, o]));
    expect(opens).toHaveLength(2);
    expect(bySide.get(true)!.websocket).toBe(server);
    expect(bySide.get(false)!.websocket).toBe(client);
    for (const o of opens) {
      expect(o.protocol).toBe('chat');
      expect(o.extensions).toContain('permessage-deflate');
    }
  });

  it('wscore:frame:received and wscore:frame:sent: every frame both ways, payloads unmasked', async () => {
    const received = record<FrameDiagnostic>('wscore:frame:received');
    const sent = record<FrameDiagnostic>('wscore:frame:sent');
    const { client, server } = await pair();
    server.on('message', (data, isBinary) => server.send(data as Buffer, { binary: isBinary }));
    client.send('hello');
    await nextMessage(client);
    client.ping('p');
    await once(client, 'pong');
    const brief = (f: FrameDiagnostic) => [f.websocket === client ? 'client' : 'server', f.opcode, f.fin, f.rsv, Buffer.from(f.payload).toString()];
    expect(sent.map(brief)).toEqual([
      ['client', 1, true, 0, 'hello'],
      ['server', 1, true, 0, 'hello'],
      ['client', 9, true, 0, 'p'],
      ['server', 10, true, 0, 'p'],
    ]);
    expect(received.map(brief)).toEqual([
      ['server', 1, true, 0, 'hello'],
      ['client', 1, true, 0, 'hello'],
      ['server', 9, true, 0, 'p'],
      ['client', 10, true, 0, 'p'],
    ]);
  });

  it('frame events show compressed frames (RSV1) as they travel, fragments, and broadcasts', async () => {
    const sent = record<FrameDiagnostic>('wscore:frame:sent');
    const received = record<FrameDiagnostic>('wscore:frame:received');
    const { wss, client, server } = await pair({ perMessageDeflate: { threshold: 0 } });
    const text = 'a'.repeat(2000);
    client.send(text);
    await nextMessage(server);
    const compressed = sent.find((f) => f.websocket === client)!;
    expect([compressed.opcode, compressed.rsv]).toEqual([1, 4]);
    expect(compressed.payload.length).toBeLessThan(2000);
    expect(received.find((f) => f.websocket === server)!.rsv).toBe(4);

    sent.length = 0;
    client.send('ab', { fin: false });
    client.send('cd');
    expect((await nextMessage(server))[0].toString()).toBe('abcd');
    expect(sent.map((f) => [f.opcode, f.fin])).toEqual([[1, false], [0, true]]);

    sent.length = 0;
    wss.broadcast('to all', { compress: false });
    expect((await nextMessage(client))[0].toString()).toBe('to all');
    expect(sent.map((f) => [f.websocket === server, f.opcode, Buffer.from(f.payload).toString()])).toEqual([[true, 1, 'to all']]);
  });

  it('wscore:error: the connection and the error', async () => {
    const errors = record<{ websocket: unknown; error: Error }>('wscore:error');
    const { server, client } = await pair();
    server.on('error', () => undefined);
    const closed = closeEvent(client);
    // Invalid UTF-8 in a text message (RFC 6455 §8.1): the server fails the connection (1007).
    client.sendFrame(new (await import('../../src')).Frame(1, Buffer.from([0xff])), { check: false });
    expect((await closed)[0]).toBe(1007);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.websocket).toBe(server);
    expect(errors[0]!.error.message).toMatch(/UTF-8/);
  });

  it('wscore:close: both sides, code, reason and wasClean', async () => {
    const closes = record<CloseDiagnostic>('wscore:close');
    const { client, server } = await pair();
    const done = Promise.all([once(client, 'close'), once(server, 'close')]);
    client.close(4001, 'done');
    await done;
    expect(closes.map((c) => [c.websocket === client ? 'client' : 'server', c.code, c.reason, c.wasClean]).sort()).toEqual([
      ['client', 4001, 'done', true],
      ['server', 4001, 'done', true],
    ]);
  });

  it('publishes nothing once unsubscribed', async () => {
    const sent = record<FrameDiagnostic>('wscore:frame:sent');
    for (const [name, fn] of subscriptions.splice(0)) dc.unsubscribe(name, fn);
    expect(diagnosticsChannels.frameSent.hasSubscribers).toBe(false);
    const { client, server } = await pair();
    client.send('x');
    await nextMessage(server);
    expect(sent).toEqual([]);
  });
});

describe('WebSocketServer#stats()', () => {
  it('counts connections, messages and bytes both ways', async () => {
    const { wss, url } = await startServer();
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
    expect(wss.stats()).toEqual({ connections: 0, handshakes: 0, accepted: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, drops: 0, rejected: 0, pendingBytes: 0 });
    const a = await openClient(url);
    const b = await openClient(url);
    a.send('12345');
    await nextMessage(a);
    b.send(Buffer.alloc(200), { fin: false });
    b.send(Buffer.alloc(100));
    await nextMessage(b);
    const s = wss.stats();
    expect([s.connections, s.accepted, s.messagesIn, s.messagesOut]).toEqual([2, 2, 2, 2]);
    // Frames as read: 5 + 200 + 100 payload bytes, masked headers 6 + 8 + 6 (RFC 6455 §5.2).
    expect(s.bytesIn).toBe(305 + 20);
    // Frames as written (2 + 5, 4 + 300) and the two 101 responses.
    expect(s.bytesOut).toBeGreaterThan(2 + 5 + 4 + 300);
    const closed = Promise.all([once(a, 'close'), once(b, 'close')]);
    a.close();
    b.close();
    await closed;
    await new Promise((resolve) => setImmediate(resolve));
    expect(wss.stats().connections).toBe(0);
  });

  it('counts drops (maxBufferedAmount) and shows the pending bytes before', async () => {
    const { wss, client, server } = await pair({ maxBufferedAmount: 1 << 20 });
    client.pause();
    server.on('error', () => undefined);
    const closed = closeEvent(server);
    const chunk = Buffer.alloc(256 * 1024);
    let pending = 0;
    for (let i = 0; i < 400 && server.readyState === WebSocket.OPEN; i++) {
      server.send(chunk);
      if (server.readyState === WebSocket.OPEN) pending = Math.max(pending, wss.stats().pendingBytes);
      if (i % 8 === 7) await new Promise((r) => setImmediate(r));
    }
    expect((await closed)[0]).toBe(1008);
    expect(pending).toBeGreaterThan(0);
    expect(wss.stats().drops).toBe(1);
  });

  it('counts handshakes in progress', async () => {
    const { wss, port } = await startServer({ verifyClient: (_info, cb) => setTimeout(() => cb(true), 50) });
    const pendingClient = rawClient(port);
    await new Promise<void>((resolve) => {
      const poll = (): void => (wss.stats().handshakes === 1 ? resolve() : void setTimeout(poll, 5));
      poll();
    });
    await pendingClient;
    expect(wss.stats().connections).toBe(1);
  });

  it('`wscore serve --stats` prints the counters every second', async () => {
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (d: Buffer) => (text += d.toString()));
    const io = { stdin: new PassThrough(), stdout, stderr: new PassThrough(), setExitCode: () => undefined };
    const wss = track(await serveCommand(['--port', '0', '--stats'], io));
    const ws = await openClient(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    ws.send('hi');
    await nextMessage(ws);
    await new Promise<void>((resolve) => stdout.on('data', () => text.includes('messagesIn=1') && resolve()));
    expect(text).toMatch(/^stats connections=1 handshakes=0 accepted=1 messagesIn=1 messagesOut=1 bytesIn=\d+ bytesOut=\d+ drops=0 rejected=0 pendingBytes=\d+$/m);
  });
});

describe('NODE_DEBUG=wscore', () => {
  it('logs handshakes, refusals, closes and errors to stderr', async () => {
    const esbuild = await import('esbuild');
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'wscore-debug-'));
    const script = path.join(dir, 'app.ts');
    fs.writeFileSync(
      script,
      `import { WebSocket, WebSocketServer } from ${JSON.stringify(path.resolve(__dirname, '../../src'))};
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', verifyClient: (info) => info.req.url !== '/no' }, () => {
  const base = 'ws://127.0.0.1:' + wss.address().port;
  const refused = new WebSocket(base + '/no');
  refused.on('error', () => undefined);
  refused.on('close', () => {
    const ws = new WebSocket(base + '/yes');
    ws.on('open', () => ws.close(1000, 'bye'));
    ws.on('close', () => wss.close());
  });
});
`,
    );
    const bundle = path.join(dir, 'app.js');
    await esbuild.build({ entryPoints: [script], bundle: true, platform: 'node', outfile: bundle, logLevel: 'silent' });
    const r = spawnSync(process.execPath, [bundle], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, NODE_DEBUG: 'wscore', WSCORE_BACKEND: 'js' } });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('WSCORE'));
    const text = lines.map((l) => l.replace(/^WSCORE \d+: /, '')).join('\n');
    expect(text).toContain('server upgrade GET /no from 127.0.0.1');
    expect(text).toContain('handshake refused: 401 Unauthorized');
    expect(text).toMatch(/error \(client\): .*401/);
    expect(text).toContain('server upgrade GET /yes from 127.0.0.1');
    expect(text).toContain('open (server) protocol="" extensions=""');
    expect(text).toContain('open (client)');
    expect(text).toContain('close (client) code=1000 reason="bye" clean=true');
    expect(text).toContain('close (server) code=1000 reason="bye" clean=true');
  }, 60_000);
});
