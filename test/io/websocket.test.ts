import { once } from 'node:events';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { LocalProtocolError } from '../../src/errors';
import { CloseEvent, ConnectError, MessageEvent, NotOpenError, WebSocket } from '../../src/io';
import { cleanup, closeEvent, nextMessage, openClient, parseServerFrames, rawServer, startServer } from './helpers';

afterEach(cleanup);

/** An echo server and a client connected to it; `server` is the server-side socket. */
async function pair(serverOptions = {}, clientOptions = {}): Promise<{ client: WebSocket; server: WebSocket; url: string }> {
  const { wss, url } = await startServer(serverOptions);
  const serverSide = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = await openClient(url, undefined, clientOptions);
  const [server] = await serverSide;
  return { client, server, url };
}

describe('WebSocket basics', () => {
  it('has ws readyState constants, static and on instances', async () => {
    expect([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED]).toEqual([0, 1, 2, 3]);
    const { client, server } = await pair();
    expect([client.CONNECTING, client.OPEN, client.CLOSING, client.CLOSED]).toEqual([0, 1, 2, 3]);
    expect(client.readyState).toBe(WebSocket.OPEN);
    expect(server.readyState).toBe(WebSocket.OPEN);
    expect(client.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/);
    expect(client.protocol).toBe('');
    expect(client.extensions).toBe('');
    expect(client.bufferedAmount).toBe(0);
  });

  it('throws on send while CONNECTING and reports sends after close to the callback', async () => {
    const { url } = await startServer();
    const ws = new WebSocket(url);
    expect(() => ws.send('x')).toThrow(LocalProtocolError);
    await once(ws, 'open');
    ws.close();
    const err = await new Promise<Error | undefined>((resolve) => ws.send('late', resolve));
    // ws's message, as a typed error.
    expect(err).toBeInstanceOf(NotOpenError);
    expect([(err as NotOpenError).code, (err as NotOpenError).readyState, err!.message]).toEqual(['WS_ERR_NOT_OPEN', 2, 'WebSocket is not open: readyState 2 (CLOSING)']);
    await once(ws, 'close');
    const after = await new Promise<Error | undefined>((resolve) => ws.ping('p', undefined, resolve));
    expect([after instanceof NotOpenError, (after as NotOpenError).readyState]).toEqual([true, 3]);
  });

  it('close() or terminate() while CONNECTING reports a typed ConnectError (WS_ERR_ABORTED)', async () => {
    const { url } = await startServer();
    for (const end of ['close', 'terminate'] as const) {
      const ws = new WebSocket(url);
      const failed = once(ws, 'error') as Promise<[Error]>;
      ws[end]();
      const [err] = await failed;
      expect(err).toBeInstanceOf(ConnectError);
      expect([(err as ConnectError).code, (err as ConnectError).url, err.message]).toEqual(['WS_ERR_ABORTED', `${url}/`, 'WebSocket was closed before the connection was established']);
      if (ws.readyState !== WebSocket.CLOSED) await once(ws, 'close');
    }
  });

  it('fires the send callback once the data is written', async () => {
    const { client, server } = await pair();
    const got = nextMessage(server);
    const err = await new Promise<Error | undefined>((resolve) => client.send('hi', resolve));
    expect(err).toBeUndefined();
    expect((await got)[0].toString()).toBe('hi');
  });

  it('sends numbers, ArrayBuffers and typed arrays like ws', async () => {
    const { client, server } = await pair();
    const received: Array<[string, boolean]> = [];
    server.on('message', (data, isBinary) => received.push([(data as Buffer).toString('hex'), isBinary]));
    client.send(42);
    client.send(new Uint8Array([1, 2]).buffer);
    client.send(new Uint16Array([0x0403]));
    client.send(Buffer.from('text'), { binary: false });
    await new Promise<void>((resolve) => server.on('message', () => received.length === 4 && resolve()));
    expect(received).toEqual([
      [Buffer.from('42').toString('hex'), false],
      ['0102', true],
      ['0304', true],
      [Buffer.from('text').toString('hex'), false],
    ]);
  });

  it('masks and frames every payload size correctly, text and binary, both directions', async () => {
    const { client, server } = await pair();
    server.on('message', (data, isBinary) => server.send(data as Buffer, { binary: isBinary }));
    const sizes = [0, 1, 3, 4, 5, 63, 64, 65, 125, 126, 127, 1000, 4095, 4096, 4097, 65535, 65536, 70_000];
    for (const size of sizes) {
      const bin = Buffer.alloc(size);
      for (let i = 0; i < size; i++) bin[i] = (i * 7 + size) & 0xff;
      client.send(bin);
      const [echo, isBinary] = await nextMessage(client);
      expect(isBinary).toBe(true);
      expect(echo.equals(bin)).toBe(true);
      const text = 'é'.repeat(size >> 1) + 'a'.repeat(size & 1);
      client.send(text);
      const [echoText, isBinary2] = await nextMessage(client);
      expect(isBinary2).toBe(false);
      expect(echoText.toString()).toBe(text);
    }
  });

  it('assembles a message sent in fragments (fin: false)', async () => {
    const { client, server } = await pair();
    const got = nextMessage(server);
    client.send('Hel', { fin: false });
    client.send('lo, ', { fin: false });
    client.send('world');
    const [data, isBinary] = await got;
    expect(data.toString()).toBe('Hello, world');
    expect(isBinary).toBe(false);
  });

  it('delivers binary messages per binaryType', async () => {
    const { client, server } = await pair();
    client.binaryType = 'arraybuffer';
    let got = nextMessage(client);
    server.send(Buffer.from([9, 8, 7]));
    let [data] = await got;
    expect(data).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(data as unknown as ArrayBuffer)]).toEqual([9, 8, 7]);
    client.binaryType = 'fragments';
    got = nextMessage(client);
    server.send(Buffer.from([1]), { fin: false });
    server.send(Buffer.from([2]));
    [data] = await got;
    expect(Array.isArray(data)).toBe(true);
    expect(Buffer.concat(data as unknown as Buffer[])).toEqual(Buffer.from([1, 2]));
    client.binaryType = 'nodebuffer';
    expect(client.binaryType).toBe('nodebuffer');
  });

  it('supports WHATWG listeners and on* properties', async () => {
    const { url, wss } = await startServer();
    wss.on('connection', (ws) => {
      ws.send('text');
      ws.send(Buffer.from([1]));
      ws.close(4001, 'done');
    });
    const ws = new WebSocket(url);
    const events: string[] = [];
    ws.onopen = () => events.push('open');
    const listener = (e: MessageEvent): void => {
      events.push(`message:${typeof e.data === 'string' ? e.data : 'binary'}`);
    };
    ws.addEventListener('message', listener);
    ws.addEventListener('message', listener); // a duplicate is ignored (DOM rule)
    ws.addEventListener('message', { handleEvent: () => events.push('handleEvent') }, { once: true });
    const closed = new Promise<CloseEvent>((resolve) => {
      ws.onclose = resolve;
    });
    expect(typeof ws.onopen).toBe('function');
    const event = await closed;
    expect(event.code).toBe(4001);
    expect(event.reason).toBe('done');
    expect(event.wasClean).toBe(true);
    expect(event.target).toBe(ws);
    expect(events).toEqual(['open', 'message:text', 'handleEvent', 'message:binary']);
    ws.removeEventListener('message', listener);
    ws.onopen = null;
    expect(ws.onopen).toBeNull();
    expect(ws.listenerCount('message')).toBe(0);
  });

  it('sends pings and pongs with payloads and answers pings automatically', async () => {
    const { client, server } = await pair();
    const ping = once(server, 'ping');
    const pong = once(client, 'pong');
    client.ping('abc');
    expect(((await ping)[0] as Buffer).toString()).toBe('abc');
    expect(((await pong)[0] as Buffer).toString()).toBe('abc');
    const unsolicited = once(client, 'pong');
    server.pong(Buffer.from('x'));
    expect(((await unsolicited)[0] as Buffer).toString()).toBe('x');
    expect(() => client.ping(Buffer.alloc(126))).toThrow(RangeError);
  });

  it('validates close codes and reasons', async () => {
    const { client } = await pair();
    expect(() => client.close(1005)).toThrow(LocalProtocolError);
    expect(() => client.close(999)).toThrow(LocalProtocolError);
    expect(() => client.close(1000, 'x'.repeat(124))).toThrow(LocalProtocolError);
    expect(client.readyState).toBe(WebSocket.OPEN);
  });

  it('reports 1005 when closed without a code, and the code and reason otherwise', async () => {
    let { client, server } = await pair();
    let serverClosed = closeEvent(server);
    client.close();
    expect(await serverClosed).toEqual([1005, '']);
    expect(await closeEvent(client).catch(() => null)).toBeDefined();
    ({ client, server } = await pair());
    serverClosed = closeEvent(server);
    const clientClosed = closeEvent(client);
    server.close(4000, 'custom');
    expect(await clientClosed).toEqual([4000, 'custom']);
    expect(await serverClosed).toEqual([4000, 'custom']);
  });

  it('terminate() ends both sides with 1006', async () => {
    const { client, server } = await pair();
    const serverClosed = closeEvent(server);
    const clientClosed = closeEvent(client);
    client.terminate();
    expect((await clientClosed)[0]).toBe(1006);
    expect((await serverClosed)[0]).toBe(1006);
  });

  it('flushes messages sent before close() ahead of the close frame', async () => {
    const { client, server } = await pair();
    const received: string[] = [];
    server.on('message', (data) => received.push((data as Buffer).toString()));
    for (let i = 0; i < 200; i++) client.send(String(i));
    client.close(1000);
    await closeEvent(server);
    expect(received).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });

  it('still delivers peer messages after close() until the peer close frame', async () => {
    const { client, server } = await pair();
    const received: string[] = [];
    client.on('message', (data) => received.push((data as Buffer).toString()));
    // The server sends before it sees the client's close frame: those arrive (§7.1.2).
    server.on('message', () => undefined);
    server.send('a');
    server.send('b');
    client.close();
    await closeEvent(client);
    expect(received).toEqual(['a', 'b']);
  });

  it('resolves `closed` with the code and reason', async () => {
    const { client, server } = await pair();
    server.close(1001, 'bye');
    await expect(client.closed).resolves.toEqual({ code: 1001, reason: 'bye' });
    await expect(client.closed).resolves.toEqual({ code: 1001, reason: 'bye' });
  });

  it('iterates messages with for await and ends on a normal closure', async () => {
    const { client, server } = await pair();
    const got: Array<string | Buffer> = [];
    const loop = (async () => {
      for await (const msg of server) got.push(msg);
    })();
    client.send('one');
    client.send(Buffer.from([2]));
    await new Promise((r) => setTimeout(r, 20));
    client.close(1000);
    await loop;
    expect(got).toEqual(['one', Buffer.from([2])]);
    await expect(server.recv()).rejects.toMatchObject({ code: 1000 });
  });

  it('pause() and resume() hold messages back', async () => {
    const { client, server } = await pair();
    server.pause();
    expect(server.isPaused).toBe(true);
    const received: string[] = [];
    server.on('message', (d) => received.push((d as Buffer).toString()));
    client.send('held');
    await new Promise((r) => setTimeout(r, 30));
    expect(received).toEqual([]);
    const got = nextMessage(server);
    server.resume();
    expect((await got)[0].toString()).toBe('held');
  });
});

