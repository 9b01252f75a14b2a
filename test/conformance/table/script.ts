/**
 * The conformance table's vocabulary: a case is a byte script (what the peer sends, what
 * our side does) and its expected outcome; a driver runs a case through one layer
 * (driver-sansio.ts: WSConnection; driver-io.ts: the ws-style WebSocket) and returns a
 * {@link Outcome}, the same record for both, so table.test.ts can compare them.
 *
 * Frames are written by test/helpers/wire.ts (independent of src/) and read back by the
 * small parser here, so neither end of the comparison uses the code under test.
 */
import type { PerMessageDeflateOptions } from '../../../src/extensions/permessage-deflate';
import { wire, type WireFrame } from '../../helpers/wire';

export type Role = 'server' | 'client';

/** A frame the peer sends; `mask` defaults to the peer's role (a client masks, RFC 6455 §5.3). */
export type PeerFrame = WireFrame | Uint8Array;

/** One step of a script, in order. */
export type Step =
  /** The peer's frames, delivered as one read, or as several reads cut at the byte offsets `cuts`. */
  | { peer: PeerFrame[]; cuts?: number[] }
  /** Our side sends a data message (a string is text); `fin: false` sends a fragment. */
  | { send: string | Uint8Array; fin?: boolean }
  | { ping: string | Uint8Array }
  | { pong: string | Uint8Array }
  /** Our side starts the closing handshake (no code: an empty close frame). */
  | { close: number | undefined; reason?: string };

/** The permessage-deflate agreement of a case (RFC 7692 §7). */
export interface DeflateSetup {
  /** The extension line both ends agreed on, e.g. "permessage-deflate; server_no_context_takeover". */
  agreed: string;
  /** Our side's extension options (the same on both drivers). */
  options?: PerMessageDeflateOptions;
}

export interface Expected {
  /** What our side reports, in order (see {@link Outcome.events}). */
  events: string[];
  /**
   * The frames our side writes (see {@link describeFrames}). A close frame written as
   * "close:1002*" matches any reason (the reason of a failure is the implementation's text;
   * the two drivers must still agree on it byte for byte).
   */
  out: string[];
  /** The code and reason our side reports when the connection is over. */
  closed: [number, string?];
  /** The close code of the peer's protocol violation we detected, if any (§7.1.7). */
  failed?: number;
}

export interface Case {
  name: string;
  /** The rule the case checks, e.g. "RFC 6455 §5.5". */
  rule: string;
  role: Role;
  deflate?: DeflateSetup;
  maxPayload?: number;
  steps: Step[];
  /**
   * The first step (peer frames) arrives in the same read as the handshake (RFC 6455 §4: the
   * peer may send frames right after its request or its 101): WSConnection's trailing data,
   * the io connection's `head`. That read is never split.
   */
  withHandshake?: true;
  /** Too many bytes to also run one byte per read (the variant would only be slow). */
  large?: true;
  expect: Expected;
  /**
   * A known disagreement of the two layers (reported in issue 13): the fields in which the
   * io outcome differs from the sans-IO one (which must match `expect`); with `asScripted`,
   * only when the reads are delivered as written. The test asserts exactly this difference,
   * so removing it fails the test: then delete the field.
   */
  disagreement?: { why: string; io: Partial<Outcome>; asScripted?: boolean };
}

/** What a driver observed: the same shape whatever the layer. */
export interface Outcome {
  /**
   * "text:<string>", "binary:<hex>", "ping:<payload>", "pong:<payload>" (payloads as in
   * {@link describeFrames}); whole messages only.
   */
  events: string[];
  /** Every byte our side wrote, frames re-encoded with a zero mask key (see {@link canonicalBytes}). */
  bytes: string;
  /** The same frames, readable. */
  out: string[];
  /**
   * The code and reason our side reports at the end: the peer's close, the close code of a
   * violation (reason '': the reason we sent is in `bytes`), or 1006 when the transport
   * ended without a close frame (§7.1.5).
   */
  closed: [number, string];
  /** The close code of the peer's protocol violation we detected (§7.1.7), else null. */
  failed: number | null;
}

/** The peer's bytes for `frames`, masked as its role requires unless a frame says otherwise. */
export function peerBytes(role: Role, frames: PeerFrame[]): Uint8Array {
  const peerMasks = role === 'server';
  return Buffer.concat(frames.map((f) => (f instanceof Uint8Array ? f : wire({ ...f, mask: f.mask ?? peerMasks }))));
}

/** The bytes that ride with the handshake ({@link Case.withHandshake}) and the steps after them. */
export function splitHead(c: Case): { head: Uint8Array | undefined; steps: Step[] } {
  const first = c.steps[0];
  if (c.withHandshake !== true || first === undefined || !('peer' in first)) return { head: undefined, steps: c.steps };
  return { head: peerBytes(c.role, first.peer), steps: c.steps.slice(1) };
}

