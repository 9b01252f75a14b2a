/**
 * WebSocket: one live connection, with the API of the npm package `ws` (events, methods,
 * properties, WHATWG-style listeners) plus an async API (`for await`, `recv()`, `closed`),
 * backpressure (`send()` returns false, then 'drain'), a heartbeat, and frame-level access
 * (`sendFrame`, `rawFrames`). The connection itself lives in {@link Core}.
 */
import { EventEmitter } from 'node:events';

import { LocalProtocolError } from '../errors';
import { Frame, isValidCloseCode, Opcode } from '../frames/frame';
import { DEFAULT_DEFLATE_THRESHOLD } from '../limits';
import type { ClientOptions } from './client';
import { abortClientHandshake, startClient } from './client';
import { CLOSED, CLOSING, CONNECTING, Core, kCore, OPEN } from './core';
import {
  addEventListener,
  getOnProperty,
  removeEventListener,
  setOnProperty,
  type AddEventListenerOptions,
  type BinaryType,
  type CloseEvent,
  type ErrorEvent,
  type MessageEvent,
  type WebSocketEventMap,
  type WebSocketEventType,
  type WSEvent,
  type WSEventByType,
  type WSEventListener,
} from './events';
import { ConnectError, NotOpenError } from './errors';
import type { Message } from './message-queue';
import { coreOptions, type ConnectionOptions } from './options';
import { kReconnect, Reconnector } from './reconnect';
import { frameSent } from './diagnostics';
import type { SendCallback } from './sender';
import { recvDataFrame, recvFrame } from './frame-recv'; // seeds: recv_frame / recv_data_frame
import { isSubscribed, publishFrom, subscribe, topicsOf, unsubscribe, type PublishOptions } from './topics';
import type { PreparedMessage } from './broadcast';
import { BLOB_SOCKET_CLOSED, byteSize, controlPayload, EMPTY, isBlob, toBytes, type SendData, type SendOptions } from './send-data';

export { toBytes, type SendData, type SendOptions } from './send-data';

/** What the `closed` promise resolves with. */
export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * Calls `cb` with the error ws gives for a send on a socket that is not open. As in ws,
 * the data counts in `bufferedAmount` from then on (it was "queued" but will never leave).
 */
function sendAfterClose(ws: WebSocket, data: SendData | undefined, cb: SendCallback | undefined): void {
  ws[kUnsent] += byteSize(data);
  if (cb) {
    const state = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'][ws.readyState];
    process.nextTick(cb, new NotOpenError(`WebSocket is not open: readyState ${ws.readyState} (${state})`, ws.readyState));
  }
}

/** Bytes given to send()/ping()/pong() that never left (sent after close) or wait for a Blob's read. */
const kUnsent: unique symbol = Symbol('wscore.unsent');
/** Sends waiting behind a Blob being read, in order (null: none). */
const kChain: unique symbol = Symbol('wscore.sendChain');

/** A WebSocket connection: the client you construct, or what a WebSocketServer hands you. */
export class WebSocket extends EventEmitter<WebSocketEventMap> {
  // The ready-state constants are enumerable, read-only data properties of the class and of
  // its prototype (WHATWG HTML §9.3.1; defined below the class).
  declare static readonly CONNECTING: 0;
  declare static readonly OPEN: 1;
  declare static readonly CLOSING: 2;
  declare static readonly CLOSED: 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;
  /** ws's alias of WebSocketServer (`new WebSocket.Server(options)`); set by the io index. */
  declare static Server: typeof import('./server').WebSocketServer;
  /** ws's alias of WebSocketServer; set by the io index. */
  declare static WebSocketServer: typeof import('./server').WebSocketServer;
  /** ws's alias of WebSocket itself. */
  declare static WebSocket: typeof WebSocket;
  /** ws's createWebSocketStream; set by the io index. */
  declare static createWebSocketStream: typeof import('./stream').createWebSocketStream;

  /** @internal */
  readonly [kCore]: Core;
  /** @internal */
  _url = '';
  /** @internal */
  [kUnsent] = 0;
  /** @internal */
  [kChain]: Promise<void> | null = null;
  /** @internal With the `reconnect` option only (no slot on other sockets): ./reconnect.ts. */
  declare [kReconnect]?: Reconnector;

