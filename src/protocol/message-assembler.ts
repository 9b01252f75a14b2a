/**
 * Message assembly, one implementation for both receive paths (the sans-IO MessageDecoder
 * and io's receive path): data frames in, messages (or message parts) out.
 *
 * Per data frame it applies, in order:
 * - the continuation rules of RFC 6455 §5.4 (a CONT frame continues a message, a TEXT or
 *   BINARY frame does not interrupt one);
 * - permessage-deflate inflation per message (RFC 7692 §6.2), frame by frame as frames
 *   arrive, with what is left of the maxPayload budget as the output cap (a deflate bomb
 *   stops at maxPayload, 1009);
 * - incremental UTF-8 validation of text (RFC 6455 §8.1) that the frame parser could not
 *   check (compressed text, or frames handed in by a caller): an invalid prefix fails the
 *   message at once (1007), without waiting for its end.
 * The frame-level limits (maxPayload of uncompressed data, maxFragments: 1008) are the frame
 * parser's (backend parseFrames), applied before a frame gets here.
 *
 * Callback-based like {@link FrameReader.feed}: a shared handler and a `thisArg`, no
 * closure or object per frame. A message of one frame is handed on as it is (never copied).
 */
import { backend } from '../backend';
import { Utf8State } from '../backend/types';
import { INVALID_UTF8_MESSAGE } from '../error-codes';
import { ParseFailed } from '../errors';
import { DEFAULT_MAX_PAYLOAD } from '../limits';
import { FrameInfo } from './frame-info';

/** The inflate side of a negotiated permessage-deflate, as the assembler drives it. */
export interface MessageInflater {
  /**
   * Inflates the payload of one frame of a compressed message (RFC 7692 §6.2); `fin` on its
   * last frame (the 00 00 ff ff tail of §7.2.2 is appended and the stream let go).
   * @param maxOutput the most bytes this frame may inflate to
   * @throws ParseFailed 1007 on invalid compressed data, 1009 past `maxOutput`
   */
  inflateFrame(data: Uint8Array, fin: boolean, maxOutput: number): Uint8Array;
  /** Drops the compressed message in progress, if any (the connection failed or closed). */
  abortInflate(): void;
}

/**
 * Receives a message ({@link MessageAssembler} collecting) or each part of one (streaming):
 * `opcode` is the message's (TEXT or BINARY, also for its continuation frames), `data` its
 * bytes — or, collecting a BINARY message of several uncompressed frames with
 * {@link MessageAssembler.binaryFragments} set, the list of its fragments. `fin`: the
 * message is complete. `this` is the `thisArg` given to {@link MessageAssembler.frame}.
 */
export type MessageHandler<This = unknown> = (this: This, opcode: number, data: Uint8Array | Uint8Array[], fin: boolean) => void;

/** Options of {@link MessageAssembler}. */
export interface MessageAssemblerOptions {
  /** true: deliver whole messages; false: deliver each frame's part as it comes. */
  collect: boolean;
  /** Largest message after inflation, in bytes (default 64 MiB; above: 1009). */
  maxPayload?: number;
  /** The negotiated permessage-deflate (frames with RSV1 are inflated), or null. */
  inflater?: MessageInflater | null;
}

/**
 * Fragments shorter than this are copied into a run buffer of the message instead of kept
 * as views: a view costs ~100 bytes of heap whatever its length, so 131,072 one-byte
 * fragments (what the default maxFragments lets through) would hold ~14 MiB of views for
 * 128 KiB of data. Copied, a message's memory is its bytes (docs/security.md). (Not
 * Buffer.from: below 4 KiB it copies into Node's shared 8 KiB pool, and a kept 1 KiB copy
 * would pin a whole slab of other, dead allocations.)
 */
export const SMALL_FRAGMENT = 4096;
/** Size of a run buffer collecting small fragments. */
export const FRAGMENT_RUN = 16 * 1024;

