/**
 * The streaming frame reader: socket chunks in, complete frames out, on top of the batch
 * parser `backend.parseFrames` (one backend call per chunk, not per frame).
 *
 * - A frame that lies inside one chunk is delivered as a zero-copy `subarray` of the chunk.
 * - A frame split across chunks is assembled into one buffer that grows with the bytes
 *   actually received (doubling, never past the announced size): a 16 MiB frame arriving in
 *   64 KiB pieces costs ~9 allocations and at most ~2x linear copying, and a peer that
 *   announces a 64 MiB frame and sends 1 byte of it costs 64 KiB, not 64 MiB (the gorilla
 *   CVE-2020-27813 / undici CVE-2026-1528 class; docs/security.md). Frames up to
 *   {@link ASSEMBLY_START} bytes are allocated once at their final size.
 * - Between chunks only an incomplete header or control frame (< 132 bytes) is kept.
 * - A violation becomes a {@link ParseFailed} with the close code to send and a message
 *   naming what was wrong; frames before it are delivered, nothing after it is processed.
 *
 * `push()` takes ownership of the chunk: payloads are unmasked IN PLACE (RFC 6455 §5.3) and
 * delivered payloads are views of it. Sans-IO: no sockets, timers or promises.
 */
import { backend as defaultBackend, type Backend } from '../backend';
import { PARSE_CTL_SIZE, ParseCtl, ParseFlags, ParseRecord } from '../backend/types';
import { LocalProtocolError, ParseFailed } from '../errors';
import { DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD } from '../limits';
import type { FrameHandler, FrameReaderStats, ReaderFrame } from './frame-info';
import { parseFailure } from './parse-errors';

/** Options of {@link FrameReader}. */
export interface FrameReaderOptions {
  /** Which end we are: a server requires masked frames, a client unmasked ones (§5.1). */
  role: 'client' | 'server';
  /** Largest frame or message payload accepted, in bytes (default 64 MiB; above: 1009). */
  maxPayload?: number;
  /**
   * Most data frames one message may have (default {@link DEFAULT_MAX_FRAGMENTS}; 0: no
   * limit; more: 1008).
   */
  maxFragments?: number;
  /** RSV bits the negotiated extensions use (RSV1=4, RSV2=2, RSV3=1; default 0). */
  allowedRsv?: number;
  /**
   * The backend to parse with (default: the active one). Tests compare both. Its
   * parseFrames must not run code that feeds another FrameReader (readers share the ctl
   * array for the length of a call).
   */
  backend?: Backend;
  /** Frames decoded per backend call at most (default 1024). */
  batchSize?: number;
}

/** Buffer's species constructor: `new FastBuffer(arrayBuffer, offset, length)` is a Buffer view. */
const FastBuffer = ((Buffer as unknown as Record<symbol, unknown>)[Symbol.species] ?? Uint8Array) as new (b: ArrayBufferLike, o: number, l: number) => Uint8Array;

/** Largest incomplete frame the reader may have to keep: 6-byte header + 125-byte control payload. */
const MAX_TAIL = 131;

/**
 * First size of the assembly buffer of a frame split across chunks (a socket read is at most
 * 64 KiB): the announced length is the peer's claim, so memory is reserved only as its bytes
 * arrive, doubling up to the announced size. Frames no larger are allocated at final size.
 */
export const ASSEMBLY_START = 64 * 1024;

/** Records per parse call unless a reader asks for another batch size. */
const DEFAULT_BATCH = 1024;
/**
 * One records array serves every reader with the default batch size: run() uses it only
 * synchronously, so it need not be per connection (12 KiB each: most of an idle
 * connection's memory before this was shared). A re-entrant run (an onFrame handler that
 * feeds another reader) finds it taken and gets a fresh array for that call.
 */
let sharedRecords: Int32Array | null = new Int32Array(DEFAULT_BATCH * ParseRecord.SIZE);

/**
 * The `ctl` array of every parse call. A parse call runs no user code, so one array serves
 * all readers: before the call the reader writes its config and saved state in, after it
 * reads the results and its state out (a Float64Array per reader cost ~0.33 KiB per idle
 * connection: the array, its ArrayBuffer and the backing store).
 */
const sharedCtl = new Float64Array(PARSE_CTL_SIZE);
/** The state slots of ctl (ParseCtl.MESSAGE .. ParseCtl.FRAME_KEY_PHASE): what a reader keeps between calls. */
const STATE_FIRST = ParseCtl.MESSAGE;
const STATE_SLOTS = ParseCtl.FRAME_KEY_PHASE - ParseCtl.MESSAGE + 1;

/** FrameReader.push's handler: queues the frame (`this` is the reader's queue). */
function enqueue(this: ReaderFrame[], info: number, payload: Uint8Array): void {
  this.push({ info, payload });
}

