import { describe, expect, it } from 'vitest';

import { Headers } from '../../src/handshake/datastructures';
import { LocalProtocolError, RemoteProtocolError } from '../../src/errors';
import { ACCEPT_GUID } from '../../src/frames/frame';
import {
  acceptKey,
  buildAcceptResponse,
  buildClientRequest,
  buildRejectResponse,
  checkClientRequest,
  checkServerResponse,
  generateKey,
  InvalidHandshake,
  InvalidHandshakeHeader,
  InvalidHeaderValue,
  InvalidMethod,
  InvalidStatus,
  isValidKey,
  negotiateExtensions,
  rejectResponseFor,
  selectSubprotocol,
} from '../../src/handshake/handshake';
import { parseRequest, parseResponse, Request, Response } from '../../src/handshake/http11';
import { FakeExtension } from '../helpers/fake-extension';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

describe('keys (RFC 6455 §1.3, §4.1, §4.2.2)', () => {
  it('uses the GUID of RFC 6455 §1.3', () => {
    expect(ACCEPT_GUID).toBe('258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
  });

  it('computes the accept value of the RFC 6455 §1.3 example', () => {
    expect(acceptKey(KEY)).toBe(ACCEPT);
  });

  it('generates random 16-byte base64 keys', () => {
    const a = generateKey();
    expect(a).toHaveLength(24);
    expect(Buffer.from(a, 'base64')).toHaveLength(16);
    expect(isValidKey(a)).toBe(true);
    expect(generateKey()).not.toBe(a);
  });

  it.each([
    [KEY, true],
    [Buffer.alloc(16, 0xff).toString('base64'), true],
    [Buffer.alloc(15).toString('base64'), false], // 15 bytes
    [Buffer.alloc(17).toString('base64'), false], // 17 bytes
    ['dGhlIHNhbXBsZSBub25jZQ=', false],
    ['dGhlIHNhbXBsZSBub25jZQ', false],
    ['dGhlIHNhbXBsZSBub25j*Q==', false],
    ['dGhlIHNhbXBsZSBub25jZ===', false],
    [' dGhlIHNhbXBsZSBub25jZQ=', false],
    ['', false],
  ])('isValidKey(%j) = %s', (key, ok) => {
    expect(isValidKey(key)).toBe(ok);
  });
});

/** A valid client request head, with `edit` applied to its header lines. */
function requestText(edit: (lines: string[]) => string[] = (l) => l, start = 'GET /chat?x=1 HTTP/1.1'): string {
  const lines = [
    'Host: server.example.com',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${KEY}`,
    'Sec-WebSocket-Version: 13',
    'Origin: http://example.com',
  ];
  return `${start}\r\n${edit(lines).join('\r\n')}\r\n\r\n`;
}

function parsedRequest(text: string): Request {
  const r = parseRequest(Buffer.from(text, 'latin1'));
  if (!r.done) throw new Error('incomplete request');
  return r.value;
}

const without = (name: string) => (l: string[]) => l.filter((x) => !x.toLowerCase().startsWith(`${name.toLowerCase()}:`));
const replace = (name: string, value: string) => (l: string[]) => [...without(name)(l), `${name}: ${value}`];
const add = (line: string) => (l: string[]) => [...l, line];

describe('checkClientRequest: every check of RFC 6455 §4.2.1', () => {
  it('accepts the RFC 6455 §1.2 example and reports what it asks for', () => {
    const hs = checkClientRequest(
      parsedRequest(requestText(add('Sec-WebSocket-Protocol: chat, superchat'))),
    );
    expect(hs).toEqual({
      host: 'server.example.com',
      path: '/chat?x=1',
      key: KEY,
      origin: 'http://example.com',
      subprotocols: ['chat', 'superchat'],
      extensions: [],
    });
  });

  it.each<[string, (l: string[]) => string[]]>([
    ['lower-case names', (l) => l.map((x) => x.replace(/^[^:]+/, (n) => n.toLowerCase()))],
    ['upper-case names', (l) => l.map((x) => x.replace(/^[^:]+/, (n) => n.toUpperCase()))],
    ['Upgrade: WebSocket', replace('Upgrade', 'WebSocket')],
    ['Upgrade list', replace('Upgrade', 'h2c, websocket')],
    ['Connection: keep-alive, Upgrade', replace('Connection', 'keep-alive, Upgrade')],
    ['Connection: UPGRADE', replace('Connection', 'UPGRADE')],
    ['Connection over two lines', (l) => [...replace('Connection', 'keep-alive')(l), 'Connection: upgrade']],
    ['no Origin', without('Origin')],
    ['protocols over two lines', (l) => [...l, 'Sec-WebSocket-Protocol: a', 'Sec-WebSocket-Protocol: b, c']],
    ['extensions', add('Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo')],
  ])('accepts %s', (_label, edit) => {
    expect(() => checkClientRequest(parsedRequest(requestText(edit)))).not.toThrow();
  });

  type Case = [label: string, request: string, status: number, header?: [string, string]];
  const upgradeRequired: [string, string] = ['Upgrade', 'websocket'];
  const cases: Case[] = [
    ['POST', requestText(undefined, 'POST /chat HTTP/1.1'), 405, ['Allow', 'GET']],
    ['HTTP/1.0', requestText(undefined, 'GET /chat HTTP/1.0'), 400],
    ['no Host', requestText(without('Host')), 400],
    ['two Hosts', requestText(add('Host: other.example.com')), 400],
    ['no Upgrade', requestText(without('Upgrade')), 426, upgradeRequired],
    ['Upgrade: h2c', requestText(replace('Upgrade', 'h2c')), 426, upgradeRequired],
    ['Upgrade: websocket/2', requestText(replace('Upgrade', 'websocket/2')), 426, upgradeRequired],
    ['malformed Upgrade', requestText(replace('Upgrade', 'web socket')), 400],
    ['no Connection', requestText(without('Connection')), 426, upgradeRequired],
    ['Connection: keep-alive', requestText(replace('Connection', 'keep-alive')), 426, upgradeRequired],
    ['Connection: upgraded', requestText(replace('Connection', 'upgraded')), 426, upgradeRequired],
    ['malformed Connection', requestText(replace('Connection', 'keep-alive; Upgrade')), 400],
    ['no key', requestText(without('Sec-WebSocket-Key')), 400],
    ['15-byte key', requestText(replace('Sec-WebSocket-Key', Buffer.alloc(15, 1).toString('base64'))), 400],
    ['17-byte key', requestText(replace('Sec-WebSocket-Key', Buffer.alloc(17, 1).toString('base64'))), 400],
    ['key not base64', requestText(replace('Sec-WebSocket-Key', 'not a key at all!!!!!!==')), 400],
    ['two keys', requestText(add(`Sec-WebSocket-Key: ${generateKey()}`)), 400],
    ['version 8', requestText(replace('Sec-WebSocket-Version', '8')), 426, ['Sec-WebSocket-Version', '13']],
    ['no version', requestText(without('Sec-WebSocket-Version')), 426, ['Sec-WebSocket-Version', '13']],
    ['version 13, 8', requestText(replace('Sec-WebSocket-Version', '13, 8')), 426, ['Sec-WebSocket-Version', '13']],
    ['two version lines', requestText(add('Sec-WebSocket-Version: 8')), 426, ['Sec-WebSocket-Version', '13']],
    ['malformed protocols', requestText(add('Sec-WebSocket-Protocol: chat; v2')), 400],
    ['malformed extensions', requestText(add('Sec-WebSocket-Extensions: a; b="x y"')), 400],
  ];

  it.each(cases)('rejects %s with %i', (_label, text, status, header) => {
    const request = parsedRequest(text);
    let error: unknown;
    try {
      checkClientRequest(request);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidHandshake);
    expect(error).toBeInstanceOf(RemoteProtocolError);
    const e = error as InvalidHandshake;
    expect(e.statusCode).toBe(status);
    if (header !== undefined) expect(e.headers).toContainEqual(header);
    // The rejection a server would send carries the status and the headers.
    const response = rejectResponseFor(e);
    expect(response.statusCode).toBe(status);
    if (header !== undefined) expect(response.headers.get(header[0])).toBe(header[1]);
    expect(Buffer.from(response.body!).toString()).toContain('Failed to open a WebSocket connection');
  });

  it('names the method and the header in its errors', () => {
    expect(() => checkClientRequest(parsedRequest(requestText(undefined, 'PUT / HTTP/1.1')))).toThrow(InvalidMethod);
    let caught: unknown = null;
    try {
      checkClientRequest(parsedRequest(requestText(without('Sec-WebSocket-Key'))));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidHandshakeHeader);
    expect((caught as InvalidHandshakeHeader).header).toBe('Sec-WebSocket-Key');
    expect((caught as InvalidHandshakeHeader).value).toBeUndefined();
  });
});

describe('buildClientRequest (RFC 6455 §4.1)', () => {
  it('builds the handshake request', () => {
    const ext = new FakeExtension('x-fake', { offers: ['a=1; b', true] });
    const request = buildClientRequest({
      host: 'example.com:8080',
      path: '/chat',
      origin: 'http://example.com',
      subprotocols: ['chat', 'superchat'],
      extensions: [ext],
      extraHeaders: [['Cookie', 'a=b']],
      key: KEY,
    });
    expect(request.serialize().toString('latin1')).toBe(
      'GET /chat HTTP/1.1\r\n' +
        'Host: example.com:8080\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${KEY}\r\n` +
        'Sec-WebSocket-Version: 13\r\n' +
        'Origin: http://example.com\r\n' +
        'Sec-WebSocket-Protocol: chat, superchat\r\n' +
        'Sec-WebSocket-Extensions: x-fake; a=1; b, x-fake\r\n' +
        'Cookie: a=b\r\n\r\n',
    );
    // What we build, we accept.
    expect(checkClientRequest(request).extensions).toHaveLength(2);
  });

  it('generates a key and keeps it in the headers', () => {
    const request = buildClientRequest({ host: 'h', path: '/' });
    expect(isValidKey(request.headers.get('Sec-WebSocket-Key')!)).toBe(true);
    expect(request.headers.has('Sec-WebSocket-Protocol')).toBe(false);
    expect(request.headers.has('Sec-WebSocket-Extensions')).toBe(false);
  });

  it.each<[string, Parameters<typeof buildClientRequest>[0]]>([
    ['an extra header that overrides a handshake header', { host: 'h', path: '/', extraHeaders: { 'sec-websocket-key': KEY } }],
    ['a second Host', { host: 'h', path: '/', extraHeaders: { Host: 'x' } }],
    ['Origin twice', { host: 'h', path: '/', origin: 'a', extraHeaders: { Origin: 'b' } }],
    ['a bad subprotocol', { host: 'h', path: '/', subprotocols: ['a b'] }],
    ['a bad key', { host: 'h', path: '/', key: 'short' }],
    ['a malformed offer', { host: 'h', path: '/', extensions: [new FakeExtension('x', { offers: ['a,b'] })] }],
    ['the same extension twice', { host: 'h', path: '/', extensions: [new FakeExtension('x'), new FakeExtension('x')] }],
  ])('refuses %s', (_label, options) => {
    expect(() => buildClientRequest(options)).toThrow(LocalProtocolError);
  });
});

