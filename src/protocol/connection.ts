/**
 * {@link Connection}: the sans-IO state machine of an established WebSocket connection
 * (RFC 6455 §5 framing rules on top of {@link FrameProtocol}, §7 closing handshake).
 * Bytes in through {@link Connection.receiveData}, events out of {@link Connection.events};
 * events in through {@link Connection.send}, bytes out. No sockets, timers or promises.
 */
import type { LoggerLike } from '../handshake/datastructures';
import { LocalProtocolError, RemoteProtocolError } from '../errors';
import type { Extension } from '../extensions/extension';
import { Close, CloseCode, Opcode } from '../frames/frame';
import { clipCloseReason } from './close-policy';
import { BytesMessage, CloseConnection, type Event, Ping, Pong, TextMessage } from './events';
import { FrameProtocol, type FrameProtocolOptions } from './frame-protocol';

/** Which end of the connection we are (wsproto's ConnectionType). */
export enum ConnectionType {
  /** We opened the connection: our frames are masked (RFC 6455 §5.3). */
  CLIENT = 1,
  /** We accepted it: the peer's frames must be masked (RFC 6455 §5.1). */
  SERVER = 2,
}

/** The life of a connection (RFC 6455 §4 opening and §7 closing handshakes). */
export enum ConnectionState {
  /** The opening handshake is in progress. */
  CONNECTING = 0,
  /** The opening handshake is complete: messages flow both ways. */
  OPEN = 1,
  /**
   * The peer sent a close frame (or broke the protocol, see {@link Connection.events}) and
   * we have not sent ours yet: send `closeEvent.response()` next.
   */
  REMOTE_CLOSING = 2,
  /** We sent a close frame and wait for the peer's. */
  LOCAL_CLOSING = 3,
  /** Both close frames went (or the transport ended): close the TCP connection. */
  CLOSED = 4,
  /** The opening handshake was refused: the rejection is being sent. */
  REJECTING = 5,
}

/** Options of {@link Connection} (`maxPayload` and `maskKey` are {@link FrameProtocol}'s). */
export interface ConnectionOptions extends FrameProtocolOptions {
  /**
   * websockets' `logger`: one debug line per event sent ("> text [5 chars]") and received
   * ("< close 1000 bye") and per state change ("= connection is CLOSED"). `console` works.
   * Default: none (nothing is formatted).
   */
  logger?: LoggerLike;
}

/** One line about an event for the logger. */
function describe(event: Event): string {
  if (event instanceof CloseConnection) return `close ${event.code}${event.reason === '' ? '' : ` ${event.reason}`}`;
  if (event instanceof TextMessage || event instanceof BytesMessage) {
    const unit = typeof event.data === 'string' ? 'chars' : 'bytes';
    return `${event.type} [${event.data.length} ${unit}${event.messageFinished ? '' : ', continued'}]`;
  }
  if (event instanceof Ping || event instanceof Pong) return `${event.type} [${event.payload.length} bytes]`;
  return event.type;
}

/**
 * An established connection, after the opening handshake (wsproto's Connection).
 *
 * The closing handshake (RFC 6455 §7), in either role, started by either side:
 * - we close: `send(new CloseConnection({ code }))` -> LOCAL_CLOSING; the peer's close
 *   arrives as a CloseConnection event -> CLOSED (do not answer it);
 * - the peer closes: a CloseConnection event -> REMOTE_CLOSING; answer with
 *   `send(event.response())` (echoes the code, §5.5.1; a close without a code, reported as
 *   1005, is answered with an empty close) -> CLOSED.
 * So: answer a CloseConnection event exactly when `state` is REMOTE_CLOSING.
 *
 * Peer protocol violations (RFC 6455 §7.1.7 "_Fail the WebSocket Connection_"): the frame
 * layer throws ParseFailed; this class turns it into a CloseConnection event whose `code` is
 * the close code to send (1002, 1007, 1009...), `reason` the explanation (cut to 123 bytes)
 * and `error` the ParseFailed, and moves to REMOTE_CLOSING, so the same rule applies:
 * `send(event.response())` produces the close frame and moves to CLOSED (§7.1.7: do not wait
 * for the peer's close after failing). Once failed, only that close may be sent. If we had
 * already sent our close (LOCAL_CLOSING), a violation moves straight to CLOSED.
 *
 * Nothing after the peer's close frame (or a violation) is processed: later bytes are
 * ignored, and once CLOSED feeding bytes is an error (LocalProtocolError, as in wsproto).
 * `receiveData(null)` reports the end of the transport: a CloseConnection with 1006
 * (§7.1.5, "abnormal closure") if no close frame had been received, and state CLOSED.
 *
 * Received pings are reported as {@link Ping} events, not answered: send `ping.response()`
 * (as in wsproto; the Node layer does it for you).
 */
