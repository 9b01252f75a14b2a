/**
 * The Node I/O layer: WebSocket (client and server side), WebSocketServer, the async API
 * (connect, serve), broadcast, and the typed errors.
 */
import { WebSocketServer } from './server';
import { createWebSocketStream } from './stream';
import { WebSocket } from './websocket';

// ws's `WebSocket.Server` / `WebSocket.WebSocketServer` / `WebSocket.createWebSocketStream`,
// for code written as `const WebSocket = require('ws'); new WebSocket.Server(...)`. Declared
// here (merged into the class) rather than in ./websocket.ts, which the server and the
// stream import: the façade imports neither back.
declare module './websocket' {
  namespace WebSocket {
    /** ws's alias of WebSocketServer (`new WebSocket.Server(options)`). */
    let Server: typeof WebSocketServer;
    /** ws's alias of WebSocketServer. */
    let WebSocketServer: typeof import('./server').WebSocketServer;
    /** ws's createWebSocketStream. */
    let createWebSocketStream: typeof import('./stream').createWebSocketStream;
  }
}
WebSocket.Server = WebSocketServer;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.WebSocket = WebSocket;
WebSocket.createWebSocketStream = createWebSocketStream;

export { WebSocket, WebSocketServer, createWebSocketStream };
export type { SendData, SendOptions, CloseInfo } from './websocket';
export type { ServerOptions, WebSocketServerEventMap } from './server-options';
export type { VerifyClientAsync, VerifyClientInfo, VerifyClientSync } from './server-upgrade';
export type { ClientOptions } from './client';
export type { TransportKind } from './transport';
export type { TransportChoice } from './transport-select';
export { connect, serve, type ConnectOptions, type Connecting, type ServeOptions, type AsyncServer } from './async';
export { isRetryable, type ReconnectOptions } from './reconnect-policy';
export type { ProxyOption } from './proxy';
export { PreparedMessage, type PublishOptions } from './broadcast';
export type { BroadcastOptions } from './server-options';
export { TopicRegistry, type TopicStats } from './topics';
export { MAX_TOPIC_LENGTH } from './topic-membership';
export { ConnectionClosedError, type ReceivedMessage } from './message-queue';
export { PubSubError, type PubSubAdapter, type PubSubHost, type BusMessage, type HistoryPosition, type RecoverResult, type HistoryEntry } from './pubsub';
export { redisPubSub, type RedisPubSub, type RedisPubSubOptions, type RedisClientLike } from './redis-pubsub';
export { handleTopicRequest, isTopicRequest, type TopicRequestOptions } from './topic-requests';
export { TopicClient, TopicRequestError, type Subscribed, type TopicSocket, type TopicSubscribeOptions } from './topic-client';
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
  ProxyError,
  ProxyStatusError,
  SocksError,
  type SocksStage,
} from './errors';
export {
  CloseEvent,
  ErrorEvent,
  MessageEvent,
  WSEvent,
  type BinaryType,
  type RawData,
  type ReconnectingInfo,
  type WebSocketEventMap,
  type WSEventListener,
} from './events';
export type { HeartbeatOptions, WebSocketOptions } from './options';
export type { PerMessageDeflateOptions } from './deflate-glue';
export type { CertMeta, Data, Event, EventListenerOptions, VerifyClientCallbackAsync, VerifyClientCallbackSync } from './ws-types';
export { TimerEntry, TimerWheel, sharedTimers } from './timers';
export {
  channels as diagnosticsChannels,
  type CloseDiagnostic,
  type ErrorDiagnostic,
  type FrameDiagnostic,
  type OpenDiagnostic,
  type RejectDiagnostic,
  type UpgradeDiagnostic,
  type WebSocketServerStats,
} from './diagnostics';
