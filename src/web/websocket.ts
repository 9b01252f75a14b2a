/**
 * The browser's WebSocket (WebSockets Standard, https://websockets.spec.whatwg.org/), for
 * code shared between browsers and Node: an EventTarget with `onopen`/`onmessage`/`onerror`/
 * `onclose`, `binaryType` 'blob' (default) or 'arraybuffer', `bufferedAmount` as the
 * standard counts it, and the exceptions it requires.
 *
 * It is a façade over the ws-style client (src/io): one connection engine, two APIs. This
 * module is a package entry (`wscore/web`), like the package index, which is why it may
 * import io/. What the standard says and ws does differently is settled here:
 * - no message is delivered once readyState is not OPEN (§4 "a message has been received",
 *   step 1); ws still delivers messages while CLOSING;
 * - `error` is fired only when the connection was failed (handshake refused, protocol
 *   error, send buffer full), right before `close` (§4 "the connection is closed");
 * - the close event's code is what the peer's close frame said (1005: no code), or 1006
 *   when no close frame arrived (RFC 6455 §7.1.5); ws reports the code it sent itself;
 * - `bufferedAmount` counts the application bytes given to send() and not yet written to
 *   the network (framing excluded, §3.2), and keeps counting sends made after close.
 */
import type { ClientOptions } from '../io/client';
import { CLOSED, CLOSING, CONNECTING, OPEN } from '../io/ready-state';
import { kConnection } from '../io/transport-connection';
import { InvalidURLError } from '../io/errors';
import { WebSocket as NodeWebSocket } from '../io/websocket';
import { isBlob } from '../io/send-data';
import { CloseEvent, ErrorEvent, MessageEvent } from './events';
import { closeArguments, domError, subprotocolList, webSocketURL } from './webidl';

/** How binary messages are exposed (WebSockets Standard §3.3). */
export type BinaryType = 'blob' | 'arraybuffer';

/**
 * Node-only options, given instead of the protocols (as undici's WebSocketInit): the
 * ws-style client's options (headers, TLS options, `perMessageDeflate`, `handshakeTimeout`,
 * `maxPayload`, ...) plus `protocols`.
 */
export type WebSocketInit = ClientOptions;

/** What send() takes (WebSockets Standard §3.2: USVString, Blob, BufferSource). */
export type WebSocketData = string | Blob | ArrayBuffer | ArrayBufferView;

type Handler<E extends Event> = ((this: WebSocket, event: E) => unknown) | null;
type HandlerType = 'open' | 'message' | 'error' | 'close';
interface HandlerSlot {
  handler: (event: Event) => unknown;
  listener: (event: Event) => void;
}

/** The browser's WebSocket. */
export class WebSocket extends EventTarget {
  declare static readonly CONNECTING: 0;
  declare static readonly OPEN: 1;
  declare static readonly CLOSING: 2;
  declare static readonly CLOSED: 3;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  readonly #ws: NodeWebSocket;
  readonly #url: string;
  readonly #origin: string;
  #binaryType: BinaryType = 'blob';
  #buffered = 0;
  /** The error that failed the connection, fired as `error` right before `close`. */
  #failure: Error | null = null;
  readonly #handlers: Record<HandlerType, HandlerSlot | null> = { open: null, message: null, error: null, close: null };

