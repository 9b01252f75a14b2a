/**
 * The event objects of the browser's WebSocket (WebSockets Standard §4 "Feedback from the
 * protocol", HTML §9.3 for MessageEvent). They are DOM `Event`s (Node's global Event), so
 * they dispatch through Node's EventTarget like any other.
 *
 * MessageEvent is Node's own global (undici's, present since Node 15), so `event instanceof
 * MessageEvent` holds as in a browser. Node has no global CloseEvent before Node 23, so this
 * module defines one with the standard's fields; ErrorEvent likewise (the standard fires a
 * plain `Event` named error: ours is an Event subclass that also carries the cause, for
 * Node code that wants to log it).
 */

/** DOM's EventInit (@types/node does not declare it globally). */
export interface EventInit {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

/** CloseEventInit (WebSockets Standard §4.1). */
export interface CloseEventInit extends EventInit {
  wasClean?: boolean;
  code?: number;
  reason?: string;
}

/** The `close` event of a WebSocket (WebSockets Standard §4.1). */
export class CloseEvent extends Event {
  readonly #wasClean: boolean;
  readonly #code: number;
  readonly #reason: string;

  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.#wasClean = Boolean(init.wasClean);
    // WebIDL `unsigned short`: modulo 2^16.
    this.#code = (Number(init.code ?? 0) >>> 0) & 0xffff;
    this.#reason = init.reason === undefined ? '' : String(init.reason);
  }

  /** Whether the closing handshake completed and the connection then closed (RFC 6455 §7.1.5). */
  get wasClean(): boolean {
    return this.#wasClean;
  }
  /** The close code the peer sent; 1005 if its close frame had none, 1006 if there was none. */
  get code(): number {
    return this.#code;
  }
  /** The close reason the peer sent ('' if none). */
  get reason(): string {
    return this.#reason;
  }
}

/** What an `error` event of a wscore/web WebSocket carries besides being an Event. */
export interface ErrorEventInit extends EventInit {
  message?: string;
  error?: unknown;
}

/**
 * The `error` event. Browsers fire a plain Event (they hide the cause from scripts); this one
 * is an Event too, plus `message` and `error` (the typed wscore error), as undici's is.
 */
export class ErrorEvent extends Event {
  readonly #message: string;
  readonly #error: unknown;

  constructor(type: string, init: ErrorEventInit = {}) {
    super(type, init);
    this.#message = init.message === undefined ? '' : String(init.message);
    this.#error = init.error;
  }

  /** A description of what went wrong. */
  get message(): string {
    return this.#message;
  }
  /** The wscore error behind the event (ConnectError, a protocol error, ...), if any. */
  get error(): unknown {
    return this.#error;
  }
}

/** The global MessageEvent (HTML §9.2.2); Node has had it since version 15. */
export const MessageEvent: typeof globalThis.MessageEvent = globalThis.MessageEvent;
export type MessageEvent = globalThis.MessageEvent;

for (const [cls, names] of [
  [CloseEvent, ['wasClean', 'code', 'reason']],
  [ErrorEvent, ['message', 'error']],
] as const) {
  // WebIDL attributes are enumerable accessors of the prototype.
  for (const name of names) Object.defineProperty(cls.prototype, name, { enumerable: true });
}
