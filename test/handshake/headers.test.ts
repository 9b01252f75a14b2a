import { describe, expect, it } from 'vitest';

import { LocalProtocolError, RemoteProtocolError } from '../../src/errors';
import {
  buildExtensionParams,
  buildExtensions,
  buildSubprotocols,
  hasToken,
  InvalidHeaderValue,
  parseConnection,
  parseExtensionParams,
  parseExtensions,
  parseSubprotocols,
  parseUpgrade,
} from '../../src/handshake/headers';

/** A string stand-in that counts the work a parser does on it (see the linear-time tests). */
function counted(s: string): { text: string; reads: () => number; sliced: () => number } {
  let reads = 0;
  let sliced = 0;
  const text = {
    length: s.length,
    charCodeAt(i: number): number {
      reads++;
      return s.charCodeAt(i);
    },
    slice(a: number, b: number): string {
      sliced += Math.max(0, Math.min(b, s.length) - a);
      return s.slice(a, b);
    },
  };
  // The parsers accept strings; anything else they did with it (a regex, split, indexOf)
  // would throw here, which is part of the point.
  return { text: text as unknown as string, reads: () => reads, sliced: () => sliced };
}

describe('token lists (RFC 7230 §7)', () => {
  it.each([
    ['Upgrade', ['Upgrade']],
    ['keep-alive, Upgrade', ['keep-alive', 'Upgrade']],
    ['keep-alive,Upgrade', ['keep-alive', 'Upgrade']],
    [' , ,keep-alive ,\t, upgrade , ', ['keep-alive', 'upgrade']],
  ])('parseConnection(%j)', (value, expected) => {
    expect(parseConnection(value)).toEqual(expected);
  });

  it('joins several header lines', () => {
    expect(parseConnection(['keep-alive', 'Upgrade'])).toEqual(['keep-alive', 'Upgrade']);
    expect(parseSubprotocols(['chat, v2', 'v3'])).toEqual(['chat', 'v2', 'v3']);
  });

  it('parses Upgrade protocols with versions', () => {
    expect(parseUpgrade('HTTP/2.0, SHTTP/1.3, IRC/6.9, RTA/x11, websocket')).toEqual([
      'HTTP/2.0',
      'SHTTP/1.3',
      'IRC/6.9',
      'RTA/x11',
      'websocket',
    ]);
  });

  it.each(['', ' ', ',', ' , ,', 'a b', 'a;b', 'a, "b"', 'a\u00e9', 'web/', '/1', 'a/b/c', 'a\r\nb'])(
    'rejects %j',
    (value) => {
      expect(() => parseConnection(value)).toThrow(InvalidHeaderValue);
      if (!value.includes('/')) expect(() => parseUpgrade(value)).toThrow(InvalidHeaderValue);
      expect(() => parseSubprotocols(value)).toThrow(InvalidHeaderValue);
    },
  );

  it('throws a RemoteProtocolError carrying 400 and the header name', () => {
    try {
      parseSubprotocols('chat;x');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RemoteProtocolError);
      const e = err as InvalidHeaderValue;
      expect(e.statusCode).toBe(400);
      expect(e.header).toBe('Sec-WebSocket-Protocol');
      expect(e.position).toBe(4);
    }
  });

  it('hasToken ignores case', () => {
    expect(hasToken(parseConnection('keep-alive, UPGRADE'), 'upgrade')).toBe(true);
    expect(hasToken(parseConnection('keep-alive'), 'upgrade')).toBe(false);
  });

});

