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
  ConnectionClosedError,
  ConnectError,
  ConnectionFailedError,
  ConnectionRefusedError,
  DNSError,
  HandshakeTimeoutError,
  InvalidServerHandshakeError,
  InvalidStatusError,
  InvalidURLError,
  TooManyRedirectsError,
  CloseEvent,
  ErrorEvent,
  MessageEvent,
  WSEvent,
} from './io';
export type {
  AsyncServer,
  BinaryType,
  BroadcastOptions,
  ClientOptions,
  CloseInfo,
  ConnectionOptions,
  ConnectOptions,
  HeartbeatOptions,
  Message,
  RawData,
  SendData,
  SendOptions,
  ServeOptions,
  ServerOptions,
  VerifyClientAsync,
  VerifyClientInfo,
  VerifyClientSync,
  WebSocketEventMap,
  WebSocketServerEventMap,
  WSEventListener,
} from './io';
