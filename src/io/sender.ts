/**
 * The outbound queue of one connection: frames queued while handling one transport read, or
 * during one tick, leave in one write.
 *
 * Why: the cost that separates fast WebSocket servers from ws is per message, not per byte —
 * one `socket.write()` per frame means a WriteWrap, a callback and often a syscall per
 * frame. Here small frames are copied into one buffer (copying 16 bytes is far cheaper than
 * a write call) and large payloads are written uncopied next to it under `cork()`, which
 * Node turns into one `writev`. Send callbacks are collected per batch and fired together
 * when the batch is handed to the OS; with no callback nothing is allocated per message.
 */
import { backend, INLINE_MASK_MAX_BYTES } from '../backend';
import { MASK_KEY_POOL, takeMaskKey } from '../frames/mask-key';
import { frameHeaderSize, writeHeader } from '../frames/header';
import type { ServerCounters } from './diagnostics';
import { NotOpenError } from './errors';
import { CLOSED } from './ready-state';
import type { Transport } from './transport';

/** A send callback: called once the bytes are handed to the OS, or with the write error. */
export type SendCallback = (err?: Error) => void;

/** Who hears about each flush of a {@link Sender}. */
export interface FlushListener {
  afterFlush(): void;
}

/** Payloads at least this big are written as their own writev entry instead of copied. */
const COPY_LIMIT = 4096;

/**
 * Size of the run buffers small frames are copied into. Runs are recycled through a free
 * list shared by every connection: a new ArrayBuffer per batch made the scavenger's
 * array-buffer sweep cost ~1 ms per young-generation GC at 100k echoes/s (p99 latency), and
 * a run kept per connection would pin memory on every idle connection.
 */
const RUN_SIZE = 16 * 1024;
/** Free runs kept at most (1 MiB). */
const MAX_FREE_RUNS = 64;
const freeRuns: Buffer[] = [];

function takeRun(): Buffer {
  return freeRuns.pop() ?? Buffer.allocUnsafeSlow(RUN_SIZE);
}

/**
 * Called by process.nextTick with the sender: a shared function, so scheduling a flush
 * allocates no closure.
 */
function flushTick(sender: Sender): void {
  sender.scheduled = false;
  sender.flush();
}

/** Fires every callback of one batch. */
function runCallbacks(callbacks: SendCallback[], err: Error | null | undefined): void {
  for (let i = 0; i < callbacks.length; i++) {
    const cb = callbacks[i]!;
    if (err) cb(err);
    else cb();
  }
}

/** @internal The outbound queue of one connection. */
export class Sender {
  /**
   * Sealed buffers waiting for the next flush, in order: one array for the sender's life. An
   * array per flush got promoted and, dead, kept the next batch's payloads alive until a
   * mark-compact (docs/benchmarks.md, "Throughput at 1,000 connections").
   */
  private readonly chunks: Uint8Array[] = [];
  /**
   * The buffer small frames are copied into as they are sent (so a caller may reuse its
   * buffer at once, as with ws where small writes usually reach the kernel synchronously).
   * `run[runStart..runPos)` is queued and not yet sealed into {@link chunks}.
   */
  private run: Buffer | null = null;
  private runStart = 0;
  private runPos = 0;
  /**
   * Bytes queued and not yet handed to the transport: wire bytes, headers and frames of our own
   * (close, automatic pongs, the 101 response) included. The memory the queue holds, so the
   * backpressure limits count these.
   */
  queuedBytes = 0;
  /**
   * Of what is queued, the payload bytes the user gave to send()/ping()/pong() (before
   * compression): ws's `bufferedAmount` counts these for data waiting in its sender.
   */
  queuedUserBytes = 0;
  private callbacks: SendCallback[] | null = null;
  /** @internal A flush is scheduled with process.nextTick. */
  scheduled = false;
  /** While > 0, queued frames wait for {@link uncork} instead of a tick. */
  private corks = 0;
  /** end() was called: after the last flush, the transport's writable side is ended. */
  private ending = false;
  /** The transport is gone: everything queued is dropped, callbacks get `closedError`. */
  private dead = false;
  private closedErrorMade: Error | null = null;
  /**
   * Told after each flush (the connection checks whether 'drain' is due). An object with a
   * method rather than a callback: no closure per connection.
   */
  flushListener: FlushListener | null = null;
  /** The server's counters (bytesOut, ./diagnostics.ts); null on a client connection. */
  stats: ServerCounters | null = null;

  constructor(readonly transport: Transport) {}

  /**
   * The error given to callbacks of sends that can never happen. Made when first needed:
   * an Error captures a stack trace, ~0.7 KiB that an idle connection should not hold.
   */
  get closedError(): Error {
    return (this.closedErrorMade ??= new NotOpenError('WebSocket is not open', CLOSED));
  }

  /**
   * Queues ready-made bytes (a pre-framed broadcast message). `cb` (optional) fires when
   * the batch holding them is handed to the OS. `userBytes`: the user payload they carry.
   */
  push(chunk: Uint8Array, cb?: SendCallback, userBytes = 0): void {
    if (this.dead) {
      if (cb) process.nextTick(cb, this.closedError);
      return;
    }
    this.add(chunk);
    this.queuedUserBytes += userBytes;
    if (cb) (this.callbacks ??= []).push(cb);
    this.schedule();
  }