export class Connection {
  readonly connectionType: ConnectionType;
  readonly extensions: readonly Extension[];
  private currentState = ConnectionState.OPEN;
  private readonly proto: FrameProtocol;
  /** The peer's close frame arrived, the peer broke the protocol, or the end was reported. */
  private inputDone = false;
  /** receiveData(null) was called: the transport is gone. */
  private eof = false;
  /** The peer broke the protocol: only our close may still be sent. */
  private failed = false;
  private disposed = false;
  private readonly logger: LoggerLike | undefined;
  /** The last state the logger was told about. */
  private loggedState = ConnectionState.OPEN;

  /**
   * @param connectionType which end we are
   * @param extensions the extensions negotiated in the handshake, in order (RFC 6455 §9.1)
   * @param trailingData bytes that followed the handshake in the same read (the peer's first frames)
   */
  constructor(connectionType: ConnectionType, extensions: readonly Extension[] = [], trailingData?: Uint8Array, options: ConnectionOptions = {}) {
    if (connectionType !== ConnectionType.CLIENT && connectionType !== ConnectionType.SERVER) {
      throw new TypeError('connectionType must be ConnectionType.CLIENT or ConnectionType.SERVER');
    }
    this.connectionType = connectionType;
    this.extensions = extensions;
    this.logger = options.logger;
    this.proto = new FrameProtocol(connectionType === ConnectionType.CLIENT, extensions, options);
    if (trailingData !== undefined && trailingData.length > 0) this.receiveData(trailingData);
  }

  /** The current state (see {@link ConnectionState}). */
  get state(): ConnectionState {
    return this.currentState;
  }

  /**
   * The bytes that carry `event` to the peer.
   * - {@link TextMessage} / {@link BytesMessage}: a data frame; `messageFinished: false`
   *   sends a fragment and the next messages of the same type continue it (RFC 6455 §5.4).
   * - {@link Ping} / {@link Pong}: a control frame (payload <= 125 bytes).
   * - {@link CloseConnection}: a close frame; OPEN -> LOCAL_CLOSING, REMOTE_CLOSING -> CLOSED.
   * Messages, pings and pongs may be sent while OPEN, and while REMOTE_CLOSING (to finish a
   * message before answering the close, §5.5.1) unless the peer broke the protocol.
   * @throws LocalProtocolError when the event cannot be sent now (after our close frame,
   *   RFC 6455 §5.5.1: "MUST NOT send any more data frames"), for a type change inside a
   *   fragmented message, an oversized control payload or an unsendable close code
   */
  send(event: Event): Uint8Array {
    if (this.logger === undefined) return this.sendEvent(event);
    const bytes = this.sendEvent(event);
    this.logger.debug(`> ${describe(event)}`);
    this.logState();
    return bytes;
  }

  private sendEvent(event: Event): Uint8Array {
    const state = this.currentState;
    if (event instanceof CloseConnection) {
      if (state !== ConnectionState.OPEN && state !== ConnectionState.REMOTE_CLOSING) {
        throw new LocalProtocolError(`cannot send a close frame in state ${ConnectionState[state]}`);
      }
      const bytes = this.proto.close(event.code, event.reason);
      this.currentState = state === ConnectionState.REMOTE_CLOSING ? ConnectionState.CLOSED : ConnectionState.LOCAL_CLOSING;
      this.disposeIfDone();
      return bytes;
    }
    if (event instanceof TextMessage || event instanceof BytesMessage || event instanceof Ping || event instanceof Pong) {
      if (this.failed || (state !== ConnectionState.OPEN && state !== ConnectionState.REMOTE_CLOSING)) {
        const why = this.failed ? 'after the peer broke the protocol (send the close response)' : `in state ${ConnectionState[state]}`;
        throw new LocalProtocolError(`cannot send ${event.type} ${why}`);
      }
      if (event instanceof Ping) return this.proto.ping(event.payload);
      if (event instanceof Pong) return this.proto.pong(event.payload);
      try {
        return this.proto.sendData(event.data, event.messageFinished);
      } catch (err) {
        if (err instanceof TypeError) throw new LocalProtocolError(err.message);
        throw err;
      }
    }
    throw new LocalProtocolError(`a Connection cannot send ${(event as { type?: string }).type ?? String(event)} events`);
  }

