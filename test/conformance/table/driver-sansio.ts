/**
 * Runs a table case through the sans-IO {@link WSConnection} (wsproto's model): a real
 * opening handshake (the peer's request or 101 written by hand, so the extension agreement
 * goes through the same negotiation as a user's), then the script: peer bytes in through
 * `receiveData`, events out of `events()`, our actions in through `send`.
 *
 * What the io WebSocket does by itself, this driver does as a wsproto user would, so both
 * write the same bytes: a Ping event is answered with `send(ping.response())` while we may
 * still send (RFC 6455 §5.5.2; never after our close frame, §5.5.1); a CloseConnection event
 * in REMOTE_CLOSING (the peer's close, or its protocol violation, §7.1.7) is answered with
 * `send(close.response())`; message pieces are joined into whole messages. The end of the
 * script is the peer's EOF: `receiveData(null)`.
 */
import { acceptKey } from '../../../src/handshake/handshake';
import { PerMessageDeflate } from '../../../src/extensions/permessage-deflate';
import {
  AcceptConnection,
  BytesMessage,
  CloseConnection,
  ConnectionState,
  ConnectionType,
  Ping,
  Pong,
  Request,
  TextMessage,
  WSConnection,
  type Event,
} from '../../../src/protocol';
import { canonicalBytes, describeFrames, payloadText, peerBytes, reads, splitHead, type Case, type Outcome } from './script';

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/**
 * A WSConnection of `c.role`, OPEN, with the case's extension agreed in a real handshake;
 * `head` (the peer's first frames) rides in the handshake's read. Returns the events those
 * frames gave.
 */
function open(c: Case, head: Uint8Array): { conn: WSConnection; first: Event[] } {
  const options = c.maxPayload === undefined ? {} : { maxPayload: c.maxPayload };
  const extensions = c.deflate === undefined ? [] : [new PerMessageDeflate(c.deflate.options)];
  if (c.role === 'server') {
    const conn = new WSConnection(ConnectionType.SERVER, options);
    const key = Buffer.from('table-driver-key').toString('base64');
    const offer = c.deflate === undefined ? '' : `Sec-WebSocket-Extensions: ${c.deflate.agreed}\r\n`;
    const request = `GET / HTTP/1.1\r\nHost: table\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${offer}\r\n`;
    conn.receiveData(Buffer.concat([Buffer.from(request, 'latin1'), head]));
    const [event] = [...conn.events()];
    if (!(event instanceof Request)) throw new Error(`the handshake request was not accepted: ${String(event?.type)}`);
    conn.send(new AcceptConnection({ extensions }));
    return { conn, first: [] };
  }
  const conn = new WSConnection(ConnectionType.CLIENT, options);
  const request = latin1(conn.send(new Request({ host: 'table', target: '/', extensions })));
  const key = /sec-websocket-key: *(\S+)/i.exec(request)?.[1] ?? '';
  const agreed = c.deflate === undefined ? '' : `Sec-WebSocket-Extensions: ${c.deflate.agreed}\r\n`;
  const response = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n${agreed}\r\n`;
  conn.receiveData(Buffer.concat([Buffer.from(response, 'latin1'), head]));
  const events = conn.events();
  const accept = events.next().value;
  if (!(accept instanceof AcceptConnection)) throw new Error(`the 101 was not accepted: ${String(accept?.type)}`);
  if (c.deflate !== undefined && accept.extensions.length !== 1) throw new Error('permessage-deflate was not agreed');
  return { conn, first: [...events] };
}

/** Runs `c`; `split` 'bytes' delivers every peer byte as its own read. */
export function runSansIo(c: Case, split?: 'bytes'): Outcome {
  const { head, steps } = splitHead(c);
  const { conn, first } = open(c, head ?? new Uint8Array(0));
  const written: Uint8Array[] = [];
  const events: string[] = [];
  let closed: [number, string] | null = null;
  let failed: number | null = null;
  let text: string[] | null = null;
  let binary: Uint8Array[] | null = null;
  const send = (e: Event): void => {
    written.push(conn.send(e));
  };

  const handle = (e: Event): void => {
    if (e instanceof TextMessage) {
      (text ??= []).push(e.data);
      if (e.messageFinished) {
        events.push(`text:${text.join('')}`);
        text = null;
      }
    } else if (e instanceof BytesMessage) {
      (binary ??= []).push(e.data);
      if (e.messageFinished) {
        events.push(`binary:${Buffer.concat(binary).toString('hex')}`);
        binary = null;
      }
    } else if (e instanceof Ping) {
      events.push(`ping:${payloadText(e.payload)}`);
      if (conn.state === ConnectionState.OPEN) send(e.response());
    } else if (e instanceof Pong) {
      events.push(`pong:${payloadText(e.payload)}`);
    } else if (e instanceof CloseConnection) {
      if (e.error !== undefined) failed = e.code;
      closed = [e.code, e.error === undefined ? e.reason : ''];
      if (conn.state === ConnectionState.REMOTE_CLOSING) send(e.response());
    } else {
      throw new Error(`unexpected event ${e.type}`);
    }
  };

  // The server's events for the head come once it accepted (as a wsproto user reads them).
  for (const e of c.role === 'server' ? conn.events() : first) handle(e);
  for (const step of steps) {
    if ('peer' in step) {
      for (const piece of reads(peerBytes(c.role, step.peer), split === 'bytes' ? 'bytes' : step.cuts)) {
        if (conn.state === ConnectionState.CLOSED) break; // the transport is closed: no more reads
        conn.receiveData(piece);
        for (const e of conn.events()) handle(e);
      }
    } else if ('send' in step) {
      const init = { data: step.send, messageFinished: step.fin !== false };
      send(typeof step.send === 'string' ? new TextMessage(init as { data: string }) : new BytesMessage(init as { data: Uint8Array }));
    } else if ('ping' in step) {
      send(new Ping({ payload: Buffer.from(step.ping) }));
    } else if ('pong' in step) {
      send(new Pong({ payload: Buffer.from(step.pong) }));
    } else {
      send(new CloseConnection({ code: step.close ?? 1005, reason: step.reason }));
    }
  }
  conn.receiveData(null);
  for (const e of conn.events()) handle(e);

  const bytes = Buffer.concat(written);
  return {
    events,
    bytes: canonicalBytes(bytes),
    out: describeFrames(bytes, c.role),
    closed: closed ?? [1006, ''],
    failed,
  };
}
