/**
 * The sans-IO core (wsproto's model): bytes in, events out; events in, bytes out. No
 * sockets, no timers, no promises — usable on any transport (RFC 6455 §4-§7).
 */
export { Connection, ConnectionState, ConnectionType, type ConnectionOptions } from './connection';
export { H11Handshake, type H11HandshakeOptions } from './h11-handshake';
export { WSConnection, type WSConnectionOptions } from './ws-connection';
export {
  AcceptConnection,
  BytesMessage,
  CloseConnection,
  Message,
  Ping,
  Pong,
  RejectConnection,
  RejectData,
  Request,
  TextMessage,
  type AcceptConnectionInit,
  type CloseConnectionInit,
  type Event,
  type MessageInit,
  type PingInit,
  type RejectConnectionInit,
  type RejectDataInit,
  type RequestInit,
} from './events';
export {
  CloseReason,
  FrameDecoder,
  FrameProtocol,
  MessageDecoder,
  ParseFailed,
  type FrameProtocolOptions,
  type Header,
  type ReceivedFrame,
  type RsvBits,
} from './frame-protocol';
