import { describe, expect, it } from 'vitest';

import { WebSocketError } from '../../src/errors';
import { InvalidURI, parseUri, WebSocketURI } from '../../src/handshake/uri';

type Expected = Partial<Pick<WebSocketURI, 'secure' | 'host' | 'port' | 'path' | 'query' | 'resourceName' | 'hostHeader' | 'username' | 'password'>>;

describe('parseUri: valid URIs', () => {
  const table: Array<[string, Expected]> = [
    ['ws://localhost', { secure: false, host: 'localhost', port: 80, path: '/', query: '', resourceName: '/', hostHeader: 'localhost' }],
    ['wss://example.com', { secure: true, port: 443, hostHeader: 'example.com' }],
    ['ws://example.com:8080/chat', { port: 8080, path: '/chat', hostHeader: 'example.com:8080' }],
    ['wss://example.com:443/', { port: 443, hostHeader: 'example.com' }],
    ['ws://example.com:443/', { port: 443, hostHeader: 'example.com:443' }],
    ['ws://EXAMPLE.com/Path', { host: 'example.com', path: '/Path' }],
    ['WSS://example.com', { secure: true }],
    ['ws://[::1]:8080/a?b', { host: '::1', port: 8080, path: '/a', query: 'b', resourceName: '/a?b', hostHeader: '[::1]:8080' }],
    ['ws://[::1]/', { host: '::1', hostHeader: '[::1]' }],
    ['ws://[2001:DB8::1]', { host: '2001:db8::1' }],
    ['ws://127.0.0.1:9000', { host: '127.0.0.1', port: 9000 }],
    ['ws://h:65535', { port: 65535 }],
    ['ws://h:1', { port: 1 }],
    ['ws://h/path?x=1&y=2', { path: '/path', query: 'x=1&y=2', resourceName: '/path?x=1&y=2' }],
    ['ws://h?x=1', { path: '/', query: 'x=1', resourceName: '/?x=1' }],
    ['ws://h/a?', { query: '', resourceName: '/a' }],
    ['ws://bücher.example/', { host: 'xn--bcher-kva.example' }],
    ['ws://h/caf\u00e9?q=\u00e9', { path: '/caf%C3%A9', query: 'q=%C3%A9' }],
    ['ws://h/%7e%41', { path: '/%7e%41' }],
    ['ws://h/a b', { path: '/a%20b' }],
    ['ws://h/a/../b', { path: '/b' }],
    ['ws://user:pass@host', { host: 'host', username: 'user', password: 'pass', hostHeader: 'host' }],
    ['ws://us%3Aer:p%40ss@host/', { username: 'us:er', password: 'p@ss' }],
    ['ws://user@host', { username: 'user', password: '' }],
  ];
  it.each(table)('%s', (uri, expected) => {
    const parsed = parseUri(uri);
    expect(parsed).toBeInstanceOf(WebSocketURI);
    expect({ ...parsed, resourceName: parsed.resourceName, hostHeader: parsed.hostHeader }).toMatchObject(expected);
  });

  it('exposes user information as a pair, and none without it', () => {
    expect(parseUri('ws://user:pass@h').userInfo).toEqual(['user', 'pass']);
    expect(parseUri('ws://h').userInfo).toBeUndefined();
    expect(parseUri('ws://h').username).toBeUndefined();
  });

  it('prints itself without credentials', () => {
    expect(parseUri('wss://u:p@[::1]:8443/a?b=c').toString()).toBe('wss://[::1]:8443/a?b=c');
    expect(String(parseUri('ws://example.com'))).toBe('ws://example.com/');
  });
});

describe('parseUri: invalid URIs', () => {
  it.each([
    ['http://x', 'scheme'],
    ['https://example.com/', 'scheme'],
    ['ftp://x', 'scheme'],
    ['example.com', 'scheme'],
    ['', 'scheme'],
    ['ws:example.com', 'scheme'],
    ['ws:/example.com', 'scheme'],
    ['ws+unix:///tmp/sock', 'scheme'],
    ['ws://', 'missing host'],
    ['ws:///path', 'missing host'],
    ['wss:////h/p', 'missing host'],
    ['ws://?x=1', 'missing host'],
    ['ws://h:0', 'port'],
    ['ws://h:65536', 'malformed'],
    ['ws://h:-1', 'malformed'],
    ['ws://h:8o', 'malformed'],
    ['ws://h/#frag', 'fragment'],
    ['ws://h/#', 'fragment'],
    ['ws://h/a\r\nX: y', 'control'],
    ['ws://h/\ta', 'control'],
    [' ws://h/', 'spaces'],
    ['ws://evil.com\\@good.com/', 'backslash'],
    ['ws://h/a%zz', 'percent'],
    ['ws://h/a%', 'percent'],
    ['ws://u%C3:p@h/', 'UTF-8'],
    ['ws://[::1/', 'malformed'],
    ['ws://exa mple.com/', 'malformed'],
  ])('%s', (uri, reason) => {
    let caught: unknown;
    try {
      parseUri(uri);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidURI);
    expect(caught).toBeInstanceOf(WebSocketError);
    expect((caught as InvalidURI).uri).toBe(uri);
    expect((caught as InvalidURI).message).toContain(reason);
  });

  it('rejects a value that is not a string', () => {
    expect(() => parseUri(42 as unknown as string)).toThrow(InvalidURI);
  });
});
