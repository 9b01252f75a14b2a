/**
 * Event vocabulary of the Node WebSocket: the EventEmitter event map (ws's events, typed)
 * and the WHATWG-style event objects and listener plumbing (`addEventListener`,
 * `onmessage`, ...) that browser-style code expects (WHATWG HTML §9.3 "Web sockets").
 */
import type { IncomingMessage, ClientRequest } from 'node:http';

import type { Frame } from '../frames/frame';

/** The payload of a 'message' event, depending on `binaryType` (as in ws). */
export type RawData = Buffer | ArrayBuffer | Buffer[] | Blob;

/** What `binaryType` may be set to ('blob' as in ws >= 8.18). */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';

/**
 * The events of a {@link WebSocket} and their listener arguments — ws's list plus
 * 'drain' (backpressure), 'frame' (raw frames, with `rawFrames: true`) and 'redirect'.
 */
export interface WebSocketEventMap {
  open: [];
  /** A whole message. `data` is a Buffer for text too (as in ws); `isBinary` tells which. */
  message: [data: RawData, isBinary: boolean];
  /** The closing handshake ended or the connection dropped. `reason` is the UTF-8 bytes. */
  close: [code: number, reason: Buffer];
  error: [error: Error];
  ping: [data: Buffer];
  pong: [data: Buffer];
  /** Client: the server's 101 response arrived (before 'open'). */
  upgrade: [response: IncomingMessage];
  /** Client: the server answered the upgrade with something other than 101. */
  'unexpected-response': [request: ClientRequest, response: IncomingMessage];
  /** Client: following a redirect to `url` (`followRedirects`). */
  redirect: [url: string, request: ClientRequest];
  /** The buffered outbound bytes fell back under the high-water mark after send() said false. */
  drain: [];
  /** With `rawFrames: true`: every frame received, before it is assembled into a message. */
  frame: [frame: Frame];
  /** With `reconnect`: the connection dropped or an attempt failed; the next attempt starts in `delay` ms. */
  reconnecting: [info: ReconnectingInfo];
}

/** What a 'reconnecting' event says (client with the `reconnect` option). */
export interface ReconnectingInfo {
  /**
   * The attempt about to be made, counted since the last connection opened: 1 after a drop,
   * then 2, 3, ... while attempts fail (the very first connection being attempt 1).
   */
  attempt: number;
  /** Milliseconds until it starts. */
  delay: number;
  /** Why the previous attempt failed; null when an open connection dropped. */
  error: Error | null;
  /** The close code of what ended (1006 for a failed attempt or a lost connection). */
  code: number;
  /** The close reason ('' if none). */
  reason: string;
}

/** The WHATWG-style event names of a WebSocket. */
export type WebSocketEventType = 'open' | 'message' | 'close' | 'error';

/** The base event object passed to `addEventListener` listeners (WHATWG DOM `Event`). */
export class WSEvent {
  /** The WebSocket that dispatched this event (set when dispatched). */
  target: unknown = null;
  constructor(readonly type: string) {}
}

/** A message event: `data` is a string for text, a Buffer/ArrayBuffer/Buffer[] for binary. */
export class MessageEvent extends WSEvent {
  constructor(readonly data: string | RawData) {
    super('message');
  }
}

/** A close event (WHATWG `CloseEvent`): the code, the reason as a string, and `wasClean`. */
export class CloseEvent extends WSEvent {
  constructor(
    readonly code: number,
    readonly reason: string,
    readonly wasClean: boolean,
  ) {
    super('close');
  }
}

/** An error event (WHATWG `ErrorEvent`-like): the error and its message. */
export class ErrorEvent extends WSEvent {
  readonly message: string;
  constructor(readonly error: Error) {
    super('error');
    this.message = error.message;
  }
}

/** Maps each WHATWG event type to its event object class. */
export interface WSEventByType {
  open: WSEvent;
  message: MessageEvent;
  close: CloseEvent;
  error: ErrorEvent;
}

/** A listener for `addEventListener`: a function or an object with `handleEvent`. */
export type WSEventListener<E> = ((event: E) => void) | { handleEvent(event: E): void };

/** Options of `addEventListener` (only `once` has a meaning here). */
export interface AddEventListenerOptions {
  once?: boolean;
}