// Per connection a reader holds only a few numbers between messages: the parser state of a
// frame or message in progress (`state`), the queue of the pull API and the counters are
// made when first used (idle-connection memory).
export class FrameReader {
  /** Frames not yet taken by {@link FrameReader.read} (made by the first push()). */
  private queue: ReaderFrame[] | null = null;
  private queueHead = 0;
  /** Parser config (ParseCtl.FLAGS, ALLOWED_RSV, MAX_PAYLOAD). */
  private readonly flags: number;
  private allowedRsv: number;
  private readonly maxPayload: number;
  private readonly maxFragments: number;
  /**
   * The parser's state slots after the last call (see {@link STATE_SLOTS}), made the first
   * time a call ends inside a frame or message and reused after; `inProgress` says whether
   * they are current (when false the state is all zeros: between messages).
   */
  private state: number[] | null = null;
  private inProgress = false;
  /** Own records array, only for a non-default batch size; else the shared one is used. */
  private readonly ownRecords: Int32Array | null;
  private readonly parse: Backend['parseFrames'];
  /** Unparsed bytes kept from the previous chunk (an incomplete header or control frame). */
  private tail: Uint8Array | null = null;
  /** Assembly buffer of a frame split across chunks, and how much of it is filled. */
  private partial: Uint8Array | null = null;
  private partialFill = 0;
  private partialInfo = 0;
  /** The announced payload length of the frame being assembled. */
  private partialTotal = 0;
  /** Stream offset of the first byte not yet consumed (for error messages). */
  private streamPos = 0;
  private failure: ParseFailed | null = null;
  /** A handler threw during a feed: the frames after it in that chunk are lost. */
  private broken = false;
  private counters: FrameReaderStats | null = null;

  /**
   * Counters for tests and metrics: frames assembled across chunks, their bytes, and the
   * assembly buffers allocated for them (with the bytes allocated, growth included).
   */
  get stats(): FrameReaderStats {
    return (this.counters ??= { assemblies: 0, assembledBytes: 0, allocations: 0, allocatedBytes: 0 });
  }

  constructor(options: FrameReaderOptions) {
    const { role, maxPayload = DEFAULT_MAX_PAYLOAD, maxFragments = DEFAULT_MAX_FRAGMENTS, allowedRsv = 0, batchSize = DEFAULT_BATCH } = options;
    if (role !== 'client' && role !== 'server') throw new TypeError('role must be "client" or "server"');
    if (!Number.isSafeInteger(maxPayload) || maxPayload < 0) throw new RangeError('maxPayload must be a non-negative safe integer');
    if (!Number.isSafeInteger(maxFragments) || maxFragments < 0) throw new RangeError('maxFragments must be a non-negative safe integer');
    if (!Number.isInteger(allowedRsv) || allowedRsv < 0 || allowedRsv > 7) throw new RangeError('allowedRsv must be an integer from 0 to 7');
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
    const be = options.backend ?? defaultBackend;
    this.parse = be.parseFrames;
    this.ownRecords = batchSize === DEFAULT_BATCH ? null : new Int32Array(batchSize * ParseRecord.SIZE);
    this.flags = role === 'server' ? ParseFlags.EXPECT_MASK : 0;
    this.allowedRsv = allowedRsv;
    this.maxPayload = maxPayload;
    this.maxFragments = maxFragments;
  }

  /** The error that stopped the reader, if any. */
  get error(): ParseFailed | null {
    return this.failure;
  }

  /** Changes the RSV bits allowed from the next frame on (after extension negotiation). */
  setAllowedRsv(allowedRsv: number): void {
    if (!Number.isInteger(allowedRsv) || allowedRsv < 0 || allowedRsv > 7) throw new RangeError('allowedRsv must be an integer from 0 to 7');
    this.allowedRsv = allowedRsv;
  }

  /** Whether a frame or message is half received (bytes are pending). */
  get pending(): boolean {
    return this.tail !== null || this.stateSlot(ParseCtl.FRAME) !== 0 || this.stateSlot(ParseCtl.MESSAGE) !== 0;
  }

