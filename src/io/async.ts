/**
 * The async API, in the style of Python websockets: `await connect(url)` gives an open
 * WebSocket, `serve(handler)` runs `handler(ws)` per connection; messages are read with
 * `for await (const msg of ws)` or `await ws.recv()`, and a connection is closed when its
 * handler returns.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { ClientOptions } from './client';
import { CLOSED, OPEN } from './ready-state';
import { kConnection } from './transport-connection';
import { ConnectError } from './errors';
import { ConnectionClosedError } from './message-queue';
import { backoff, reconnectPolicy } from './reconnect-policy';
import { WebSocketServer, type ServerOptions } from './server';
import { WebSocket } from './websocket';

/** Options of {@link connect}. */
export interface ConnectOptions extends ClientOptions {
  /**
   * Messages kept for recv()/iteration before reading from the socket pauses (websockets'
   * `max_queue`). Default 16.
   */
  maxQueue?: number;
}

/**
 * Messages are queued for the async API from the start; a 'message' listener added before
 * the queue was ever read means the caller uses events instead, so the queue is dropped.
 */
function enableQueue(ws: WebSocket, maxQueue: number | undefined): void {
  const connection = ws[kConnection];
  connection.ensureQueue(maxQueue);
  // 'newListener' is EventEmitter's own event, outside the typed WebSocket event map.
  const emitter = ws as unknown as EventEmitter;
  const onNewListener = (event: string | symbol): void => {
    if (event !== 'message') return;
    emitter.removeListener('newListener', onNewListener);
    connection.dropUnusedQueue();
  };
  emitter.on('newListener', onNewListener);
}

/**
 * send() as Python websockets' (whose API this one follows): on a connection that is
 * closing or closed it raises ConnectionClosedError, so a handler writing to a peer that
 * went away stops there instead of sending into the void. Only connections of connect()
 * and serve() get it; a ws-style WebSocket keeps ws's behaviour (the callback, if any, gets
 * the error). An own property: the prototype's send, shared by all, is left as it is.
 */
function raiseOnClosedSend(ws: WebSocket): void {
  const connection = ws[kConnection];
  const send = WebSocket.prototype.send;
  ws.send = function (this: WebSocket, data, options, cb) {
    if (connection.readyState > OPEN || connection.closeFrameSent) throw new ConnectionClosedError(connection.closeCode, connection.closeReason.toString());
    return send.call(this, data, options, cb);
  };
}

/**
 * What {@link connect} returns: the promise of one connection, which is also an async
 * iterable of connections that reconnects (`for await (const ws of connect(url))`).
 */
export interface Connecting extends Promise<WebSocket>, AsyncIterable<WebSocket> {}

/**
 * Opens a client connection and resolves once it is OPEN. Rejects with a typed error
 * (DNSError, ConnectionRefusedError, HandshakeTimeoutError, InvalidStatusError,
 * InvalidServerHandshakeError, ProxyError, ...) when it cannot be opened.
 *
 * Iterated (`for await (const ws of connect(url, options))`, as Python websockets' `async
 * for`), it yields a connection, and another each time the loop body is done with the
 * previous one (it is closed first if still open): an attempt that fails with an error
 * `reconnect.shouldRetry` accepts (default {@link isRetryable}) is retried with backoff
 * (`reconnect`'s delays), other errors end the loop by being thrown, and so does aborting
 * `options.signal` (with its reason). After a connection that closed abnormally (1006) the
 * next attempt waits a random time under `reconnect.initialDelay` (RFC 6455 §7.2.3).
 */
export function connect(url: string | URL, options: ConnectOptions = {}): Connecting {
  const first = openOne(url, options);
  return Object.assign(first, { [Symbol.asyncIterator]: () => reconnecting(url, options, first) });
}

/** `for await (const ws of connect(url))`: `first` is connect()'s own attempt. */
async function* reconnecting(url: string | URL, options: ConnectOptions, first: Promise<WebSocket>): AsyncGenerator<WebSocket, void, undefined> {
  const policy = reconnectPolicy(options.reconnect);
  const signal = options.signal ?? undefined;
  let attempt: Promise<WebSocket> | null = first;
  let delays: Generator<number, never> | null = null;
  let failures = 0;
  for (;;) {
    let ws: WebSocket;
    try {
      ws = await (attempt ?? openOne(url, options));
    } catch (err) {
      attempt = null;
      if (signal?.aborted) throw signal.reason;
      const error = err instanceof Error ? err : new Error(String(err));
      if (!policy.shouldRetry(error) || ++failures > policy.maxRetries) throw error;
      delays ??= backoff(policy);
      await sleep(delays.next().value, signal);
      continue;
    }
    attempt = null;
    failures = 0;
    delays = null;
    let code: number;
    try {
      yield ws;
    } finally {
      // The body is done with this connection (or left the loop): it is closed before the
      // next one opens, so that there is never more than one. Unread messages are dropped:
      // a full queue pauses reading, and the peer's close frame must still be read (§7.1.2).
      const connection = ws[kConnection];
      if (connection.queue?.isPausing) {
        connection.queue = null;
        connection.resume();
      }
      if (ws.readyState !== CLOSED) ws.close(1000);
      code = (await ws.closed).code;
    }
    if (code === 1006) {
      // RFC 6455 §7.2.3: after an abnormal closure, a random wait before reconnecting.
      delays = backoff(policy);
      await sleep(delays.next().value, signal);
    }
  }
}

