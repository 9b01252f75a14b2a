import { describe, expect, it } from 'vitest';

import { Headers, InvalidHeader, isToken, MultipleValuesError, normalizeHeaderValue, type HeadersLike } from '../../src/handshake/datastructures';
import { WebSocketError } from '../../src/errors';

const pairs = (h: Headers): Array<[string, string]> => [...h];

describe('Headers: construction', () => {
  const inits: Array<[string, HeadersLike]> = [
    ['a plain object', { Host: 'example.com', Accept: ['a', 'b'], Skipped: undefined }],
    ['an array of pairs', [['Host', 'example.com'], ['Accept', 'a'], ['Accept', 'b']]],
    ['a Map', new Map<string, string | string[]>([['Host', 'example.com'], ['Accept', ['a', 'b']]])],
    ['a Headers', new Headers([['Host', 'example.com'], ['Accept', 'a'], ['Accept', 'b']])],
  ];
  it.each(inits)('from %s', (_name, init) => {
    expect(pairs(new Headers(init))).toEqual([['Host', 'example.com'], ['Accept', 'a'], ['Accept', 'b']]);
  });

  it('from Node rawHeaders, and empty', () => {
    expect(pairs(Headers.fromRawHeaders(['Host', 'h', 'X-A', '1', 'x-a', '2']))).toEqual([['Host', 'h'], ['X-A', '1'], ['x-a', '2']]);
    expect(() => Headers.fromRawHeaders(['Host'])).toThrow(TypeError);
    expect(new Headers().size).toBe(0);
  });

  it('rejects things that are not pairs', () => {
    expect(() => new Headers([['a', 'b', 'c']] as unknown as HeadersLike)).toThrow(TypeError);
    expect(() => new Headers({ A: 1 } as unknown as HeadersLike)).toThrow(InvalidHeader);
  });
});

