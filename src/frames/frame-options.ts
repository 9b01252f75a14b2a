/**
 * The option and flag types of {@link Frame} (src/frames/frame.ts), kept apart to keep that file
 * short. Re-exported by `src/frames/frame.ts`; import from there.
 */
import type { FrameTransform } from './rsv';
import type { MaskingCallable, MaskKeyType } from './header';

/**
 * A header bit as a boolean, or as websocket-client's 0/1. Frames store booleans: a `0`
 * given here is `false` (before this rule, `fin: 0` was kept as 0 and written as FIN=1).
 */
export type Bit = boolean | 0 | 1;

/** The FIN and RSV flags of a {@link Frame}; all default to the values of a plain frame. */
export interface FrameFlags {
  /** FIN: last frame of its message (default true). */
  fin?: Bit;
  /** RSV1, e.g. "compressed" with permessage-deflate (default false). */
  rsv1?: Bit;
  /** RSV2 (default false). */
  rsv2?: Bit;
  /** RSV3 (default false). */
  rsv3?: Bit;
  /**
   * websocket-client's `mask_value`: whether the frame is (to be) masked on the wire.
   * Default false. Set by {@link Frame.parse} and on received frames; used by
   * {@link Frame.serialize} when its `mask` option is left out.
   */
  masked?: Bit;
}

/**
 * websocket-client's ValidationCallable: says whether bytes are valid (e.g. UTF-8).
 * `backend.isUtf8` is one; {@link FrameCheckOptions.validateUtf8} takes one.
 */
export type ValidationCallable = (data: Uint8Array) => boolean;

/** Options of {@link Frame.parse}. */
export interface FrameParseOptions {
  /**
   * Whether the frame must be masked: `true` on a server (clients mask every frame), `false`
   * on a client (servers never mask). A mismatch is a protocol error (RFC 6455 §5.1).
   */
  mask: boolean;
  /** Largest payload accepted, in bytes; a larger announced length fails with 1009. */
  maxSize?: number;
  /**
   * Negotiated extensions, applied to the frame as wsproto does: each may claim RSV bits
   * (`frameInboundHeader`) and transform a data frame's payload. Bits nobody claims fail
   * with 1002. Extensions are stateful, so pass them only for frames of one connection, in
   * order; the streaming reader (src/protocol/) drives them itself.
   */
  extensions?: readonly FrameTransform[];
}

/** Options of {@link Frame.serialize}. */
export interface FrameSerializeOptions {
  /**
   * Mask the payload (clients must, servers must not: RFC 6455 §5.1). Default: the frame's
   * own {@link Frame.masked} (websocket-client's `format()` masks when `mask_value` is set).
   */
  mask?: boolean;
  /**
   * The masking key: 4 bytes, a latin-1 string of 4 characters, or a function called with 4
   * that returns the key (websocket-client's MaskingCallable). Default: a fresh random key
   * (RFC 6455 §5.3 demands unpredictable keys).
   */
  maskKey?: MaskKeyType | MaskingCallable;
  /**
   * Run {@link Frame.check}'s opcode and control-frame rules first (default true). RSV bits
   * are never checked here: extensions set them just before sending. `false` lets test
   * tools put deliberately invalid frames on the wire (websocket-client's ABNF does).
   */
  check?: boolean;
}

/** Options of {@link Frame.check}. */
export interface FrameCheckOptions {
  /** RSV bits that may be set, as RSV1 | RSV2 | RSV3 values (0x4, 0x2, 0x1). */
  allowedRsv?: number;
  /** Extensions whose `rsvMask` bits may be set (added to `allowedRsv`). */
  extensions?: readonly Pick<FrameTransform, 'rsvMask'>[];
  /** websocket-client's `skip_utf8_validation`: do not check a close reason's UTF-8. */
  skipUtf8Validation?: boolean;
  /** The UTF-8 check for close reasons (default `backend.isUtf8`). */
  validateUtf8?: ValidationCallable;
}
