/**
 * Argument checks shared by the js twins. They throw exactly what the native addon throws
 * (same class, same message), so callers see one behaviour whichever backend is active.
 */
export function requireBytes(value: unknown, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  return value;
}

export function requireMaskKey(value: unknown): Uint8Array {
  const key = requireBytes(value, 'key');
  if (key.length !== 4) throw new TypeError('key must be exactly 4 bytes');
  return key;
}

export function requireOffset(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer`);
  }
  return value;
}