const EMPTY = Buffer.alloc(0);
const TEXT = 1;
const BINARY = 2;

export class MessageAssembler {
  /** The negotiated permessage-deflate, or null; may be set once negotiation is done. */
  inflater: MessageInflater | null;
  /**
   * Collecting: deliver a BINARY message of several uncompressed frames as its list of
   * fragments rather than concatenated (ws's binaryType 'fragments').
   */
  binaryFragments = false;
  /**
   * The buffer the caller's current payloads may view and that is reused after the call
   * (a transport's shared read buffer, io/transport.ts `chunksAreBorrowed`), or null: a
   * fragment kept past the call that views it is copied. Set before each {@link frame}.
   */
  lentBuffer: ArrayBufferLike | null = null;
  private readonly collect: boolean;
  private readonly maxPayload: number;
  /** Opcode of the message in progress (TEXT or BINARY), 0 between messages. */
  private opcode = 0;
  private compressed = false;
  private utf8: number = Utf8State.ACCEPT;
  /** Bytes of the message in progress (after inflation). */
  private bytes = 0;
  /** Collecting a message of several frames: its fragments so far (their concatenation is the message). */
  private fragments: Uint8Array[] | null = null;
  /**
   * Run buffer of small fragments of the message in progress: run[runStart..runFill) holds
   * fragments not yet sealed into `fragments`; what is before runStart already was.
   */
  private run: Buffer | null = null;
  private runStart = 0;
  private runFill = 0;

  constructor(options: MessageAssemblerOptions) {
    const { maxPayload = DEFAULT_MAX_PAYLOAD } = options;
    if (!Number.isSafeInteger(maxPayload) || maxPayload < 0) throw new RangeError('maxPayload must be a non-negative safe integer');
    this.collect = options.collect;
    this.maxPayload = maxPayload;
    this.inflater = options.inflater ?? null;
  }

  /** Whether a fragmented message is in progress (its last frame has not come). */
  get inMessage(): boolean {
    return this.opcode !== 0;
  }

