/**
 * Helpers for the NativeTransport tests: real TCP pairs on 127.0.0.1 and a sink that
 * records what a transport reports.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

import { expect } from 'vitest';

import { type NativeTransport, takeOverSocket } from '../../src/io/native-transport';
import type { TransportSink } from '../../src/io/transport';

/** A connected pair: `server` is the accepted side (the one taken over), `client` the peer. */
export interface TcpPair {
  server: net.Socket;
  client: net.Socket;
}

/** A listener that hands out accepted sockets in order. */
export class PairFactory {
  private readonly listener = net.createServer({ pauseOnConnect: false });
  private readonly accepted: net.Socket[] = [];
  private readonly waiting: Array<(s: net.Socket) => void> = [];
  private readonly all = new Set<net.Socket>();

  constructor() {
    this.listener.on('connection', (s) => {
      this.all.add(s);
      const w = this.waiting.shift();
      if (w !== undefined) w(s);
      else this.accepted.push(s);
    });
  }

  async listen(): Promise<void> {
    this.listener.listen(0, '127.0.0.1');
    await once(this.listener, 'listening');
  }

  async pair(): Promise<TcpPair> {
    const { port } = this.listener.address() as AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    this.all.add(client);
    client.on('error', () => undefined); // resets are part of the tests
    const server = await new Promise<net.Socket>((resolve) => {
      const s = this.accepted.shift();
      if (s !== undefined) resolve(s);
      else this.waiting.push(resolve);
    });
    server.on('error', () => undefined);
    if (client.connecting) await once(client, 'connect');
    return { server, client };
  }

  async close(): Promise<void> {
    for (const s of this.all) s.destroy();
    this.all.clear();
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }
}

/** A sink that copies what it receives (chunks are borrowed) and logs every call. */
export class RecordingSink implements TransportSink {
  readonly chunks: Buffer[] = [];
  readonly events: string[] = [];
  received = 0;
  private readonly closedPromise: Promise<boolean>;
  private resolveClosed!: (hadError: boolean) => void;
  private readonly endPromise: Promise<void>;
  private resolveEnd!: () => void;
  private drainWaiters: Array<() => void> = [];
  private dataWaiters: Array<{ bytes: number; resolve: () => void }> = [];
  /** Runs inside onData, after the copy (to test re-entrant calls). */
  onChunk: ((chunk: Buffer) => void) | undefined;

  constructor() {
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    this.endPromise = new Promise((resolve) => (this.resolveEnd = resolve));
  }

  onData(chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
    this.received += chunk.length;
    this.events.push('data');
    this.onChunk?.(chunk);
    this.dataWaiters = this.dataWaiters.filter((w) => {
      if (this.received < w.bytes) return true;
      w.resolve();
      return false;
    });
  }
  onDrain(): void {
    this.events.push('drain');
    for (const w of this.drainWaiters.splice(0)) w();
  }
  onEnd(): void {
    this.events.push('end');
    this.resolveEnd();
  }
  onClose(hadError: boolean): void {
    this.events.push(`close:${hadError}`);
    this.resolveClosed(hadError);
  }

  data(): Buffer {
    return Buffer.concat(this.chunks);
  }
  closed(): Promise<boolean> {
    return this.closedPromise;
  }
  ended(): Promise<void> {
    return this.endPromise;
  }
  drained(): Promise<void> {
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }
  receivedAtLeast(bytes: number): Promise<void> {
    if (this.received >= bytes) return Promise.resolve();
    return new Promise((resolve) => this.dataWaiters.push({ bytes, resolve }));
  }
}

/** Reads `bytes` bytes from a Node socket (resuming it). */
export function collect(socket: net.Socket, bytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      got += chunk.length;
      if (got >= bytes) {
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve(Buffer.concat(parts));
      }
    };
    const onClose = (): void => reject(new Error(`socket closed after ${got} of ${bytes} bytes`));
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.resume();
  });
}

/** Resolves once `cond()` holds, checking after each turn of the event loop. */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setImmediate(resolve));
}

/** Open file descriptors of this process (Linux). */
export function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Deterministic bytes (a counter pattern) so that a loss or reorder shows. */
export function pattern(length: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return b;
}

/** Takes `pair.server` over (it must be accepted) and keeps the transport in `transports` for cleanup. */
export function takeOverInto(transports: NativeTransport[], pair: TcpPair, head: Buffer = Buffer.alloc(0), options?: Parameters<typeof takeOverSocket>[2]) {
  const taken = takeOverSocket(pair.server, head, options);
  expect(taken).not.toBeNull();
  transports.push(taken!.transport);
  return taken!;
}

/** Writes 64 KiB chunks into a peer that does not read until write() says stop. */
export function fillUntilFull(t: NativeTransport, cbs: Array<Error | null | undefined>, limit = 256 * 1024 * 1024): number {
  let written = 0;
  for (let i = 0; written < limit; i++) {
    const chunk = pattern(64 * 1024, i);
    written += chunk.length;
    const n = cbs.length;
    cbs.push(undefined);
    const more = t.write([chunk], (err) => (cbs[n] = err ?? null));
    if (!more) return written;
  }
  throw new Error('the kernel took everything: no backpressure reached');
}
