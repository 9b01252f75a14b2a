/**
 * What the frame reader hands on per frame: the `info` bits, the handler type of
 * {@link FrameReader.feed} and the queued frame of its pull API, plus its counters. Apart
 * from the reader so that the consumers of frames (the message assembler, io's receive
 * path) depend on this vocabulary, not on the reader.
 */
import { ParseRecord } from '../backend/types';

/** Bits of the `info` number handed to a {@link FrameHandler}. */
export const FrameInfo = Object.freeze({
  /** FIN: the last frame of a message (RFC 6455 §5.2). */
  FIN: 0x80,
  RSV1: 0x40,
  RSV2: 0x20,
  RSV3: 0x10,
  /** The opcode is `info & OPCODE`. */
  OPCODE: 0x0f,
  /** The backend already validated this payload as UTF-8 (uncompressed text). */
  UTF8_CHECKED: ParseRecord.UTF8,
} as const);

/**
 * Receives each complete frame: `info` is header byte 0 plus {@link FrameInfo} flags.
 * `this` is the `thisArg` given to {@link FrameReader.feed}.
 */
export type FrameHandler<This = unknown> = (this: This, info: number, payload: Uint8Array) => void;

/** Counters of a {@link FrameReader}, for tests and metrics. */
export interface FrameReaderStats {
  /** Frames assembled across chunks, and their bytes. */
  assemblies: number;
  assembledBytes: number;
  /** Assembly buffers allocated for them, and the bytes allocated (growth included). */
  allocations: number;
  allocatedBytes: number;
}

/** A frame as collected by {@link FrameReader.push} / {@link FrameReader.read}. */
export interface ReaderFrame {
  /** Header byte 0 plus {@link FrameInfo} flags. */
  info: number;
  payload: Uint8Array;
}