  /**
   * Connects to `url` (ws:, wss:, or http:/https:, which become ws:/wss:), offering
   * `protocols`. Throws a SyntaxError DOMException for an invalid URL, a fragment, or an
   * invalid or repeated subprotocol (WebSockets Standard §3.1).
   */
  constructor(url: string | URL, protocols?: string | string[] | WebSocketInit) {
    super();
    if (arguments.length === 0) throw new TypeError("Failed to construct 'WebSocket': 1 argument required, but only 0 present.");
    let init: WebSocketInit = {};
    if (typeof protocols === 'object' && protocols !== null && !(Symbol.iterator in protocols)) {
      init = protocols as WebSocketInit;
      protocols = init.protocols;
    }
    const record = webSocketURL(url);
    const list = subprotocolList(protocols);
    this.#url = record.href;
    this.#origin = record.origin;
    try {
      this.#ws = new NodeWebSocket(this.#url, list, { ...init, protocols: undefined });
    } catch (err) {
      // A URL WHATWG accepts and the client does not; a bad Node-only option stays as it is.
      if (err instanceof InvalidURLError) throw domError(`Failed to construct 'WebSocket': ${err.message}`, 'SyntaxError');
      throw err;
    }
    const ws = this.#ws;
    ws.on('open', () => this.dispatchEvent(new Event('open')));
    ws.on('message', (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    ws.on('error', (err) => {
      this.#failure ??= err;
    });
    ws.on('close', () => this.#onClose());
  }

  /** The URL, after http(s) became ws(s). */
  get url(): string {
    return this.#url;
  }
  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): 0 | 1 | 2 | 3 {
    return this.#ws.readyState;
  }
  /** Bytes of application data given to send() and not yet written to the network. */
  get bufferedAmount(): number {
    return this.#buffered;
  }
  /** The extensions the server accepted (its Sec-WebSocket-Extensions), '' before open. */
  get extensions(): string {
    return this.#ws.extensions;
  }
  /** The subprotocol the server selected, '' if none. */
  get protocol(): string {
    return this.#ws.protocol;
  }
  /** 'blob' (default) or 'arraybuffer'; other values are ignored (a WebIDL enum). */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }
  set binaryType(type: BinaryType) {
    if (type === 'blob' || type === 'arraybuffer') this.#binaryType = type;
  }

  /**
   * Sends a message: a string as text, anything else as binary. Throws an InvalidStateError
   * while CONNECTING. Once closing or closed, the data is not sent but still counted in
   * bufferedAmount (§3.2).
   */
  send(data: WebSocketData): void {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'send' on 'WebSocket': 1 argument required, but only 0 present.");
    const ws = this.#ws;
    if (ws.readyState === CONNECTING) throw domError("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
    let payload: string | Blob | Buffer;
    let size: number;
    if (isBlob(data)) {
      payload = data;
      size = data.size;
    } else if (data instanceof ArrayBuffer) {
      payload = Buffer.from(data);
      size = data.byteLength;
    } else if (ArrayBuffer.isView(data)) {
      payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      size = data.byteLength;
    } else {
      // USVString; Buffer.byteLength counts a lone surrogate as the U+FFFD it is sent as.
      payload = String(data);
      size = Buffer.byteLength(payload);
    }
    this.#buffered += size;
    if (ws.readyState !== OPEN) return;
    ws.send(payload, { binary: typeof payload !== 'string' }, (err) => {
      if (err === undefined || err === null) this.#buffered -= size;
    });
  }

  /**
   * Starts the closing handshake (or fails a connection still CONNECTING). `code` must be
   * 1000 or 3000-4999 (else InvalidAccessError), `reason` at most 123 bytes of UTF-8 (else
   * SyntaxError). A reason without a code sends 1000.
   */
  close(code?: number, reason?: string): void {
    const args = closeArguments(code, reason);
    const ws = this.#ws;
    const state = ws.readyState;
    if (state === CLOSING || state === CLOSED) return;
    if (state === CONNECTING) {
      // "Fail the WebSocket connection": error, then close (1006).
      ws.close();
      return;
    }
    // No code and no reason: a close frame without a body (§3.2, RFC 6455 §7.1.2).
    const c = args.code ?? (args.reason.length > 0 ? 1000 : undefined);
    ws.close(c, args.reason);
  }

  get onopen(): Handler<Event> {
    return this.#getHandler('open') as Handler<Event>;
  }
  set onopen(handler: Handler<Event>) {
    this.#setHandler('open', handler);
  }
  get onmessage(): Handler<MessageEvent> {
    return this.#getHandler('message') as Handler<MessageEvent>;
  }
  set onmessage(handler: Handler<MessageEvent>) {
    this.#setHandler('message', handler);
  }
  get onerror(): Handler<Event> {
    return this.#getHandler('error') as Handler<Event>;
  }
  set onerror(handler: Handler<Event>) {
    this.#setHandler('error', handler);
  }
  get onclose(): Handler<CloseEvent> {
    return this.#getHandler('close') as Handler<CloseEvent>;
  }
  set onclose(handler: Handler<CloseEvent>) {
    this.#setHandler('close', handler);
  }

  #getHandler(type: HandlerType): unknown {
    return this.#handlers[type]?.handler ?? null;
  }

  /**
   * HTML's event handler attributes: the first non-null value adds one listener, which
   * keeps its place among the listeners while the value changes; null removes it.
   */
  #setHandler(type: HandlerType, handler: unknown): void {
    const slot = this.#handlers[type];
    if (typeof handler !== 'function') {
      if (slot !== null) this.removeEventListener(type, slot.listener);
      this.#handlers[type] = null;
      return;
    }
    if (slot !== null) {
      slot.handler = handler as HandlerSlot['handler'];
      return;
    }
    const entry: HandlerSlot = {
      handler: handler as HandlerSlot['handler'],
      listener: (event) => {
        entry.handler.call(this, event);
      },
    };
    this.#handlers[type] = entry;
    this.addEventListener(type, entry.listener);
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    // §4 "a message has been received": dropped unless OPEN (close() was called, or the
    // peer's close frame arrived).
    if (this.#ws.readyState !== OPEN) return;
    let value: string | Blob | ArrayBuffer;
    if (!isBinary) value = data.toString();
    else if (this.#binaryType === 'blob') value = new Blob([data]);
    // A copy: `data` may be a view of a larger socket buffer.
    else value = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    this.dispatchEvent(new MessageEvent('message', { data: value, origin: this.#origin }));
  }

  #onClose(): void {
    const connection = this.#ws[kConnection];
    const failure = this.#failure;
    // RFC 6455 §7.1.5-§7.1.6: the code and reason of the peer's close frame, if one came.
    const received = connection.closeFrameReceived && failure === null;
    const code = received ? connection.closeCode : 1006;
    const reason = received ? connection.closeReason.toString() : '';
    const wasClean = received && connection.closeFrameSent;
    if (failure !== null) this.dispatchEvent(new ErrorEvent('error', { message: failure.message, error: failure }));
    this.dispatchEvent(new CloseEvent('close', { wasClean, code, reason }));
  }
}

Object.defineProperty(WebSocket.prototype, Symbol.toStringTag, { value: 'WebSocket', configurable: true });
Object.defineProperty(CloseEvent.prototype, Symbol.toStringTag, { value: 'CloseEvent', configurable: true });
Object.defineProperty(ErrorEvent.prototype, Symbol.toStringTag, { value: 'ErrorEvent', configurable: true });
// The ready-state constants: enumerable, read-only, on the class and its prototype (WebIDL).
for (const [name, value] of [['CONNECTING', CONNECTING], ['OPEN', OPEN], ['CLOSING', CLOSING], ['CLOSED', CLOSED]] as const) {
  Object.defineProperty(WebSocket, name, { enumerable: true, value });
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true, value });
}
for (const name of ['url', 'readyState', 'bufferedAmount', 'extensions', 'protocol', 'binaryType', 'onopen', 'onmessage', 'onerror', 'onclose']) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}