  /**
   * One data frame: `info` is header byte 0 plus {@link FrameInfo} flags (UTF8_CHECKED: the
   * parser already validated this text). Calls `onMessage` (with `this` = `thisArg`) when a
   * message completes, or for every frame when streaming.
   * @throws ParseFailed 1002 (§5.4 order, RSV1 without permessage-deflate), 1007 (invalid
   *   UTF-8 or compressed data), 1009 (inflated past maxPayload); TypeError for a control frame
   */
  frame<This>(info: number, payload: Uint8Array, onMessage: MessageHandler<This>, thisArg: This): void {
    const op = info & FrameInfo.OPCODE;
    const fin = (info & FrameInfo.FIN) !== 0;
    let first = false;
    if (op === 0) {
      if (this.opcode === 0) throw new ParseFailed('continuation frame without a fragmented message to continue', 1002);
    } else if (op === TEXT || op === BINARY) {
      if (this.opcode !== 0) throw new ParseFailed(`new ${op === TEXT ? 'TEXT' : 'BINARY'} frame inside a fragmented message (expected a continuation frame)`, 1002);
      first = true;
      this.begin(op, (info & FrameInfo.RSV1) !== 0);
    } else {
      throw new TypeError(`a MessageAssembler only takes data frames, not opcode ${op}`);
    }
    const opcode = this.opcode;
    let data = payload;
    if (this.compressed) data = this.inflater!.inflateFrame(payload, fin, this.maxPayload - this.bytes);
    this.bytes += data.length;
    if (opcode === TEXT && (this.compressed || (info & FrameInfo.UTF8_CHECKED) === 0)) this.checkUtf8(data, fin);
    if (!this.collect || (first && fin)) {
      // Streaming, or a message of one frame: handed on as it is.
      if (fin) this.opcode = 0;
      onMessage.call(thisArg, opcode, data, fin);
      return;
    }
    this.addFragment(data);
    if (!fin) return;
    this.sealRun();
    const fragments = this.fragments!;
    const compressed = this.compressed;
    const bytes = this.bytes;
    this.opcode = 0;
    this.fragments = this.run = null;
    if (opcode === BINARY && !compressed && this.binaryFragments) {
      onMessage.call(thisArg, opcode, fragments.length > 0 ? fragments : [EMPTY], true);
    } else {
      onMessage.call(thisArg, opcode, fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments, bytes), true);
    }
  }

  /** Drops the message in progress (after a failure, or when the close frame came). */
  reset(): void {
    if (this.opcode !== 0 && this.compressed) this.inflater?.abortInflate();
    this.opcode = 0;
    this.fragments = this.run = null;
  }

  private begin(opcode: number, rsv1: boolean): void {
    // RSV1 is permessage-deflate's bit (RFC 7692 §6); the parser lets it through only once
    // negotiated, so this is a caller's frame that no extension claims.
    if (rsv1 && this.inflater === null) throw new ParseFailed('reserved bits set that no extension claimed', 1002);
    this.opcode = opcode;
    this.compressed = rsv1;
    this.utf8 = Utf8State.ACCEPT;
    this.bytes = 0;
    if (this.collect) {
      this.fragments = [];
      this.run = null;
      this.runStart = this.runFill = 0;
    }
  }

  /** RFC 6455 §8.1: fail on the first byte that makes the text invalid, not at its end. */
  private checkUtf8(data: Uint8Array, fin: boolean): void {
    const r = backend.utf8Step(data, this.utf8);
    if (r < 0) {
      this.reset();
      // The same reason whether the text came compressed or not: the sans-IO path inflates
      // in the extension before this check and cannot tell (the two drivers agree byte for byte).
      throw new ParseFailed('invalid UTF-8 in a text message', 1007, INVALID_UTF8_MESSAGE);
    }
    this.utf8 = r;
    if (fin && r !== Utf8State.ACCEPT) {
      this.reset();
      throw new ParseFailed('text message ends inside a UTF-8 sequence', 1007, INVALID_UTF8_MESSAGE);
    }
  }

  /**
   * Keeps one fragment's payload until the message is complete, so that what a message
   * holds is about its own bytes:
   * - small ones are copied into the run (empty ones add nothing);
   * - a large one is kept as the view it is only if it is most of the buffer it views: a
   *   view keeps its whole socket chunk alive, and control frames (not counted by
   *   maxFragments) could fill the rest of each chunk — 4 KiB fragments each followed by
   *   60 KiB of pings would otherwise pin 16x the message's size. Otherwise it is copied
   *   (Buffer.from does not pool at this size). A view of {@link lentBuffer} is always
   *   copied: its bytes are overwritten by the next read.
   */
  private addFragment(payload: Uint8Array): void {
    const len = payload.length;
    if (len >= SMALL_FRAGMENT) {
      this.sealRun();
      const keepView = 2 * len >= payload.buffer.byteLength && payload.buffer !== this.lentBuffer;
      this.fragments!.push(keepView ? payload : Buffer.from(payload));
      return;
    }
    if (len === 0) return;
    let run = this.run;
    if (run === null || run.length - this.runFill < len) {
      this.sealRun();
      run = this.run = Buffer.allocUnsafe(FRAGMENT_RUN);
      this.runStart = this.runFill = 0;
    }
    run.set(payload, this.runFill);
    this.runFill += len;
  }

  /**
   * Moves the unsealed part of the run into `fragments` as one view; the run's free space
   * stays in use (so small and large fragments alternating do not waste a run each).
   */
  private sealRun(): void {
    if (this.run !== null && this.runFill > this.runStart) {
      this.fragments!.push(this.run.subarray(this.runStart, this.runFill));
      this.runStart = this.runFill;
    }
  }
}
