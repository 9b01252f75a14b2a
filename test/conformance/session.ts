/**
 * One fuzzing connection after the opening handshake: the runner's own WebSocket endpoint,
 * modelled on the state machine Autobahn's fuzzer uses (autobahn-python's WebSocketProtocol
 * with failByDrop = false), because the verdict rules read its flags: who closed first
 * (closedByMe), whether the closing handshake completed (wasClean), who dropped TCP
 * (droppedByMe), and the peer's close code.
 *
 * Writes follow Autobahn's model too: plain frames written in one turn of the event loop
 * coalesce into one TCP segment; "sync" frames and chops (chopsize) are queued and leave one
 * per event-loop turn, so the peer reads them separately.
 */
import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

import { Compressor, Decompressor, type DeflateParams } from './pmd';
import { bytes, closePayload, encodeFrame, FrameParser, isSendableCloseCode, newMaskKey, OP, type WireFrame } from './wire';

/** Scales for the suite's timers (1 = Autobahn's seconds). */
export interface Timing {
  /** Waits a case needs to observe behaviour (continueLater: 5.19's pause, 6.4.x fail-fast). */
  waitScale: number;
  /** Fallback timers that end a case that went wrong (closeAfter, killAfter, close timeouts). */
  timeoutScale: number;
}

export interface SendFrameOptions {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  rsv?: number;
  payloadLen?: number;
  /** Split the frame's bytes into writes of this size, one per event-loop turn. */
  chopsize?: number;
  /** Write the frame on its own (a separate TCP segment). */
  sync?: boolean;
}

export interface SessionHooks {
  onMessage(payload: Buffer, binary: boolean): void;
  onPong(payload: Buffer): void;
  /** TCP is gone; every flag is final. */
  onLost(): void;
}

/** Autobahn's closeHandshakeTimeout and serverConnectionDropTimeout: 1 s each. */
const PROTOCOL_TIMEOUT_S = 1;

export class FuzzSession {
  state: 'open' | 'closing' | 'closed' = 'open';
  closedByMe = false;
  failedByMe = false;
  droppedByMe = false;
  wasClean = false;
  remoteCloseCode: number | null = null;
  remoteCloseReason: Buffer | null = null;
  wasCloseHandshakeTimeout = false;
  wasServerConnectionDropTimeout = false;
  /** Everything the peer did wrong on the wire, in order (the report's evidence). */
  readonly violations: string[] = [];
  /** Frames sent, by opcode (case 10.1.1 checks the fuzzer's own fragmentation). */
  readonly txFrames = new Map<number, number>();
  /** Split outgoing messages into frames of this many bytes (0: one frame). */
  autoFragmentSize = 0;
  hooks: SessionHooks = { onMessage: () => {}, onPong: () => {}, onLost: () => {} };

  private readonly parser = new FrameParser();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly queue: Buffer[] = [];
  private readonly pending: Buffer[] = [];
  private pumping = false;
  private message: { binary: boolean; compressed: boolean; parts: Buffer[] } | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  private readonly compressor: Compressor | null;
  private readonly decompressor: Decompressor | null;
  private lost = false;

  constructor(
    /** A TCP socket, or an HTTP/2 stream (RFC 8441: the stream stands for the connection). */
    private readonly socket: Socket | Duplex,
    readonly isServer: boolean,
    readonly deflate: DeflateParams | null,
    private readonly timing: Timing,
  ) {
    if ('setNoDelay' in socket) socket.setNoDelay(true);
    const ours = isServer ? [deflate?.serverNoContextTakeover, deflate?.serverMaxWindowBits] : [deflate?.clientNoContextTakeover, deflate?.clientMaxWindowBits];
    const theirs = isServer ? [deflate?.clientNoContextTakeover, deflate?.clientMaxWindowBits] : [deflate?.serverNoContextTakeover, deflate?.serverMaxWindowBits];
    this.compressor = deflate === null ? null : new Compressor(ours[0] === true, Number(ours[1]));
    this.decompressor = deflate === null ? null : new Decompressor(theirs[0] === true, Number(theirs[1]));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // EPIPE/ECONNRESET after the peer dropped TCP: the 'close' event that follows settles it.
    socket.on('error', () => {});
    socket.on('close', () => this.connectionLost());
  }

  /** Bytes that arrived with the handshake response/request. */
  feed(head: Buffer): void {
    if (head.length > 0) this.onData(head);
  }

  // ---- sending ------------------------------------------------------------------------

  /** A frame's bytes, masked if we are the client (counted as sent). */
  frameBytes(o: SendFrameOptions): Buffer {
    this.txFrames.set(o.opcode, (this.txFrames.get(o.opcode) ?? 0) + 1);
    return encodeFrame({ ...o, mask: this.isServer ? null : newMaskKey() });
  }

