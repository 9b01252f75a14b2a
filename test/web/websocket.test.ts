/**
 * wscore/web against a wscore server: the WebSockets Standard's behaviour as
 * web-platform-tests (websockets/) checks it, cases written here from the standard:
 * constructor exceptions, close() argument checks, event order, binaryType, close codes and
 * wasClean, bufferedAmount, sends after close, messages after close().
 */
import { once } from 'node:events';
import * as net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { WebSocket as NodeWebSocket } from '../../src/io';
import { CloseEvent, ErrorEvent, MessageEvent, WebSocket } from '../../src/web';
import { cleanup, rawServer, startServer, track } from '../io/helpers';

afterEach(cleanup);

/** Every event of `ws` as `type` strings, until close. */
function recordEvents(ws: WebSocket): { log: string[]; events: Event[]; closed: Promise<CloseEvent> } {
  const log: string[] = [];
  const events: Event[] = [];
  for (const type of ['open', 'message', 'error', 'close']) {
    ws.addEventListener(type, (e) => {
      events.push(e);
      log.push(type === 'message' ? `message:${String((e as MessageEvent).data)}` : type);
    });
  }
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener('close', (e) => resolve(e as CloseEvent)));
  return { log, events, closed };
}

function client(url: string | URL, protocols?: string | string[]): WebSocket {
  return track(new WebSocket(url, protocols));
}

function opened(ws: WebSocket): Promise<Event> {
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('close', () => reject(new Error('closed before open')), { once: true });
  });
}

function nextMessage(ws: WebSocket): Promise<MessageEvent> {
  return new Promise((resolve) => ws.addEventListener('message', (e) => resolve(e as MessageEvent), { once: true }));
}

function expectDOMException(fn: () => unknown, name: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DOMException);
  expect((caught as DOMException).name).toBe(name);
}

/** An echo server (text as text, binary as binary). */
async function echoServer(options: Parameters<typeof startServer>[0] = {}) {
  const s = await startServer(options);
  s.wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  return s;
}

