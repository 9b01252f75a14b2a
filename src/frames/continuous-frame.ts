/**
 * websocket-client's `continuous_frame`: assembles the frames of a fragmented message
 * (RFC 6455 §5.4) into one `[opcode, frame]`, for code that reads raw frames itself
 * (`FrameBuffer.recvFrame()`, `ws.recvFrame()`). Sans-IO; the connection's own receive path
 * does not use it.
 */
import { backend } from '../backend';
import { ParseFailed } from '../errors';
import type { ValidationCallable } from './frame-options';
import { Frame } from './frame';
import { CloseCode } from './close';
import { Opcode } from './opcode';

/** Options of {@link ContinuousFrame}. */
export interface ContinuousFrameOptions {
  /**
   * websocket-client's `fire_cont_frame`: hand out every fragment as it arrives instead of
   * the assembled message (default false).
   */
  fireContFrame?: boolean;
  /** websocket-client's `skip_utf8_validation`: do not check assembled text (default false). */
  skipUtf8Validation?: boolean;
  /** The UTF-8 check for assembled text (default `backend.isUtf8`). */
  validateUtf8?: ValidationCallable;
}

/**
 * The fragments of the message in progress. Use it as websocket-client does, for each data
 * frame (CONT, TEXT, BINARY):
 * ```ts
 * cont.validate(frame);
 * cont.add(frame);
 * if (cont.isFire(frame)) return cont.extract(frame); // [Opcode.TEXT, frame with the whole message]
 * ```
 */
export class ContinuousFrame {
  readonly fireContFrame: boolean;
  readonly skipUtf8Validation: boolean;
  readonly #validateUtf8: ValidationCallable;
  /** Opcode of the fragmented message being received (after a non-final TEXT/BINARY), else null. */
  #receiving: Opcode | null = null;
  /** Opcode of the first frame added since the last extract, and the payloads since then. */
  #opcode: Opcode | null = null;
  #parts: Uint8Array[] = [];
  #length = 0;

  /**
   * @param options the options, or websocket-client's positional `fire_cont_frame`
   * @param skipUtf8Validation websocket-client's positional `skip_utf8_validation`
   */
  constructor(options: ContinuousFrameOptions | boolean = {}, skipUtf8Validation?: boolean) {
    const o: ContinuousFrameOptions = typeof options === 'boolean' ? { fireContFrame: options, skipUtf8Validation } : options;
    this.fireContFrame = o.fireContFrame ?? false;
    this.skipUtf8Validation = o.skipUtf8Validation ?? false;
    this.#validateUtf8 = o.validateUtf8 ?? backend.isUtf8;
  }

  /**
   * RFC 6455 §5.4: a continuation frame needs a message in progress, and a new TEXT/BINARY
   * frame may not start while one is.
   * @throws ParseFailed (1002)
   */
  validate(frame: Frame): void {
    if (this.#receiving === null && frame.opcode === Opcode.CONT) {
      throw new ParseFailed('continuation frame without a fragmented message to continue', CloseCode.PROTOCOL_ERROR);
    }
    if (this.#receiving !== null && (frame.opcode === Opcode.TEXT || frame.opcode === Opcode.BINARY)) {
      throw new ParseFailed(`new ${Opcode[frame.opcode]} frame inside a fragmented message`, CloseCode.PROTOCOL_ERROR);
    }
  }

  /** Adds the frame's payload to the message in progress (a final frame ends it). */
  add(frame: Frame): void {
    if (this.#opcode === null) {
      if (frame.opcode === Opcode.TEXT || frame.opcode === Opcode.BINARY) this.#receiving = frame.opcode;
      this.#opcode = frame.opcode;
    }
    this.#parts.push(frame.data);
    this.#length += frame.data.length;
    if (frame.fin) this.#receiving = null;
  }

  /** Whether {@link ContinuousFrame.extract} should be called now: a final frame, or `fireContFrame`. */
  isFire(frame: Frame): boolean {
    return frame.fin || this.fireContFrame;
  }

  /**
   * The assembled data as `[opcode of the first frame, frame]`: `frame.data` is replaced by
   * every payload added since the last extract (as websocket-client does). Text is checked
   * for UTF-8 when it is a whole message (not with `fireContFrame`, where a fragment may end
   * inside a character) unless `skipUtf8Validation`.
   * With nothing added since the last extract, the frame is returned as it is.
   * @throws ParseFailed (1007) for text that is not UTF-8
   */
  extract(frame: Frame): [Opcode, Frame] {
    const opcode = this.#opcode ?? frame.opcode;
    if (this.#parts.length > 0) frame.data = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#length);
    this.#opcode = null;
    this.#parts = [];
    this.#length = 0;
    if (!this.fireContFrame && opcode === Opcode.TEXT && !this.skipUtf8Validation && !this.#validateUtf8(frame.data)) {
      throw new ParseFailed('cannot decode: the text message is not valid UTF-8', CloseCode.INVALID_DATA);
    }
    return [opcode, frame];
  }
}
