/**
 * Options of {@link PerMessageDeflate}: the names and meanings of ws's `perMessageDeflate`
 * option, plus wscore's own (`sharedCompressor`, `fallback`, `backend`).
 */
import type { Backend } from '../backend';
import { DEFAULT_DEFLATE_THRESHOLD } from '../limits';

/** zlib settings of our compressor (ws's `zlibDeflateOptions`). */
export interface ZlibDeflateOptions {
  /** Compression level -1..9 (default -1: zlib's default, 6). */
  level?: number;
  /** zlib memLevel 1..9 (default 8): memory of the match finder's buffers. */
  memLevel?: number;
  /** zlib strategy 0..4 (default 0). */
  strategy?: number;
  /**
   * The largest window our compressor uses, 8..15 (default 12, a 4 KiB window), never more
   * than the peer allows. Unlike ws, which ignores this field and always compresses with the
   * negotiated window (32 KiB by default): at 12 a context-takeover compressor takes about
   * half the memory, and on JSON-like messages it compressed as well (docs/benchmarks.md).
   */
  windowBits?: number;
}

/** Options of {@link PerMessageDeflate} (the same object serves a client and a server). */
export interface PerMessageDeflateOptions {
  /**
   * Client: ask the server not to use context takeover (RFC 7692 §7.1.1.1).
   * Server: always answer with it (our compressor resets after each message); `false`
   * declines offers that ask for it. Default: accept if asked.
   */
  serverNoContextTakeover?: boolean;
  /**
   * Client: announce we will not use context takeover (§7.1.1.2); `false` fails a server
   * response that demands it. Server: always demand it (the client's compressor resets,
   * and so can our decompressor: with `sharedCompressor` it then holds no memory).
   */
  clientNoContextTakeover?: boolean;
  /**
   * Client: a number asks the server to compress with at most 2^n bytes of window (§7.1.2.1).
   * Server: a number limits our compressor's window, announced in the response; `false`
   * declines offers that carry server_max_window_bits. 8..15.
   */
  serverMaxWindowBits?: number | boolean;
  /**
   * Client: a number promises our compressor uses at most 2^n bytes of window (§7.1.2.2);
   * `true` or unset offers the parameter without a value ("the server may limit it");
   * `false` does not offer it. Server: a number limits the client's window (offers that do
   * not allow it are declined); `false` never limits it. 8..15.
   */
  clientMaxWindowBits?: number | boolean;
  /** Our compressor's zlib settings; `level` and `memLevel` below take precedence. */
  zlibDeflateOptions?: ZlibDeflateOptions;
  /** Compression level -1..9 (default -1 = 6). */
  level?: number;
  /** zlib memLevel 1..9 (default 8). */
  memLevel?: number;
  /**
   * Messages (their first frame) shorter than this many bytes are sent uncompressed.
   * Default 1024, as ws: below that, compression mostly costs more time than it saves
   * bytes, unless messages repeat (then 0 and context takeover shrink even 64-byte JSON
   * messages ~3x: docs/benchmarks.md).
   */
  threshold?: number;
  /**
   * Streams without context takeover (a compressor after server/client_no_context_takeover
   * was agreed, a decompressor when the peer agreed to it) come from pools shared by all
   * connections instead of living in each one: such a connection keeps no zlib memory
   * between messages. Default true.
   */
  sharedCompressor?: boolean;
  /**
   * Client: when the first offer asks something of the server's compressor
   * (serverNoContextTakeover, serverMaxWindowBits), add a second offer without it, so that
   * a server that declines the first still compresses (RFC 7692 §5). Default true.
   */
  fallback?: boolean;
  /** The backend whose streams to use (tests and benchmarks); default: the active one. */
  backend?: Backend;
}

/** Options after checking, with defaults filled in. */
export interface NormalizedOptions {
  serverNoContextTakeover: boolean | undefined;
  clientNoContextTakeover: boolean | undefined;
  serverMaxWindowBits: number | boolean | undefined;
  clientMaxWindowBits: number | boolean | undefined;
  level: number;
  memLevel: number;
  strategy: number;
  compressorWindowBits: number;
  threshold: number;
  sharedCompressor: boolean;
  fallback: boolean;
}

function int(value: unknown, name: string, lo: number, hi: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
    throw new RangeError(`permessage-deflate: ${name} must be an integer from ${lo} to ${hi}`);
  }
  return value;
}

function bool(value: unknown, name: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`permessage-deflate: ${name} must be a boolean`);
  return value;
}

function windowOption(value: unknown, name: string): number | boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  return int(value, name, 8, 15, 15);
}

/** @throws TypeError / RangeError on an invalid option */
export function checkOptions(options: PerMessageDeflateOptions): NormalizedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('permessage-deflate: options must be an object');
  const z = options.zlibDeflateOptions ?? {};
  if (typeof z !== 'object' || z === null) throw new TypeError('permessage-deflate: zlibDeflateOptions must be an object');
  const threshold = options.threshold ?? DEFAULT_DEFLATE_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold >= 0)) throw new RangeError('permessage-deflate: threshold must be a number >= 0');
  return {
    serverNoContextTakeover: bool(options.serverNoContextTakeover, 'serverNoContextTakeover'),
    clientNoContextTakeover: bool(options.clientNoContextTakeover, 'clientNoContextTakeover'),
    serverMaxWindowBits: windowOption(options.serverMaxWindowBits, 'serverMaxWindowBits'),
    clientMaxWindowBits: windowOption(options.clientMaxWindowBits, 'clientMaxWindowBits'),
    level: int(options.level ?? z.level, 'level', -1, 9, -1),
    memLevel: int(options.memLevel ?? z.memLevel, 'memLevel', 1, 9, 8),
    strategy: int(z.strategy, 'strategy', 0, 4, 0),
    compressorWindowBits: int(z.windowBits, 'zlibDeflateOptions.windowBits', 8, 15, 12),
    threshold,
    sharedCompressor: bool(options.sharedCompressor, 'sharedCompressor') ?? true,
    fallback: bool(options.fallback, 'fallback') ?? true,
  };
}
