/**
 * The sans-IO extended CONNECT of RFC 8441 (src/handshake-h2.ts): the checks a server makes
 * (including those nghttp2 already enforces on the wire, so they are tested here, on header
 * maps), the request a client builds, and the client's checks of the 2xx.
 */
import { describe, expect, it } from 'vitest';

import { InvalidHandshake, InvalidHandshakeHeader } from '../../src/handshake/handshake';
import { buildExtendedConnect, checkExtendedConnect, checkExtendedConnectResponse, isTunnelStatus, isWebSocketConnect } from '../../src/handshake/handshake-h2';
import { PerMessageDeflate } from '../../src/extensions/permessage-deflate';

const GOOD = {
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'https',
  ':path': '/chat?x=1',
  ':authority': 'example.com',
  'sec-websocket-version': '13',
};

function refusal(headers: Record<string, string>, raw?: string[]): InvalidHandshake {
  try {
    checkExtendedConnect(headers, raw);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidHandshake);
    return err as InvalidHandshake;
  }
  throw new Error('accepted');
}

describe('checkExtendedConnect (RFC 8441 §4-§5)', () => {
  it('accepts a minimal extended CONNECT and reads the offers', () => {
    expect(checkExtendedConnect(GOOD)).toEqual({ authority: 'example.com', scheme: 'https', path: '/chat?x=1', origin: undefined, subprotocols: [], extensions: [] });
    const r = checkExtendedConnect({ ...GOOD, origin: 'https://a.example', 'sec-websocket-protocol': 'a, b', 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' });
    expect(r.origin).toBe('https://a.example');
    expect(r.subprotocols).toEqual(['a', 'b']);
    expect(r.extensions).toEqual([{ name: 'permessage-deflate', params: [['client_max_window_bits', null]] }]);
  });

  it('keeps repeated header lines apart when given the raw list', () => {
    const raw = [':method', 'CONNECT', 'sec-websocket-protocol', 'a', 'sec-websocket-protocol', 'b', 'sec-websocket-version', '13'];
    expect(checkExtendedConnect(GOOD, raw).subprotocols).toEqual(['a', 'b']);
  });

  it('ignores a Sec-WebSocket-Key (§5: not used over HTTP/2)', () => {
    expect(checkExtendedConnect({ ...GOOD, 'sec-websocket-key': 'not even base64' }).path).toBe('/chat?x=1');
  });

  it('refuses what is not an extended CONNECT for websocket', () => {
    expect(refusal({ ...GOOD, ':method': 'GET' }).statusCode).toBe(405);
    const other = refusal({ ...GOOD, ':protocol': 'connect-udp' });
    expect(other).toBeInstanceOf(InvalidHandshakeHeader);
    expect((other as InvalidHandshakeHeader).header).toBe(':protocol');
    expect(isWebSocketConnect({ ...GOOD, ':protocol': 'WebSocket' })).toBe(true);
    expect(isWebSocketConnect({ ':method': 'CONNECT', ':authority': 'proxy:443' })).toBe(false);
  });

  it.each([':scheme', ':path', ':authority'])('refuses a request without %s with 400', (name) => {
    const headers: Record<string, string> = { ...GOOD };
    delete headers[name];
    const err = refusal(headers) as InvalidHandshakeHeader;
    expect(err.statusCode).toBe(400);
    expect(err.header).toBe(name);
  });

  it('refuses a version other than 13 with 426 and Sec-WebSocket-Version: 13, as over HTTP/1.1', () => {
    for (const version of [undefined, '8', '13, 8']) {
      const headers: Record<string, string> = { ...GOOD };
      if (version === undefined) delete headers['sec-websocket-version'];
      else headers['sec-websocket-version'] = version;
      const err = refusal(headers);
      expect(err.statusCode).toBe(426);
      expect(err.headers).toEqual([['Sec-WebSocket-Version', '13']]);
    }
  });

  it('refuses malformed offers with 400', () => {
    expect(refusal({ ...GOOD, 'sec-websocket-protocol': 'a b' }).statusCode).toBe(400);
    expect(refusal({ ...GOOD, 'sec-websocket-extensions': 'permessage-deflate; =x' }).statusCode).toBe(400);
  });
});

describe('buildExtendedConnect', () => {
  it('builds the request of RFC 8441 §4-§5 and leaves out what HTTP/2 forbids', () => {
    const headers = buildExtendedConnect({
      authority: 'example.com:8443',
      scheme: 'https',
      path: '/feed',
      origin: 'https://example.com',
      subprotocols: ['v2', 'v1'],
      extensions: [new PerMessageDeflate({ clientMaxWindowBits: true })],
      extraHeaders: [['Cookie', 'a=1'], ['Cookie', 'b=2'], ['Connection', 'keep-alive'], ['Host', 'x'], ['Sec-WebSocket-Version', '8'], [':path', '/evil'], ['Upgrade', 'websocket']],
    });
    expect(headers).toEqual({
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':path': '/feed',
      ':authority': 'example.com:8443',
      'sec-websocket-version': '13',
      origin: 'https://example.com',
      'sec-websocket-protocol': 'v2, v1',
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      cookie: ['a=1', 'b=2'],
    });
  });
});

describe('checkExtendedConnectResponse', () => {
  it('checks the subprotocol and extensions as over HTTP/1.1', () => {
    expect(checkExtendedConnectResponse({ ':status': 200, 'sec-websocket-protocol': 'v1' }, { subprotocols: ['v2', 'v1'] })).toEqual({ subprotocol: 'v1', extensions: [] });
    expect(() => checkExtendedConnectResponse({ ':status': 200, 'sec-websocket-protocol': 'v3' }, { subprotocols: ['v1'] })).toThrow(InvalidHandshakeHeader);
    expect(() => checkExtendedConnectResponse({ ':status': 200, 'sec-websocket-extensions': 'permessage-deflate' }, {})).toThrow(InvalidHandshake);
    const deflate = new PerMessageDeflate();
    expect(checkExtendedConnectResponse({ ':status': 200, 'sec-websocket-extensions': 'permessage-deflate' }, { extensions: [deflate] }).extensions).toHaveLength(1);
  });

  it('takes any 2xx as the tunnel (RFC 9110 §9.3.6)', () => {
    expect([199, 200, 204, 299, 300, 101].map(isTunnelStatus)).toEqual([false, true, true, true, false, false]);
  });
});