function response101(edit: (h: Headers) => void = () => {}): Response {
  const headers = new Headers([
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', ACCEPT],
  ]);
  edit(headers);
  return new Response(101, 'Switching Protocols', headers);
}

describe('checkServerResponse: every check of RFC 6455 §4.1', () => {
  it('accepts a valid 101', () => {
    expect(checkServerResponse(response101(), { key: KEY })).toEqual({ subprotocol: null, extensions: [] });
  });

  it('accepts header case and list variations', () => {
    const text = `HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, upgrade\r\nsec-websocket-accept: ${ACCEPT}\r\n\r\n`;
    const r = parseResponse(Buffer.from(text));
    if (!r.done) throw new Error('incomplete');
    expect(checkServerResponse(r.value, { key: KEY }).subprotocol).toBeNull();
  });

  it('reports a non-101 as InvalidStatus with the whole response', () => {
    const text = 'HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\nX-Why: no\r\n\r\nnope';
    const r = parseResponse(Buffer.from(text));
    if (!r.done) throw new Error('incomplete');
    try {
      checkServerResponse(r.value, { key: KEY });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidStatus);
      const e = err as InvalidStatus;
      expect(e.response.statusCode).toBe(403);
      expect(e.response.headers.get('X-Why')).toBe('no');
      expect(Buffer.from(e.response.body!).toString()).toBe('nope');
      expect(e.statusCode).toBe(403);
    }
  });

  it('returns the subprotocol chosen and finalizes accepted extensions in the server order', () => {
    const a = new FakeExtension('a');
    const b = new FakeExtension('b');
    const result = checkServerResponse(
      response101((h) => {
        h.append('Sec-WebSocket-Protocol', 'superchat');
        h.append('Sec-WebSocket-Extensions', 'b; x=1');
        h.append('Sec-WebSocket-Extensions', 'a');
      }),
      { key: KEY, subprotocols: ['chat', 'superchat'], extensions: [a, b] },
    );
    expect(result.subprotocol).toBe('superchat');
    expect(result.extensions).toEqual([b, a]);
    expect(b.finalized).toEqual(['x=1']);
    expect(a.finalized).toEqual(['']);
  });

  type Bad = [label: string, edit: (h: Headers) => void, offered?: { subprotocols?: string[]; extensions?: FakeExtension[] }];
  const bad: Bad[] = [
    ['no Upgrade', (h) => h.delete('Upgrade')],
    ['Upgrade: h2c', (h) => h.set('Upgrade', 'h2c')],
    ['no Connection', (h) => h.delete('Connection')],
    ['Connection: keep-alive', (h) => h.set('Connection', 'keep-alive')],
    ['no Sec-WebSocket-Accept', (h) => h.delete('Sec-WebSocket-Accept')],
    ['a wrong Sec-WebSocket-Accept', (h) => h.set('Sec-WebSocket-Accept', acceptKey(generateKey()))],
    ['two Sec-WebSocket-Accept', (h) => h.append('Sec-WebSocket-Accept', ACCEPT)],
    ['a subprotocol when none was offered', (h) => h.set('Sec-WebSocket-Protocol', 'chat')],
    ['a subprotocol not offered', (h) => h.set('Sec-WebSocket-Protocol', 'other'), { subprotocols: ['chat'] }],
    ['subprotocols in different case', (h) => h.set('Sec-WebSocket-Protocol', 'CHAT'), { subprotocols: ['chat'] }],
    ['two subprotocols', (h) => h.set('Sec-WebSocket-Protocol', 'chat, v2'), { subprotocols: ['chat', 'v2'] }],
    ['an extension not offered', (h) => h.set('Sec-WebSocket-Extensions', 'x-other')],
    ['an extension not offered (others were)', (h) => h.set('Sec-WebSocket-Extensions', 'b'), { extensions: [new FakeExtension('a')] }],
    ['an extension accepted twice', (h) => h.set('Sec-WebSocket-Extensions', 'a, a'), { extensions: [new FakeExtension('a')] }],
    ['prototype names as extensions', (h) => h.set('Sec-WebSocket-Extensions', 'constructor, __proto__')],
    ['a malformed extension header', (h) => h.set('Sec-WebSocket-Extensions', 'a;;'), { extensions: [new FakeExtension('a')] }],
  ];
  it.each(bad)('fails on %s', (_label, edit, offered = {}) => {
    expect(() => checkServerResponse(response101(edit), { key: KEY, ...offered })).toThrow(InvalidHandshake);
  });

  it("fails when an extension refuses the server's parameters", () => {
    const a = new FakeExtension('a', { refuse: (p) => p.includes('bad') });
    expect(() =>
      checkServerResponse(response101((h) => h.set('Sec-WebSocket-Extensions', 'a; bad')), { key: KEY, extensions: [a] }),
    ).toThrow(RemoteProtocolError);
  });
});