  sendFrame(o: SendFrameOptions): void {
    if (this.state === 'closed') return;
    const frame = this.frameBytes(o);
    if (o.chopsize !== undefined && o.chopsize > 0) {
      for (let i = 0; i < frame.length; i += o.chopsize) this.write(frame.subarray(i, i + o.chopsize), true);
    } else {
      this.write(frame, o.sync === true);
    }
  }

  /** Raw bytes: a piece of a frame from frameBytes() (6.4.3/6.4.4 send one frame in pieces). */
  sendRaw(data: Buffer, sync = false): void {
    if (this.state !== 'closed') this.write(data, sync);
  }

  /** A whole message, compressed when permessage-deflate was agreed, fragmented if asked. */
  sendMessage(payload: Buffer | string, binary: boolean, fragmentSize = this.autoFragmentSize): void {
    let data = bytes(payload);
    const compressed = this.compressor !== null;
    if (this.compressor !== null) data = this.compressor.compress(data);
    const opcode = binary ? OP.BINARY : OP.TEXT;
    if (fragmentSize <= 0 || data.length <= fragmentSize) {
      this.sendFrame({ opcode, payload: data, rsv: compressed ? 4 : 0 });
      return;
    }
    for (let i = 0; i < data.length; i += fragmentSize) {
      const first = i === 0;
      this.sendFrame({ opcode: first ? opcode : OP.CONT, payload: data.subarray(i, i + fragmentSize), fin: i + fragmentSize >= data.length, rsv: first && compressed ? 4 : 0 });
    }
  }

  /** The close frame Autobahn's sendCloseFrame writes: anything, even invalid codes. */
  sendCloseFrame(code?: number, reason?: Buffer, isReply = false): void {
    if (this.state !== 'open') return;
    this.sendFrame({ opcode: OP.CLOSE, payload: closePayload(code, reason) });
    this.state = 'closing';
    this.closedByMe = !isReply;
    if (this.closedByMe) {
      this.closeTimer = this.after(PROTOCOL_TIMEOUT_S * this.timing.timeoutScale, () => {
        this.wasClean = false;
        this.wasCloseHandshakeTimeout = true;
        this.dropConnection(true);
      });
    }
  }

  sendClose(code?: number, reason?: string): void {
    this.sendCloseFrame(code, reason === undefined ? undefined : Buffer.from(reason, 'utf8'));
  }

  /** Fails the connection the way Autobahn does without failByDrop: a close frame first. */
  failConnection(code = 1001, reason = 'going away'): void {
    if (this.state === 'closed') return;
    this.failedByMe = true;
    if (this.state === 'open') this.sendCloseFrame(code, Buffer.from(reason.slice(0, 123), 'utf8'));
    else this.dropConnection(false);
  }

  dropConnection(abort: boolean): void {
    if (this.state === 'closed') return;
    this.droppedByMe = true;
    this.state = 'closed';
    this.queue.length = 0;
    this.flush();
    if (abort) {
      this.socket.destroy();
    } else {
      this.socket.end();
      // A peer that never closes its side must not keep the case open.
      this.after(PROTOCOL_TIMEOUT_S * this.timing.timeoutScale, () => this.socket.destroy());
    }
  }

  // ---- Autobahn's timers --------------------------------------------------------------

  continueLater(seconds: number, fn: () => void): void {
    this.after(seconds * this.timing.waitScale, () => {
      if (this.state !== 'closed') fn();
    });
  }

  closeAfter(seconds: number): void {
    this.after(seconds * this.timing.timeoutScale, () => {
      if (this.state !== 'closed') this.sendClose();
    });
  }

  killAfter(seconds: number): void {
    this.after(seconds * this.timing.timeoutScale, () => {
      if (this.state !== 'closed') this.failConnection();
    });
  }