  /**
   * Writes ready-made bytes shared with other connections (a broadcast frame) now, when
   * nothing is queued or corked: no copy into a batch and no tick, so the first clients
   * of a broadcast have it while the loop is still going (as with ws's send loop, but one
   * write of one shared buffer per client). Otherwise it queues like {@link push}.
   */
  pushShared(chunk: Uint8Array, cb: SendCallback | undefined, userBytes: number): void {
    const transport = this.transport;
    if (this.queuedBytes !== 0 || this.corks !== 0 || this.scheduled || this.dead || this.ending || !transport.writable) {
      this.push(chunk, cb, userBytes);
      return;
    }
    // Nothing is queued, so `chunks` is empty: it carries this one chunk (no array per write).
    const chunks = this.chunks;
    chunks.push(chunk);
    if (this.stats !== null) this.stats.bytesOut += chunk.length;
    transport.write(chunks, cb === undefined ? undefined : (err?: Error | null) => (err ? cb(err) : cb()));
    chunks.length = 0;
    if (this.flushListener !== null) this.flushListener.afterFlush();
  }

  /**
   * Queues one frame: `b0` is header byte 0 (FIN, RSV, opcode). A client frame (`masked`)
   * is written with its header and masked payload straight into the run buffer (or one
   * buffer of its own when large); an unmasked frame's large payload is not copied.
   * `userBytes`: how much of the payload counts as the user's (0 for frames of our own; the
   * uncompressed size for a compressed message).
   */
  pushFrame(b0: number, data: Uint8Array, masked: boolean, cb?: SendCallback, userBytes = 0): void {
    if (this.dead) {
      if (cb) process.nextTick(cb, this.closedError);
      return;
    }
    this.queuedUserBytes += userBytes;
    const len = data.length;
    if (len >= COPY_LIMIT) {
      if (masked) {
        const k = takeMaskKey();
        const key = MASK_KEY_POOL.subarray(k, k + 4);
        const hlen = frameHeaderSize(len, true);
        const buf = Buffer.allocUnsafe(hlen + len);
        writeHeader(buf, 0, b0, len, key);
        backend.mask(data, key, buf, hlen, 0);
        this.add(buf);
      } else {
        const at = this.reserve(frameHeaderSize(len, false));
        writeHeader(this.run!, at, b0, len, null);
        this.add(data);
      }
    } else if (masked) {
      const p = this.maskedHeader(b0, len);
      const run = this.run!;
      if (len <= INLINE_MASK_MAX_BYTES) {
        const k0 = run[p - 4]!;
        const k1 = run[p - 3]!;
        const k2 = run[p - 2]!;
        const k3 = run[p - 1]!;
        for (let i = 0; i < len; i += 4) {
          run[p + i] = data[i]! ^ k0;
          if (i + 1 < len) run[p + i + 1] = data[i + 1]! ^ k1;
          if (i + 2 < len) run[p + i + 2] = data[i + 2]! ^ k2;
          if (i + 3 < len) run[p + i + 3] = data[i + 3]! ^ k3;
        }
      } else {
        backend.mask(data, run.subarray(p - 4, p), run, p, 0);
      }
    } else {
      const at = this.reserve(frameHeaderSize(len, false) + len);
      const run = this.run!;
      const h = writeHeader(run, at, b0, len, null);
      if (len > 0) run.set(data, at + h);
    }
    if (cb) (this.callbacks ??= []).push(cb);
    this.schedule();
  }

  /**
   * Reserves a masked frame of `len` payload bytes in the run and writes its header with a
   * fresh key (RFC 6455 §5.3); returns where the payload goes (the key is the 4 bytes before).
   */
  private maskedHeader(b0: number, len: number): number {
    const at = this.reserve(frameHeaderSize(len, true) + len);
    const run = this.run!;
    const h = writeHeader(run, at, b0, len, null);
    run[at + 1] |= 0x80;
    const k = takeMaskKey();
    run[at + h] = MASK_KEY_POOL[k]!;
    run[at + h + 1] = MASK_KEY_POOL[k + 1]!;
    run[at + h + 2] = MASK_KEY_POOL[k + 2]!;
    run[at + h + 3] = MASK_KEY_POOL[k + 3]!;
    return at + h + 4;
  }