describe('Sec-WebSocket-Extensions (RFC 6455 §9.1)', () => {
  it.each<[string, ReturnType<typeof parseExtensions>]>([
    ['foo', [{ name: 'foo', params: [] }]],
    [
      'permessage-deflate; client_max_window_bits; server_max_window_bits=10',
      [
        {
          name: 'permessage-deflate',
          params: [
            ['client_max_window_bits', null],
            ['server_max_window_bits', '10'],
          ],
        },
      ],
    ],
    [
      'permessage-deflate;client_max_window_bits="15" , permessage-deflate',
      [
        { name: 'permessage-deflate', params: [['client_max_window_bits', '15']] },
        { name: 'permessage-deflate', params: [] },
      ],
    ],
    ['a ; b = 1 ;c="\\x\\y"', [{ name: 'a', params: [['b', '1'], ['c', 'xy']] }]],
    [',, a ,', [{ name: 'a', params: [] }]],
  ])('parses %j', (value, expected) => {
    expect(parseExtensions(value)).toEqual(expected);
  });

  it.each([
    '',
    ';',
    'a;',
    'a;;b',
    'a; b=',
    'a; =1',
    'a; b="1',
    'a; b="x y"', // RFC 6455 §9.1: a quoted value must still be a token
    'a; b=""',
    'a; b="\\',
    'a b',
    'a; b=1 2',
    '"a"',
    'a, ;b',
    'a\u0000',
  ])('rejects %j', (value) => {
    expect(() => parseExtensions(value)).toThrow(InvalidHeaderValue);
  });

  it('treats prototype property names as plain strings (ws NSP-550)', () => {
    const parsed = parseExtensions('constructor; __proto__=1; constructor, __proto__; hasOwnProperty');
    expect(parsed.map((e) => e.name)).toEqual(['constructor', '__proto__']);
    expect(parsed[0]!.params).toEqual([
      ['__proto__', '1'],
      ['constructor', null],
    ]);
    expect(parsed[1]!.params).toEqual([['hasOwnProperty', null]]);
    expect(() => parseExtensions(',;constructor')).toThrow(InvalidHeaderValue);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(parsed[0]!.params)).toBe(Array.prototype);
  });

  it('parameter strings round-trip', () => {
    expect(parseExtensionParams('')).toEqual([]);
    expect(parseExtensionParams('  ')).toEqual([]);
    expect(parseExtensionParams('a; b=1')).toEqual([
      ['a', null],
      ['b', '1'],
    ]);
    expect(() => parseExtensionParams('a,b')).toThrow(InvalidHeaderValue);
    expect(buildExtensionParams([['a', null], ['b', '1']])).toBe('a; b=1');
  });

  it('builders produce what the parsers read back, and refuse non-tokens', () => {
    const exts = [
      { name: 'permessage-deflate', params: [['client_max_window_bits', null], ['server_max_window_bits', '10']] as [string, string | null][] },
      { name: 'x-foo', params: [] },
    ];
    const built = buildExtensions(exts);
    expect(built).toBe('permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-foo');
    expect(parseExtensions(built)).toEqual(exts);
    expect(buildSubprotocols(['chat', 'v2.bin'])).toBe('chat, v2.bin');
    expect(() => buildSubprotocols(['a b'])).toThrow(LocalProtocolError);
    expect(() => buildSubprotocols([])).toThrow(LocalProtocolError);
    expect(() => buildExtensions([{ name: 'a', params: [['b', 'x y']] }])).toThrow(LocalProtocolError);
    expect(() => buildExtensions([{ name: 'a\r\nX-Evil: 1', params: [] }])).toThrow(LocalProtocolError);
  });
});

describe('linear time on hostile input (CVE-2021-32640, CVE-2020-7662)', () => {
  const K64 = 64 * 1024;
  // Shapes that made backtracking parsers explode: long runs of separators and spaces,
  // long values, long unterminated quoted strings, alternations of the two.
  const inputs: Array<[string, string]> = [
    ['spaces', 'a' + ' '.repeat(K64) + 'b'],
    ['commas', ','.repeat(K64)],
    ['semicolons', 'a' + ';'.repeat(K64)],
    ['space-semicolon', 'a' + '; '.repeat(K64 / 2) + '!'],
    ['params', 'a' + '; b'.repeat(K64 / 3)],
    ['long name', 'a'.repeat(K64) + ' ,'],
    ['long value', 'a; b=' + 'c'.repeat(K64)],
    ['unterminated quote', 'a; b="' + 'c'.repeat(K64)],
    ['escapes', 'a; b="' + '\\c'.repeat(K64 / 2)],
    ['tab-comma', 'a' + ' \t,'.repeat(K64 / 3) + ' x y'],
  ];

  it.each(inputs)('%s: each character is read a bounded number of times', (_label, input) => {
    for (const parse of [parseExtensions, parseConnection, parseSubprotocols, parseUpgrade]) {
      const c = counted(input);
      try {
        parse(c.text);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidHeaderValue);
        expect((err as Error).message.length).toBeLessThan(400); // never echoes 64 KiB
      }
      // A backtracking parser re-reads characters O(n) times; this one at most a few.
      expect(c.reads()).toBeLessThanOrEqual(3 * input.length + 3);
      expect(c.sliced()).toBeLessThanOrEqual(2 * input.length + 201);
    }
  });

  it('parses 1 MiB of empty list elements', () => {
    const big = ', '.repeat(512 * 1024) + 'x';
    expect(parseExtensions(big)).toEqual([{ name: 'x', params: [] }]);
  });
});