/** `bytes` cut at `cuts` (offsets), or into 1-byte pieces when `cuts` is 'bytes'. */
export function reads(bytes: Uint8Array, cuts: number[] | 'bytes' | undefined): Uint8Array[] {
  if (cuts === 'bytes') return Array.from(bytes, (b) => Uint8Array.of(b));
  const out: Uint8Array[] = [];
  let at = 0;
  for (const cut of [...(cuts ?? []), bytes.length]) {
    if (cut > at) out.push(bytes.slice(at, cut));
    at = Math.max(at, cut);
  }
  return out.length > 0 ? out : [bytes.slice()];
}

const OPCODES: Record<number, string> = { 0: 'cont', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A payload readable: the text if it is printable UTF-8, else "x" and its hex. */
export function payloadText(p: Uint8Array): string {
  try {
    const s = decoder.decode(p);
    if (!/[\u0000-\u001f\u007f]/.test(s)) return s;
  } catch {
    // not UTF-8: hex below
  }
  return `x${Buffer.from(p).toString('hex')}`;
}

interface ParsedFrame {
  b0: number;
  masked: boolean;
  /** The length form used: 7, 16 or 64 bits. */
  form: 7 | 16 | 64;
  payload: Buffer;
}

/** Frames in `bytes` (unmasked), and the bytes after the last whole frame. */
function parseFrames(bytes: Buffer): { frames: ParsedFrame[]; rest: Buffer } {
  const frames: ParsedFrame[] = [];
  let at = 0;
  for (;;) {
    if (bytes.length - at < 2) break;
    const masked = (bytes[at + 1]! & 0x80) !== 0;
    let len = bytes[at + 1]! & 0x7f;
    let p = at + 2;
    let form: 7 | 16 | 64 = 7;
    if (len === 126) {
      if (bytes.length < p + 2) break;
      len = bytes.readUInt16BE(p);
      p += 2;
      form = 16;
    } else if (len === 127) {
      if (bytes.length < p + 8) break;
      len = Number(bytes.readBigUInt64BE(p));
      p += 8;
      form = 64;
    }
    const key = masked ? bytes.subarray(p, p + 4) : null;
    if (masked) p += 4;
    if (bytes.length < p + len) break;
    const payload = Buffer.from(bytes.subarray(p, p + len));
    if (key !== null) for (let i = 0; i < len; i++) payload[i]! ^= key[i & 3]!;
    frames.push({ b0: bytes[at]!, masked, form, payload });
    at = p + len;
  }
  return { frames, rest: bytes.subarray(at) };
}

/**
 * The bytes our side wrote with every mask key replaced by 00 00 00 00 and the payload
 * unmasked (a client's keys are random, RFC 6455 §5.3); everything else byte for byte:
 * header bits, length form, payload. Trailing bytes that are no whole frame are kept as is.
 */
export function canonicalBytes(bytes: Buffer): string {
  const { frames, rest } = parseFrames(bytes);
  const parts: Buffer[] = frames.map((f) => {
    const len = f.payload.length;
    const m = f.masked ? 0x80 : 0;
    const head =
      f.form === 7 ? [f.b0, m | len] : f.form === 16 ? [f.b0, m | 126, len >> 8, len & 0xff] : [f.b0, m | 127, ...Buffer.from(new BigUint64Array([BigInt(len)]).buffer).reverse()];
    if (f.masked) head.push(0, 0, 0, 0);
    return Buffer.concat([Buffer.from(head), f.payload]);
  });
  return Buffer.concat([...parts, rest]).toString('hex');
}

/**
 * Our side's frames, readable: "<opcode>[+][~][!mask]:<payload>" where + is a frame without
 * FIN, ~ has RSV1 (compressed), !mask a frame masked against our role (§5.1); a close frame
 * is "close" (no payload) or "close:<code>:<reason>"; compressed payloads are hex.
 */
export function describeFrames(bytes: Buffer, role: Role): string[] {
  const { frames, rest } = parseFrames(bytes);
  const out = frames.map((f) => {
    const opcode = f.b0 & 0x0f;
    let name = OPCODES[opcode] ?? `op${opcode}`;
    if ((f.b0 & 0x80) === 0) name += '+';
    if ((f.b0 & 0x40) !== 0) name += '~';
    if ((f.b0 & 0x30) !== 0) name += `!rsv${(f.b0 >> 4) & 3}`;
    if (f.masked !== (role === 'client')) name += '!mask';
    if (opcode === 8) return f.payload.length < 2 ? (f.payload.length === 0 ? name : `${name}:x${f.payload.toString('hex')}`) : `${name}:${f.payload.readUInt16BE(0)}:${payloadText(f.payload.subarray(2))}`;
    const data = (f.b0 & 0x40) !== 0 ? `x${f.payload.toString('hex')}` : payloadText(f.payload);
    return `${name}:${data}`;
  });
  if (rest.length > 0) out.push(`partial:x${rest.toString('hex')}`);
  return out;
}

/** Whether an observed frame list matches the table's (a "close:NNNN*" entry ignores the reason). */
export function outMatches(actual: string[], expected: string[]): boolean {
  if (actual.length !== expected.length) return false;
  return expected.every((e, i) => (e.endsWith('*') ? actual[i]!.startsWith(e.slice(0, -1)) : actual[i] === e));
}