/** Marks the EventEmitter listeners that wrap a WHATWG listener, so they can be found again. */
export const kListener: unique symbol = Symbol('wscore.whatwgListener');
/** Marks the wrapper installed by an `onmessage`-style property setter. */
export const kForOnProperty: unique symbol = Symbol('wscore.onProperty');

/** @internal A wrapper function with its original listener attached. */
export interface WrappedListener {
  (...args: unknown[]): void;
  [kListener]?: unknown;
  [kForOnProperty]?: boolean;
}

/** The minimal EventEmitter surface the WHATWG plumbing needs. */
interface EmitterLike {
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  listeners(event: string): Function[];
}

function call<E>(listener: WSEventListener<E>, thisArg: unknown, event: E): void {
  if (typeof listener === 'function') listener.call(thisArg, event);
  else listener.handleEvent(event);
}

/**
 * Builds the EventEmitter listener that turns ws-style arguments into a WHATWG event object
 * and calls `listener` with it.
 */
export function wrapListener<K extends WebSocketEventType>(
  target: EmitterLike,
  type: K,
  listener: WSEventListener<WSEventByType[K]>,
): WrappedListener {
  let wrapped: WrappedListener;
  switch (type) {
    case 'message':
      wrapped = (data: unknown, isBinary: unknown) => {
        const event = new MessageEvent(isBinary ? (data as RawData) : String(data));
        event.target = target;
        call(listener as WSEventListener<MessageEvent>, target, event);
      };
      break;
    case 'close':
      wrapped = (code: unknown, reason: unknown) => {
        const c = code as number;
        // 1006 means no closing handshake took place (RFC 6455 §7.1.5): not clean.
        const event = new CloseEvent(c, String(reason), c !== 1006);
        event.target = target;
        call(listener as WSEventListener<CloseEvent>, target, event);
      };
      break;
    case 'error':
      wrapped = (error: unknown) => {
        const event = new ErrorEvent(error as Error);
        event.target = target;
        call(listener as WSEventListener<ErrorEvent>, target, event);
      };
      break;
    default:
      wrapped = () => {
        const event = new WSEvent('open');
        event.target = target;
        call(listener as WSEventListener<WSEvent>, target, event);
      };
  }
  wrapped[kListener] = listener;
  return wrapped;
}

/** `addEventListener`: adding the same listener twice for a type is a no-op (DOM rule). */
export function addEventListener<K extends WebSocketEventType>(
  target: EmitterLike,
  type: K,
  listener: WSEventListener<WSEventByType[K]>,
  options?: AddEventListenerOptions,
): void {
  // Only the four WebSocket event types exist for the WHATWG API (as in ws); others are ignored.
  if (type !== 'open' && type !== 'message' && type !== 'close' && type !== 'error') return;
  for (const existing of target.listeners(type) as WrappedListener[]) {
    if (existing[kListener] === listener && !existing[kForOnProperty]) return;
  }
  const wrapped = wrapListener(target, type, listener);
  if (options?.once) target.once(type, wrapped);
  else target.on(type, wrapped);
}

/** `removeEventListener`: removes a listener added with {@link addEventListener}. */
export function removeEventListener(target: EmitterLike, type: string, listener: unknown): void {
  for (const existing of target.listeners(type) as WrappedListener[]) {
    if (existing[kListener] === listener && !existing[kForOnProperty]) {
      target.removeListener(type, existing);
      return;
    }
  }
}

/** Reads an `onmessage`-style property: the listener it holds, or null. */
export function getOnProperty(target: EmitterLike, type: WebSocketEventType): unknown {
  for (const existing of target.listeners(type) as WrappedListener[]) {
    if (existing[kForOnProperty]) return existing[kListener] ?? null;
  }
  return null;
}

/** Sets an `onmessage`-style property: replaces the previous one; null removes it. */
export function setOnProperty<K extends WebSocketEventType>(
  target: EmitterLike,
  type: K,
  handler: ((event: WSEventByType[K]) => void) | null,
): void {
  for (const existing of target.listeners(type) as WrappedListener[]) {
    if (existing[kForOnProperty]) target.removeListener(type, existing);
  }
  if (typeof handler !== 'function') return;
  const wrapped = wrapListener(target, type, handler);
  wrapped[kForOnProperty] = true;
  target.on(type, wrapped);
}
