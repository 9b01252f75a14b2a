/**
 * Names @types/ws gives in its `WebSocket` namespace and wscore has under other names, so
 * that code written for ws type-checks after changing the import (`WebSocket.Data`,
 * `WebSocket.VerifyClientCallbackSync`, ...). Each is an alias of wscore's own type.
 */
import type { AddEventListenerOptions, WSEvent } from './events';
import type { VerifyClientAsync, VerifyClientSync } from './server-upgrade';

/** A message payload as ws's WHATWG-style MessageEvent `data` may hold it. */
export type Data = string | Buffer | ArrayBuffer | Buffer[];
/** Certificate and key data, as TLS options take them. */
export type CertMeta = string | string[] | Buffer | Buffer[];
/** ws's name of {@link VerifyClientSync}. */
export type VerifyClientCallbackSync = VerifyClientSync;
/** ws's name of {@link VerifyClientAsync}. */
export type VerifyClientCallbackAsync = VerifyClientAsync;
/** ws's name of the options of addEventListener. */
export type EventListenerOptions = AddEventListenerOptions;
/** ws's name of the plain event ('open') of the WHATWG-style API. */
export type Event = WSEvent;