  private after(seconds: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, Math.round(seconds * 1000));
    this.timers.add(t);
    return t;
  }

  /**
   * Plain writes of one event-loop turn leave as one buffer (as Twisted coalesces them);
   * queued ones (sync frames, chops) leave one per turn, after everything written before.
   */
  private write(data: Buffer, queued: boolean): void {
    if (!queued && this.queue.length === 0) {
      this.pending.push(data);
      if (this.pending.length === 1) process.nextTick(() => this.flush());
      return;
    }
    this.flush();
    this.queue.push(data);
    if (!this.pumping) this.pump();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending.length = 0;
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Writes one queued unit now and the next one on a later turn of the event loop. */
  private pump(): void {
    const unit = this.queue.shift();
    if (unit === undefined || this.socket.destroyed) {
      this.pumping = false;
      return;
    }
    this.pumping = true;
    this.socket.write(unit);
    setImmediate(() => this.pump());
  }

  // ---- receiving ----------------------------------------------------------------------

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed()) return;
    this.parser.push(chunk);
    while (!this.isClosed()) {
      const f = this.parser.next();
      if (f === null) return;
      if (typeof f === 'string') {
        // The byte stream cannot be framed any more: nothing else can be read from it.
        this.violations.push(f);
        this.failConnection(1002, f);
        this.dropConnection(true);
        return;
      }
      this.onFrame(f);
    }
  }

  private protocolViolation(reason: string): void {
    this.violations.push(reason);
    this.failConnection(1002, reason);
  }

  private onFrame(f: WireFrame): void {
    // After a violation the failed endpoint only waits for the peer's close frame.
    const failed = this.violations.length > 0;
    if (this.isServer !== f.masked) {
      // RFC 6455 §5.1: clients mask every frame, servers none.
      return this.protocolViolation(this.isServer ? 'unmasked frame from a client' : 'masked frame from a server');
    }
    const control = f.opcode >= 8;
    if (f.rsv !== 0 && !(f.rsv === 4 && this.deflate !== null && (f.opcode === OP.TEXT || f.opcode === OP.BINARY))) {
      // §5.2: RSV bits need an extension; RFC 7692 §6: RSV1 only on a message's first frame.
      return this.protocolViolation(`RSV=${f.rsv} on opcode ${f.opcode}`);
    }
    if (control) {
      if (f.opcode > OP.PONG) return this.protocolViolation(`reserved control opcode ${f.opcode}`);
      if (!f.fin) return this.protocolViolation('fragmented control frame (§5.5)');
      if (f.payload.length > 125) return this.protocolViolation('control frame payload over 125 bytes (§5.5)');
      if (f.opcode === OP.CLOSE) return this.onCloseFrame(f.payload);
      if (failed) return;
      if (f.opcode === OP.PING) {
        if (this.state === 'open') this.sendFrame({ opcode: OP.PONG, payload: f.payload });
        return;
      }
      return this.hooks.onPong(f.payload);
    }
    if (f.opcode > OP.BINARY) return this.protocolViolation(`reserved data opcode ${f.opcode}`);
    if (f.opcode === OP.CONT && this.message === null) return this.protocolViolation('continuation frame with no message to continue (§5.4)');
    if (f.opcode !== OP.CONT && this.message !== null) return this.protocolViolation('new data frame inside a fragmented message (§5.4)');
    if (failed) return;
    if (this.message === null) this.message = { binary: f.opcode === OP.BINARY, compressed: f.rsv === 4, parts: [] };
    this.message.parts.push(f.payload);
    if (!f.fin) return;
    const { binary, compressed, parts } = this.message;
    this.message = null;
    let payload = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (compressed && this.decompressor !== null) {
      const out = this.decompressor.decompress(payload);
      if (typeof out === 'string') return this.protocolViolation(out);
      payload = out;
    }
    if (!binary && !isUtf8(payload)) {
      this.violations.push('text message is not valid UTF-8 (§8.1)');
      return this.failConnection(1007, 'invalid UTF-8');
    }
    this.hooks.onMessage(payload, binary);
  }

  /** Autobahn's onCloseFrame: check the peer's close, then answer or finish. */
  private onCloseFrame(payload: Buffer): void {
    if (payload.length === 1) return this.protocolViolation('close frame with a 1-byte payload (§5.5.1)');
    const code = payload.length >= 2 ? payload.readUInt16BE(0) : null;
    const reason = payload.length > 2 ? payload.subarray(2) : null;
    this.remoteCloseCode = code;
    if (code !== null && !isSendableCloseCode(code)) {
      this.protocolViolation(`invalid close code ${code} (§7.4)`);
      this.remoteCloseCode = 1000;
    }
    if (reason !== null) {
      if (!isUtf8(reason)) {
        this.violations.push('close reason is not valid UTF-8 (§5.5.1)');
        this.failConnection(1007, 'invalid close reason');
      } else {
        this.remoteCloseReason = reason;
      }
    }
    if (this.state === 'closing') {
      if (this.closeTimer !== null) clearTimeout(this.closeTimer);
      this.wasClean = true;
      if (this.isServer) {
        this.dropConnection(true);
      } else {
        // §7.1.1: the server closes TCP first; a client waits for it, then gives up.
        this.after(PROTOCOL_TIMEOUT_S * this.timing.timeoutScale, () => {
          if (this.state === 'closed') return;
          this.wasClean = false;
          this.wasServerConnectionDropTimeout = true;
          this.dropConnection(true);
        });
      }
    } else if (this.state === 'open') {
      this.wasClean = true;
      // Autobahn (echoCloseCodeReason off) answers with 1000 whatever the peer sent.
      this.sendCloseFrame(1000, undefined, true);
      if (this.isServer) this.dropConnection(false);
      else this.after(PROTOCOL_TIMEOUT_S * this.timing.timeoutScale, () => this.dropConnection(true));
    }
  }

  private connectionLost(): void {
    if (this.lost) return;
    this.lost = true;
    this.state = 'closed';
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.hooks.onLost();
  }
}