  /**
   * Feeds bytes received from the peer, or `null` when the transport ended (EOF or reset).
   * The buffer becomes the connection's: client frames are unmasked in place and message
   * data may be views of it. Bytes after the peer's close frame are ignored.
   * `null` moves to CLOSED at once (nothing can be sent any more); events already received
   * are still delivered by {@link Connection.events}, followed by a CloseConnection with
   * 1006 if no close frame was among them. A second `null` is ignored.
   * @throws LocalProtocolError for bytes fed once CLOSED (wsproto's rule: the program must
   *   stop reading once the closing handshake is over, RFC 6455 §7.1.1)
   */
  receiveData(data: Uint8Array | null): void {
    if (data === null) {
      if (this.eof) return;
      this.eof = true;
      this.currentState = ConnectionState.CLOSED;
      this.disposeIfDone();
      return;
    }
    if (this.currentState === ConnectionState.CLOSED) throw new LocalProtocolError('Connection already closed.');
    if (this.inputDone) return;
    this.proto.receiveBytes(data);
  }

  /** The events the bytes received so far produce, in order. */
  *events(): Generator<Event, void, undefined> {
    const logger = this.logger;
    if (logger === undefined) {
      yield* this.receivedEvents();
      return;
    }
    for (const event of this.receivedEvents()) {
      logger.debug(`< ${describe(event)}`);
      this.logState();
      yield event;
    }
  }

  private logState(): void {
    if (this.currentState === this.loggedState) return;
    this.loggedState = this.currentState;
    this.logger!.debug(`= connection is ${ConnectionState[this.currentState]}`);
  }

  private *receivedEvents(): Generator<Event, void, undefined> {
    if (!this.inputDone) {
      try {
        for (const frame of this.proto.receivedFrames()) {
          switch (frame.opcode) {
            case Opcode.PING:
              yield new Ping({ payload: frame.payload as Uint8Array });
              break;
            case Opcode.PONG:
              yield new Pong({ payload: frame.payload as Uint8Array });
              break;
            case Opcode.CLOSE: {
              const close = frame.payload as Close;
              this.inputDone = true;
              if (this.currentState === ConnectionState.LOCAL_CLOSING) this.currentState = ConnectionState.CLOSED;
              else if (this.currentState === ConnectionState.OPEN) this.currentState = ConnectionState.REMOTE_CLOSING;
              this.disposeIfDone();
              yield new CloseConnection({ code: close.code, reason: close.reason });
              return; // RFC 6455 §5.5.1: nothing the peer sends after its close frame counts
            }
            case Opcode.TEXT:
              yield new TextMessage({ data: frame.payload as string, frameFinished: frame.frameFinished, messageFinished: frame.messageFinished });
              break;
            default:
              yield new BytesMessage({ data: frame.payload as Uint8Array, frameFinished: frame.frameFinished, messageFinished: frame.messageFinished });
          }
        }
      } catch (err) {
        if (!(err instanceof RemoteProtocolError)) throw err;
        yield this.fail(err);
        return;
      }
    }
    if (this.eof && !this.inputDone) {
      // §7.1.5: "If _The WebSocket Connection is Closed_ and no Close control frame was
      // received by the endpoint ..., _The WebSocket Connection Close Code_ is considered
      // to be 1006."
      this.inputDone = true;
      this.disposeIfDone();
      yield new CloseConnection({ code: CloseCode.ABNORMAL_CLOSURE, reason: '' });
    }
  }

  /** §7.1.7: the peer broke the protocol; stop reading and report the close to send. */
  private fail(err: RemoteProtocolError): CloseConnection {
    this.inputDone = true;
    this.failed = true;
    if (this.currentState === ConnectionState.LOCAL_CLOSING) this.currentState = ConnectionState.CLOSED;
    else if (this.currentState === ConnectionState.OPEN) this.currentState = ConnectionState.REMOTE_CLOSING;
    this.disposeIfDone();
    return new CloseConnection({ code: err.closeCode, reason: clipCloseReason(err.message), error: err });
  }

  /** Extensions hold zlib streams: free them once nothing is framed or parsed any more. */
  private disposeIfDone(): void {
    if (this.disposed || this.currentState !== ConnectionState.CLOSED) return;
    // With input pending after EOF, the inbound hooks still run: wait until it is read.
    if (this.eof && !this.inputDone) return;
    this.disposed = true;
    for (const ext of this.extensions) ext.dispose?.();
  }

}