  /**
   * The fast path: parses `chunk` and calls `onFrame` (with `this` = `thisArg`) for every
   * complete frame in order. Throws {@link ParseFailed} after delivering the frames that
   * preceded a violation; once failed, every later call throws the same error. An exception
   * thrown by `onFrame` propagates as it is, and the frames after it in the chunk are lost
   * (already parsed): the reader is then unusable, and later calls throw a
   * LocalProtocolError rather than go on with a gap in the stream. (A shared handler and a
   * `thisArg`, rather than a closure per connection, keep an idle connection small.)
   */
  feed<This = unknown>(chunk: Uint8Array, onFrame: FrameHandler<This>, thisArg?: This): void {
    if (this.failure !== null) throw this.failure;
    if (this.broken) throw new LocalProtocolError('a frame handler threw earlier: this FrameReader lost frames and cannot go on');
    if (!(chunk instanceof Uint8Array)) throw new TypeError('chunk must be a Uint8Array');
    if (chunk.length === 0) return;
    try {
      this.feedChunk(chunk, onFrame as FrameHandler, thisArg);
    } catch (err) {
      if (err !== this.failure) this.broken = true;
      throw err;
    }
  }

  private feedChunk(chunk: Uint8Array, onFrame: FrameHandler, thisArg: unknown): void {
    let from = 0;
    const tail = this.tail;
    if (tail !== null) {
      // Complete the kept frame with just enough of the new chunk (never copy the chunk).
      const take = chunk.length < MAX_TAIL ? chunk.length : MAX_TAIL;
      const scratch = Buffer.allocUnsafe(tail.length + take);
      scratch.set(tail, 0);
      scratch.set(chunk.subarray(0, take), tail.length);
      this.tail = null;
      const used = this.run(scratch, 0, onFrame, thisArg);
      if (take === chunk.length) {
        // All of the chunk went into scratch: what is left of it is the new tail.
        if (used < scratch.length) this.tail = scratch.subarray(used);
        return;
      }
      // The chunk had MAX_TAIL bytes or more, so the kept frame is complete in scratch and
      // used > tail.length; the parser resumes in the chunk itself (its saved state says
      // whether it resumes inside a data payload that scratch began).
      from = used - tail.length;
    }
    const used = this.run(chunk, from, onFrame, thisArg);
    // Copy: a view would keep the whole chunk alive. (Buffer#slice does not copy.)
    if (used < chunk.length) this.tail = Buffer.from(chunk.subarray(used));
  }

  /** Parses buf[from..) and delivers its frames; returns how far it consumed. */
  private run(buf: Uint8Array, from: number, onFrame: FrameHandler, thisArg: unknown): number {
    let rec = this.ownRecords;
    let borrowed = false;
    if (rec === null) {
      if (sharedRecords !== null) {
        rec = sharedRecords;
        sharedRecords = null;
        borrowed = true;
      } else {
        rec = new Int32Array(DEFAULT_BATCH * ParseRecord.SIZE);
      }
    }
    try {
      return this.runWith(buf, from, onFrame, thisArg, rec);
    } finally {
      if (borrowed) sharedRecords = rec;
    }
  }

  private runWith(buf: Uint8Array, from: number, onFrame: FrameHandler, thisArg: unknown, rec: Int32Array): number {
    const cap = rec.length / ParseRecord.SIZE;
    const end = buf.length;
    // Payload views are built directly (FastBuffer is Buffer's own species constructor):
    // 3x cheaper than subarray(), which goes through the species lookup every time.
    const ab = buf.buffer;
    const base = buf.byteOffset;
    const View: new (b: ArrayBufferLike, o: number, l: number) => Uint8Array = Buffer.isBuffer(buf) ? FastBuffer : Uint8Array;
    let start = from;
    for (;;) {
      const n = this.parseOnce(buf, start, end, rec);
      // Read the results before any handler runs (a handler may feed another reader, which
      // reuses sharedCtl); a violation's description, too, before handlers see the bytes.
      const consumed = sharedCtl[ParseCtl.CONSUMED]!;
      const failure = sharedCtl[ParseCtl.ERROR] !== 0 ? this.makeError(buf, start) : null;
      for (let i = 0, at = 0; i < n; i++, at += 3) {
        const info = rec[at]!;
        const off = rec[at + 1]!;
        const len = rec[at + 2]!;
        const flags = info & (ParseRecord.START | ParseRecord.END);
        if (flags === (ParseRecord.START | ParseRecord.END)) {
          onFrame.call(thisArg, info & 0x4ff, new View(ab, base + off, len));
        } else {
          this.piece(info, buf, off, len, onFrame, thisArg);
        }
      }
      if (failure !== null) {
        this.failure = failure;
        this.streamPos += consumed - start;
        throw failure;
      }
      this.streamPos += consumed - start;
      if (consumed === end || n < cap) return consumed;
      start = consumed;
    }
  }

