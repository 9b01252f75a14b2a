/**
 * websocket-client's `frame_buffer`: reads whole frames (RFC 6455 §5.2) from a function that
 * returns bytes, for code that owns its transport and wants raw frames. Pull-based (the
 * caller asks for a frame), unlike the push-based sans-IO reader of src/protocol/.
 */
import { CloseCode, Frame, PAYLOAD_LENGTH_EIGHT_BYTE, PAYLOAD_LENGTH_TWO_BYTE } from '../frames/frame';
import { readPayloadLength } from '../frames/header';
import { backend } from '../backend';
import { ParseFailed, WebSocketError } from '../errors';
import { DEFAULT_MAX_PAYLOAD } from '../limits';

/**
 * Returns up to `size` bytes (more is fine: the rest is kept for the next frame); an empty
 * array or null means the stream ended. May be synchronous or return a promise.
 */
export type RecvFunction = (size: number) => Uint8Array | null | PromiseLike<Uint8Array | null>;

/** Options of {@link FrameBuffer}. */
export interface FrameBufferOptions {
  /** websocket-client's `skip_utf8_validation`: passed to {@link Frame.check} (close reasons). */
  skipUtf8Validation?: boolean;
  /**
   * Check each frame with {@link Frame.check} before returning it (default true; see the
   * deviation in the class comment). `false` returns frames exactly as they came.
   */
  check?: boolean;
  /** RSV bits a frame may carry when checked (default 0: no extension). */
  allowedRsv?: number;
  /**
   * Largest payload accepted (default 64 MiB, as the connections): a larger announced length
   * fails with ParseFailed 1009 before anything is allocated or read.
   */
  maxPayload?: number;
}

/**
 * The stream ended (the recv function returned nothing): websocket-client's
 * WebSocketConnectionClosedException. `partial` says whether part of a frame was lost.
 */
export class ConnectionLostError extends WebSocketError {
  override name = 'ConnectionLostError';
  constructor(readonly partial: boolean) {
    super(partial ? 'the stream ended inside a frame' : 'the stream ended');
  }
}

/** websocket-client reads at most 16 KiB per recv call. */
const MAX_READ = 16384;

/**
 * Frames pulled from a recv function, one {@link FrameBuffer.recvFrame} at a time. Calls
 * made while one is running wait their turn (websocket-client takes a lock).
 *
 * Deviation: websocket-client's `frame_buffer.recv_frame` never validates (its
 * `WebSocket.recv_frame` does, right after). Here the buffer checks each frame itself unless
 * `check: false`, so nothing unchecked is handed out by default; and it bounds the payload
 * by `maxPayload`, which the seed does not. A frame interrupted by an exception of the recv
 * function stays buffered: the next call resumes it; {@link FrameBuffer.clear} drops it.
 */
export class FrameBuffer {
  readonly skipUtf8Validation: boolean;
  readonly #recv: RecvFunction;
  readonly #check: boolean;
  readonly #allowedRsv: number;
  readonly #maxPayload: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #turn: Promise<unknown> = Promise.resolve();

  /**
   * @param recv where bytes come from
   * @param options the options, or websocket-client's positional `skip_utf8_validation`
   */
  constructor(recv: RecvFunction, options: FrameBufferOptions | boolean = {}) {
    const o: FrameBufferOptions = typeof options === 'boolean' ? { skipUtf8Validation: options } : options;
    this.#recv = recv;
    this.skipUtf8Validation = o.skipUtf8Validation ?? false;
    this.#check = o.check ?? true;
    this.#allowedRsv = o.allowedRsv ?? 0;
    this.#maxPayload = o.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** Bytes received but not yet returned as a frame. */
  get bufferedAmount(): number {
    return this.#buffered;
  }

  /**
   * The next frame, unmasked, with `masked` telling whether it was masked on the wire.
   * @throws ParseFailed (1002 header rules / {@link Frame.check}, 1007 close reason, 1009 too
   *   long), ConnectionLostError, or whatever the recv function throws
   */
  recvFrame(): Promise<Frame> {
    const next = this.#turn.then(() => this.#read());
    this.#turn = next.catch(() => undefined);
    return next;
  }

  /** Drops the bytes buffered so far (an unfinished frame, e.g. after a recv timeout). */
  clear(): void {
    this.#chunks = [];
    this.#buffered = 0;
  }

  async #read(): Promise<Frame> {
    await this.#fill(2);
    const head = this.#peek(2);
    const b0 = head[0]!;
    const b1 = head[1]!;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const extended = len7 === PAYLOAD_LENGTH_TWO_BYTE ? 2 : len7 === PAYLOAD_LENGTH_EIGHT_BYTE ? 8 : 0;
    const headerSize = 2 + extended + (masked ? 4 : 0);
    await this.#fill(headerSize);
    const header = this.#peek(headerSize);
    const length = readPayloadLength(header, true);
    if (length > this.#maxPayload) {
      throw new ParseFailed(`frame of ${length} bytes exceeds maxPayload ${this.#maxPayload}`, CloseCode.MESSAGE_TOO_BIG);
    }
    await this.#fill(headerSize + length);
    const bytes = this.#take(headerSize + length);
    // A copy either way: the frame must not alias the caller's chunks.
    const data = Buffer.allocUnsafe(length);
    if (masked) backend.mask(bytes.subarray(headerSize), bytes.subarray(headerSize - 4, headerSize), data, 0);
    else data.set(bytes.subarray(headerSize));
    const frame = new Frame(b0 & 0x0f, data, {
      fin: (b0 & 0x80) !== 0,
      rsv1: (b0 & 0x40) !== 0,
      rsv2: (b0 & 0x20) !== 0,
      rsv3: (b0 & 0x10) !== 0,
      masked,
    });
    if (this.#check) frame.check({ allowedRsv: this.#allowedRsv, skipUtf8Validation: this.skipUtf8Validation });
    return frame;
  }

  /** Reads until `n` bytes are buffered, asking for the shortage (at most 16 KiB) each time. */
  async #fill(n: number): Promise<void> {
    while (this.#buffered < n) {
      const chunk = await this.#recv(Math.min(MAX_READ, n - this.#buffered));
      if (chunk === null || chunk.length === 0) throw new ConnectionLostError(this.#buffered > 0);
      this.#chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.#buffered += chunk.length;
    }
  }

  /** The first `n` buffered bytes (n <= buffered), merging the first chunks if needed. */
  #peek(n: number): Buffer {
    if (this.#chunks[0]!.length < n) this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
    return this.#chunks[0]!.subarray(0, n);
  }

  /** Removes and returns the first `n` buffered bytes (one concat per frame: linear). */
  #take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#buffered);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return all.subarray(0, n);
  }
}
