/**
 * WebSocket: one live connection, with the API of the npm package `ws` (events, methods,
 * properties, WHATWG-style listeners) plus an async API (`for await`, `recv()`, `closed`),
 * backpressure (`send()` returns false, then 'drain'), a heartbeat, and frame-level access
 * (`sendFrame`, `rawFrames`). The connection itself is a {@link TransportConnection}.
 */
import { EventEmitter } from 'node:events';

import { LocalProtocolError } from '../errors';
import { Frame, isValidCloseCode, Opcode } from '../frames/frame';
import type { ClientOptions } from './client';
import { abortClientHandshake, startClient } from './client';
import { CLOSED, CLOSING, CONNECTING, OPEN } from './ready-state';
import { kConnection, TransportConnection } from './transport-connection';
import type { TransportKind } from './transport';
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
import { ConnectError } from './errors';
import type { ReceivedMessage } from './message-queue';
import { connectionSettings, type WebSocketOptions } from './options';
import { kReconnect, Reconnector } from './reconnect';
import type { SendCallback } from './sender';
import { recvDataFrame, recvFrame } from './frame-recv'; // seeds: recv_frame / recv_data_frame
import { isSubscribed, publishFrom, subscribe, topicsOf, unsubscribe } from './topic-membership';
import type { PreparedMessage, PublishOptions } from './broadcast';
import { afterPending, kChain, kUnsent, sendAfterClose } from './pending-sends';
import { BLOB_SOCKET_CLOSED, byteSize, closeReasonBytes, controlPayload, EMPTY, isBlob, toBytes, type SendData, type SendOptions } from './send-data';

export { toBytes, type SendData, type SendOptions } from './send-data';

