/**
 * Pure-TS twin of native/deflate.cc: permessage-deflate streams (RFC 7692 §7.2) over pako's
 * zlib port, driven through its low-level z_stream API exactly as the C++ drives zlib, so
 * both backends return the same bytes and statuses for the same calls.
 *
 * Why pako: node:zlib has no synchronous *streaming* API (a synchronous call on a zlib
 * stream object closes its handle), and context takeover needs one stream that lives
 * across messages. node:zlib's one-shot calls can serve messages without context takeover;
 * bench/deflate/js-engines.mjs measured (docs/benchmarks.md, "js backend engines"):
 * - compressing a whole message: `deflateRawSync` is 1.9-3.8x faster than a pako stream
 *   reset per message (pako's reset clears a 64 KiB hash table in JS), so a deflater
 *   without context takeover uses it for every message sent in one piece;
 * - decompressing: pako is 2.6x faster at 64 B, even at 1 KiB, and node:zlib wins only
 *   from ~16 KiB. pako does all inflation: one engine keeps the statuses identical to
 *   native's (node:zlib reports a corrupt stream before a cap passed in the same chunk)
 *   and the bomb bound the same (cap + 64 KiB).
 */
import * as zlib from 'node:zlib';

import type { Deflater, DeflaterOptions, Inflater, InflaterOptions } from '../deflate-types';
import { InflateStatus } from '../deflate-types';
import { requireBytes } from './args';

/** pako's z_stream (lib/zlib/zstream.js): byte arrays plus indices instead of pointers. */
interface ZStream {
  input: Uint8Array | null;
  next_in: number;
  avail_in: number;
  output: Uint8Array | null;
  next_out: number;
  avail_out: number;
}
interface PakoInflate {
  inflateInit2(strm: ZStream, windowBits: number): number;
  inflate(strm: ZStream, flush: number): number;
  inflateReset(strm: ZStream): number;
  inflateEnd(strm: ZStream): number;
}
interface PakoDeflate {
  deflateInit2(strm: ZStream, level: number, method: number, windowBits: number, memLevel: number, strategy: number): number;
  deflate(strm: ZStream, flush: number): number;
  deflateReset(strm: ZStream): number;
  deflateEnd(strm: ZStream): number;
}

interface Pako {
  inflate: PakoInflate;
  deflate: PakoDeflate;
  ZStream: new () => ZStream;
}
let pako: Pako | undefined;
/**
 * pako, loaded on first use: the native backend (which imports this module for its option
 * checks) never loads it. Plain `require` calls with literal paths, so that bundlers
 * (esbuild, webpack) see and include these files; `createRequire(__filename)` hid them and
 * a bundled app failed at start with "Cannot find module 'pako/lib/zlib/inflate.js'".
 */
function loadPako(): Pako {
  return (pako ??= {
    inflate: require('pako/lib/zlib/inflate.js') as PakoInflate,
    deflate: require('pako/lib/zlib/deflate.js') as PakoDeflate,
    ZStream: require('pako/lib/zlib/zstream.js') as new () => ZStream,
  });
}

// zlib's constants (zlib.h), the same numbers in pako.
const Z_SYNC_FLUSH = 2;
const Z_OK = 0;
const Z_STREAM_END = 1;
const Z_BUF_ERROR = -5;
const Z_DEFLATED = 8;

/** RFC 7692 §7.2.1: the last 4 octets of a Z_SYNC_FLUSH, removed on send, appended on receive. */
const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);
/** Output starts in this shared buffer (as in C++: one per thread); see {@link Output}. */
const SCRATCH_SIZE = 64 * 1024;
let scratch: Uint8Array | undefined;

/**
 * Where output goes: the shared scratch buffer first, then chunks that double in size, each
 * clamped so the total never passes the caller's limit. A bomb thus allocates at most
 * limit + 64 KiB, and old chunks are never copied while output grows (a growing array
 * would leave its outgrown copies to the garbage collector: up to 3x the output at once).
 */
class Output {
  /** The chunk being written; `size` bytes of it are used. */
  buf: Uint8Array = (scratch ??= new Uint8Array(SCRATCH_SIZE));
  size = 0;
  /** Full chunks before `buf`, and their total length. */
  private readonly full: Uint8Array[] = [];
  private fullBytes = 0;

  /** Bytes written in all. */
  get total(): number {
    return this.fullBytes + this.size;
  }

  /** Starts a new chunk (the current one is full). False at the limit. */
  grow(limit: number): boolean {
    const total = this.total;
    if (total >= limit) return false;
    // The scratch buffer is reused by the next call: keep a copy of it.
    this.full.push(this.buf === scratch ? this.buf.slice(0, this.size) : this.buf.subarray(0, this.size));
    this.fullBytes = total;
    this.buf = new Uint8Array(Math.min(Math.max(total, SCRATCH_SIZE), limit - total));
    this.size = 0;
    return true;
  }

