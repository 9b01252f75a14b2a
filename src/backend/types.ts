/**
 * The backend seam: the byte-level kernels that have a native (C++ addon) and a pure
 * TypeScript implementation. Everything above src/backend/ calls these through the
 * `backend` object of ./index.ts and never learns which one it got.
 *
 * Both implementations must give identical results for identical inputs, including the
 * errors they throw (test/backend-parity.test.ts checks that with random inputs).
 */

/** Which implementation is active. */
export type BackendName = 'native' | 'js';

/**
 * Incremental UTF-8 validation state, shared by both backends (so a state produced by one
 * can be continued by the other). 0 means "at a character boundary"; the other values name
 * what the next byte must be (RFC 3629 §4 table, "Well-Formed Byte Sequences"):
 */
export enum Utf8State {
  /** At a character boundary: everything so far is complete, valid UTF-8. */
  ACCEPT = 0,
  /** One continuation byte 80..BF still needed. */
  NEED1 = 1,
  /** Two continuation bytes needed, the next in 80..BF. */
  NEED2 = 2,
  /** After E0: two needed, the next in A0..BF (rules out overlongs). */
  NEED2_E0 = 3,
  /** After ED: two needed, the next in 80..9F (rules out surrogates U+D800..U+DFFF). */
  NEED2_ED = 4,
  /** Three continuation bytes needed, the next in 80..BF. */
  NEED3 = 5,
  /** After F0: three needed, the next in 90..BF (rules out overlongs). */
  NEED3_F0 = 6,
  /** After F4: three needed, the next in 80..8F (rules out > U+10FFFF). */
  NEED3_F4 = 7,
}

export interface Backend {
  readonly name: BackendName;

  /**
   * RFC 6455 §5.3 masking: `target[targetOffset + i] = source[i] ^ key[(keyOffset + i) & 3]`
   * for every byte of `source`. `keyOffset` is the position of `source[0]` within the masked
   * payload, so a payload can be masked in pieces. `source` and the written part of `target`
   * may be the same memory (then it is in place) but must not otherwise overlap.
   * @throws TypeError if an argument is not a Uint8Array / key is not 4 bytes
   * @throws RangeError if `source` does not fit in `target` at `targetOffset`, or an offset
   *   is negative or not an integer
   */
  mask(source: Uint8Array, key: Uint8Array, target: Uint8Array, targetOffset?: number, keyOffset?: number): void;

  /** In-place masking (masking and unmasking are the same XOR); see {@link Backend.mask}. */
  unmask(data: Uint8Array, key: Uint8Array, keyOffset?: number): void;

  /** Whether `data` is entirely well-formed UTF-8 (RFC 3629; no surrogates, no overlongs). */
  isUtf8(data: Uint8Array): boolean;

  /**
   * One step of incremental UTF-8 validation over a piece of a longer text (a fragment of
   * a text message). `state` is the value returned by the previous step, or
   * {@link Utf8State.ACCEPT} at the start.
   * @returns a {@link Utf8State} (>= 0) to carry into the next step: `ACCEPT` when `data`
   *   ended on a character boundary, another value when it ended inside a sequence;
   *   or a negative number `-(i + 1)` when the byte at index `i` of `data` makes the text
   *   invalid (an invalid continuation of a sequence started in an earlier piece is
   *   reported at index 0).
   * @throws TypeError / RangeError on a non-Uint8Array or a state outside 0..7
   */
  utf8Step(data: Uint8Array, state: number): number;
}