describe('backpressure and limits', () => {
  it('send() returns false past highWaterMark and emits drain', async () => {
    const { client } = await pair({}, { highWaterMark: 1024 });
    const big = Buffer.alloc(64 * 1024);
    let ok = true;
    for (let i = 0; i < 8 && ok; i++) ok = client.send(big);
    expect(ok).toBe(false);
    expect(client.bufferedAmount).toBeGreaterThanOrEqual(1024);
    await once(client, 'drain');
    expect(client.bufferedAmount).toBeLessThan(1024);
  });

  it('closes a connection whose peer does not read once maxBufferedAmount is passed (1008)', async () => {
    const { client, server } = await pair({ maxBufferedAmount: 1 << 20 });
    client.pause(); // the peer stops reading: the kernel buffers fill, then ours
    const closed = closeEvent(server);
    const chunk = Buffer.alloc(256 * 1024);
    const errors: Error[] = [];
    server.on('error', (e) => errors.push(e));
    for (let i = 0; i < 400 && server.readyState === WebSocket.OPEN; i++) {
      server.send(chunk);
      if (i % 8 === 7) await new Promise((r) => setImmediate(r));
    }
    const [code] = await closed;
    expect(code).toBe(1008);
    expect(errors[0]?.message).toMatch(/maxBufferedAmount/);
  });

  it('closes with 1009 when a message exceeds maxPayload', async () => {
    const { client, server } = await pair({ maxPayload: 1000 });
    const closed = closeEvent(client);
    server.on('error', () => undefined);
    client.send(Buffer.alloc(1001));
    expect((await closed)[0]).toBe(1009);
  });
});

