/**
 * The Node I/O layer: WebSocket (client and server side), WebSocketServer, the async API
 * (connect, serve), broadcast, and the typed errors.
 */
import { WebSocketServer } from './server';
import { createWebSocketStream } from './stream';
import { WebSocket } from './websocket';

// ws's `WebSocket.Server` / `WebSocket.WebSocketServer` / `WebSocket.createWebSocketStream`,
// for code written as `const WebSocket = require('ws'); new WebSocket.Server(...)`.
WebSocket.Server = WebSocketServer;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.WebSocket = WebSocket;
WebSocket.createWebSocketStream = createWebSocketStream;

export { WebSocket, WebSocketServer, createWebSocketStream };
export type { SendData, SendOptions, CloseInfo } from './websocket';
export type { ServerOptions, WebSocketServerEventMap, VerifyClientAsync, VerifyClientInfo, VerifyClientSync } from './server';
export type { ClientOptions } from './client';
export { connect, serve, type ConnectOptions, type ServeOptions, type AsyncServer } from './async';
export { PreparedMessage, type BroadcastOptions } from './broadcast';
export { TopicRegistry, MAX_TOPIC_LENGTH, type PublishOptions, type TopicStats } from './topics';
export { ConnectionClosedError, type Message } from './message-queue';
export {
  ConnectError,
  ConnectionFailedError,
  NotOpenError,
  ConnectionRefusedError,
  DNSError,
  ExtendedConnectUnsupportedError,
  HandshakeTimeoutError,
  InvalidServerHandshakeError,
  InvalidStatusError,
  InvalidURLError,
  TooManyRedirectsError,
} from './errors';
export {
  CloseEvent,
  ErrorEvent,
  MessageEvent,
  WSEvent,
  type BinaryType,
  type RawData,
  type WebSocketEventMap,
  type WSEventListener,
} from './events';
export type { ConnectionOptions, HeartbeatOptions } from './options';
export type { PerMessageDeflateOptions } from './deflate-glue';
export type { CertMeta, Data, Event, EventListenerOptions, VerifyClientCallbackAsync, VerifyClientCallbackSync } from './ws-types';
export { TimerEntry, TimerWheel, sharedTimers } from './timers';
