/**
 * A raw peer facing one of our WebSockets, for tests that must control the bytes on the
 * wire: as a client of our server, or as a server for our client. Frames are written by
 * test/helpers/wire.ts and read back by the small parser here, both independent of src/.
 */
import { once } from 'node:events';
import type * as net from 'node:net';

import { WebSocket, type ServerOptions } from '../../src/io';
import { wire, type WireFrame } from '../helpers/wire';
import { openClient, rawClient, rawServer, startServer } from './helpers';

export type Role = 'server' | 'client';

/** A frame read from the wire (unmasked). */
export interface WireRead {
  opcode: number;
  fin: boolean;
  payload: Buffer;
}

/** Frames from `socket` as they arrive, masked or not. Attaching it makes the socket flow. */
export class FrameLog {
  readonly frames: WireRead[] = [];
  private buf: Buffer;
  private closed = false;
  private wake: Array<() => void> = [];

  constructor(socket: net.Socket, head: Buffer) {
    this.buf = Buffer.alloc(0);
    this.add(head);
    socket.on('data', (c: Buffer) => this.add(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  private add(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const b = this.buf;
      if (b.length < 2) break;
      const masked = (b[1]! & 0x80) !== 0;
      let len = b[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      const keyAt = at;
      if (masked) at += 4;
      if (b.length < at + len) break;
      const payload = Buffer.from(b.subarray(at, at + len));
      if (masked) for (let i = 0; i < len; i++) payload[i]! ^= b[keyAt + (i & 3)]!;
      this.frames.push({ opcode: b[0]! & 0x0f, fin: (b[0]! & 0x80) !== 0, payload });
      this.buf = b.subarray(at + len);
    }
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = [];
    for (const f of w) f();
  }

  /** Resolves with every frame so far once `done(frames)` holds; rejects if the socket closes first. */
  async until(done: (frames: WireRead[]) => boolean): Promise<WireRead[]> {
    while (!done(this.frames)) {
      if (this.closed) throw new Error(`socket closed after ${this.frames.length} frames: ${this.frames.map((f) => f.opcode).join(',')}`);
      await new Promise<void>((resolve) => this.wake.push(resolve));
    }
    return this.frames;
  }
}

/** Our WebSocket (`ours`, playing `role`) connected to a raw peer socket. */
export interface RawPair {
  ours: WebSocket;
  peer: net.Socket;
  /** Bytes the peer received with the handshake answer. */
  head: Buffer;
  /** A frame from the peer: masked when our side is the server (RFC 6455 §5.3). */
  frame(f: WireFrame): Uint8Array;
}

/** Connects our `role` WebSocket to a raw peer; `options` are our side's connection options. */
export async function rawPair(role: Role, options: Omit<ServerOptions, 'port'> = {}): Promise<RawPair> {
  if (role === 'server') {
    const { wss, port } = await startServer(options);
    const connection = once(wss, 'connection') as Promise<[WebSocket]>;
    const { socket, head } = await rawClient(port);
    const [ours] = await connection;
    return { ours, peer: socket, head, frame: (f) => wire({ ...f, mask: true }) };
  }
  let peer: { socket: net.Socket; head: Buffer } | null = null;
  const { url } = await rawServer((socket, head) => (peer = { socket, head }));
  const ours = await openClient(url, undefined, options);
  const p = peer as { socket: net.Socket; head: Buffer } | null;
  if (p === null) throw new Error('the raw server saw no connection');
  return { ours, peer: p.socket, head: p.head, frame: (f) => wire({ ...f, mask: false }) };
}

/** Makes `ours` echo every message. */
export function echo(ours: WebSocket): void {
  ours.on('message', (data, isBinary) => ours.send(data as Buffer, { binary: isBinary }));
}

/**
 * Backs up our socket: `ours` sends `size` bytes the paused peer does not read, until our
 * socket's write buffer holds them (writableNeedDrain). Waiting a turn of the loop first
 * lets the send leave our sender's batch (it flushes on process.nextTick): afterwards
 * `bufferedAmount` is what the socket holds, in wire bytes.
 */
export async function backUp(pair: RawPair, size = 8 * 1024 * 1024): Promise<void> {
  pair.peer.pause();
  pair.ours.send(Buffer.alloc(size, 0x61));
  do await new Promise((resolve) => setImmediate(resolve));
  while (pair.ours.bufferedAmount === 0);
}