  /** The bytes as one Buffer of their own. */
  result(): Buffer {
    const last = this.buf.subarray(0, this.size);
    if (this.full.length === 0) {
      const out = Buffer.allocUnsafe(this.size);
      out.set(last);
      return out;
    }
    return Buffer.concat([...this.full, last], this.total);
  }
}

function requireInt(value: unknown, name: string, lo: number, hi: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
    throw new RangeError(`${name} must be an integer from ${lo} to ${hi}`);
  }
  return value;
}

function requireBool(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean`);
  return value;
}

function requireOptions(options: unknown): Record<string, unknown> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  return options as Record<string, unknown>;
}

/** Checks {@link InflaterOptions} (both backends call it first, so both throw alike). */
export function checkInflaterOptions(options: InflaterOptions): Required<InflaterOptions> {
  const o = requireOptions(options);
  return {
    windowBits: requireInt(o.windowBits, 'windowBits', 8, 15),
    noContextTakeover: requireBool(o.noContextTakeover, 'noContextTakeover'),
  };
}

/** Checks {@link DeflaterOptions} and fills in the defaults. */
export function checkDeflaterOptions(options: DeflaterOptions): Required<DeflaterOptions> {
  const o = requireOptions(options);
  return {
    windowBits: requireInt(o.windowBits, 'windowBits', 8, 15),
    memLevel: o.memLevel === undefined ? 8 : requireInt(o.memLevel, 'memLevel', 1, 9),
    level: o.level === undefined ? -1 : requireInt(o.level, 'level', -1, 9),
    strategy: o.strategy === undefined ? 0 : requireInt(o.strategy, 'strategy', 0, 4),
    noContextTakeover: requireBool(o.noContextTakeover, 'noContextTakeover'),
  };
}

/** maxOutput -> the output size that means "too big" (maxOutput + 1), as native does. */
function outputLimit(maxOutput: unknown): number {
  if (typeof maxOutput !== 'number' || !(maxOutput >= 0)) throw new RangeError('maxOutput must be a non-negative number');
  return maxOutput >= 9.2e18 ? Infinity : Math.floor(maxOutput) + 1;
}

class JsInflater implements Inflater {
  private readonly z: PakoInflate = loadPako().inflate;
  private strm: ZStream | null = new (loadPako().ZStream)();
  private readonly resetEachMessage: boolean;
  /** A block with BFINAL ended the deflate stream of this message. */
  private ended = false;
  /** Compressed bytes of the current message so far. */
  private messageIn = 0;

  constructor(options: InflaterOptions) {
    const o = checkInflaterOptions(options);
    this.resetEachMessage = o.noContextTakeover;
    // Negative window bits: raw deflate, no zlib header or checksum (RFC 7692 §7.2).
    if (this.z.inflateInit2(this.strm!, -o.windowBits) !== Z_OK) throw new Error('zlib inflateInit2 failed');
  }

  inflate(data: Uint8Array, fin: boolean, maxOutput: number): Uint8Array | InflateStatus {
    const strm = this.strm;
    if (strm === null) throw new Error('the inflater is closed');
    requireBytes(data, 'data');
    requireBool(fin, 'fin');
    const limit = outputLimit(maxOutput);
    const out = new Output();
    let status = 0; // 0: ok, else an InflateStatus
    // After a BFINAL block (RFC 7692 §7.2.3.4) the rest of the message is not inflated.
    if (!this.ended && data.length !== 0) status = this.run(strm, data, limit, out);
    this.messageIn += data.length;
    // §7.2.2: append 00 00 FF FF, except to a message with no payload at all (it is empty;
    // the 4 octets alone would leave the inflater inside a stored block header).
    if (status === 0 && fin && !this.ended && this.messageIn !== 0) status = this.run(strm, TAIL, limit, out);
    strm.input = null;
    strm.output = null;
    if (status !== 0) {
      this.reset();
      return status as InflateStatus;
    }
    if (fin) {
      // §7.1.1: no context takeover -> every message from an empty window; BFINAL -> new stream.
      if (this.resetEachMessage || this.ended) this.z.inflateReset(strm);
      this.ended = false;
      this.messageIn = 0;
    }
    return out.result();
  }

  private run(strm: ZStream, data: Uint8Array, limit: number, out: Output): number {
    strm.input = data;
    strm.next_in = 0;
    strm.avail_in = data.length;
    for (;;) {
      if (out.size === out.buf.length && !out.grow(limit)) return InflateStatus.TOO_BIG;
      const outNow = Math.min(out.buf.length - out.size, limit - out.total);
      strm.output = out.buf;
      strm.next_out = out.size;
      strm.avail_out = outNow;
      const ret = this.z.inflate(strm, Z_SYNC_FLUSH);
      out.size += outNow - strm.avail_out;
      // Reaching maxOutput + 1 bytes: the message passed the cap (the bomb guard).
      if (out.total >= limit) return InflateStatus.TOO_BIG;
      if (ret === Z_STREAM_END) {
        this.ended = true;
        return 0;
      }
      // Z_BUF_ERROR only says "no progress possible": all input used, nothing pending.
      if (ret !== Z_OK && ret !== Z_BUF_ERROR) return InflateStatus.DATA_ERROR;
      if (strm.avail_in === 0 && strm.avail_out !== 0) return 0;
    }
  }

  reset(): void {
    if (this.strm !== null) this.z.inflateReset(this.strm);
    this.ended = false;
    this.messageIn = 0;
  }

  close(): void {
    if (this.strm !== null) this.z.inflateEnd(this.strm);
    this.strm = null;
  }
}

class JsDeflater implements Deflater {
  private readonly z: PakoDeflate = loadPako().deflate;
  private strm: ZStream | null = new (loadPako().ZStream)();
  private readonly resetEachMessage: boolean;
  /** node:zlib options for whole messages without context takeover (see the file comment). */
  private readonly oneShot: zlib.ZlibOptions | null;
  /** A piece of the current message went through the pako stream. */
  private inMessage = false;

  constructor(options: DeflaterOptions) {
    const o = checkDeflaterOptions(options);
    this.resetEachMessage = o.noContextTakeover;
    // No raw 256-byte window in zlib (nor pako): 9 never refers back more than 250 bytes
    // (window - MIN_LOOKAHEAD), which a peer limited to 8 decompresses (see deflate.cc).
    const bits = o.windowBits === 8 ? 9 : o.windowBits;
    if (this.z.deflateInit2(this.strm!, o.level, Z_DEFLATED, -bits, o.memLevel, o.strategy) !== Z_OK) {
      throw new Error('zlib deflateInit2 failed');
    }
    this.oneShot = o.noContextTakeover
      ? { windowBits: bits, memLevel: o.memLevel, level: o.level, strategy: o.strategy, finishFlush: zlib.constants.Z_SYNC_FLUSH }
      : null;
  }

  deflate(data: Uint8Array, fin: boolean): Uint8Array {
    const strm = this.strm;
    if (strm === null) throw new Error('the deflater is closed');
    requireBytes(data, 'data');
    requireBool(fin, 'fin');
    if (this.oneShot !== null && fin && !this.inMessage) return endMessage(zlib.deflateRawSync(data, this.oneShot));
    this.inMessage = !fin;
    const out = new Output();
    strm.input = data;
    strm.next_in = 0;
    strm.avail_in = data.length;
    do {
      if (out.size === out.buf.length) out.grow(Infinity);
      strm.output = out.buf;
      strm.next_out = out.size;
      strm.avail_out = out.buf.length - out.size;
      const before = strm.avail_out;
      // Z_SYNC_FLUSH: the peer can decompress everything sent so far (RFC 7692 §7.2.1).
      const ret = this.z.deflate(strm, Z_SYNC_FLUSH);
      out.size += before - strm.avail_out;
      if (ret === Z_BUF_ERROR) break; // no input since the last flush: nothing to write
      if (ret !== Z_OK) throw new Error('zlib deflate failed');
    } while (strm.avail_out === 0 || strm.avail_in !== 0);
    strm.input = null;
    strm.output = null;
    if (!fin) return out.result();
    if (this.resetEachMessage) this.z.deflateReset(strm); // §7.1.1: no context takeover
    return endMessage(out.result());
  }

  reset(): void {
    if (this.strm !== null) this.z.deflateReset(this.strm);
    this.inMessage = false;
  }

  close(): void {
    if (this.strm !== null) this.z.deflateEnd(this.strm);
    this.strm = null;
  }
}

/**
 * The last piece of a compressed message: without its trailing 00 00 FF FF (RFC 7692
 * §7.2.1), and never empty: 0x00 plus the receiver's 00 00 FF FF is an empty stored block
 * (§7.2.3.6), while nothing at all would leave the peer's inflater mid-header.
 */
function endMessage(out: Buffer): Buffer {
  const n = out.length;
  if (n >= 4 && out[n - 4] === 0x00 && out[n - 3] === 0x00 && out[n - 2] === 0xff && out[n - 1] === 0xff) {
    return n === 4 ? Buffer.of(0x00) : out.subarray(0, n - 4);
  }
  return n === 0 ? Buffer.of(0x00) : out;
}

/** The js backend's {@link DeflateBackend.createInflater}. */
export function createInflater(options: InflaterOptions): Inflater {
  return new JsInflater(options);
}

/** The js backend's {@link DeflateBackend.createDeflater}. */
export function createDeflater(options: DeflaterOptions): Deflater {
  return new JsDeflater(options);
}
