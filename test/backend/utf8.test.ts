/**
 * UTF-8 validation (RFC 3629 §4) through the active backend, and in the native project
 * through every whole-buffer kernel of the addon (AVX-512 / AVX2 lookup validators, SSE2,
 * portable), selected with its _utf8Kernel hook.
 *
 * Oracles that share no code with wscore: Node's buffer.isUtf8 (simdutf) for validity,
 * TextDecoder fatal, and for exact error offsets `firstBadByte`, which finds by bisection
 * the shortest prefix that no continuation can make valid (the first byte that makes a text
 * invalid is exactly where that prefix ends).
 */
import { isUtf8 as nodeIsUtf8 } from 'node:buffer';
import { afterAll, describe, expect, it } from 'vitest';

import { backend, backendName, jsBackend, Utf8State } from '../../src/backend';
import { loadNativeAddon } from '../../src/backend/native';

interface Impl {
  name: string;
  isUtf8(data: Uint8Array): boolean;
  utf8Step(data: Uint8Array, state: number): number;
  select(): void;
}

const addon = loadNativeAddon();
const bestKernel = addon._utf8Kernel();
afterAll(() => {
  addon._utf8Kernel(bestKernel);
});

const impls: Impl[] = [{ name: `backend (${backendName})`, isUtf8: backend.isUtf8, utf8Step: backend.utf8Step, select: () => addon._utf8Kernel(bestKernel) }];
if (backendName === 'native') {
  for (const k of addon._utf8Kernels()) {
    impls.push({ name: `addon/${k}`, isUtf8: addon.isUtf8, utf8Step: addon.utf8Step, select: () => addon._utf8Kernel(k) });
  }
} else {
  impls.push({ name: 'jsBackend', isUtf8: jsBackend.isUtf8, utf8Step: jsBackend.utf8Step, select: () => undefined });
}

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

let probe = new Uint8Array(4096);
/** Whether some 0..3 continuation bytes turn data[0..len) into valid UTF-8. */
function isValidPrefix(data: Uint8Array, len: number): boolean {
  if (nodeIsUtf8(data.subarray(0, len))) return true;
  if (probe.length < len + 3) probe = new Uint8Array(len + 3);
  probe.set(data.subarray(0, len));
  for (const first of [0x80, 0x90, 0xa0]) {
    probe[len] = first;
    probe[len + 1] = 0x80;
    probe[len + 2] = 0x80;
    for (let k = 1; k <= 3; k++) if (nodeIsUtf8(probe.subarray(0, len + k))) return true;
  }
  return false;
}

/** Index of the first byte that makes `data` invalid, or -1 if it is valid or merely cut short. */
function firstBadByte(data: Uint8Array): number {
  if (isValidPrefix(data, data.length)) return -1;
  let good = 0; // prefixes are valid up to `good` bytes, not at `bad` (validity of prefixes is monotone)
  let bad = data.length;
  while (bad - good > 1) {
    const mid = (good + bad) >>> 1;
    if (isValidPrefix(data, mid)) good = mid;
    else bad = mid;
  }
  return bad - 1;
}

/** What utf8Step(data, ACCEPT) must return, as far as the oracle knows: error code, 0, or "some state > 0". */
function expectedStep(data: Uint8Array): number | 'incomplete' {
  const bad = firstBadByte(data);
  if (bad >= 0) return -(bad + 1);
  return nodeIsUtf8(data) ? 0 : 'incomplete';
}

function checkStep(got: number, want: number | 'incomplete'): boolean {
  return want === 'incomplete' ? got >= 1 && got <= 7 : got === want;
}

function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Deterministic random text from ASCII, Latin, CJK, emoji and boundary code points. */
function randomText(rand: () => number, chars: number): string {
  const ranges: Array<[number, number]> = [
    [0x20, 0x7e], [0x00, 0x7f], [0x80, 0x7ff], [0xa0, 0x17f], [0x800, 0xd7ff], [0xe000, 0xffff],
    [0x4e00, 0x9fff], [0x10000, 0x10ffff], [0x1f300, 0x1faff],
  ];
  let s = '';
  for (let i = 0; i < chars; i++) {
    const [lo, hi] = ranges[Math.floor(rand() * ranges.length)]!;
    s += String.fromCodePoint(lo + Math.floor(rand() * (hi - lo + 1)));
  }
  return s;
}

const frameBuf = new Uint8Array(100);
/**
 * The pair a, b at offsets 63-64 (straddling the 32- and 64-byte block boundaries) of ASCII
 * text, followed by the continuations a 3- or 4-byte lead a still needs: so whether the
 * frame is valid is decided by the pair itself, e.g. E0 9F (overlong) vs E0 A0.
 */
