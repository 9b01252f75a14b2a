/**
 * {@link WSConnection}: the opening handshake (RFC 6455 §4, {@link H11Handshake}) followed by
 * a {@link Connection} — wsproto's WSConnection, the one class most users of the sans-IO
 * core touch. No sockets, timers or promises: the caller moves the bytes.
 */
import type { HeadersLike } from '../handshake/datastructures';
import type { RemoteProtocolError } from '../errors';
import type { Connection, ConnectionState, ConnectionType } from './connection';
import type { Event } from './events';
import { H11Handshake, type H11HandshakeOptions } from './h11-handshake';

/** Options of {@link WSConnection}: those of {@link H11Handshake}. */
export type WSConnectionOptions = H11HandshakeOptions;

/**
 * One end of a WebSocket connection, from the first handshake byte to the last close frame:
 * an {@link H11Handshake} until it hands over its {@link Connection}, then that Connection.
 * See H11Handshake for the handshake events and errors of each side, Connection for
 * messages and the closing handshake.
 */
export class WSConnection {
  readonly connectionType: ConnectionType;
  /** The opening handshake (wsproto's `handshake` attribute). */
  readonly handshake: H11Handshake;

  constructor(connectionType: ConnectionType, options: WSConnectionOptions = {}) {
    this.handshake = new H11Handshake(connectionType, options);
    this.connectionType = connectionType;
  }

  /** The current state: the handshake's until it succeeds, then the Connection's. */
  get state(): ConnectionState {
    const connection = this.handshake.connection;
    return connection !== null ? connection.state : this.handshake.state;
  }

  /** The established connection, or null during the handshake. */
  get connection(): Connection | null {
    return this.handshake.connection;
  }

  /** See {@link H11Handshake.initiateUpgradeConnection}. */
  initiateUpgradeConnection(headers: HeadersLike, path: string): void {
    this.handshake.initiateUpgradeConnection(headers, path);
  }

  /**
   * The bytes that carry `event` to the peer: {@link H11Handshake.send} during the
   * handshake, {@link Connection.send} after it.
   * @throws LocalProtocolError for an event that does not fit the side or the state
   */
  send(event: Event): Uint8Array {
    const connection = this.handshake.connection;
    return connection !== null ? connection.send(event) : this.handshake.send(event);
  }

  /** See {@link H11Handshake.rejectHandshake}. */
  rejectHandshake(error?: RemoteProtocolError): Uint8Array {
    return this.handshake.rejectHandshake(error);
  }

  /** Feeds bytes received from the peer, or `null` when the transport ended. */
  receiveData(data: Uint8Array | null): void {
    const connection = this.handshake.connection;
    if (connection !== null) connection.receiveData(data);
    else this.handshake.receiveData(data);
  }

  /** The handshake's events (a failure is thrown once), then the Connection's. */
  *events(): Generator<Event, void, undefined> {
    yield* this.handshake.events();
    const connection = this.handshake.connection;
    if (connection !== null) yield* connection.events();
  }
}