  /** One backend call with this reader's config and state in {@link sharedCtl}; saves the state after it. */
  private parseOnce(buf: Uint8Array, start: number, end: number, rec: Int32Array): number {
    const ctl = sharedCtl;
    ctl[ParseCtl.FLAGS] = this.flags;
    ctl[ParseCtl.ALLOWED_RSV] = this.allowedRsv;
    ctl[ParseCtl.MAX_PAYLOAD] = this.maxPayload;
    ctl[ParseCtl.MAX_FRAGMENTS] = this.maxFragments;
    const state = this.state;
    if (this.inProgress) {
      for (let i = 0; i < STATE_SLOTS; i++) ctl[STATE_FIRST + i] = state![i]!;
    } else {
      ctl.fill(0, STATE_FIRST, STATE_FIRST + STATE_SLOTS);
    }
    const n = this.parse(buf, start, end, ctl, rec);
    let any = 0;
    for (let i = 0; i < STATE_SLOTS; i++) any |= ctl[STATE_FIRST + i] !== 0 ? 1 : 0;
    this.inProgress = any !== 0;
    if (any !== 0) {
      const saved = (this.state ??= new Array<number>(STATE_SLOTS).fill(0));
      for (let i = 0; i < STATE_SLOTS; i++) saved[i] = ctl[STATE_FIRST + i]!;
    }
    return n;
  }

  /** The parser state slot `slot` (a ParseCtl state index) as of the end of the last call. */
  private stateSlot(slot: number): number {
    return this.inProgress ? this.state![slot - STATE_FIRST]! : 0;
  }

  /** A record that starts or continues a frame spanning chunks: copy it into place. */
  private piece(info: number, buf: Uint8Array, off: number, len: number, onFrame: FrameHandler, thisArg: unknown): void {
    if ((info & ParseRecord.START) !== 0) {
      // The header announced `total` bytes (<= maxPayload) but only `len` are here: reserve
      // what arrived, with room to double, not what was announced (see ASSEMBLY_START).
      const total = len + this.stateSlot(ParseCtl.FRAME_REMAINING);
      const size = total <= ASSEMBLY_START ? total : Math.min(total, Math.max(ASSEMBLY_START, 2 * len));
      const target = this.allocate(size);
      this.stats.assemblies++;
      this.stats.assembledBytes += total;
      target.set(buf.subarray(off, off + len), 0);
      this.partial = target;
      this.partialFill = len;
      this.partialTotal = total;
      this.partialInfo = info & 0x4ff;
      return;
    }
    let target = this.partial!;
    const fill = this.partialFill;
    if (fill + len > target.length) {
      // Doubling keeps the copying linear; once doubling would pass half the announced size
      // (a quarter of it has arrived), take the final size: no last near-total step.
      const total = this.partialTotal;
      let size = Math.max(2 * target.length, fill + len);
      if (2 * size > total) size = total;
      const grown = this.allocate(size);
      grown.set(target.subarray(0, fill), 0);
      this.partial = target = grown;
    }
    target.set(buf.subarray(off, off + len), fill);
    this.partialFill = fill + len;
    if ((info & ParseRecord.END) !== 0) {
      this.partial = null;
      onFrame.call(thisArg, this.partialInfo, target);
    }
  }

  private allocate(size: number): Uint8Array {
    this.stats.allocations++;
    this.stats.allocatedBytes += size;
    return Buffer.allocUnsafe(size);
  }

  private makeError(buf: Uint8Array, start: number): ParseFailed {
    const ctl = sharedCtl;
    const offset = ctl[ParseCtl.ERROR_OFFSET]!;
    const frameAt = ctl[ParseCtl.CONSUMED]!;
    const streamOffset = this.streamPos + (offset - start);
    return parseFailure(ctl[ParseCtl.ERROR_REASON]!, { buf, frameAt, offset }, this.maxPayload, ctl[ParseCtl.ERROR]!, ` (at stream byte ${streamOffset})`);
  }

  /**
   * Queues the frames of `chunk` for {@link FrameReader.read}. A violation is queued too: it
   * is thrown by `read()` after the frames that preceded it.
   */
  push(chunk: Uint8Array): void {
    if (this.failure !== null) return;
    try {
      this.feed(chunk, enqueue, (this.queue ??= []));
    } catch (err) {
      if (!(err instanceof ParseFailed)) throw err;
    }
  }

  /** The next queued frame, or null; throws the {@link ParseFailed} once the queue is empty. */
  read(): ReaderFrame | null {
    const queue = this.queue;
    if (queue !== null && this.queueHead < queue.length) {
      const frame = queue[this.queueHead]!;
      queue[this.queueHead++] = undefined as unknown as ReaderFrame;
      if (this.queueHead === queue.length) {
        queue.length = 0;
        this.queueHead = 0;
      }
      return frame;
    }
    if (this.failure !== null) throw this.failure;
    return null;
  }

  /** Yields queued frames until none is left (then throws a pending ParseFailed). */
  *frames(): Generator<ReaderFrame, void, undefined> {
    for (let f = this.read(); f !== null; f = this.read()) yield f;
  }
}