function framePair(a: number, b: number): Uint8Array {
  frameBuf.fill(0x41);
  frameBuf[63] = a;
  frameBuf[64] = b;
  if (a >= 0xe0) frameBuf[65] = 0x80;
  if (a >= 0xf0) frameBuf[66] = 0x80;
  return frameBuf;
}

// The oracle is slow (bisection over buffer.isUtf8 calls): compute its answers once per file
// and share them between the implementations under test.
const INCOMPLETE = 100;
let pairs: { step: Int32Array; framed: Uint8Array } | undefined;
function pairOracle(): { step: Int32Array; framed: Uint8Array } {
  if (pairs) return pairs;
  const step = new Int32Array(65536);
  const framed = new Uint8Array(65536);
  const firstOk: boolean[] = [];
  for (let a = 0; a < 256; a++) firstOk.push(isValidPrefix(bytes(a), 1));
  const pair = new Uint8Array(2);
  for (let i = 0; i < 65536; i++) {
    pair[0] = i >> 8;
    pair[1] = i & 0xff;
    // firstBadByte for two bytes, without the bisection: byte 0, byte 1, or neither.
    if (!firstOk[i >> 8]!) step[i] = -1;
    else if (!isValidPrefix(pair, 2)) step[i] = -2;
    else step[i] = nodeIsUtf8(pair) ? 0 : INCOMPLETE;
    framed[i] = nodeIsUtf8(framePair(i >> 8, i & 0xff)) ? 1 : 0;
  }
  pairs = { step, framed };
  return pairs;
}

interface OffsetCase {
  label: string;
  data: Uint8Array;
  want: number | 'incomplete';
  ok: boolean;
}
let offsets: OffsetCase[] | undefined;
function offsetCases(): OffsetCase[] {
  if (offsets) return offsets;
  offsets = [];
  const backgrounds = [utf8('A'.repeat(330)), utf8('añ€😀'.repeat(40)).subarray(0, 330)];
  const errors = [bytes(0x80), bytes(0xff), bytes(0xc0, 0x80), bytes(0xed, 0xa0, 0x80), bytes(0xe2, 0x82, 0x41), bytes(0xf4, 0x90, 0x80, 0x80), bytes(0xf0, 0x9f, 0x98)];
  for (const [bi, background] of backgrounds.entries()) {
    for (let at = 0; at <= 300; at++) {
      for (const [ei, err] of errors.entries()) {
        const data = background.slice();
        data.set(err, at);
        offsets.push({ label: `background ${bi} error ${ei} at ${at}`, data, want: expectedStep(data), ok: nodeIsUtf8(data) });
      }
    }
  }
  return offsets;
}

