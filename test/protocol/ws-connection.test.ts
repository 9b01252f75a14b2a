import { describe, expect, it } from 'vitest';

import { LocalProtocolError, RemoteProtocolError } from '../../src/errors';
import { InvalidHandshake } from '../../src/handshake/handshake';
import { HttpParseError, parseResponse, SecurityError } from '../../src/handshake/http11';
import {
  AcceptConnection,
  BytesMessage,
  CloseConnection,
  ConnectionState,
  ConnectionType,
  type Event,
  Ping,
  Pong,
  RejectConnection,
  RejectData,
  Request,
  type RequestInit,
  TextMessage,
  WSConnection,
} from '../../src/protocol';
import { FakeExtension } from '../helpers/fake-extension';
import { cat, split, wire } from '../helpers/wire';

const { CLIENT, SERVER } = ConnectionType;
const { CONNECTING, OPEN, REMOTE_CLOSING, LOCAL_CLOSING, CLOSED, REJECTING } = ConnectionState;
const latin1 = (s: string) => Buffer.from(s, 'latin1');

/** Moves bytes into `to` (whole or in `size`-byte pieces) and collects its events. */
function deliver(to: WSConnection, data: Uint8Array, size?: number): Event[] {
  const out: Event[] = [];
  for (const piece of size === undefined ? [data.slice()] : split(data, size)) {
    to.receiveData(piece);
    out.push(...to.events());
  }
  return out;
}

describe.each([
  ['whole', undefined],
  ['1-byte pieces', 1],
])('a client and a server WSConnection talking (%s)', (_how, size) => {
  it('handshake, messages both ways, fragments, ping/pong, close', () => {
    const client = new WSConnection(CLIENT);
    const server = new WSConnection(SERVER);
    const cExt = new FakeExtension('x-fake', { offers: ['a=1', true] });
    const sExt = new FakeExtension('x-fake', { accept: (o) => (o === 'a=1' ? 'a=1; b' : null) });
    expect(client.state).toBe(CONNECTING);

    const requestBytes = client.send(
      new Request({ host: 'example.com', target: '/chat?room=1', subprotocols: ['v2', 'v1'], extensions: [cExt], extraHeaders: { Origin: 'http://example.com' } }),
    );
    const [req] = deliver(server, requestBytes, size);
    expect(req).toBeInstanceOf(Request);
    const request = req as Request;
    expect([request.host, request.target, request.subprotocols, request.extensions]).toEqual(['example.com', '/chat?room=1', ['v2', 'v1'], ['x-fake; a=1', 'x-fake']]);
    expect(request.extraHeaders.get('origin')).toBe('http://example.com');

    const accept = server.send(new AcceptConnection({ subprotocol: 'v1', extensions: [sExt], extraHeaders: { 'X-Server': 'wscore' } }));
    expect(server.state).toBe(OPEN);
    const [acc] = deliver(client, accept, size);
    expect(acc).toBeInstanceOf(AcceptConnection);
    const accepted = acc as AcceptConnection;
    expect(accepted.subprotocol).toBe('v1');
    expect(accepted.extensions).toEqual([cExt]);
    expect(cExt.finalized).toEqual(['a=1; b']);
    expect(accepted.extraHeaders.get('x-server')).toBe('wscore');
    expect(client.state).toBe(OPEN);

    const c2s = cat(
      client.send(new TextMessage({ data: 'hello ☃' })),
      client.send(new BytesMessage({ data: Uint8Array.of(1, 2, 3) })),
      client.send(new TextMessage({ data: 'frag', messageFinished: false })),
      client.send(new Ping({ payload: Buffer.from('ping!') })),
      client.send(new TextMessage({ data: 'ment' })),
    );
    const got = deliver(server, c2s, size);
    const texts = got.filter((e): e is TextMessage => e instanceof TextMessage).map((e) => e.data);
    expect(texts.join('|')).toBe('hello ☃|frag|ment');
    expect(Buffer.from((got.find((e) => e instanceof BytesMessage) as BytesMessage).data)).toEqual(Buffer.of(1, 2, 3));
    const ping = got.find((e): e is Ping => e instanceof Ping)!;
    expect(Buffer.from(ping.payload).toString()).toBe('ping!');

    const s2c = cat(server.send(ping.response()), server.send(new BytesMessage({ data: new Uint8Array(70000).fill(7) })));
    const back = deliver(client, s2c, size === undefined ? undefined : 997);
    expect(back[0]).toBeInstanceOf(Pong);
    const big = back.filter((e): e is BytesMessage => e instanceof BytesMessage);
    expect(big.reduce((n, e) => n + e.data.length, 0)).toBe(70000);
    expect(big.at(-1)!.messageFinished).toBe(true);

    // The client closes; the server answers.
    const close = client.send(new CloseConnection({ code: 1000, reason: 'done' }));
    expect(client.state).toBe(LOCAL_CLOSING);
    const [closeEv] = deliver(server, close, size);
    expect(closeEv).toEqual(expect.objectContaining({ code: 1000, reason: 'done' }));
    expect(server.state).toBe(REMOTE_CLOSING);
    const reply = server.send((closeEv as CloseConnection).response());
    expect(server.state).toBe(CLOSED);
    expect(deliver(client, reply, size)).toEqual([expect.objectContaining({ code: 1000, reason: 'done' })]);
    expect(client.state).toBe(CLOSED);
  });
});