  /**
   * Queues a frame whose payload is a string (the user's, all of it counted in
   * {@link queuedUserBytes}), encoding it as UTF-8 straight into the run buffer when it is
   * small (no intermediate Buffer), masking in place for a client.
   */
  pushTextFrame(b0: number, text: string, masked: boolean, cb?: SendCallback): void {
    const len = text.length * 3 < COPY_LIMIT ? Buffer.byteLength(text) : COPY_LIMIT;
    if (len >= COPY_LIMIT || this.dead) {
      const data = Buffer.from(text);
      this.pushFrame(b0, data, masked, cb, data.length);
      return;
    }
    this.queuedUserBytes += len;
    if (masked) {
      const p = this.maskedHeader(b0, len);
      const run = this.run!;
      if (len > 0) {
        run.write(text, p, len, 'utf8');
        if (len <= INLINE_MASK_MAX_BYTES) {
          for (let i = 0; i < len; i++) run[p + i] ^= run[p - 4 + (i & 3)]!;
        } else {
          backend.unmask(run.subarray(p, p + len), run.subarray(p - 4, p), 0);
        }
      }
    } else {
      const at = this.reserve(frameHeaderSize(len, false) + len);
      const run = this.run!;
      const h = writeHeader(run, at, b0, len, null);
      if (len > 0) run.write(text, at + h, len, 'utf8');
    }
    if (cb) (this.callbacks ??= []).push(cb);
    this.schedule();
  }

  /** Makes room for `n` contiguous bytes in the run buffer; returns where they start. */
  private reserve(n: number): number {
    let run = this.run;
    if (run === null || run.length - this.runPos < n) {
      this.seal();
      run = this.run = n <= RUN_SIZE ? takeRun() : Buffer.allocUnsafeSlow(n);
      this.runStart = this.runPos = 0;
    }
    const at = this.runPos;
    this.runPos += n;
    this.queuedBytes += n;
    return at;
  }

  /** Queues bytes: copied into the run when small, kept as they are when large. */
  private add(chunk: Uint8Array): void {
    const len = chunk.length;
    if (len >= COPY_LIMIT) {
      this.seal();
      this.chunks.push(chunk);
      this.queuedBytes += len;
      return;
    }
    const at = this.reserve(len);
    this.run!.set(chunk, at);
  }

  private seal(): void {
    if (this.runPos > this.runStart) {
      this.chunks.push(this.run!.subarray(this.runStart, this.runPos));
      this.runStart = this.runPos;
    }
  }

  private schedule(): void {
    if (!this.scheduled && this.corks === 0) {
      this.scheduled = true;
      process.nextTick(flushTick, this);
    }
  }

  /** Holds frames back until {@link uncork}; used around the handling of one transport read. */
  cork(): void {
    this.corks++;
  }

  /** Ends a {@link cork}; the outermost one writes everything queued meanwhile. */
  uncork(): void {
    if (this.corks > 0 && --this.corks === 0 && !this.scheduled && this.queuedBytes > 0) this.flush();
  }

  /** After everything queued so far is written, end the transport's writable side (TCP FIN). */
  end(): void {
    this.ending = true;
    if (this.queuedBytes === 0 && !this.scheduled) this.finishEnd();
  }

  /**
   * The transport is gone or being destroyed: drop what is queued; pending callbacks get the
   * error (ws passes an error to callbacks of sends that could not happen).
   */
  kill(err?: Error): void {
    if (this.dead) return;
    this.dead = true;
    const callbacks = this.callbacks;
    this.chunks.length = 0;
    this.run = null;
    this.runStart = this.runPos = 0;
    this.queuedBytes = 0;
    this.queuedUserBytes = 0;
    this.callbacks = null;
    if (callbacks !== null) process.nextTick(runCallbacks, callbacks, err ?? this.closedError);
  }

  /** Whether the transport is gone. */
  get isDead(): boolean {
    return this.dead;
  }

  /** Hands everything queued to the transport now: one `Transport.write` of the batch. */
  flush(): void {
    if (this.queuedBytes === 0 || this.dead) {
      if (this.ending) this.finishEnd();
      return;
    }
    this.seal();
    const chunks = this.chunks;
    const n = chunks.length;
    const callbacks = this.callbacks;
    if (this.stats !== null && this.transport.writable) this.stats.bytesOut += this.queuedBytes;
    this.queuedBytes = 0;
    this.queuedUserBytes = 0;
    this.callbacks = null;
    // The run goes with the batch (an idle connection holds none). It can be reused once
    // the transport is done with its bytes: see the end of this method.
    const run = this.run;
    this.run = null;
    this.runStart = this.runPos = 0;
    const transport = this.transport;
    if (!transport.writable) {
      this.dead = true;
      chunks.length = 0;
      if (callbacks !== null) process.nextTick(runCallbacks, callbacks, this.closedError);
      return;
    }
    const done = callbacks === null ? undefined : (err?: Error | null) => runCallbacks(callbacks, err);
    // One batch: one writev where the transport has it.
    transport.write(chunks, done);
    // write() runs no user code synchronously; splice anyway rather than drop a frame.
    if (chunks.length === n) chunks.length = 0;
    else chunks.splice(0, n);
    // An empty write buffer right after write() means the writes completed synchronously
    // (the kernel took the bytes; a Writable releases a chunk only when its write is done),
    // so nothing refers to the run's bytes any more and another batch may overwrite them.
    if (run !== null && transport.reusesWrittenChunks && run.length === RUN_SIZE && transport.bufferedBytes === 0 && freeRuns.length < MAX_FREE_RUNS) {
      freeRuns.push(run);
    }
    if (this.ending) this.finishEnd();
    if (this.flushListener !== null) this.flushListener.afterFlush();
  }

  private finishEnd(): void {
    this.ending = false;
    if (this.transport.writable) this.transport.end();
  }
}