/** Waits `ms`; rejects with the signal's reason when it is aborted. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One connection attempt of {@link connect}. */
function openOne(url: string | URL, options: ConnectOptions): Promise<WebSocket> {
  return new Promise<WebSocket>((resolve, reject) => {
    let ws: WebSocket;
    try {
      // `reconnect` is the iterator's backoff here, not a WebSocket that reconnects itself.
      const { reconnect: _r, ...rest } = options;
      ws = new WebSocket(url, rest);
    } catch (err) {
      reject(err);
      return;
    }
    enableQueue(ws, options.maxQueue);
    raiseOnClosedSend(ws);
    let failure: Error | null = null;
    const onError = (err: Error): void => {
      failure ??= err;
    };
    const onOpen = (): void => {
      ws.removeListener('error', onError);
      ws.removeListener('close', onClose);
      // Frames that arrived with the 101 are read only after the awaiting code has run, so
      // listeners it adds right after `await connect()` miss nothing.
      ws.pause();
      setImmediate(() => ws.resume());
      resolve(ws);
    };
    const onClose = (code: number): void => {
      ws.removeListener('error', onError);
      ws.removeListener('open', onOpen);
      reject(failure ?? new ConnectError(`connection closed during the handshake (${code})`, 'WS_ERR_CLOSED', String(url)));
    };
    ws.on('error', onError);
    ws.once('open', onOpen);
    ws.once('close', onClose);
  });
}

/** Options of {@link serve}. */
export interface ServeOptions extends Omit<ServerOptions, 'noServer'> {
  /** See {@link ConnectOptions.maxQueue}. */
  maxQueue?: number;
  /** Called when a handler throws (default: printed to stderr). The connection closes with 1011. */
  onError?: (error: Error, ws: WebSocket) => void;
}

/** What {@link serve} returns. */
export interface AsyncServer {
  /** The WebSocketServer underneath. */
  readonly wss: WebSocketServer;
  /** The listening port (standalone servers). */
  readonly port: number;
  /** ws://host:port of a standalone server. */
  readonly url: string;
  /** The address (as http.Server#address()). */
  address(): AddressInfo | string | null;
  /**
   * Closes every connection with 1001 and the server; resolves when connections and their
   * handlers are done.
   */
  close(): Promise<void>;
}

/**
 * Runs `handler(ws, request)` for every connection; the connection is closed (1000) when
 * the handler returns and with 1011 when it throws. Resolves once the server listens
 * (default: 127.0.0.1, a free port).
 */
export function serve(
  handler: (ws: WebSocket, request: IncomingMessage) => unknown,
  options: ServeOptions = {},
): Promise<AsyncServer> {
  const { maxQueue, onError, ...rest } = options;
  const serverOptions: ServerOptions = rest.server !== undefined ? rest : { host: '127.0.0.1', port: 0, ...rest };
  const running = new Set<Promise<void>>();
  return new Promise<AsyncServer>((resolve, reject) => {
    const wss = new WebSocketServer(serverOptions);
    const report = (err: unknown, ws: WebSocket): void => {
      const error = err instanceof Error ? err : new Error(String(err));
      if (onError) onError(error, ws);
      else console.error('wscore: connection handler failed:', error);
    };
    wss.on('connection', (ws, req) => {
      enableQueue(ws, maxQueue);
      raiseOnClosedSend(ws);
      const task = (async () => {
        try {
          await handler(ws, req);
          ws.close(1000);
        } catch (err) {
          if (err instanceof ConnectionClosedError) return;
          report(err, ws);
          if (ws.readyState === WebSocket.OPEN) ws.close(1011, 'internal error');
        }
      })();
      running.add(task);
      void task.finally(() => running.delete(task));
    });
    const ready = (): void => {
      wss.removeListener('error', reject);
      const address = wss.options.noServer ? null : wss.address();
      const port = address !== null && typeof address === 'object' ? address.port : 0;
      const host = address !== null && typeof address === 'object' ? address.address : 'localhost';
      const close = async (): Promise<void> => {
        await wss.close();
        await Promise.allSettled([...running]);
      };
      resolve({
        wss,
        port,
        url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}`,
        address: () => wss.address(),
        close,
      });
    };
    if (rest.server !== undefined) {
      if (rest.server.listening) ready();
      else rest.server.once('listening', ready);
    } else {
      wss.once('listening', ready);
      wss.once('error', reject);
    }
  });
}