describe('server negotiation (RFC 6455 §4.2.2, §9.1)', () => {
  it("selects the client's most preferred supported subprotocol", () => {
    expect(selectSubprotocol(['a', 'b', 'c'], ['c', 'b'])).toBe('b');
    expect(selectSubprotocol(['a'], ['b'])).toBeNull();
    expect(selectSubprotocol([], ['b'])).toBeNull();
    expect(selectSubprotocol(['constructor'], [])).toBeNull();
    expect(selectSubprotocol(['a', 'b'], [], (offered) => offered[1]!)).toBe('b');
    expect(selectSubprotocol(['a', 'b'], ['a'], () => null)).toBeNull();
    expect(() => selectSubprotocol(['a'], [], () => 'z')).toThrow(LocalProtocolError);
  });

  it('tries offers in order, accepts at most one per extension, ignores unknown ones', () => {
    const pmd = new FakeExtension('permessage-deflate', { accept: (o) => (o.includes('server_max_window_bits=8') ? null : 'server_no_context_takeover') });
    const other = new FakeExtension('x-other');
    const { extensions, header } = negotiateExtensions(
      'x-unknown, permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits, permessage-deflate, x-other, __proto__',
      [pmd, other],
    );
    expect(extensions).toEqual([pmd, other]);
    expect(pmd.accepted).toEqual(['server_max_window_bits=8', 'client_max_window_bits']);
    expect(header).toBe('permessage-deflate; server_no_context_takeover, x-other');
  });

  it('sends no header when nothing is accepted', () => {
    const ext = new FakeExtension('a', { accept: () => null });
    expect(negotiateExtensions('a', [ext])).toEqual({ extensions: [], header: null });
    expect(negotiateExtensions(undefined, [ext])).toEqual({ extensions: [], header: null });
    expect(negotiateExtensions(['a', 'a; x'], [])).toEqual({ extensions: [], header: null });
  });

  it('rejects malformed offers with 400 and malformed answers as our bug', () => {
    expect(() => negotiateExtensions('a;', [new FakeExtension('a')])).toThrow(InvalidHeaderValue);
    expect(() => negotiateExtensions('a', [new FakeExtension('a', { accept: () => 'x y' })])).toThrow(LocalProtocolError);
  });

  it('builds the 101 response', () => {
    const response = buildAcceptResponse({ key: KEY, subprotocol: 'chat', extensions: 'a; b=1', extraHeaders: { 'Set-Cookie': 'k=v' } });
    expect(response.serialize().toString('latin1')).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${ACCEPT}\r\n` +
        'Sec-WebSocket-Protocol: chat\r\n' +
        'Sec-WebSocket-Extensions: a; b=1\r\n' +
        'Set-Cookie: k=v\r\n\r\n',
    );
    expect(checkServerResponse(response, { key: KEY, subprotocols: ['chat'], extensions: [new FakeExtension('a')] }).subprotocol).toBe('chat');
    expect(() => buildAcceptResponse({ key: KEY, extraHeaders: { 'Sec-WebSocket-Accept': 'x' } })).toThrow(LocalProtocolError);
  });

  it('builds rejections', () => {
    const r = buildRejectResponse(403, { 'X-Why': 'no' }, 'forbidden');
    expect(r.serialize().toString('latin1')).toBe(
      'HTTP/1.1 403 Forbidden\r\nX-Why: no\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 9\r\nConnection: close\r\n\r\nforbidden',
    );
    expect(buildRejectResponse(400).serialize().toString('latin1')).toBe('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
});
