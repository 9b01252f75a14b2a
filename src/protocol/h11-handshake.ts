/**
 * {@link H11Handshake}: the opening handshake over HTTP/1.1 (RFC 6455 §4), wsproto's
 * H11Handshake. It hands over a {@link Connection} once the handshake succeeds;
 * {@link WSConnection} (./ws-connection.ts) joins the two. Sans-IO.
 */
import { Headers, type HeadersLike } from '../handshake/datastructures';
import { LocalProtocolError, RemoteProtocolError } from '../errors';
import type { Extension } from '../extensions/extension';
import { buildExtensionParams } from '../handshake/headers';
import {
  buildAcceptResponse,
  buildClientRequest,
  checkClientRequest,
  checkServerResponse,
  type ClientHandshake,
  InvalidHandshake,
  negotiateExtensions,
  rejectResponseFor,
} from '../handshake/handshake';
import { type HttpLimits, Request as HttpRequest, RequestParser, Response as HttpResponse, ResponseParser } from '../handshake/http11';
import { Connection, type ConnectionOptions, ConnectionState, ConnectionType } from './connection';
import { AcceptConnection, type Event, RejectConnection, RejectData, Request } from './events';

/**
 * Options of {@link H11Handshake} (and of {@link WSConnection}): the {@link Connection}'s
 * (`maxPayload`, `maskKey`, `logger`: the logger also gets one line per handshake step),
 * plus the HTTP limits.
 */
export interface H11HandshakeOptions extends ConnectionOptions {
  /** Limits of the HTTP head (default 16 KiB, 100 header lines: 431 beyond). */
  httpLimits?: Partial<HttpLimits>;
}

const EMPTY = new Uint8Array(0);

/**
 * The opening handshake of one end (wsproto's H11Handshake). Once it succeeds,
 * {@link H11Handshake.connection} is the established {@link Connection} (state OPEN here):
 * messages and the closing handshake are the Connection's. Bytes that followed the handshake
 * in the same read go to the Connection; bytes fed here afterwards are passed on to it.
 *
 * Client: `send(new Request({ host, target, subprotocols, extensions, extraHeaders }))` gives
 * the request bytes; the server's 101 then yields {@link AcceptConnection} (state OPEN), any
 * other status yields {@link RejectConnection} and, when it has a body, one
 * {@link RejectData} with all of it (state CLOSED). A 101 that fails the checks of RFC 6455
 * §4.1 makes {@link H11Handshake.events} throw an {@link InvalidHandshake} (state CLOSED: the
 * client must fail the connection).
 *
 * Server: the request's bytes yield a {@link Request} event; answer with
 * `send(new AcceptConnection({ subprotocol, extensions }))` (state OPEN; `extensions` are the
 * server's supported extensions, negotiated against the client's offers, §9.1) or with
 * `send(new RejectConnection({ statusCode, headers, hasBody }))` and, if `hasBody`,
 * `send(new RejectData({ data }))` (state REJECTING, then CLOSED).
 * A request that fails the checks of §4.2.1 (or the HTTP parser's limits) makes
 * {@link H11Handshake.events} throw the {@link RemoteProtocolError} (InvalidHandshake,
 * HttpParseError, SecurityError) whose `statusCode` is the status to reject with (400, 405,
 * 414, 426, 431; see handshake.ts), like wsproto's RemoteProtocolError and its event hint.
 * The state stays CONNECTING so the rejection can be sent: {@link H11Handshake.rejectHandshake}
 * builds it (status, the error's headers, a text body).
 *
 */
export class H11Handshake {
  readonly connectionType: ConnectionType;
  private readonly options: H11HandshakeOptions;
  private handshakeState = ConnectionState.CONNECTING;
  private established: Connection | null = null;
  private readonly queue: Event[] = [];
  /** A handshake failure, thrown once by events(). */
  private error: RemoteProtocolError | null = null;
  /** The handshake failed or ended: ignore input until the user acts. */
  private handshakeDone = false;
  private requestParser: RequestParser | null = null;
  private responseParser: ResponseParser | null = null;
  /** Client: what was offered, to check the answer. */
  private offered: { key: string; subprotocols: string[]; extensions: Extension[] } | null = null;
  /** Server: the valid request received. */
  private request: ClientHandshake | null = null;
  /** Bytes that followed the handshake in the same read: the peer's first frames. */
  private trailing: Uint8Array = EMPTY;
  /** Server: the transport ended after the request, before the answer. */
  private pendingEof = false;

  constructor(connectionType: ConnectionType, options: H11HandshakeOptions = {}) {
    if (connectionType !== ConnectionType.CLIENT && connectionType !== ConnectionType.SERVER) {
      throw new TypeError('connectionType must be ConnectionType.CLIENT or ConnectionType.SERVER');
    }
    this.connectionType = connectionType;
    this.options = options;
  }

