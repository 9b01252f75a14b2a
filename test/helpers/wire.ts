/**
 * Test helper: builds raw frames byte by byte, independently of src/ (so a bug in the
 * writer cannot hide the same bug in the parser).
 */
export interface WireFrame {
  opcode: number;
  payload?: Uint8Array | string;
  fin?: boolean;
  /** RSV bits as one number: RSV1=4, RSV2=2, RSV3=1. */
  rsv?: number;
  /** A 4-byte key, `true` for a fixed test key, false/undefined for unmasked. */
  mask?: Uint8Array | boolean;
  /** Override the announced length (as a 64-bit value, forces the 8-byte form). */
  length64?: bigint;
  /** Force the 2-byte (16) or 8-byte (64) length form. */
  lengthForm?: 16 | 64;
}

export const TEST_KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

export function bytes(payload: Uint8Array | string | undefined): Uint8Array {
  if (payload === undefined) return new Uint8Array(0);
  return typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
}

export function wire(f: WireFrame): Uint8Array {
  const data = bytes(f.payload);
  const key = f.mask === true ? TEST_KEY : f.mask instanceof Uint8Array ? f.mask : null;
  const len = data.length;
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | f.opcode];
  const m = key ? 0x80 : 0;
  const form = f.length64 !== undefined ? 64 : f.lengthForm ?? (len < 126 ? 7 : len < 65536 ? 16 : 64);
  if (form === 7) head.push(m | len);
  else if (form === 16) head.push(m | 126, len >> 8, len & 0xff);
  else {
    let v = f.length64 ?? BigInt(len);
    const b: number[] = [];
    for (let i = 0; i < 8; i++) {
      b.unshift(Number(v & 0xffn));
      v >>= 8n;
    }
    head.push(m | 127, ...b);
  }
  if (key) head.push(...key);
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  for (let i = 0; i < len; i++) out[head.length + i] = key ? data[i]! ^ key[i & 3]! : data[i]!;
  return out;
}

export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Deterministic PRNG (mulberry32) for split points. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `data` cut into pieces: every piece `size` bytes, or random sizes when size is 'random'. */
export function split(data: Uint8Array, size: number | 'random', seed = 1): Uint8Array[] {
  const out: Uint8Array[] = [];
  const r = rng(seed);
  let at = 0;
  while (at < data.length) {
    const n = size === 'random' ? 1 + Math.floor(r() * Math.min(300, data.length)) : size;
    out.push(data.slice(at, at + n));
    at += n;
  }
  return out;
}
