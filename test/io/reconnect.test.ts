/**
 * The reconnecting client: `for await (const ws of connect(url))` and `new WebSocket(url,
 * { reconnect })` against a real wscore server that is killed (every TCP connection
 * destroyed, the listener closed) and restarted on the same port, with tiny backoff values.
 * Which failures are retried (isRetryable), maxRetries, the send buffer, close() while
 * waiting, and the backoff sequence.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import {
  connect,
  ConnectionClosedError,
  ConnectionRefusedError,
  InvalidStatusError,
  isRetryable,
  NotOpenError,
  WebSocket,
  WebSocketServer,
  type ReconnectingInfo,
} from '../../src/io';
import { backoff, reconnectPolicy } from '../../src/io/reconnect-policy';
import { httpConnectProxy } from '../helpers/proxies';
import { cleanup, closeEvent, startServer, track } from './helpers';

afterEach(cleanup);

const FAST = { initialDelay: 1, minDelay: 1, maxDelay: 4, factor: 2 };

/**
 * A wscore server that can be killed and started again on its port. Each connection gets
 * "hello <generation>"; messages are recorded per generation and echoed.
 */
async function restartableServer(options: { verify?: (n: number) => number | true } = {}) {
  let generation = 0;
  let upgrades = 0;
  const received: string[][] = [];
  let current: { server: http.Server; wss: WebSocketServer; sockets: Set<Socket> } | null = null;
  let port = 0;
  const start = async (): Promise<void> => {
    const gen = ++generation;
    received[gen] = [];
    const server = http.createServer();
    const sockets = new Set<Socket>();
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    const wss = new WebSocketServer({
      server,
      verifyClient: (_info, cb) => {
        const verdict = options.verify?.(++upgrades) ?? true;
        if (verdict === true) cb(true);
        else cb(false, verdict);
      },
    });
    wss.on('connection', (ws) => {
      ws.send(`hello ${gen}`);
      ws.on('message', (data) => {
        received[gen]!.push(String(data));
        ws.send(data as Buffer, { binary: false });
      });
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    current = { server, wss, sockets };
  };
  /** As a killed process: connections vanish without a close frame, the port refuses. */
  const kill = async (): Promise<void> => {
    const c = current!;
    current = null;
    for (const s of c.sockets) s.destroy();
    // On the native transport an upgraded connection is no longer one of the http server's
    // sockets (docs/transports.md): it is destroyed through its WebSocket, as abruptly.
    for (const ws of c.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => c.server.close(() => resolve()));
    await c.wss.close();
  };
  await start();
  track({ close: () => (current === null ? undefined : kill()) });
  return { url: () => `ws://127.0.0.1:${port}/`, start, kill, received, generation: () => generation };
}

describe('for await (const ws of connect(url)): reconnecting iterator', () => {
  it('reconnects after the server is killed and restarted on the same port', async () => {
    const server = await restartableServer();
    const log: string[] = [];
    let n = 0;
    const shouldRetry = (err: Error): boolean => {
      log.push(`retry: ${err.name}`);
      // The first refused attempt proves the server is down; bring it back.
      if (server.generation() === 1) void server.start();
      return isRetryable(err);
    };
    for await (const ws of connect(server.url(), { reconnect: { ...FAST, shouldRetry } })) {
      log.push(String(await ws.recv()));
      ws.send(`message ${++n}`);
      log.push(String(await ws.recv()));
      if (n === 2) break;
      await server.kill();
      try {
        for await (const m of ws) log.push(`unexpected ${String(m)}`);
      } catch (err) {
        log.push(`${(err as ConnectionClosedError).name} ${(err as ConnectionClosedError).code}`);
      }
    }
    const retries = log.slice(3, -2);
    expect([...log.slice(0, 3), ...log.slice(-2)]).toEqual(['hello 1', 'message 1', 'ConnectionClosedError 1006', 'hello 2', 'message 2']);
    // At least one refused attempt (the one that restarted the server); maybe more meanwhile.
    expect([retries.length > 0, retries.every((l) => l === 'retry: ConnectionRefusedError')]).toEqual([true, true]);
    expect(server.received.slice(1)).toEqual([['message 1'], ['message 2']]);
  });

  it('leaving the body with unread messages (reading paused) still completes the closing handshake', async () => {
    const { wss, url } = await startServer();
    wss.on('connection', (ws) => {
      for (let i = 0; i < 100; i++) ws.send(`message ${i}`);
    });
    const codes: number[] = [];
    for await (const ws of connect(url, { reconnect: FAST, closeTimeout: 60_000, maxQueue: 4 })) {
      expect(String(await ws.recv())).toBe('message 0');
      void ws.closed.then(({ code }) => codes.push(code));
      break;
    }
    // Closed by the handshake (1000 echoed), not by the 60 s close timeout.
    expect(codes).toEqual([1000]);
  });

  it('retries 503 (server unavailable) but throws a 403 out of the loop', async () => {
    const server = await restartableServer({ verify: (n) => (n === 1 ? 503 : n === 2 ? true : 403) });
    const seen: string[] = [];
    let thrown: unknown = null;
    try {
      for await (const ws of connect(server.url(), { reconnect: FAST })) {
        seen.push(String(await ws.recv()));
        // Leaving the body with the connection open: it is closed, and the next attempt starts.
      }
    } catch (err) {
      thrown = err;
    }
    expect(seen).toEqual(['hello 1']);
    expect(thrown).toBeInstanceOf(InvalidStatusError);
    expect((thrown as InvalidStatusError).statusCode).toBe(403);
  });

  it('gives up after maxRetries failed attempts in a row, and an aborted signal ends the loop', async () => {
    const server = await restartableServer();
    await server.kill();
    const failures: Error[] = [];
    const shouldRetry = (err: Error): boolean => (failures.push(err), true);
    let thrown: unknown = null;
    try {
      for await (const ws of connect(server.url(), { reconnect: { ...FAST, maxRetries: 2, shouldRetry } })) track(ws);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConnectionRefusedError);
    expect(failures.length).toBe(3);

    const controller = new AbortController();
    const reason = new Error('stop');
    const retrying = (): boolean => (controller.abort(reason), true);
    thrown = null;
    try {
      for await (const ws of connect(server.url(), { reconnect: { ...FAST, initialDelay: 60_000, shouldRetry: retrying }, signal: controller.signal })) track(ws);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBe(reason);
  });

  it('reconnects through an HTTP CONNECT proxy', async () => {
    const server = await restartableServer();
    const proxy = track(await httpConnectProxy());
    const log: string[] = [];
    const shouldRetry = (err: Error): boolean => {
      log.push(`retry: ${err.name}`);
      if (server.generation() === 1) void server.start();
      return isRetryable(err);
    };
    for await (const ws of connect(server.url(), { proxy: `http://127.0.0.1:${proxy.port}`, reconnect: { ...FAST, shouldRetry } })) {
      log.push(String(await ws.recv()));
      if (server.generation() === 2) break;
      await server.kill();
    }
    // The server down behind the proxy: the proxy's 502, retried.
    expect([log[0], log.at(-1), log.slice(1, -1).every((l) => l === 'retry: ProxyStatusError')]).toEqual(['hello 1', 'hello 2', true]);
    expect(proxy.seen.length).toBe(log.length);
  });

  it('await connect(url) still gives one connection (the reconnect option is not passed to it)', async () => {
    const server = await restartableServer();
    const ws = track(await connect(server.url(), { reconnect: FAST }));
    expect(String(await ws.recv())).toBe('hello 1');
    await server.kill();
    expect((await ws.closed).code).toBe(1006);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });
});

describe('new WebSocket(url, { reconnect })', () => {
  it("survives a server kill and restart: 'reconnecting' instead of 'close', 'open' again, buffered sends after the open listeners", async () => {
    const server = await restartableServer();
    const ws = track(new WebSocket(server.url(), { reconnect: { ...FAST, sendBuffer: 64 } }));
    const events: string[] = [];
    const infos: ReconnectingInfo[] = [];
    ws.on('open', () => {
      events.push('open');
      // The resubscription hook: every connection's 'open'.
      ws.send('subscribe');
    });
    ws.on('message', (data) => events.push(`message ${String(data)}`));
    ws.on('close', (code) => events.push(`close ${code}`));
    ws.on('error', (err) => events.push(`error ${err.message}`));
    const twoMessages = new Promise<void>((resolve) => ws.on('message', () => events.filter((e) => e.startsWith('message')).length === 2 && resolve()));
    await twoMessages;
    let restarted: Promise<void> | null = null;
    ws.on('reconnecting', (info) => {
      infos.push(info);
      events.push('reconnecting');
      if (info.error !== null && restarted === null) restarted = server.start();
    });
    const queued: Array<Error | undefined> = [];
    const reopened = new Promise<void>((resolve) => ws.once('open', () => resolve()));
    await server.kill();
    await once(ws, 'reconnecting');
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    // Kept (within sendBuffer) for the next connection, after its 'open' listener's message.
    expect(ws.send('while down', (err) => queued.push(err))).toBe(false);
    // Past sendBuffer: refused (the callback says so), not thrown.
    ws.send('x'.repeat(100), (err) => queued.push(err));
    ws.ping(undefined, undefined, (err) => queued.push(err));
    await reopened;
    await new Promise<void>((resolve) => ws.on('message', (d) => String(d) === 'while down' && resolve()));
    ws.close(1000);
    await once(ws, 'close');
    expect(infos[0]).toMatchObject({ attempt: 1, error: null, code: 1006 });
    expect(infos.slice(1).every((info, i) => info.attempt === i + 2 && info.error instanceof ConnectionRefusedError)).toBe(true);
    expect(infos.length).toBeGreaterThan(1);
    expect(server.received[2]).toEqual(['subscribe', 'while down']);
    expect(queued.map((e) => e?.constructor.name)).toEqual(['NotOpenError', 'NotOpenError', undefined]);
    const reconnectingRun = events.filter((e) => e === 'reconnecting').length;
    expect(events).toEqual([
      'open',
      'message hello 1',
      'message subscribe',
      ...Array<string>(reconnectingRun).fill('reconnecting'),
      'open',
      'message hello 2',
      'message subscribe',
      'message while down',
      'close 1000',
    ]);
  });

  it("an 'open' listener that throws fails that connection (1011), which is then reconnected", async () => {
    const server = await restartableServer();
    const ws = track(new WebSocket(server.url(), { reconnect: FAST }));
    const events: string[] = [];
    let opens = 0;
    ws.on('open', () => {
      if (++opens === 1) throw new Error('listener bug');
    });
    ws.on('error', (err) => events.push(`error ${err.message}`));
    ws.on('reconnecting', (info) => events.push(`reconnecting ${info.attempt} ${info.code}`));
    await new Promise<void>((resolve) => ws.on('message', (d) => String(d) === 'hello 1' && opens === 2 && resolve()));
    expect(events).toEqual(['error listener bug', 'reconnecting 1 1011']);
  });

  it("a failure that is not retried ends it with 'error' then 'close' (once)", async () => {
    const server = await restartableServer({ verify: () => 401 });
    const ws = track(new WebSocket(server.url(), { reconnect: FAST }));
    const events: string[] = [];
    ws.on('reconnecting', () => events.push('reconnecting'));
    ws.on('error', (err) => events.push(`error ${(err as InvalidStatusError).statusCode}`));
    const [code] = await closeEvent(ws);
    expect([...events, code]).toEqual(['error 401', 1006]);
  });

  it("maxRetries: the last refused attempt's error is emitted, then 'close'", async () => {
    const server = await restartableServer();
    await server.kill();
    const ws = track(new WebSocket(server.url(), { reconnect: { ...FAST, maxRetries: 2 } }));
    const events: string[] = [];
    ws.on('reconnecting', (info) => events.push(`reconnecting ${info.attempt} ${info.error?.name}`));
    ws.on('error', (err) => events.push(`error ${err.name}`));
    const [code] = await closeEvent(ws);
    expect([...events, code]).toEqual(['reconnecting 2 ConnectionRefusedError', 'reconnecting 3 ConnectionRefusedError', 'error ConnectionRefusedError', 1006]);
  });

  it("close() while waiting for the next attempt: 'close' 1006 at once, no further attempt", async () => {
    const server = await restartableServer();
    await server.kill();
    const ws = track(new WebSocket(server.url(), { reconnect: { ...FAST, initialDelay: 60_000, minDelay: 60_000 } }));
    const events: string[] = [];
    ws.on('error', (err) => events.push(`error ${err.name}`));
    ws.on('reconnecting', () => {
      events.push('reconnecting');
      ws.close();
    });
    const [code] = await closeEvent(ws);
    expect([...events, code, ws.readyState]).toEqual(['reconnecting', 1006, WebSocket.CLOSED]);
    const sent: Array<Error | undefined> = [];
    ws.send('late', (err) => sent.push(err));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent[0]).toBeInstanceOf(NotOpenError);
  });
});

describe('backoff (RFC 6455 §7.2.3)', () => {
  it('a random first wait under initialDelay, then minDelay growing by factor up to maxDelay', () => {
    const delays = backoff(reconnectPolicy({ initialDelay: 100, minDelay: 10, maxDelay: 50, factor: 2 }));
    const first = delays.next().value;
    expect(first >= 0 && first < 100).toBe(true);
    expect(Array.from({ length: 6 }, () => delays.next().value)).toEqual([10, 20, 40, 50, 50, 50]);
    const defaults = reconnectPolicy(true);
    expect([defaults.initialDelay, defaults.minDelay, defaults.maxDelay, defaults.factor, defaults.maxRetries, defaults.sendBuffer]).toEqual([5000, 3100, 90_000, 1.618, Infinity, 0]);
    expect(() => reconnectPolicy({ factor: 0.5 })).toThrow(RangeError);
  });
});