describe('constructor (WebSockets Standard §3.1)', () => {
  it('needs a URL argument (TypeError)', () => {
    expect(() => new (WebSocket as unknown as new () => WebSocket)()).toThrow(TypeError);
  });

  it.each([
    ['a relative URL', '/echo'],
    ['an unparsable URL', 'ws://'],
    ['a scheme other than ws/wss/http/https', 'ftp://127.0.0.1/'],
    ['a fragment', 'ws://127.0.0.1/#frag'],
    ['an empty fragment', 'ws://127.0.0.1/#'],
  ])('throws a SyntaxError DOMException for %s', (_what, url) => {
    expectDOMException(() => new WebSocket(url), 'SyntaxError');
  });

  it.each([
    ['an empty string', ''],
    ['a separator', 'a b'],
    ['a slash', '/echo'],
    ['a non-ASCII character', '\u0080echo'],
    ['a repeated value', ['echo', 'echo']],
    ['a value repeated in another case', ['echo', 'ECHO']],
  ])('throws a SyntaxError DOMException for a subprotocol with %s', (_what, protocols) => {
    expectDOMException(() => new WebSocket('ws://127.0.0.1:1/', protocols), 'SyntaxError');
  });

  it('turns http: and https: into ws: and wss:, and reports the URL it uses', async () => {
    const { url, port } = await echoServer();
    expect(new URL(client('https://example.invalid:1/').url).protocol).toBe('wss:');
    const ws = client(`http://127.0.0.1:${port}/path?q=1`);
    expect(ws.url).toBe(`ws://127.0.0.1:${port}/path?q=1`);
    await opened(ws);
    expect(url.startsWith('ws:')).toBe(true);
  });

  it('has the ready-state constants on the class and on instances, and starts CONNECTING', async () => {
    const { url } = await echoServer();
    const ws = client(url);
    expect([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED]).toEqual([0, 1, 2, 3]);
    expect([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED]).toEqual([0, 1, 2, 3]);
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    expect(ws).toBeInstanceOf(EventTarget);
    expect(Object.prototype.toString.call(ws)).toBe('[object WebSocket]');
    expect([ws.binaryType, ws.bufferedAmount, ws.protocol, ws.extensions]).toEqual(['blob', 0, '', '']);
    await opened(ws);
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('throws InvalidStateError for send() while CONNECTING', async () => {
    const { url } = await echoServer();
    const ws = client(url);
    expectDOMException(() => ws.send('x'), 'InvalidStateError');
    expect(ws.bufferedAmount).toBe(0);
  });

  it('offers the subprotocols and reports the chosen one and the extensions', async () => {
    const { url } = await echoServer({ perMessageDeflate: true, handleProtocols: (set) => (set.has('chat') ? 'chat' : false) });
    const ws = client(url, ['superchat', 'chat']);
    await opened(ws);
    expect(ws.protocol).toBe('chat');
    expect(ws.extensions).toContain('permessage-deflate');
  });
});

describe('close() arguments (§3.2)', () => {
  it.each([[0], [999], [1001], [1005], [2999], [5000], [-1], [65536 + 1000]])('throws InvalidAccessError for code %d', async (code) => {
    const { url } = await echoServer();
    const ws = client(url);
    expectDOMException(() => ws.close(code), 'InvalidAccessError');
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
  });

  it('throws SyntaxError for a reason longer than 123 bytes of UTF-8, before looking at the state', async () => {
    const { url } = await echoServer();
    const ws = client(url);
    expectDOMException(() => ws.close(1000, 'x'.repeat(124)), 'SyntaxError');
    // 62 two-byte characters: 124 bytes for 62 characters.
    expectDOMException(() => ws.close(3000, 'é'.repeat(62)), 'SyntaxError');
    await opened(ws);
    expectDOMException(() => ws.close(1000, 'x'.repeat(124)), 'SyntaxError');
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('clamps the code as WebIDL [Clamp] unsigned short does (1000.4 is 1000)', async () => {
    const { wss, url } = await echoServer();
    const server = once(wss, 'connection');
    const ws = client(url);
    const { closed } = recordEvents(ws);
    await opened(ws);
    const [peer] = (await server) as [NodeWebSocket];
    const peerClosed = once(peer, 'close');
    ws.close(1000.4, 'x'.repeat(123));
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    const [code, reason] = (await peerClosed) as [number, Buffer];
    expect([code, reason.toString()]).toEqual([1000, 'x'.repeat(123)]);
    expect((await closed).code).toBe(1000);
  });
});

describe('send() and close() details', () => {
  it('send() needs an argument; a lone surrogate is sent (and counted) as U+FFFD', async () => {
    const { wss, url } = await startServer();
    const got = new Promise<Buffer>((resolve) => wss.on('connection', (peer) => peer.on('message', (d) => resolve(d as Buffer))));
    const ws = client(url);
    await opened(ws);
    expect(() => (ws as unknown as { send(): void }).send()).toThrow(TypeError);
    ws.send('\uD800');
    expect(ws.bufferedAmount).toBe(3);
    expect([...(await got)]).toEqual([0xef, 0xbf, 0xbd]);
  });

  it('close() with a reason and no code sends 1000; a second close() changes nothing', async () => {
    const { wss, url } = await echoServer();
    const server = once(wss, 'connection');
    const ws = client(url);
    const { log, closed } = recordEvents(ws);
    await opened(ws);
    const [peer] = (await server) as [NodeWebSocket];
    const peerClosed = once(peer, 'close');
    ws.close(undefined, 'only a reason');
    ws.close(3000, 'again');
    const [code, reason] = (await peerClosed) as [number, Buffer];
    expect([code, reason.toString()]).toEqual([1000, 'only a reason']);
    const e = await closed;
    expect([e.code, e.reason, e.wasClean]).toEqual([1000, 'only a reason', true]);
    ws.close();
    expect(log).toEqual(['open', 'close']);
  });
});

describe('events', () => {
  it('fires open, message, close in order to listeners and on* handlers, handlers keeping their place', async () => {
    const { url } = await echoServer();
    const ws = client(url);
    const order: string[] = [];
    ws.addEventListener('message', () => order.push('listener-1'));
    ws.onmessage = () => order.push('replaced');
    ws.addEventListener('message', () => order.push('listener-2'));
    // Changing the handler keeps the position of the first one.
    ws.onmessage = function (this: WebSocket, e) {
      order.push(`onmessage:${String(e.data)}:${this === ws}`);
    };
    ws.onopen = (e) => {
      order.push(`onopen:${e.type}`);
      ws.send('hi');
    };
    let closeEvent: CloseEvent | null = null;
    ws.onclose = (e) => {
      closeEvent = e;
      order.push('onclose');
    };
    ws.onerror = () => order.push('onerror');
    expect(typeof ws.onmessage).toBe('function');
    const closed = new Promise((resolve) => ws.addEventListener('close', resolve));
    await nextMessage(ws);
    ws.close();
    await closed;
    expect(order).toEqual(['onopen:open', 'listener-1', 'onmessage:hi:true', 'listener-2', 'onclose']);
    expect(closeEvent).toBeInstanceOf(CloseEvent);
  });

  it('null removes an on* handler', async () => {
    const { url } = await echoServer();
    const ws = client(url);
    let calls = 0;
    ws.onopen = () => calls++;
    ws.onopen = null;
    expect(ws.onopen).toBe(null);
    ws.onopen = () => calls++;
    (ws as unknown as { onopen: unknown }).onopen = { not: 'a function' };
    expect(ws.onopen).toBe(null);
    const done = opened(ws);
    await done;
    expect(calls).toBe(0);
  });

  it('delivers text as a string, with the origin of the URL', async () => {
    const { url, port } = await echoServer();
    const ws = client(url);
    await opened(ws);
    ws.send('héllo');
    const e = await nextMessage(ws);
    expect(e).toBeInstanceOf(MessageEvent);
    expect(e.data).toBe('héllo');
    expect(e.origin).toBe(`ws://127.0.0.1:${port}`);
  });

  it('does not deliver a message that arrives once close() was called (the peer sent it first)', async () => {
    const { wss, url } = await startServer();
    // The 101 and this message leave in one write: it is read right after 'open'.
    wss.on('connection', (peer) => peer.send('early'));
    const ws = client(url);
    const { log, closed } = recordEvents(ws);
    ws.onopen = () => ws.close();
    const e = await closed;
    expect(log).toEqual(['open', 'close']);
    expect([e.code, e.wasClean]).toEqual([1005, true]);
  });
});

describe('binaryType (§3.3)', () => {
  it("is 'blob' by default, 'arraybuffer' when set, and ignores other values", async () => {
    const { url } = await echoServer();
    const ws = client(url);
    await opened(ws);
    ws.send(new Uint8Array([1, 2, 3]));
    const blob = (await nextMessage(ws)).data as Blob;
    expect(blob).toBeInstanceOf(Blob);
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual([1, 2, 3]);

    ws.binaryType = 'arraybuffer';
    (ws as { binaryType: string }).binaryType = 'nodebuffer';
    expect(ws.binaryType).toBe('arraybuffer');
    ws.send(new Uint16Array([0x0201, 0x0403]).subarray(1));
    const ab = (await nextMessage(ws)).data as ArrayBuffer;
    expect(ab).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(ab)]).toEqual([3, 4]);

    ws.send(new Blob([new Uint8Array([9, 8])]));
    expect([...new Uint8Array((await nextMessage(ws)).data as ArrayBuffer)]).toEqual([9, 8]);
    ws.send(new Uint8Array([7]).buffer);
    expect([...new Uint8Array((await nextMessage(ws)).data as ArrayBuffer)]).toEqual([7]);
  });
});

describe('close codes and wasClean', () => {
  it('reports the code and reason of the close frame the server echoes (client closes)', async () => {
    const { wss, url } = await echoServer();
    const server = once(wss, 'connection');
    const ws = client(url);
    const { log, closed } = recordEvents(ws);
    await opened(ws);
    const [peer] = (await server) as [NodeWebSocket];
    const peerClosed = once(peer, 'close');
    ws.close(3001, 'bye');
    const e = await closed;
    expect([e.code, e.reason, e.wasClean, ws.readyState]).toEqual([3001, 'bye', true, WebSocket.CLOSED]);
    const [code, reason] = (await peerClosed) as [number, Buffer];
    expect([code, reason.toString()]).toEqual([3001, 'bye']);
    expect(log).toEqual(['open', 'close']);
  });

  it('reports the server-initiated close', async () => {
    const { wss, url } = await startServer();
    wss.on('connection', (peer) => peer.close(4000, 'server says bye'));
    const e = await recordEvents(client(url)).closed;
    expect([e.code, e.reason, e.wasClean]).toEqual([4000, 'server says bye', true]);
  });

  it('reports 1006, not clean and without an error event, when the server drops the TCP connection', async () => {
    const { wss, url } = await startServer();
    wss.on('connection', (peer) => peer.on('message', () => peer.terminate()));
    const ws = client(url);
    const { log, closed } = recordEvents(ws);
    ws.onopen = () => ws.send('drop me');
    const e = await closed;
    expect([e.code, e.reason, e.wasClean]).toEqual([1006, '', false]);
    expect(log).toEqual(['open', 'close']);
  });

  it('fires error then close (1006) when the handshake is refused', async () => {
    const { url } = await startServer({ verifyClient: () => false });
    const ws = client(url);
    const { log, events, closed } = recordEvents(ws);
    const e = await closed;
    expect(log).toEqual(['error', 'close']);
    expect(events[0]).toBeInstanceOf(ErrorEvent);
    expect((events[0] as ErrorEvent).message).toMatch(/401/);
    expect([e.code, e.wasClean, ws.readyState]).toEqual([1006, false, WebSocket.CLOSED]);
  });

  it('fires error then close when nothing listens on the port', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const { log, closed } = recordEvents(client(`ws://127.0.0.1:${port}/`));
    expect((await closed).code).toBe(1006);
    expect(log).toEqual(['error', 'close']);
  });

  it('close() while CONNECTING fails the connection: CLOSING at once, then error and close (1006)', async () => {
    const { url } = await echoServer();
    const ws = client(url);
    const { log, closed } = recordEvents(ws);
    ws.close();
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    const e = await closed;
    expect(log).toEqual(['error', 'close']);
    expect([e.code, e.wasClean]).toEqual([1006, false]);
  });

  it('fires error then close (1006, not clean) when the server breaks the protocol', async () => {
    // An unmasked frame with a reserved opcode (RFC 6455 §5.2): the client fails the connection.
    const { url } = await rawServer((socket) => socket.write(Buffer.from([0x83, 0x00])));
    const ws = client(url);
    const { log, events, closed } = recordEvents(ws);
    const e = await closed;
    expect(log).toEqual(['open', 'error', 'close']);
    expect((events[1] as ErrorEvent).error).toBeInstanceOf(Error);
    expect([e.code, e.wasClean]).toEqual([1006, false]);
  });
});

describe('bufferedAmount (§3.2)', () => {
  it('counts application bytes until they are written, and sends after close forever', async () => {
    const { wss, url } = await echoServer();
    const received: string[] = [];
    wss.on('connection', (peer) => peer.on('message', (d) => received.push(String(d))));
    const ws = client(url);
    await opened(ws);
    ws.send('€uro'); // 6 bytes of UTF-8
    ws.send(new Uint8Array(10));
    expect(ws.bufferedAmount).toBe(16);
    let echoes = 0;
    await new Promise<void>((resolve) => ws.addEventListener('message', () => ++echoes === 2 && resolve()));
    expect(ws.bufferedAmount).toBe(0);
    const { closed } = recordEvents(ws);
    ws.close();
    ws.send('abc');
    ws.send(new Blob(['12345']));
    expect(ws.bufferedAmount).toBe(8);
    await closed;
    ws.send(new ArrayBuffer(2));
    expect(ws.bufferedAmount).toBe(10);
    expect(received).toEqual(['€uro', '\0'.repeat(10)]);
  });
});
