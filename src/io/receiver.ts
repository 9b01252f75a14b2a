/**
 * The receive path of a connection: socket chunks -> FrameReader (one backend parse per
 * chunk) -> frames -> messages and control frames (RFC 6455 §5.4-§5.6, §6.2).
 *
 * Per chunk the connection's sender is corked, so every frame queued while the chunk's
 * messages are handled (echoes, pongs, the close echo) leaves in one write.
 */
import { backend } from '../backend';
import { ParseFailed, RemoteProtocolError } from '../errors';
import { Frame, Opcode } from '../frames';
import { FrameInfo } from '../protocol/reader';
import type { Core } from './core';
import type { RawData } from './events';
import type { Message } from './message-queue';

/** @internal The receive path of one {@link Core}. */
export class Receiver {
  private fragments: Buffer[] | null = null;
  private fragmentOpcode = 0;
  private fragmentCompressed = false;
  private fragmentBytes = 0;
  /** Bound once: the FrameReader's per-frame callback (no closure per chunk). */
  private readonly onFrame = (info: number, payload: Uint8Array): void => this.frame(info, payload as Buffer);

  constructor(private readonly core: Core) {}

  /** One socket read: one parse, and everything sent meanwhile leaves in one write. */
  onData(chunk: Buffer): void {
    const core = this.core;
    if (!core.receiving) return;
    const sender = core.sender!;
    sender.cork();
    try {
      core.reader!.feed(chunk, this.onFrame);
    } catch (err) {
      this.onError(err);
    }
    sender.uncork();
  }

  private frame(info: number, payload: Buffer): void {
    const core = this.core;
    // Nothing is processed after the close frame or a failure (RFC 6455 §5.5.1, §7.1.7).
    if (!core.receiving) return;
    if (core.options.rawFrames) this.emitRawFrame(info, payload);
    const opcode = info & FrameInfo.OPCODE;
    if (opcode >= 8) {
      this.control(opcode, payload);
      return;
    }
    if (opcode !== 0) {
      const compressed = (info & FrameInfo.RSV1) !== 0;
      if ((info & FrameInfo.FIN) !== 0) {
        this.message(opcode === Opcode.TEXT, payload, compressed, (info & FrameInfo.UTF8_CHECKED) !== 0);
        return;
      }
      this.fragments = [payload];
      this.fragmentOpcode = opcode;
      this.fragmentCompressed = compressed;
      this.fragmentBytes = payload.length;
      return;
    }
    // A continuation frame: the parser guarantees a fragmented message is in progress (§5.4).
    const fragments = this.fragments!;
    fragments.push(payload);
    this.fragmentBytes += payload.length;
    if ((info & FrameInfo.FIN) === 0) return;
    this.fragments = null;
    const isText = this.fragmentOpcode === Opcode.TEXT;
    if (!isText && !this.fragmentCompressed && core.binaryType === 'fragments') {
      this.deliver(fragments, true);
      return;
    }
    // A compressed message is inflated from its fragments as they are (no concatenation);
    // uncompressed text was validated fragment by fragment by the parser.
    if (this.fragmentCompressed) this.message(isText, fragments, true, false);
    else this.message(isText, Buffer.concat(fragments, this.fragmentBytes), false, true);
  }

  private message(isText: boolean, payload: Buffer | Buffer[], compressed: boolean, utf8Checked: boolean): void {
    const core = this.core;
    let data: Buffer;
    if (compressed) {
      // RFC 7692 §6.2: inflate the whole message; the output cap stops a deflate bomb at maxPayload.
      const out = core.deflate!.decompressMessage(payload, core.options.maxPayload);
      data = Buffer.isBuffer(out) ? out : Buffer.from(out.buffer, out.byteOffset, out.byteLength);
      // RFC 6455 §8.1 applies to the inflated text: it must be valid UTF-8.
      if (isText && !backend.isUtf8(data)) throw new ParseFailed('invalid UTF-8 in a compressed text message', 1007);
    } else {
      data = payload as Buffer;
      if (isText && !utf8Checked && !backend.isUtf8(data)) throw new ParseFailed('invalid UTF-8 in a text message', 1007);
    }
    if (isText) this.deliver(data, false);
    else this.deliver(core.binaryType === 'nodebuffer' ? data : core.binaryType === 'arraybuffer' ? toArrayBuffer(data) : [data], true);
  }

  private deliver(data: RawData, isBinary: boolean): void {
    const queue = this.core.queue;
    if (queue !== null) queue.push(toMessage(data, isBinary));
    this.core.owner.emit('message', data, isBinary);
  }

  private control(opcode: number, payload: Buffer): void {
    const core = this.core;
    if (opcode === Opcode.PING) {
      // RFC 6455 §5.5.2: answer with a pong carrying the same payload, as soon as practical.
      if (core.options.autoPong && !core.closeFrameSent) core.sendControl(Opcode.PONG, payload);
      core.owner.emit('ping', payload);
    } else if (opcode === Opcode.PONG) {
      core.pongReceived();
      core.owner.emit('pong', payload);
    } else {
      this.fragments = null;
      core.receivedClose(payload);
    }
  }

  private onError(err: unknown): void {
    const core = this.core;
    this.fragments = null;
    if (err instanceof RemoteProtocolError && (err === core.reader!.error || err.closeCode !== 1011)) {
      // RFC 6455 §7.1.7: fail the connection with the code the violation calls for (from
      // the parser: 1002, 1007, 1009; from inflating or checking a whole message: 1007, 1009).
      core.fail(err.closeCode, err.message, err, false);
    } else {
      // A user listener threw: this connection ends (1011) but the process lives on.
      core.fail(1011, 'internal error', err instanceof Error ? err : new Error(String(err)), true);
    }
  }

  private emitRawFrame(info: number, payload: Buffer): void {
    const frame = new Frame(info & 0x0f, payload, {
      fin: (info & FrameInfo.FIN) !== 0,
      rsv1: (info & FrameInfo.RSV1) !== 0,
      rsv2: (info & FrameInfo.RSV2) !== 0,
      rsv3: (info & FrameInfo.RSV3) !== 0,
    });
    this.core.owner.emit('frame', frame);
  }
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) return buf.buffer as ArrayBuffer;
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** A message as the async API yields it: text as a string, binary as one Buffer. */
function toMessage(data: RawData, isBinary: boolean): Message {
  if (Buffer.isBuffer(data)) return isBinary ? data : data.toString();
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