  /**
   * The handshake's state: CONNECTING, then OPEN once it succeeded (the Connection's own
   * state moves on from there), or REJECTING / CLOSED when it was refused or failed.
   */
  get state(): ConnectionState {
    return this.established !== null ? ConnectionState.OPEN : this.handshakeState;
  }

  /** The established connection, or null until the handshake succeeds (wsproto's `connection`). */
  get connection(): Connection | null {
    return this.established;
  }

  /**
   * Server, when an HTTP server already parsed the request (e.g. Node's 'upgrade' event):
   * checks it as if its bytes had been received; a {@link Request} event (or the handshake
   * error) follows from {@link H11Handshake.events}.
   * @throws LocalProtocolError on a client, or once the handshake has started
   */
  initiateUpgradeConnection(headers: HeadersLike, path: string): void {
    if (this.connectionType !== ConnectionType.SERVER) throw new LocalProtocolError('initiateUpgradeConnection is for servers');
    if (this.handshakeDone || this.requestParser !== null || this.handshakeState !== ConnectionState.CONNECTING) {
      throw new LocalProtocolError('the opening handshake has already started');
    }
    this.handshakeDone = true;
    try {
      this.onRequest(new HttpRequest(path, new Headers(headers)));
    } catch (err) {
      if (!(err instanceof RemoteProtocolError)) throw err;
      this.error = err;
    }
  }

  /**
   * The bytes that carry `event` to the peer (see the class comment for which events fit
   * which side and state; after the handshake see {@link Connection.send}).
   * @throws LocalProtocolError for an event that does not fit the side or the state
   */
  send(event: Event): Uint8Array {
    if (this.established !== null) throw new LocalProtocolError(`the handshake is over: send ${event.type} on the connection`);
    this.options.logger?.debug(`> ${event.type}`);
    const client = this.connectionType === ConnectionType.CLIENT;
    if (client && event instanceof Request) return this.sendRequest(event);
    if (!client && event instanceof AcceptConnection) return this.accept(event);
    if (!client && event instanceof RejectConnection) return this.reject(event);
    if (!client && event instanceof RejectData) return this.rejectData(event);
    throw new LocalProtocolError(`cannot send ${event.type} as a ${client ? 'client' : 'server'} in state ${ConnectionState[this.state]}`);
  }

  /**
   * Server: the complete rejection of a failed handshake (status line, the error's headers,
   * a text body naming the problem) and state CLOSED. Default error: 400 Bad Request.
   */
  rejectHandshake(error?: RemoteProtocolError): Uint8Array {
    const failure = error instanceof InvalidHandshake ? error : new InvalidHandshake(error?.message ?? 'bad request', error?.statusCode ?? 400);
    const response = rejectResponseFor(failure);
    const head = this.send(new RejectConnection({ statusCode: response.statusCode, headers: response.headers, hasBody: true }));
    const body = this.send(new RejectData({ data: response.body ?? EMPTY }));
    return Buffer.concat([head, body]);
  }

  /**
   * Feeds bytes received from the peer, or `null` when the transport ended. During the
   * handshake the bytes go to the HTTP parser; what follows the head goes to the Connection,
   * and so does everything fed once it exists.
   */
  receiveData(data: Uint8Array | null): void {
    if (this.established !== null) {
      this.established.receiveData(data);
      return;
    }
    if (this.request !== null) {
      // Server, valid request, not answered yet: whatever comes now is for the Connection.
      if (data === null) this.pendingEof = true;
      else if (!this.pendingEof) this.trailing = Buffer.concat([this.trailing, data]);
      return;
    }
    if (this.handshakeDone) return;
    const client = this.connectionType === ConnectionType.CLIENT;
    if (client && this.offered === null) throw new LocalProtocolError('send the Request before receiving data');
    try {
      if (client) {
        this.responseParser ??= new ResponseParser(this.options.httpLimits);
        const result = data === null ? this.responseParser.feedEof() : this.responseParser.feed(data);
        if (result.done) this.onResponse(result.value, result.trailing);
      } else if (data === null) {
        // The client left before finishing its request: there is nobody to answer.
        this.handshakeDone = true;
        this.handshakeState = ConnectionState.CLOSED;
      } else {
        this.requestParser ??= new RequestParser(this.options.httpLimits);
        const result = this.requestParser.feed(data);
        if (result.done) {
          this.handshakeDone = true;
          this.trailing = result.trailing.length > 0 ? Buffer.from(result.trailing) : EMPTY;
          this.onRequest(result.value);
        }
      }
    } catch (err) {
      if (!(err instanceof RemoteProtocolError)) throw err;
      this.handshakeDone = true;
      this.error = err;
      // A client fails the connection (§4.1); a server still has to send its rejection.
      if (client) this.handshakeState = ConnectionState.CLOSED;
    }
  }

