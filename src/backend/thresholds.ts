/**
 * The size thresholds below which masking stays in a JS loop (DESIGN.md: the backend
 * chooses by size, with a threshold measured by the benchmark). Two different choices, so
 * two names:
 * - {@link MASK_NATIVE_MIN_BYTES}: inside the native backend, JS loop vs. a call into the addon;
 * - {@link INLINE_MASK_MAX_BYTES}: in a writer or parser that masks a range of a buffer it
 *   owns, an inline loop vs. a subarray view plus a `backend.mask` call (whatever backend).
 * Imports nothing, so every layer (io, protocol, backend/js) may use it.
 */

/**
 * Below this many bytes the JS loop masks faster than a native call returns. Measured with
 * `npm run bench:micro -- --only=crossover` (docs/benchmarks.md, "Micro kernels"; Xeon with
 * AVX-512, node 20, CPU-time clock): an addon call costs a flat ~90-130 ns up to ~512 B, the
 * js twin ~15 ns + ~1.3 ns per byte. Crossover in three runs: mask into a target 64-96 B
 * (96 B twice; the client send path, which this serves), unmask in place 48-64 B.
 */
export const MASK_NATIVE_MIN_BYTES = 96;

/**
 * Up to this many bytes, code masking a range of its own buffer XORs in an inline loop
 * instead of creating a view and calling `backend.mask`: for a 16-byte chat message the view
 * and the call cost more than the XOR (bench/protocol: at 125 bytes the call already wins;
 * the sender and the js frame parser used 64, protocol/frame-writer 48, all one choice).
 */
export const INLINE_MASK_MAX_BYTES = 64;