describe('Headers: lookups are case-insensitive', () => {
  const h = new Headers([['Content-Type', 'text/html'], ['Set-Cookie', 'a=1'], ['Host', 'x'], ['set-cookie', 'b=2']]);

  it.each(['content-type', 'CONTENT-TYPE', 'Content-Type'])('get(%s)', (name) => {
    expect(h.get(name)).toBe('text/html');
    expect(h.has(name)).toBe(true);
  });

  it('get: undefined when absent, MultipleValuesError when several', () => {
    expect(h.get('authorization')).toBeUndefined();
    expect(h.has('authorization')).toBe(false);
    let caught: unknown;
    try {
      h.get('SET-COOKIE');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(MultipleValuesError);
    expect(caught).toBeInstanceOf(WebSocketError);
    expect((caught as MultipleValuesError).key).toBe('SET-COOKIE');
    expect((caught as MultipleValuesError).values).toEqual(['a=1', 'b=2']);
  });

  it('getAll returns a copy of every value in order', () => {
    const all = h.getAll('set-cookie');
    expect(all).toEqual(['a=1', 'b=2']);
    all.push('c=3');
    expect(h.getAll('Set-Cookie')).toEqual(['a=1', 'b=2']);
    expect(h.getAll('nope')).toEqual([]);
  });

  it('iterates pairs in insertion order with original spelling', () => {
    expect(h.size).toBe(4);
    expect([...h.keys()]).toEqual(['Content-Type', 'Set-Cookie', 'Host', 'set-cookie']);
    expect([...h.values()]).toEqual(['text/html', 'a=1', 'x', 'b=2']);
    expect([...h.rawItems()]).toEqual([...h.entries()]);
    expect([...h.names()]).toEqual(['content-type', 'set-cookie', 'host']);
  });
});

describe('Headers: mutation (set replaces, append adds)', () => {
  it('set replaces every value, in place of the first occurrence', () => {
    const h = new Headers([['A', '1'], ['B', '2'], ['a', '3']]);
    h.set('a', 'new');
    expect(pairs(h)).toEqual([['a', 'new'], ['B', '2']]);
    expect(h.get('A')).toBe('new');
    h.set('C', '4');
    expect(pairs(h)).toEqual([['a', 'new'], ['B', '2'], ['C', '4']]);
  });

  it('append and add add one value', () => {
    const h = new Headers({ Accept: 'a' });
    h.append('accept', 'b').add('ACCEPT', 'c');
    expect(h.getAll('Accept')).toEqual(['a', 'b', 'c']);
    expect(h.size).toBe(3);
  });

  it('delete removes every value; clear removes everything', () => {
    const h = new Headers([['A', '1'], ['B', '2'], ['a', '3']]);
    expect(h.delete('A')).toBe(true);
    expect(h.delete('A')).toBe(false);
    expect(pairs(h)).toEqual([['B', '2']]);
    expect(h.has('a')).toBe(false);
    h.clear();
    expect([h.size, h.has('b')]).toEqual([0, false]);
  });

  it('update appends; copy is independent', () => {
    const h = new Headers({ A: '1' });
    const c = h.copy();
    c.update({ A: '2', B: '3' });
    expect(pairs(h)).toEqual([['A', '1']]);
    expect(pairs(c)).toEqual([['A', '1'], ['A', '2'], ['B', '3']]);
    c.update(c);
    expect(c.getAll('a')).toEqual(['1', '2', '1', '2']);
  });

  it('trims optional whitespace around values', () => {
    const h = new Headers([['A', ' \t x y \t ']]);
    expect(h.get('a')).toBe('x y');
    expect(normalizeHeaderValue('A', 'plain')).toBe('plain');
  });

  it('serializes as an HTTP header block', () => {
    expect(new Headers([['Host', 'h'], ['X-A', '1'], ['x-a', '2']]).toString()).toBe('Host: h\r\nX-A: 1\r\nx-a: 2\r\n\r\n');
    expect(new Headers().toString()).toBe('\r\n');
  });
});

describe('Headers: validation', () => {
  it.each([
    ['value with CRLF injection', 'X-A', 'v\r\nX-Evil: 1'],
    ['value with bare LF', 'X-A', 'v\nX-Evil: 1'],
    ['value with bare CR', 'X-A', 'v\rx'],
    ['value with NUL', 'X-A', 'v\0'],
    ['value above U+00FF (U+010A would become LF in latin1)', 'X-A', 'v\u010aX-Evil: 1'],
    ['name with a space', 'X A', 'v'],
    ['name with a colon', 'X-A:', 'v'],
    ['name with CRLF', 'X\r\nEvil', 'v'],
    ['empty name', '', 'v'],
    ['non-ASCII name', 'X-Ä', 'v'],
  ])('rejects %s in set, append and the constructor', (_name, name, value) => {
    const h = new Headers();
    expect(() => h.set(name, value)).toThrow(InvalidHeader);
    expect(() => h.append(name, value)).toThrow(TypeError);
    expect(() => new Headers([[name, value]])).toThrow(InvalidHeader);
    expect(() => new Headers({ [name]: value })).toThrow(InvalidHeader);
    expect(h.size).toBe(0);
  });

  it('accepts every token character and obs-text values', () => {
    const name = "!#$%&'*+-.^_`|~09AZaz";
    expect(isToken(name)).toBe(true);
    expect(new Headers([[name, 'caf\u00e9 \u0001']]).get(name)).toBe('caf\u00e9 \u0001');
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('treats %s as an ordinary name', (name) => {
    const empty = new Headers();
    expect(empty.has(name)).toBe(false);
    expect(empty.get(name)).toBeUndefined();
    expect(empty.getAll(name)).toEqual([]);
    const h = new Headers(JSON.parse(`{"${name}": "x"}`) as Record<string, string>);
    h.append(name, 'y');
    expect(h.getAll(name)).toEqual(['x', 'y']);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype); // nothing was polluted
  });
});

describe('Headers: get stays cheap with many headers', () => {
  it('looks up 10 000 names among 10 000 headers', () => {
    const h = new Headers();
    for (let i = 0; i < 10_000; i++) h.append(`X-Header-${i}`, String(i));
    let sum = 0;
    for (let i = 0; i < 10_000; i++) sum += Number(h.get(`x-header-${i}`));
    expect(sum).toBe((9_999 * 10_000) / 2);
  });
});