  /**
   * The handshake events received so far, in order (not the Connection's: see
   * {@link H11Handshake.connection}). A failure is thrown (once) after the events that
   * preceded it; see the class comment.
   */
  *events(): Generator<Event, void, undefined> {
    while (this.queue.length > 0) {
      const event = this.queue.shift()!;
      this.options.logger?.debug(`< ${event.type}`);
      yield event;
    }
    if (this.error !== null) {
      const err = this.error;
      this.error = null;
      this.options.logger?.debug(`! handshake failed: ${err.message}`);
      throw err;
    }
  }

  private sendRequest(event: Request): Uint8Array {
    if (this.offered !== null || this.handshakeState !== ConnectionState.CONNECTING) throw new LocalProtocolError('the Request was already sent');
    const extensions = event.extensions as Array<Extension | string>;
    if (extensions.some((e) => typeof e === 'string')) throw new LocalProtocolError('a client offers Extension objects, not strings');
    const request = buildClientRequest({
      host: event.host,
      path: event.target,
      subprotocols: event.subprotocols,
      extensions: extensions as Extension[],
      extraHeaders: event.extraHeaders,
    });
    const bytes = request.serialize();
    this.offered = { key: request.headers.get('Sec-WebSocket-Key')!, subprotocols: event.subprotocols, extensions: extensions as Extension[] };
    return bytes;
  }

  private onResponse(response: HttpResponse, trailing: Uint8Array): void {
    this.handshakeDone = true;
    if (response.statusCode !== 101) {
      const hasBody = response.body !== undefined && response.body.length > 0;
      this.queue.push(new RejectConnection({ statusCode: response.statusCode, headers: response.headers, hasBody }));
      if (hasBody) this.queue.push(new RejectData({ data: response.body!, bodyFinished: true }));
      this.handshakeState = ConnectionState.CLOSED;
      return;
    }
    const { subprotocol, extensions } = checkServerResponse(response, this.offered!);
    this.queue.push(new AcceptConnection({ subprotocol, extensions, extraHeaders: response.headers }));
    this.established = new Connection(ConnectionType.CLIENT, extensions, trailing.length > 0 ? Buffer.from(trailing) : undefined, this.options);
  }

  private onRequest(request: HttpRequest): void {
    const handshake = checkClientRequest(request);
    this.request = handshake;
    this.queue.push(
      new Request({
        host: handshake.host,
        target: handshake.path,
        // One string per offer, as wsproto reports them: "permessage-deflate; client_max_window_bits".
        extensions: handshake.extensions.map(({ name, params }) => (params.length === 0 ? name : `${name}; ${buildExtensionParams(params)}`)),
        extraHeaders: request.headers,
        subprotocols: handshake.subprotocols,
      }),
    );
  }

  private accept(event: AcceptConnection): Uint8Array {
    const request = this.request;
    if (request === null || this.handshakeState !== ConnectionState.CONNECTING) {
      throw new LocalProtocolError('AcceptConnection needs a valid Request first');
    }
    if (event.subprotocol !== null && !request.subprotocols.includes(event.subprotocol)) {
      throw new LocalProtocolError(`subprotocol ${JSON.stringify(event.subprotocol)} was not offered by the client`);
    }
    const { extensions, header } = negotiateExtensions(request.extensions, event.extensions);
    const response = buildAcceptResponse({ key: request.key, subprotocol: event.subprotocol, extensions: header, extraHeaders: event.extraHeaders });
    const bytes = response.serialize();
    this.request = null;
    const trailing = this.trailing;
    this.trailing = EMPTY;
    this.established = new Connection(ConnectionType.SERVER, extensions, trailing.length > 0 ? trailing : undefined, this.options);
    if (this.pendingEof) this.established.receiveData(null);
    return bytes;
  }

  private reject(event: RejectConnection): Uint8Array {
    if (this.handshakeState !== ConnectionState.CONNECTING) throw new LocalProtocolError(`cannot reject in state ${ConnectionState[this.state]}`);
    const headers = new Headers(event.headers);
    // Without a length the body runs until the connection closes, which we do right after.
    if (!event.hasBody && !headers.has('Content-Length')) headers.append('Content-Length', '0');
    if (!headers.has('Connection')) headers.append('Connection', 'close');
    const bytes = new HttpResponse(event.statusCode, undefined, headers).serialize();
    this.request = null;
    this.trailing = EMPTY;
    this.handshakeDone = true;
    this.handshakeState = event.hasBody ? ConnectionState.REJECTING : ConnectionState.CLOSED;
    return bytes;
  }

  private rejectData(event: RejectData): Uint8Array {
    if (this.handshakeState !== ConnectionState.REJECTING) throw new LocalProtocolError(`cannot send RejectData in state ${ConnectionState[this.state]}`);
    if (event.bodyFinished) this.handshakeState = ConnectionState.CLOSED;
    return event.data;
  }
}