function clientAndRequest(init: Partial<RequestInit> = {}): { client: WSConnection; bytes: Uint8Array } {
  const client = new WSConnection(CLIENT);
  return { client, bytes: client.send(new Request({ host: 'h', target: '/', ...init })) };
}

describe('WSConnection handshake details', () => {
  it('passes bytes that follow the handshake to the Connection, on both sides', () => {
    const { client, bytes } = clientAndRequest();
    const server = new WSConnection(SERVER);
    expect(deliver(server, cat(bytes, wire({ opcode: 1, payload: 'early', mask: true })))).toHaveLength(1);
    const accept = server.send(new AcceptConnection());
    expect([...server.events()]).toEqual([expect.objectContaining({ data: 'early' })]);
    const events = deliver(client, cat(accept, wire({ opcode: 1, payload: 'first' })));
    expect(events.map((e) => e.type)).toEqual(['accept', 'text']);
  });

  it('keeps frames that arrive after the request but before the answer', () => {
    const { bytes } = clientAndRequest();
    const server = new WSConnection(SERVER);
    deliver(server, bytes);
    server.receiveData(wire({ opcode: 1, payload: 'a', mask: true }));
    server.receiveData(wire({ opcode: 1, payload: 'b', mask: true }));
    server.receiveData(null);
    server.send(new AcceptConnection());
    expect([...server.events()].map((e) => (e.type === 'text' ? e.data : e.type))).toEqual(['a', 'b', 'close']);
    expect(server.state).toBe(CLOSED);
  });

  it('a server rejection reaches the client as RejectConnection + RejectData', () => {
    const { client, bytes } = clientAndRequest();
    const server = new WSConnection(SERVER);
    deliver(server, bytes);
    const head = server.send(new RejectConnection({ statusCode: 403, headers: { 'Content-Length': '4', 'X-Why': 'policy' }, hasBody: true }));
    expect(server.state).toBe(REJECTING);
    const body = server.send(new RejectData({ data: 'nope' }));
    expect(server.state).toBe(CLOSED);
    const events = deliver(client, cat(head, body));
    expect(events).toHaveLength(2);
    const [reject, data] = events as [RejectConnection, RejectData];
    expect([reject.statusCode, reject.hasBody, reject.headers.get('x-why')]).toEqual([403, true, 'policy']);
    expect([Buffer.from(data.data).toString(), data.bodyFinished]).toEqual(['nope', true]);
    expect(client.state).toBe(CLOSED);
  });

  it('a rejection without a body, and one whose body runs until the connection closes', () => {
    const a = clientAndRequest();
    const server = new WSConnection(SERVER);
    deliver(server, a.bytes);
    const head = server.send(new RejectConnection({ statusCode: 404 }));
    expect(server.state).toBe(CLOSED);
    expect(Buffer.from(head).toString()).toContain('Content-Length: 0');
    expect(deliver(a.client, head)).toEqual([expect.objectContaining({ statusCode: 404, hasBody: false })]);

    const b = clientAndRequest();
    expect(deliver(b.client, latin1('HTTP/1.1 503 Service Unavailable\r\n\r\nbusy'))).toEqual([]);
    b.client.receiveData(null);
    const events = [...b.client.events()];
    expect(events.map((e) => e.type)).toEqual(['reject', 'reject-data']);
    expect(Buffer.from((events[1] as RejectData).data).toString()).toBe('busy');
  });

  type Bad = [label: string, edit: (req: string) => string, status: number, header?: [string, string]];
  const bad: Bad[] = [
    ['version 8', (r) => r.replace('Version: 13', 'Version: 8'), 426, ['Sec-WebSocket-Version', '13']],
    ['a 17-byte key', (r) => r.replace(/Key: .*\r\n/, `Key: ${Buffer.alloc(17).toString('base64')}\r\n`), 400],
    ['POST', (r) => r.replace('GET', 'POST'), 405, ['Allow', 'GET']],
    ['no Upgrade', (r) => r.replace('Upgrade: websocket\r\n', ''), 426, ['Upgrade', 'websocket']],
    ['101 header lines', (r) => r.replace('\r\n\r\n', '\r\n' + 'X-A: b\r\n'.repeat(101) + '\r\n'), 431],
    ['a 17 KiB head', (r) => r.replace('\r\n\r\n', `\r\nX-Big: ${'a'.repeat(8000)}\r\nX-Big: ${'a'.repeat(8000)}\r\nX-Big: ${'a'.repeat(1500)}\r\n\r\n`), 431],
    ['garbage', () => 'HELLO\r\n\r\n', 400],
  ];
  it.each(bad)('a server refuses %s: events() throws with status %i, rejectHandshake() answers', (_label, edit, status, header) => {
    const { bytes } = clientAndRequest();
    const server = new WSConnection(SERVER);
    server.receiveData(latin1(edit(Buffer.from(bytes).toString('latin1'))));
    let error: unknown;
    try {
      [...server.events()];
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RemoteProtocolError);
    const e = error as RemoteProtocolError;
    expect(e.statusCode).toBe(status);
    if (status === 431) expect(e).toBeInstanceOf(SecurityError);
    expect(server.state).toBe(CONNECTING);
    expect([...server.events()]).toEqual([]); // thrown once
    const answer = server.rejectHandshake(e);
    expect(server.state).toBe(CLOSED);
    const parsed = parseResponse(answer, undefined, true);
    if (!parsed.done) throw new Error('incomplete');
    expect(parsed.value.statusCode).toBe(status);
    if (header !== undefined) expect(parsed.value.headers.get(header[0])).toBe(header[1]);
  });

  it.each<[string, string]>([
    ['a wrong accept value', 'HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n'],
    ['a malformed response', 'HTTP/1.1 1O1 OK\r\n\r\n'],
  ])('a client fails on %s (RFC 6455 §4.1)', (_label, response) => {
    const { client } = clientAndRequest();
    client.receiveData(latin1(response));
    expect(() => [...client.events()]).toThrow(RemoteProtocolError);
    expect(client.state).toBe(CLOSED);
  });

  it('a client fails when the server picks a subprotocol or extension it did not offer', () => {
    const cases: Array<[Partial<RequestInit>, AcceptConnection]> = [
      [{ subprotocols: ['a'] }, new AcceptConnection({ subprotocol: 'a' })],
      [{ extensions: [new FakeExtension('x')] }, new AcceptConnection({ extensions: [new FakeExtension('x')] })],
    ];
    for (const [offer, answer] of cases) {
      const { client, bytes } = clientAndRequest(offer);
      const server = new WSConnection(SERVER);
      deliver(server, bytes);
      const response = Buffer.from(server.send(answer));
      // Tamper: pretend the server answered with something never offered.
      const tampered = latin1(response.toString('latin1').replace(/Sec-WebSocket-(Protocol: a|Extensions: x)/, (m) => `${m}-other`));
      client.receiveData(tampered);
      expect(() => [...client.events()]).toThrow(InvalidHandshake);
    }
  });

  it('a client reports a connection closed before the response', () => {
    const { client } = clientAndRequest();
    client.receiveData(latin1('HTTP/1.1 101 Switching'));
    client.receiveData(null);
    expect(() => [...client.events()]).toThrow(HttpParseError);
    expect(client.state).toBe(CLOSED);
  });

  it('initiateUpgradeConnection takes a request parsed elsewhere', () => {
    const { client, bytes } = clientAndRequest({ subprotocols: ['chat'] });
    const head = Buffer.from(bytes).toString('latin1').split('\r\n').slice(1, -2);
    const server = new WSConnection(SERVER);
    server.initiateUpgradeConnection(
      head.map((line) => line.split(': ') as [string, string]),
      '/',
    );
    const [req] = [...server.events()];
    expect((req as Request).subprotocols).toEqual(['chat']);
    expect(() => server.initiateUpgradeConnection([], '/')).toThrow(LocalProtocolError);
    expect(deliver(client, server.send(new AcceptConnection({ subprotocol: 'chat' })))[0]).toBeInstanceOf(AcceptConnection);
    expect(() => new WSConnection(CLIENT).initiateUpgradeConnection([], '/')).toThrow(LocalProtocolError);
    const bad = new WSConnection(SERVER);
    bad.initiateUpgradeConnection({ Host: 'h' }, '/');
    expect(() => [...bad.events()]).toThrow(InvalidHandshake);
    expect(Buffer.from(bad.rejectHandshake()).toString()).toMatch(/^HTTP\/1.1 400 Bad Request/);
  });

  it('refuses events that do not fit the side or the state', () => {
    const server = new WSConnection(SERVER);
    expect(() => server.send(new Request({ host: 'h', target: '/' }))).toThrow(LocalProtocolError);
    expect(() => server.send(new AcceptConnection())).toThrow(LocalProtocolError); // no request yet
    expect(() => server.send(new RejectData({ data: 'x' }))).toThrow(LocalProtocolError);
    expect(() => server.send(new TextMessage({ data: 'x' }))).toThrow(LocalProtocolError);
    const { client, bytes } = clientAndRequest({ subprotocols: ['a'] });
    expect(() => client.send(new Request({ host: 'h', target: '/' }))).toThrow(LocalProtocolError);
    expect(() => client.send(new AcceptConnection())).toThrow(LocalProtocolError);
    expect(() => client.send(new Request({ host: 'h', target: '/', extensions: ['permessage-deflate'] }))).toThrow(LocalProtocolError);
    expect(() => new WSConnection(CLIENT).receiveData(Uint8Array.of(1))).toThrow(LocalProtocolError);
    deliver(server, bytes);
    expect(() => server.send(new AcceptConnection({ subprotocol: 'b' }))).toThrow(LocalProtocolError);
    expect(server.state).toBe(CONNECTING);
  });
});