/** What the `closed` promise resolves with. */
export interface CloseInfo {
  code: number;
  reason: string;
}

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
  /** ws's alias of WebSocket itself. */
  declare static WebSocket: typeof WebSocket;
  // WebSocket.Server, .WebSocketServer and .createWebSocketStream are declared and set by
  // the io index (./index.ts): the server and the stream import this module, not back.

  /** @internal */
  readonly [kConnection]: TransportConnection;
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
    const opts: WebSocketOptions = options ?? {};
    this[kConnection] = new TransportConnection(this, connectionSettings(opts));
    if (address !== null) {
      // Anything but a string or an array of them (null included) is an invalid subprotocol.
      const list = protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols as string];
      if (options?.reconnect !== undefined && options.reconnect !== false) this[kReconnect] = new Reconnector(this, address, list, options);
      startClient(this, address, list, options ?? {});
    }
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): 0 | 1 | 2 | 3 {
    return this[kConnection].readyState as 0 | 1 | 2 | 3;
  }
  /** The URL connected to (client side; '' on the server side). */
  get url(): string {
    return this._url;
  }
  /** The subprotocol the server selected ('' if none). */
  get protocol(): string {
    return this[kConnection].protocol;
  }
  /** The negotiated extensions, as the Sec-WebSocket-Extensions value ('' if none). */
  get extensions(): string {
    return this[kConnection].extensions;
  }
  /**
   * As in ws: the payload bytes (before compression) queued by send()/ping()/pong() and not
   * yet handed to the socket, the bytes the socket still holds, and the payload of sends made
   * after the connection closed, which never leave.
   */
  get bufferedAmount(): number {
    return this[kConnection].bufferedAmount + this[kUnsent];
  }
  /** How binary messages are delivered: 'nodebuffer' (default), 'arraybuffer', 'fragments' or 'blob'. */
  get binaryType(): BinaryType {
    return this[kConnection].binaryType;
  }
  set binaryType(type: BinaryType) {
    if (type === 'nodebuffer' || type === 'arraybuffer' || type === 'fragments' || type === 'blob') this[kConnection].binaryType = type;
  }
  /** The transport under the connection, 'native', 'node' or 'memory' (docs/transports.md); null while CONNECTING. */
  get transport(): TransportKind | null {
    return this[kConnection].transport?.kind ?? null;
  }
  /** Whether reading is paused (pause()). */
  get isPaused(): boolean {
    return this[kConnection].paused;
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
    const connection = this[kConnection];
    if (connection.readyState === CONNECTING) {
      // Reconnecting (or about to): kept for the next connection or refused, never thrown.
      if (this[kReconnect]?.active) return this[kReconnect].send(data, options, cb);
      throw new LocalProtocolError('WebSocket is not open: readyState 0 (CONNECTING)');
    }
    if (typeof data === 'number') data = String(data);
    // No data: an empty binary message (as ws).
    if (data === undefined || data === null) data = EMPTY;
    if (connection.readyState !== OPEN || connection.closeFrameSent) {
      sendAfterClose(this, data, cb);
      return false;
    }
    if (isBlob(data) || this[kChain] !== null) {
      // A Blob is read asynchronously; it and every send after it leave in call order.
      const opts = options;
      const size = byteSize(data);
      this[kUnsent] += size;
      afterPending(this, data, (bytes) => {
        this[kUnsent] -= size;
        if (bytes === null) return;
        // ws's error, for the Blob and every send queued behind it, when the connection went
        // away meanwhile.
        if (connection.transport?.destroyed !== false) cb?.(new Error(BLOB_SOCKET_CLOSED));
        else this.sendNow(typeof bytes === 'number' ? String(bytes) : bytes, opts, cb, true);
      }, cb);
      return this.bufferedAmount < connection.options.highWaterMark;
    }
    return this.sendNow(data, options, cb);
  }

  /** `queued`: called while OPEN and queued behind a Blob; a close() since then waits for it. */
  private sendNow(data: Exclude<SendData, Blob | number>, options: SendOptions | undefined, cb: SendCallback | undefined, queued = false): boolean {
    const connection = this[kConnection];
    if ((connection.readyState !== OPEN && !queued) || connection.closeFrameSent) {
      sendAfterClose(this, data, cb);
      return false;
    }
    return connection.send(typeof data === 'string' ? data : toBytes(data), options, cb);
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
    const connection = this[kConnection];
    if (connection.readyState === CONNECTING && this[kReconnect]?.active) return this[kReconnect].refuse(cb);
    if (connection.readyState === CONNECTING) throw new LocalProtocolError('WebSocket is not open: readyState 0 (CONNECTING)');
    // RFC 6455 §5.5: control frames carry at most 125 bytes.
    if (byteSize(data) > 125) throw new RangeError('The data size must not be greater than 125 bytes');
    if (connection.readyState !== OPEN) {
      sendAfterClose(this, data, cb);
      return;
    }
    if (isBlob(data) || this[kChain] !== null) {
      afterPending(this, data ?? EMPTY, (bytes) => {
        if (bytes === null) return;
        if (connection.transport?.destroyed !== false) cb?.(new Error(BLOB_SOCKET_CLOSED));
        else if (connection.closeFrameSent) sendAfterClose(this, bytes, cb);
        else connection.sendControl(opcode, controlPayload(bytes), cb, true);
      }, cb);
      return;
    }
    connection.sendControl(opcode, controlPayload(data as Exclude<SendData, Blob> | undefined), cb, true);
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2): messages already sent leave first, then
   * the close frame; the socket is destroyed if the peer has not closed within closeTimeout.
   * `code` must be 1000 or 3000-4999 (or another code valid on the wire); `reason` at most
   * 123 bytes of UTF-8.
   */
  close(code?: number, reason?: string | Buffer | ArrayBuffer | SharedArrayBuffer | ArrayBufferView): void {
    const connection = this[kConnection];
    if (connection.readyState === CLOSED) return;
    // No reconnection after this; between two attempts, that is the end ('close' 1006).
    if (this[kReconnect]?.stop()) return;
    if (connection.readyState === CONNECTING) {
      abortClientHandshake(this, new ConnectError('WebSocket was closed before the connection was established', 'WS_ERR_ABORTED', this._url));
      return;
    }
    // A failed handshake being reported (its 'error' listener calls close()): nothing to close.
    if (connection.transport === null) return;
    if (code !== undefined && !(typeof code === 'number' && isValidCloseCode(code))) {
      throw new LocalProtocolError(`invalid close code ${String(code)} (RFC 6455 §7.4)`);
    }
    const r = closeReasonBytes(reason);
    const payload = code === undefined ? EMPTY : r;
    if (this[kChain] !== null) {
      // Messages sent before close() leave first (RFC 6455 §7.1.2), Blobs being read included.
      connection.markClosing();
      afterPending(this, EMPTY, () => connection.close(code, payload), undefined);
      return;
    }
    connection.close(code, payload);
  }

  /** Destroys the connection at once, without a closing handshake. */
  terminate(): void {
    const connection = this[kConnection];
    if (connection.readyState === CLOSED) return;
    // No reconnection after this; between two attempts, that is the end ('close' 1006).
    if (this[kReconnect]?.stop()) return;
    if (connection.readyState === CONNECTING) {
      abortClientHandshake(this, new ConnectError('WebSocket was closed before the connection was established', 'WS_ERR_ABORTED', this._url));
      return;
    }
    connection.terminate();
  }
  /** Stops reading from the socket (no 'message' events until resume()). */
  pause(): void {
    const state = this[kConnection].readyState;
    if (state !== CONNECTING && state !== CLOSED) this[kConnection].pause();
  }
  /** Resumes reading after pause(). */
  resume(): void {
    const state = this[kConnection].readyState;
    if (state !== CONNECTING && state !== CLOSED) this[kConnection].resume();
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
    const connection = this[kConnection];
    if (connection.readyState === CONNECTING) throw new LocalProtocolError('WebSocket is not open: readyState 0 (CONNECTING)');
    if (options?.check !== false) frame.check({ allowedRsv: 7 });
    if (connection.readyState !== OPEN || connection.closeFrameSent) {
      sendAfterClose(this, undefined, cb);
      return;
    }
    const b0 = (frame.fin ? 0x80 : 0) | (frame.rsv << 4) | frame.opcode;
    connection.sendFrame(b0, frame.opcode, frame.data, cb);
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
    return this[kConnection].whenClosed();
  }

  /**
   * The next message: text as a string, binary as a Buffer (Python websockets' `recv()`).
   * Rejects with ConnectionClosedError once the connection is closed and nothing is left.
   * Messages are queued from the first call on (or from the start for connect()/serve()).
   */
  recv(): Promise<ReceivedMessage> {
    return this[kConnection].ensureQueue().next();
  }

  /**
   * `for await (const message of ws)`: every message until the connection closes (the loop
   * ends on a normal closure and throws ConnectionClosedError on an abnormal one).
   */
  [Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    return this[kConnection].ensureQueue().iterate();
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
for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'transport', 'url', 'onopen', 'onmessage', 'onclose', 'onerror']) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}
