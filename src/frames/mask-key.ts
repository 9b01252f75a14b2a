/**
 * The one source of masking keys for client frames (RFC 6455 §5.3: a fresh key per frame,
 * chosen so the server and intermediaries cannot predict it, hence from the CSPRNG).
 *
 * Every writer draws from this pool: {@link generateMaskKey} (Frame), {@link fillMaskKey}
 * (protocol/frame-writer) and {@link takeMaskKey} (io/sender, which copies the 4 bytes
 * straight out of {@link MASK_KEY_POOL} into its run buffer). Sits below frames, protocol and
 * io and imports only node:crypto.
 */
import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for 1024 keys, refilled by one randomFillSync call (~1 µs) when used up: a
 * syscall per frame would dominate the cost of sending small client frames. A byte is never
 * handed out twice.
 */
export const MASK_KEY_POOL: Buffer = Buffer.allocUnsafeSlow(4096);
let keyAt = MASK_KEY_POOL.length;

/**
 * Index in {@link MASK_KEY_POOL} of 4 fresh key bytes, to be copied out before the next
 * call (the pool is refilled in place). No allocation.
 */
export function takeMaskKey(): number {
  if (keyAt === MASK_KEY_POOL.length) {
    randomFillSync(MASK_KEY_POOL);
    keyAt = 0;
  }
  const k = keyAt;
  keyAt += 4;
  return k;
}

/** Copies a fresh, unpredictable 4-byte masking key into `key` and returns it (no allocation). */
export function fillMaskKey(key: Uint8Array): Uint8Array {
  const k = takeMaskKey();
  key[0] = MASK_KEY_POOL[k]!;
  key[1] = MASK_KEY_POOL[k + 1]!;
  key[2] = MASK_KEY_POOL[k + 2]!;
  key[3] = MASK_KEY_POOL[k + 3]!;
  return key;
}

/** A fresh, unpredictable 4-byte masking key (RFC 6455 §5.3) in a buffer of its own. */
export function generateMaskKey(): Uint8Array {
  return fillMaskKey(Buffer.allocUnsafe(4));
}
