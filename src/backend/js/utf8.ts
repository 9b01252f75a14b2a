/**
 * Pure-TS twin of native/utf8.cc: UTF-8 validation per RFC 3629 §4, as a byte-at-a-time
 * state machine whose states are {@link Utf8State} (shared with the native validator).
 */
import { Utf8State } from '../types';
import { requireBytes } from './args';

/**
 * Runs the state machine over data[from..] starting in `state`.
 * Returns the final state (>= 0) or -(i + 1) for the first bad byte i.
 */
function run(data: Uint8Array, from: number, state: number): number {
  const n = data.length;
  let i = from;
  while (i < n) {
    const b = data[i]!;
    if (state === Utf8State.ACCEPT) {
      if (b < 0x80) {
        i++;
        // Skip an ASCII run quickly; most text is mostly ASCII.
        while (i < n && data[i]! < 0x80) i++;
        continue;
      }
      if (b < 0xc2) return -(i + 1); // lone continuation byte, or C0/C1 overlong lead
      if (b < 0xe0) state = Utf8State.NEED1;
      else if (b === 0xe0) state = Utf8State.NEED2_E0;
      else if (b === 0xed) state = Utf8State.NEED2_ED;
      else if (b < 0xf0) state = Utf8State.NEED2;
      else if (b === 0xf0) state = Utf8State.NEED3_F0;
      else if (b < 0xf4) state = Utf8State.NEED3;
      else if (b === 0xf4) state = Utf8State.NEED3_F4;
      else return -(i + 1); // F5..FF: beyond U+10FFFF or 5/6-byte forms
    } else {
      let lo = 0x80;
      let hi = 0xbf;
      if (state === Utf8State.NEED2_E0) lo = 0xa0;
      else if (state === Utf8State.NEED2_ED) hi = 0x9f;
      else if (state === Utf8State.NEED3_F0) lo = 0x90;
      else if (state === Utf8State.NEED3_F4) hi = 0x8f;
      if (b < lo || b > hi) return -(i + 1);
      // One continuation consumed: NEED1 -> ACCEPT, any NEED2 -> NEED1, any NEED3 -> NEED2.
      state = state === Utf8State.NEED1 ? Utf8State.ACCEPT : state <= Utf8State.NEED2_ED ? Utf8State.NEED1 : Utf8State.NEED2;
    }
    i++;
  }
  return state;
}

export function isUtf8(data: Uint8Array): boolean {
  return run(requireBytes(data, 'data'), 0, Utf8State.ACCEPT) === Utf8State.ACCEPT;
}

export function utf8Step(data: Uint8Array, state: number): number {
  requireBytes(data, 'data');
  if (typeof state !== 'number' || !Number.isInteger(state) || state < 0 || state > 7) {
    throw new RangeError('state must be an integer from 0 to 7');
  }
  return run(data, 0, state);
}