// Markus Kuhn's "UTF-8 decoder capability and stress test" categories; `bad` is the index of
// the first byte that makes the text invalid (null: valid).
const KUHN: Array<[string, Uint8Array, number | null]> = [
  ['U+0000', bytes(0x00), null],
  ['U+007F', bytes(0x7f), null],
  ['U+0080', bytes(0xc2, 0x80), null],
  ['U+07FF', bytes(0xdf, 0xbf), null],
  ['U+0800', bytes(0xe0, 0xa0, 0x80), null],
  ['U+D7FF', bytes(0xed, 0x9f, 0xbf), null],
  ['U+E000', bytes(0xee, 0x80, 0x80), null],
  ['U+FFFD', bytes(0xef, 0xbf, 0xbd), null],
  ['U+FFFE (noncharacter, valid)', bytes(0xef, 0xbf, 0xbe), null],
  ['U+FFFF', bytes(0xef, 0xbf, 0xbf), null],
  ['U+10000', bytes(0xf0, 0x90, 0x80, 0x80), null],
  ['U+10FFFF', bytes(0xf4, 0x8f, 0xbf, 0xbf), null],
  ['kosme', utf8('κόσμε'), null],
  ['U+110000', bytes(0xf4, 0x90, 0x80, 0x80), 1],
  ['U+13FFFF', bytes(0xf4, 0xbf, 0xbf, 0xbf), 1],
  ['F5 lead', bytes(0xf5, 0x80, 0x80, 0x80), 0],
  ['F7 BF BF BF', bytes(0xf7, 0xbf, 0xbf, 0xbf), 0],
  ['5-byte U+200000', bytes(0xf8, 0x88, 0x80, 0x80, 0x80), 0],
  ['5-byte max', bytes(0xfb, 0xbf, 0xbf, 0xbf, 0xbf), 0],
  ['6-byte U+4000000', bytes(0xfc, 0x84, 0x80, 0x80, 0x80, 0x80), 0],
  ['6-byte max', bytes(0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf), 0],
  ['FE', bytes(0xfe), 0],
  ['FF', bytes(0xff), 0],
  ['FE FE FF FF', bytes(0xfe, 0xfe, 0xff, 0xff), 0],
  ['first continuation', bytes(0x80), 0],
  ['last continuation', bytes(0xbf), 0],
  ['2 continuations', bytes(0x80, 0xbf), 0],
  ['continuation after ASCII', bytes(0x41, 0x80), 1],
  ['extra continuation', bytes(0xc2, 0x80, 0x80), 2],
  ['extra continuation after 4-byte', bytes(0xf0, 0x90, 0x80, 0x80, 0x80), 4],
  ['C0 followed by space', bytes(0xc0, 0x20), 0],
  ['C2 followed by space', bytes(0xc2, 0x20), 1],
  ['E1 followed by space', bytes(0xe1, 0x20), 1],
  ['E1 80 followed by space', bytes(0xe1, 0x80, 0x20), 2],
  ['F1 80 80 followed by space', bytes(0xf1, 0x80, 0x80, 0x20), 3],
  ['lead followed by lead', bytes(0xe1, 0xc2, 0x80), 1],
  ['overlong / in 2 bytes', bytes(0xc0, 0xaf), 0],
  ['overlong / in 3 bytes', bytes(0xe0, 0x80, 0xaf), 1],
  ['overlong / in 4 bytes', bytes(0xf0, 0x80, 0x80, 0xaf), 1],
  ['overlong / in 5 bytes', bytes(0xf8, 0x80, 0x80, 0x80, 0xaf), 0],
  ['overlong / in 6 bytes', bytes(0xfc, 0x80, 0x80, 0x80, 0x80, 0xaf), 0],
  ['max overlong 2 bytes (U+007F)', bytes(0xc1, 0xbf), 0],
  ['max overlong 3 bytes (U+07FF)', bytes(0xe0, 0x9f, 0xbf), 1],
  ['max overlong 4 bytes (U+FFFF)', bytes(0xf0, 0x8f, 0xbf, 0xbf), 1],
  ['overlong NUL 2 bytes', bytes(0xc0, 0x80), 0],
  ['overlong NUL 3 bytes', bytes(0xe0, 0x80, 0x80), 1],
  ['U+D800', bytes(0xed, 0xa0, 0x80), 1],
  ['U+DB7F', bytes(0xed, 0xad, 0xbf), 1],
  ['U+DB80', bytes(0xed, 0xae, 0x80), 1],
  ['U+DBFF', bytes(0xed, 0xaf, 0xbf), 1],
  ['U+DC00', bytes(0xed, 0xb0, 0x80), 1],
  ['U+DF80', bytes(0xed, 0xbe, 0x80), 1],
  ['U+DFFF', bytes(0xed, 0xbf, 0xbf), 1],
  ['surrogate pair U+D800 U+DC00', bytes(0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80), 1],
  ['error after valid text', concat(utf8('€ and 😀 fine'), bytes(0xff)), utf8('€ and 😀 fine').length],
];