  /**
   * Opens a client connection to `address` (ws:, wss:, ws+unix:, http:, https:), offering
   * `protocols`. `null` makes an unattached socket (what a server uses internally).
   */
  constructor(address: string | URL | null, protocols?: string | string[] | ClientOptions, options?: ClientOptions) {
    super();
    if (protocols !== undefined && protocols !== null && !Array.isArray(protocols) && typeof protocols === 'object') {
      options = protocols;
      protocols = undefined;
    }
    const opts: ConnectionOptions = options ?? {};
    this[kCore] = new Core(this, coreOptions(opts));
    if (address !== null) {
      // Anything but a string or an array of them (null included) is an invalid subprotocol.
      const list = protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols as string];
      if (options?.reconnect !== undefined && options.reconnect !== false) this[kReconnect] = new Reconnector(this, address, list, options);
      startClient(this, address, list, options ?? {});
    }
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): 0 | 1 | 2 | 3 {
    return this[kCore].readyState as 0 | 1 | 2 | 3;
  }
  /** The URL connected to (client side; '' on the server side). */
  get url(): string {
    return this._url;
  }
  /** The subprotocol the server selected ('' if none). */
  get protocol(): string {
    return this[kCore].protocol;
  }
  /** The negotiated extensions, as the Sec-WebSocket-Extensions value ('' if none). */
  get extensions(): string {
    return this[kCore].extensions;
  }
  /**
   * As in ws: the payload bytes (before compression) queued by send()/ping()/pong() and not
   * yet handed to the socket, the bytes the socket still holds, and the payload of sends made
   * after the connection closed, which never leave.
   */
  get bufferedAmount(): number {
    return this[kCore].bufferedAmount + this[kUnsent];
  }
  /** How binary messages are delivered: 'nodebuffer' (default), 'arraybuffer', 'fragments' or 'blob'. */
  get binaryType(): BinaryType {
    return this[kCore].binaryType;
  }
  set binaryType(type: BinaryType) {
    if (type === 'nodebuffer' || type === 'arraybuffer' || type === 'fragments' || type === 'blob') this[kCore].binaryType = type;
  }
  /** Whether reading is paused (pause()). */
  get isPaused(): boolean {
    return this[kCore].paused;
  }

  /**
   * Sends a message. Returns false when bufferedAmount reached the high-water mark: wait for
   * 'drain' before sending more. `cb` fires once the data is handed to the OS (or with an
   * error). Throws while CONNECTING; after close() the callback gets an error (as ws).
   */
  send(data?: SendData, options?: SendOptions | SendCallback, cb?: SendCallback): boolean {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    const core = this[kCore];
    if (core.readyState === CONNECTING) {
      // Reconnecting (or about to): kept for the next connection or refused, never thrown.
      if (this[kReconnect]?.active) return this[kReconnect].send(data, options, cb);
      throw new LocalProtocolError('WebSocket is not open: readyState 0 (CONNECTING)');
    }
    if (typeof data === 'number') data = String(data);
    // No data: an empty binary message (as ws).
    if (data === undefined || data === null) data = EMPTY;
    if (core.readyState !== OPEN || core.closeFrameSent) {
      sendAfterClose(this, data, cb);
      return false;
    }
    if (isBlob(data) || this[kChain] !== null) {
      // A Blob is read asynchronously; it and every send after it leave in call order.
      const opts = options;
      const size = byteSize(data);
      this[kUnsent] += size;
      this.afterPending(data, (bytes) => {
        this[kUnsent] -= size;
        if (bytes === null) return;
        // ws's error, for the Blob and every send queued behind it, when the connection went
        // away meanwhile.
        if (core.socket?.destroyed !== false) cb?.(new Error(BLOB_SOCKET_CLOSED));
        else this.sendNow(typeof bytes === 'number' ? String(bytes) : bytes, opts, cb, true);
      }, cb);
      return this.bufferedAmount < core.options.highWaterMark;
    }
    return this.sendNow(data, options, cb);
  }

  /**
   * Runs `then` with the bytes of `data` once every send queued before it ran (a Blob is
   * read first; a read error fails the connection, as ws's NotReadableError does).
   */
  private afterPending<D extends SendData>(data: D, then: (bytes: Exclude<SendData, Blob> | null) => void, cb: SendCallback | undefined): void {
    const prev = this[kChain] ?? Promise.resolve();
    const step = prev.then(async () => {
      let bytes: Exclude<SendData, Blob>;
      try {
        bytes = isBlob(data) ? Buffer.from(await data.arrayBuffer()) : (data as Exclude<SendData, Blob>);
      } catch (err) {
        // Out of the promise chain: an exception from a listener must not become a rejection.
        process.nextTick(() => {
          then(null);
          const e = err instanceof Error ? err : new Error(String(err));
          cb?.(e);
          this[kCore].fail(1011, 'the blob could not be read', e, false);
        });
        return;
      }
      process.nextTick(then, bytes);
    });
    this[kChain] = step;
    void step.then(() => {
      if (this[kChain] === step) this[kChain] = null;
    });
  }

  /** `queued`: called while OPEN and queued behind a Blob; a close() since then waits for it. */
  private sendNow(data: Exclude<SendData, Blob | number>, options: SendOptions | undefined, cb: SendCallback | undefined, queued = false): boolean {
    const core = this[kCore];
    if ((core.readyState !== OPEN && !queued) || core.closeFrameSent) {
      sendAfterClose(this, data, cb);
      return false;
    }
    const fin = options?.fin !== false;
    let payload: Uint8Array | string = typeof data === 'string' ? data : toBytes(data);
    const opcode = core.sendingFragmented !== 0 ? Opcode.CONT : (options?.binary ?? typeof data !== 'string') ? Opcode.BINARY : Opcode.TEXT;
    let rsv1 = 0;
    const deflate = core.deflate;
    // For a string, the sender counts the UTF-8 bytes it writes.
    let size = typeof payload === 'string' ? 0 : payload.length;
    // RFC 7692 §6: only whole messages are compressed here (RSV1 on the first frame).
    if (deflate !== null && fin && opcode !== Opcode.CONT && options?.compress !== false) {
      if (typeof payload === 'string') size = Buffer.byteLength(payload);
      if (size >= (deflate.threshold ?? DEFAULT_DEFLATE_THRESHOLD)) {
        payload = deflate.compressMessage(typeof payload === 'string' ? Buffer.from(payload) : payload);
        rsv1 = 0x40;
      }
    }
    if (!fin && core.sendingFragmented === 0) core.sendingFragmented = opcode;
    else if (fin) core.sendingFragmented = 0;
    return core.sendData((fin ? 0x80 : 0) | rsv1 | opcode, payload, cb, size);
  }

  /** Sends a ping (RFC 6455 §5.5.2); `data` is at most 125 bytes. */
  ping(data?: SendData | SendCallback, mask?: boolean | SendCallback, cb?: SendCallback): void {
    this.control(Opcode.PING, data, mask, cb);
  }

  /** Sends an unsolicited pong (RFC 6455 §5.5.3); `data` is at most 125 bytes. */
  pong(data?: SendData | SendCallback, mask?: boolean | SendCallback, cb?: SendCallback): void {
    this.control(Opcode.PONG, data, mask, cb);
  }

  private control(opcode: Opcode, data: SendData | SendCallback | undefined, mask: boolean | SendCallback | undefined, cb: SendCallback | undefined): void {
    if (typeof data === 'function') {
      cb = data;
      data = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
    }
    const core = this[kCore];
    if (core.readyState === CONNECTING && this[kReconnect]?.active) return this[kReconnect].refuse(cb);
    if (core.readyState === CONNECTING) throw new LocalProtocolError('WebSocket is not open: readyState 0 (CONNECTING)');
    // RFC 6455 §5.5: control frames carry at most 125 bytes.
    if (byteSize(data) > 125) throw new RangeError('The data size must not be greater than 125 bytes');
    if (core.readyState !== OPEN) {
      sendAfterClose(this, data, cb);
      return;
    }
    if (isBlob(data) || this[kChain] !== null) {
      this.afterPending(data ?? EMPTY, (bytes) => {
        if (bytes === null) return;
        if (core.socket?.destroyed !== false) cb?.(new Error(BLOB_SOCKET_CLOSED));
        else if (core.closeFrameSent) sendAfterClose(this, bytes, cb);
        else core.sendControl(opcode, controlPayload(bytes), cb, true);
      }, cb);
      return;
    }
    core.sendControl(opcode, controlPayload(data as Exclude<SendData, Blob> | undefined), cb, true);
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2): messages already sent leave first, then
   * the close frame; the socket is destroyed if the peer has not closed within closeTimeout.
   * `code` must be 1000 or 3000-4999 (or another code valid on the wire); `reason` at most
   * 123 bytes of UTF-8.
   */
  close(code?: number, reason?: string | Buffer | ArrayBuffer | SharedArrayBuffer | ArrayBufferView): void {
    const core = this[kCore];
    if (core.readyState === CLOSED) return;
    // No reconnection after this; between two attempts, that is the end ('close' 1006).
    if (this[kReconnect]?.stop()) return;
    if (core.readyState === CONNECTING) {
      abortClientHandshake(this, new ConnectError('WebSocket was closed before the connection was established', 'WS_ERR_ABORTED', this._url));
      return;
    }
    // A failed handshake being reported (its 'error' listener calls close()): nothing to close.
    if (core.sender === null) return;
    if (code !== undefined && !(typeof code === 'number' && isValidCloseCode(code))) {
      throw new LocalProtocolError(`invalid close code ${String(code)} (RFC 6455 §7.4)`);
    }
    // The bytes a TypedArray/DataView/ArrayBuffer views, counted in bytes: a Uint16Array's
    // `length` counts elements, and copying it element-wise would send other bytes than the
    // ones given (the ws CVE-2026-45736 / CVE-2016-10518 class; docs/security.md).
    let r: Uint8Array;
    if (reason === undefined) r = EMPTY;
    else if (typeof reason === 'string') r = Buffer.from(reason);
    else if (ArrayBuffer.isView(reason) || reason instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && reason instanceof SharedArrayBuffer)) r = toBytes(reason);
    else throw new TypeError('The close reason must be a string, a Buffer, an ArrayBuffer or an ArrayBufferView');
    if (r.byteLength > 123) throw new LocalProtocolError('The close reason must not be greater than 123 bytes');
    const payload = code === undefined ? EMPTY : r;
    if (this[kChain] !== null) {
      // Messages sent before close() leave first (RFC 6455 §7.1.2), Blobs being read included.
      if (core.readyState === OPEN) core.readyState = CLOSING;
      this.afterPending(EMPTY, () => core.close(code, payload), undefined);
      return;
    }
    core.close(code, payload);
  }

  /** Destroys the connection at once, without a closing handshake. */
  terminate(): void {
    const core = this[kCore];
    if (core.readyState === CLOSED) return;
    // No reconnection after this; between two attempts, that is the end ('close' 1006).
    if (this[kReconnect]?.stop()) return;
    if (core.readyState === CONNECTING) {
      abortClientHandshake(this, new ConnectError('WebSocket was closed before the connection was established', 'WS_ERR_ABORTED', this._url));
      return;
    }
    core.terminate();
  }

  /** Stops reading from the socket (no 'message' events until resume()). */
  pause(): void {
    const state = this[kCore].readyState;
    if (state !== CONNECTING && state !== CLOSED) this[kCore].pause();
  }

  /** Resumes reading after pause(). */
  resume(): void {
    const state = this[kCore].readyState;
    if (state !== CONNECTING && state !== CLOSED) this[kCore].resume();
  }

  /**
   * Sends a hand-made frame as it is (websocket-client's `send_frame`): fragments, custom
   * close payloads, unsolicited control frames. The frame is masked on the client side.
   * Sending a CLOSE frame starts the closing handshake. `check: false` skips the RFC 6455
   * §5.2/§5.5 checks (to test peers with invalid frames).
   */
  sendFrame(frame: Frame, options?: { check?: boolean } | SendCallback, cb?: SendCallback): void {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    const core = this[kCore];
    if (core.readyState === CONNECTING) throw new LocalProtocolError('WebSocket is not open: readyState 0 (CONNECTING)');
    if (options?.check !== false) frame.check({ allowedRsv: 7 });
    if (core.readyState !== OPEN || core.closeFrameSent) {
      sendAfterClose(this, undefined, cb);
      return;
    }
    const b0 = (frame.fin ? 0x80 : 0) | (frame.rsv << 4) | frame.opcode;
    frameSent(core, b0, frame.data);
    core.sender!.pushFrame(b0, frame.data, !core.isServer, cb, frame.data.length);
    if (frame.opcode === Opcode.CLOSE) core.sentCloseFrame();
  }

  // --- seeds (issue 17): websocket-client's recv_frame / recv_data_frame; see ./frame-recv.ts ---
  /** The next raw frame (needs `rawFrames: true`); see {@link recvFrame} in ./frame-recv.ts. */
  recvFrame(): Promise<Frame> {
    return recvFrame(this);
  }
  /** The next data message as `[opcode, frame]` (needs `rawFrames: true`); see ./frame-recv.ts. */
  recvDataFrame(controlFrame = false): Promise<[Opcode, Frame]> {
    return recvDataFrame(this, controlFrame);
  }
  // --- end seeds ---

  // --- topics (server side; the registry and the rules are in ./topics.ts) ---
  /** Subscribes to `topic`; false if already subscribed or not OPEN. Throws on a client socket. */
  subscribe(topic: string): boolean {
    return subscribe(this, topic);
  }
  /** Leaves `topic`; false if it was not subscribed. */
  unsubscribe(topic: string): boolean {
    return unsubscribe(this, topic);
  }
  /** Whether this connection is subscribed to `topic`. */
  isSubscribed(topic: string): boolean {
    return isSubscribed(this, topic);
  }
  /** A frozen snapshot (array) of this connection's topics, in subscription order. */
  get topics(): readonly string[] {
    return topicsOf(this);
  }
  /** Publishes to every other open subscriber of `topic` (not this one); returns how many. */
  publish(topic: string, data: SendData | PreparedMessage, options?: PublishOptions): number {
    return publishFrom(this, topic, data, options);
  }

  /** Resolves once the connection is CLOSED, with the close code and reason. Never rejects. */
  get closed(): Promise<CloseInfo> {
    return this[kCore].whenClosed();
  }

  /**
   * The next message: text as a string, binary as a Buffer (Python websockets' `recv()`).
   * Rejects with ConnectionClosedError once the connection is closed and nothing is left.
   * Messages are queued from the first call on (or from the start for connect()/serve()).
   */
  recv(): Promise<Message> {
    return this[kCore].ensureQueue().next();
  }

  /**
   * `for await (const message of ws)`: every message until the connection closes (the loop
   * ends on a normal closure and throws ConnectionClosedError on an abnormal one).
   */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return this[kCore].ensureQueue().iterate();
  }

  /** WHATWG `addEventListener` for 'open', 'message', 'close' and 'error'. */
  addEventListener<K extends WebSocketEventType>(type: K, listener: WSEventListener<WSEventByType[K]>, options?: AddEventListenerOptions): void {
    addEventListener(this as unknown as Parameters<typeof addEventListener>[0], type, listener, options);
  }

  /** WHATWG `removeEventListener`. */
  removeEventListener<K extends WebSocketEventType>(type: K, listener: WSEventListener<WSEventByType[K]>): void {
    removeEventListener(this as unknown as Parameters<typeof removeEventListener>[0], type, listener);
  }

  get onopen(): ((event: WSEvent) => void) | null {
    return getOnProperty(this as never, 'open') as ((event: WSEvent) => void) | null;
  }
  set onopen(handler: ((event: WSEvent) => void) | null) {
    setOnProperty(this as never, 'open', handler);
  }
  get onmessage(): ((event: MessageEvent) => void) | null {
    return getOnProperty(this as never, 'message') as ((event: MessageEvent) => void) | null;
  }
  set onmessage(handler: ((event: MessageEvent) => void) | null) {
    setOnProperty(this as never, 'message', handler);
  }
  get onclose(): ((event: CloseEvent) => void) | null {
    return getOnProperty(this as never, 'close') as ((event: CloseEvent) => void) | null;
  }
  set onclose(handler: ((event: CloseEvent) => void) | null) {
    setOnProperty(this as never, 'close', handler);
  }
  get onerror(): ((event: ErrorEvent) => void) | null {
    return getOnProperty(this as never, 'error') as ((event: ErrorEvent) => void) | null;
  }
  set onerror(handler: ((event: ErrorEvent) => void) | null) {
    setOnProperty(this as never, 'error', handler);
  }
}

for (const [name, value] of [['CONNECTING', CONNECTING], ['OPEN', OPEN], ['CLOSING', CLOSING], ['CLOSED', CLOSED]] as const) {
  Object.defineProperty(WebSocket, name, { enumerable: true, value });
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true, value });
}
// The attributes are enumerable accessors of the prototype, as WebIDL attributes are (and ws's).
for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url', 'onopen', 'onmessage', 'onclose', 'onerror']) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}