describe('closing handshake timeouts', () => {
  it('destroys the socket when the peer never answers the close frame (1006)', async () => {
    const { url } = await rawServer(() => undefined); // reads nothing, answers nothing
    const ws = await openClient(url, undefined, { closeTimeout: 100, perMessageDeflate: false });
    const started = Date.now();
    const closed = closeEvent(ws);
    ws.close(1000);
    expect((await closed)[0]).toBe(1006);
    expect(Date.now() - started).toBeGreaterThanOrEqual(80);
  });

  it('gives up on a server that answers the close frame but keeps TCP open', async () => {
    const { url } = await rawServer((socket) => {
      let buf = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        // A masked client close frame: 0x88, 0x82, key, 2 payload bytes.
        if (buf.length >= 8 && buf[0] === 0x88) socket.write(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
      });
    });
    const ws = await openClient(url, undefined, { closeTimeout: 100, perMessageDeflate: false });
    const closed = closeEvent(ws);
    ws.close(1000);
    // The closing handshake completed, so the code is the server's, not 1006.
    expect((await closed)[0]).toBe(1000);
  });

  it("parses a server's frames from a raw peer", async () => {
    expect(parseServerFrames(Buffer.from([0x81, 0x01, 0x61]))).toEqual([{ opcode: 1, fin: true, payload: Buffer.from('a') }]);
  });
});

describe('heartbeat', () => {
  it('keeps a responsive peer and terminates one that does not answer pings', async () => {
    const { wss, url } = await startServer({ heartbeat: { interval: 30, timeout: 40 } });
    let pings = 0;
    const good = await openClient(url);
    good.on('ping', () => pings++);
    const silent = await openClient(url, undefined, { autoPong: false });
    const silentClosed = closeEvent(silent);
    const [code] = await silentClosed;
    expect(code).toBe(1006);
    expect(good.readyState).toBe(WebSocket.OPEN);
    expect(pings).toBeGreaterThanOrEqual(1);
    // The server's side closes in the same loop turn as the client's: wait for it.
    await vi.waitFor(() => expect(wss.clients!.size).toBe(1));
  });
});