describe.each(impls)('UTF-8: $name', (impl) => {
  it('classifies the stress-test cases and reports the first bad byte', () => {
    impl.select();
    for (const [label, data, bad] of KUHN) {
      // The oracles agree with the table (guards the table itself).
      expect(nodeIsUtf8(data), label).toBe(bad === null);
      expect(firstBadByte(data), label).toBe(bad ?? -1);
      expect(impl.isUtf8(data), label).toBe(bad === null);
      expect(impl.utf8Step(data, Utf8State.ACCEPT), label).toBe(bad === null ? Utf8State.ACCEPT : -(bad + 1));
      // The same inside a longer text, past the first SIMD block.
      const long = concat(utf8('x'.repeat(70) + 'ü'.repeat(40)), data, utf8('y'.repeat(90)));
      expect(impl.isUtf8(long), label).toBe(bad === null);
      expect(impl.utf8Step(long, Utf8State.ACCEPT), label).toBe(bad === null ? 0 : -(150 + bad + 1));
    }
  });

  it('agrees with buffer.isUtf8 and the oracle on every byte pair, at a block boundary too', () => {
    impl.select();
    const failures: string[] = [];
    const oracle = pairOracle();
    const pair = new Uint8Array(2);
    for (let i = 0; i < 65536; i++) {
      pair[0] = i >> 8;
      pair[1] = i & 0xff;
      const framed = framePair(i >> 8, i & 0xff);
      const want = oracle.step[i]!;
      if (impl.isUtf8(pair) !== (want === 0) || !checkStep(impl.utf8Step(pair, 0), want === INCOMPLETE ? 'incomplete' : want)) {
        failures.push(`${pair[0]!.toString(16)} ${pair[1]!.toString(16)}`);
      }
      if (impl.isUtf8(framed) !== (oracle.framed[i] === 1)) failures.push(`framed ${pair[0]!.toString(16)} ${pair[1]!.toString(16)}`);
    }
    expect(failures).toEqual([]);
  });

  it('rejects every surrogate, every overlong form, and everything above U+10FFFF', () => {
    impl.select();
    const failures: string[] = [];
    for (let cp = 0xd800; cp <= 0xdfff; cp++) {
      const d = bytes(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
      if (impl.utf8Step(d, 0) !== -2 || impl.isUtf8(d)) failures.push(`surrogate ${cp.toString(16)}`);
    }
    for (let cp = 0; cp < 0x80; cp++) {
      const d = bytes(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)); // overlong 2-byte: C0/C1 lead
      if (impl.utf8Step(d, 0) !== -1) failures.push(`overlong2 ${cp.toString(16)}`);
    }
    for (let cp = 0; cp < 0x800; cp++) {
      const d = bytes(0xe0, 0x80 | (cp >> 6), 0x80 | (cp & 0x3f));
      if (impl.utf8Step(d, 0) !== -2) failures.push(`overlong3 ${cp.toString(16)}`);
    }
    for (let cp = 0; cp < 0x10000; cp += 7) {
      const d = bytes(0xf0, 0x80 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
      if (impl.utf8Step(d, 0) !== -2) failures.push(`overlong4 ${cp.toString(16)}`);
    }
    for (let cp = 0x110000; cp < 0x200000; cp += 0x101) {
      const d = bytes(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
      const want = cp < 0x140000 ? -2 : -1; // F4 9x..: the second byte; F5..F7: the lead
      if (impl.utf8Step(d, 0) !== want || impl.isUtf8(d)) failures.push(`too large ${cp.toString(16)}`);
    }
    expect(failures).toEqual([]);
  });

  it('reports sequences truncated at every position, and states that continue correctly', () => {
    impl.select();
    const failures: string[] = [];
    const next = new Uint8Array(1);
    for (const ch of ['\u0080', '\u07ff', '\u0800', 'ࠀ', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{10ffff}', '€', '😀', '\u{fffff}', '쳌']) {
      const whole = utf8(ch);
      for (let cut = 1; cut < whole.length; cut++) {
        const head = whole.subarray(0, cut);
        const state = impl.utf8Step(head, 0);
        if (impl.isUtf8(head) || state < 1 || state > 7) failures.push(`${ch} cut ${cut}: state ${state}`);
        if (impl.utf8Step(whole.subarray(cut), state) !== 0) failures.push(`${ch} cut ${cut}: no resume`);
        if (impl.utf8Step(concat(head, utf8('A')), 0) !== -(cut + 1)) failures.push(`${ch} cut ${cut} + A`);
        // The state means exactly "these next bytes are allowed" (checked against the oracle).
        const probe = new Uint8Array(cut + 1);
        probe.set(head);
        for (let b = 0; b < 256; b++) {
          next[0] = b;
          probe[cut] = b;
          const ok = isValidPrefix(probe, cut + 1);
          if ((impl.utf8Step(next, state) >= 0) !== ok) failures.push(`${ch} cut ${cut} then ${b.toString(16)}`);
          if (ok !== impl.utf8Step(probe, 0) >= 0) failures.push(`${ch} cut ${cut} then ${b.toString(16)} whole`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('carries state across every split point of multi-byte text, with errors on either side', () => {
    impl.select();
    const failures: string[] = [];
    const text = utf8('aé€😀 κόσμε 日本語 \u{10ffff}\u0800\u07ff\u0080 ok 🎉👍🏽 end');
    for (let cut = 0; cut <= text.length; cut++) {
      const s = impl.utf8Step(text.subarray(0, cut), 0);
      if (s < 0 || impl.utf8Step(text.subarray(cut), s) !== 0) failures.push(`cut ${cut}`);
      for (let cut2 = cut; cut2 <= text.length; cut2 += 3) {
        const s2 = impl.utf8Step(text.subarray(cut, cut2), s);
        if (s2 < 0 || impl.utf8Step(text.subarray(cut2), s2) !== 0) failures.push(`cuts ${cut},${cut2}`);
      }
    }
    for (let at = 0; at < text.length; at++) {
      const broken = text.slice();
      broken[at] = broken[at]! >= 0x80 ? 0x41 : 0x80; // break a multi-byte char, or add a stray continuation
      const bad = firstBadByte(broken);
      for (let cut = 0; cut <= broken.length; cut += 2) {
        const s = impl.utf8Step(broken.subarray(0, cut), 0);
        const got = s < 0 ? s : impl.utf8Step(broken.subarray(cut), s);
        const want = bad < cut ? -(bad + 1) : -(bad - cut + 1);
        if (got !== want) failures.push(`error at ${at}, cut ${cut}: ${got} != ${want}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('agrees with buffer.isUtf8 and TextDecoder on random text, valid and corrupted', () => {
    impl.select();
    const failures: string[] = [];
    const rand = prng(12345);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const decodes = (d: Uint8Array): boolean => {
      try {
        decoder.decode(d);
        return true;
      } catch {
        return false;
      }
    };
    for (let t = 0; t < 300; t++) {
      const data = utf8(randomText(rand, Math.floor(rand() * 400)));
      if (!impl.isUtf8(data) || impl.utf8Step(data, 0) !== 0) failures.push(`valid #${t}`);
      if (data.length === 0) continue;
      const broken = data.slice();
      broken[Math.floor(rand() * broken.length)] = Math.floor(rand() * 256);
      const ok = nodeIsUtf8(broken);
      if (decodes(broken) !== ok) failures.push(`oracles disagree #${t}`);
      if (impl.isUtf8(broken) !== ok || !checkStep(impl.utf8Step(broken, 0), expectedStep(broken))) failures.push(`corrupt #${t}`);
    }
    expect(failures).toEqual([]);
  });

  it('finds errors at every offset 0..300 of inputs longer than the SIMD blocks', () => {
    impl.select();
    const failures: string[] = [];
    for (const [k, { label, data, want, ok }] of offsetCases().entries()) {
      // Also at every misalignment: the js twin reads 4-aligned words.
      const holder = new Uint8Array(data.length + 3);
      const shifted = holder.subarray(k & 3, (k & 3) + data.length);
      shifted.set(data);
      for (const d of [data, shifted]) {
        if (impl.isUtf8(d) !== ok || !checkStep(impl.utf8Step(d, 0), want)) failures.push(`${label} (byteOffset ${d.byteOffset})`);
      }
    }
    // Every length 0..330 of multi-byte text: whole characters are valid, cut ones resume.
    const text = utf8('añ€😀'.repeat(40) + 'é'.repeat(20));
    for (let n = 0; n <= 330; n++) {
      const head = text.subarray(0, n);
      const s = impl.utf8Step(head, 0);
      if (impl.isUtf8(head) !== nodeIsUtf8(head) || (s === 0) !== nodeIsUtf8(head) || impl.utf8Step(text.subarray(n), s) !== 0) failures.push(`length ${n}`);
    }
    expect(failures).toEqual([]);
  });

  it('rejects bad arguments with the documented errors, and accepts empty or detached input', () => {
    impl.select();
    const isUtf8 = impl.isUtf8 as unknown as (...a: unknown[]) => boolean;
    const step = impl.utf8Step as unknown as (...a: unknown[]) => number;
    for (const bad of [undefined, null, 'abc', 1, [0x41], new ArrayBuffer(4), new Uint8ClampedArray(4), new Uint16Array(2)]) {
      expect(() => isUtf8(bad)).toThrow(TypeError);
      expect(() => isUtf8(bad)).toThrow(/^data must be a Uint8Array$/);
      expect(() => step(bad, 0)).toThrow(/^data must be a Uint8Array$/);
    }
    for (const state of [-1, 8, 1.5, NaN, Infinity, '0', null, undefined, 0n]) {
      expect(() => step(utf8('a'), state)).toThrow(RangeError);
      expect(() => step(utf8('a'), state)).toThrow(/^state must be an integer from 0 to 7$/);
    }
    expect(() => step(null, 99)).toThrow(TypeError); // the data is checked first
    expect(impl.isUtf8(new Uint8Array(0))).toBe(true);
    for (let s = 0; s <= 7; s++) expect(impl.utf8Step(new Uint8Array(0), s)).toBe(s);
    expect(Object.is(impl.utf8Step(new Uint8Array(0), -0), 0)).toBe(true);
    const detached = utf8('\u20ac');
    structuredClone(detached.buffer, { transfer: [detached.buffer as ArrayBuffer] });
    expect(impl.isUtf8(detached)).toBe(true);
    expect(impl.utf8Step(detached, Utf8State.NEED2)).toBe(Utf8State.NEED2);
  });
});
