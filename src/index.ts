/**
 * wscore: WebSocket (RFC 6455, RFC 7692) for Node.js.
 */
export { backend, backendName, nativeLoadError, Utf8State } from './backend';
export type { Backend, BackendName } from './backend';

// The Node I/O layer: ws-compatible WebSocket / WebSocketServer, the async API, broadcast.
export {
  WebSocket,
  WebSocketServer,
  createWebSocketStream,
  connect,
  serve,
  PreparedMessage,
  MAX_TOPIC_LENGTH,
  TopicRegistry,
  PubSubError,
  redisPubSub,
  handleTopicRequest,
  isTopicRequest,
  TopicClient,
  TopicRequestError,
  ConnectionClosedError,
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
  isRetryable,
  CloseEvent,
  ErrorEvent,
  MessageEvent,
  WSEvent,
  diagnosticsChannels,
} from './io';
export type {
  AsyncServer,
  BinaryType,
  BroadcastOptions,
  ClientOptions,
  CloseInfo,
  ConnectOptions,
  Connecting,
  ProxyOption,
  ReconnectOptions,
  ReconnectingInfo,
  SocksStage,
  HeartbeatOptions,
  RawData,
  ReceivedMessage,
  SendData,
  SendOptions,
  ServeOptions,
  ServerOptions,
  PublishOptions,
  TransportChoice,
  TransportKind,
  TopicStats,
  PubSubAdapter,
  PubSubHost,
  BusMessage,
  HistoryPosition,
  RedisPubSub,
  RedisPubSubOptions,
  RedisClientLike,
  RecoverResult,
  HistoryEntry,
  TopicRequestOptions,
  Subscribed,
  TopicSocket,
  TopicSubscribeOptions,
  VerifyClientAsync,
  VerifyClientInfo,
  VerifyClientSync,
  WebSocketEventMap,
  WebSocketOptions,
  WebSocketServerEventMap,
  WSEventListener,
  // Observability (io/diagnostics.ts, docs/diagnostics.md).
  CloseDiagnostic,
  ErrorDiagnostic,
  FrameDiagnostic,
  OpenDiagnostic,
  RejectDiagnostic,
  UpgradeDiagnostic,
  WebSocketServerStats,
  // ws-style options (a superset of the extension's own, see io/deflate-glue.ts).
  PerMessageDeflateOptions,
  // @types/ws's names for wscore's types (io/ws-types.ts).
  CertMeta,
  Data,
  Event,
  EventListenerOptions,
  VerifyClientCallbackAsync,
  VerifyClientCallbackSync,
} from './io';

// Errors shared by every layer.
export * from './errors';
// Data structures, frames and URIs (python-websockets' and websocket-client's vocabulary).
export * from './handshake/datastructures';
export * from './frames/frame';
export * from './handshake/uri';
// HTTP/1.1 messages and parsers: namespaced, since the sans-IO core has its own `Request` event.
export * as http11 from './handshake/http11';
// The opening handshake and the extension framework, with permessage-deflate.
export * from './handshake/handshake';
export * from './handshake/headers';
// WebSocket over HTTP/2 (RFC 8441): the extended CONNECT, sans-IO.
export * from './handshake/handshake-h2';
export * from './handshake/extension-negotiation';
export type { Extension } from './extensions/extension';
export { maskToRsv, rsvToMask, RSV1, RSV2, RSV3, type FrameTransform, type RsvBits } from './frames/rsv';
export { PerMessageDeflate } from './extensions/permessage-deflate';
// The sans-IO core (wsproto's model): WSConnection, Connection, events, FrameProtocol.
export * from './protocol';
// websocket-client's continuous_frame and frame_buffer (issue 17).
export * from './frames/continuous-frame';
export { FrameBuffer, ConnectionLostError, type FrameBufferOptions, type RecvFunction } from './io/frame-buffer';
