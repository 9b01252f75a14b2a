/**
 * Helpers of the bad-input suite (docs/security.md): an echo server under attack with a
 * well-behaved "witness" client connected throughout, raw attackers speaking bytes over
 * `net`, reading the close code or HTTP status the server answers, and memory samples.
 *
 * Every wait is bounded in time ({@link within}) so that a missing protection fails the test
 * with a message instead of hanging it; no assertion depends on how fast the machine is
 * beyond generous bounds explained where they are used.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { expect } from 'vitest';

import { WebSocket, WebSocketServer, type ServerOptions } from '../../src/io';
import { openClient, parseServerFrames, track } from '../io/helpers';

export { cleanup, openClient, parseServerFrames, rawServer, switchingProtocols, track } from '../io/helpers';
export { cat, wire } from '../helpers/wire';

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** Rejects with `what` if `p` has not settled within `ms` (so a hang is a clear failure). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- memory -------------------------------------------------------------------------------

let gcFn: (() => void) | null | undefined;

/**
 * A full garbage collection, when one can be had: `global.gc` under --expose-gc, else the
 * same function obtained by turning the flag on at run time (V8 exposes `gc` to contexts
 * created afterwards). Returns false if neither worked; callers then use wider bounds.
 */
export function collectGarbage(): boolean {
  if (gcFn === undefined) {
    gcFn = typeof globalThis.gc === 'function' ? globalThis.gc : null;
    if (gcFn === null) {
      try {
        setFlagsFromString('--expose-gc');
        const fn = runInNewContext('gc') as unknown;
        gcFn = typeof fn === 'function' ? (fn as () => void) : null;
      } catch {
        gcFn = null;
      }
    }
  }
  if (gcFn === null) return false;
  gcFn();
  gcFn();
  return true;
}

/** Memory now, after a collection: resident set, JS heap, and ArrayBuffer (Buffer) bytes. */
export function memory(): { rss: number; heap: number; buffers: number } {
  collectGarbage();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, buffers: m.arrayBuffers };
}

/**
 * Samples memory every few ms while `run` runs and reports the largest growth over the
 * starting point, per kind. A sampler (not just before/after) catches memory that grew
 * during the attack and was freed when the connection died.
 */
export async function peakGrowth<T>(run: () => Promise<T>): Promise<{ result: T; rss: number; heap: number; buffers: number }> {
  const base = memory();
  const peak = { rss: 0, heap: 0, buffers: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss - base.rss);
    peak.heap = Math.max(peak.heap, m.heapUsed - base.heap);
    peak.buffers = Math.max(peak.buffers, m.arrayBuffers - base.buffers);
  };
  const timer = setInterval(sample, 5);
  try {
    const result = await run();
    sample();
    return { result, ...peak };
  } finally {
    clearInterval(timer);
  }
}

export const mb = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

// ---- the arena: a server under attack and a witness ----------------------------------------

export interface Arena {
  wss: WebSocketServer;
  port: number;
  url: string;
  /** A well-behaved client connected before the attack and checked after it. */
  witness: WebSocket;
  /** Errors the server-side connections emitted (what the server saw wrong). */
  errors: Error[];
  /** Close codes of the server-side connections, in order of closing. */
  closes: number[];
  /** Server-side connections, in order of arrival (the witness's is first). */
  connections: WebSocket[];
  /** Resolves with the server-side close code of the next connection that closes. */
  nextClose(): Promise<number>;
  /** Sends a random message through the witness and checks the echo, byte for byte. */
  checkWitness(): Promise<void>;
}

/**
 * A standalone echo server on 127.0.0.1:0 with `options`, and a witness client that is
 * connected first and must still echo correctly after the attack.
 */
export async function arena(options: Omit<ServerOptions, 'port'> = {}, witnessOptions: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<Arena> {
  const wss = track(new WebSocketServer({ host: '127.0.0.1', port: 0, ...options }));
  await once(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  const url = `ws://127.0.0.1:${port}`;
  const errors: Error[] = [];
  const closes: number[] = [];
  const connections: WebSocket[] = [];
  const waiting: Array<(code: number) => void> = [];
  wss.on('connection', (ws) => {
    connections.push(ws);
    ws.on('error', (e) => errors.push(e));
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    ws.on('close', (code) => {
      closes.push(code);
      waiting.shift()?.(code);
    });
  });
  const witness = await openClient(url, undefined, witnessOptions);
  const checkWitness = async (): Promise<void> => {
    expect(witness.readyState).toBe(WebSocket.OPEN);
    const payload = randomBytes(1 + Math.floor(Math.random() * 4000));
    const echoed = new Promise<Buffer>((resolve) => witness.once('message', (d) => resolve(d as Buffer)));
    witness.send(payload);
    expect((await within(echoed, 10_000, 'the witness echo')).equals(payload)).toBe(true);
  };
  return {
    wss,
    port,
    url,
    witness,
    errors,
    closes,
    connections,
    nextClose: () => new Promise((resolve) => waiting.push(resolve)),
    checkWitness,
  };
}

// ---- raw attackers ---------------------------------------------------------------------------

/** The opening handshake request, with extra header lines (each ending in CRLF). */
export function upgradeRequest(port: number, extra = '', path = '/'): string {
  const key = randomBytes(16).toString('base64');
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}

/** A connected raw socket, tracked for cleanup, whose errors (resets) are ignored. */
export async function rawSocket(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  const socket = net.connect(port, host);
  track({ close: () => socket.destroy() });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

/** Collects everything the peer sends on `socket` until it closes (bounded by `ms`). */
export function collect(socket: net.Socket, ms = 20_000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = socket.destroyed ? Promise.resolve() : new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return within(closed, ms, 'the server to close the connection').then(() => Buffer.concat(chunks));
}

/**
 * Sends `request` bytes and returns the HTTP response: everything the server writes before
 * closing, or, for a 101, its head (then the connection is dropped).
 */
export async function httpExchange(port: number, request: string | Buffer): Promise<string> {
  const socket = await rawSocket(port);
  const chunks: Buffer[] = [];
  const done = new Promise<string>((resolve) => {
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const text = Buffer.concat(chunks).toString('latin1');
      if (text.startsWith('HTTP/1.1 101') && text.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
  socket.write(request);
  return within(done, 20_000, 'the HTTP response');
}

/** The status code of an HTTP response text (0 if there is none). */
export function statusOf(response: string): number {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(response);
  return m === null ? 0 : Number(m[1]);
}

/**
 * A raw client past the opening handshake (`extra` header lines added to the request).
 * `rest` holds the bytes that followed the 101 response.
 */
export async function attacker(port: number, extra = ''): Promise<{ socket: net.Socket; response: string; rest: Buffer }> {
  const socket = await rawSocket(port);
  socket.write(upgradeRequest(port, extra));
  let buf = Buffer.alloc(0);
  const head = new Promise<{ response: string; rest: Buffer }>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.pause();
      resolve({ response: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end + 4) });
    };
    const onClose = (): void => reject(new Error(`closed during the handshake: ${buf.toString('latin1')}`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
  const { response, rest } = await within(head, 10_000, 'the 101 response');
  if (!response.startsWith('HTTP/1.1 101')) throw new Error(`handshake refused: ${response}`);
  return { socket, response, rest };
}

/**
 * Reads what the server sends until it closes the TCP connection and returns the code of
 * its close frame (`null` if it sent none, e.g. when it destroyed the socket), plus the frames.
 */
export async function serverClose(socket: net.Socket, rest: Buffer = Buffer.alloc(0), ms = 20_000): Promise<{ code: number | null; reason: string; frames: ReturnType<typeof parseServerFrames> }> {
  const all = collect(socket, ms);
  socket.resume();
  const frames = parseServerFrames(Buffer.concat([rest, await all]));
  const close = frames.find((f) => f.opcode === 0x8);
  if (close === undefined) return { code: null, reason: '', frames };
  return { code: close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005, reason: close.payload.subarray(2).toString(), frames };
}

/** Writes `data` in pieces of at most `piece` bytes, waiting for each write (so a dead socket stops it). */
export async function writeAll(socket: net.Socket, data: Uint8Array, piece = 256 * 1024): Promise<void> {
  for (let at = 0; at < data.length && !socket.destroyed; at += piece) {
    const ok = socket.write(data.subarray(at, at + piece));
    if (!ok && !socket.destroyed) {
      // The loser's listeners are removed, so a long write does not pile up listeners.
      const done = new AbortController();
      await Promise.race([once(socket, 'drain', { signal: done.signal }), once(socket, 'close', { signal: done.signal })]).catch(() => undefined);
      done.abort();
    }
  }
}

/** Active handles by type (process.getActiveResourcesInfo), for leak checks. */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of process.getActiveResourcesInfo()) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/**
 * Reads server frames from `socket` (after `rest`) until `done(frames)` holds; bounded by
 * `ms`. Leaves the socket flowing with no listener of its own afterwards.
 */
export async function readFramesUntil(
  socket: net.Socket,
  rest: Buffer,
  done: (frames: ReturnType<typeof parseServerFrames>) => boolean,
  ms = 20_000,
): Promise<ReturnType<typeof parseServerFrames>> {
  const chunks: Buffer[] = [rest];
  let size = rest.length;
  let result = parseServerFrames(rest);
  if (done(result)) return result;
  const got = new Promise<ReturnType<typeof parseServerFrames>>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      chunks.push(c);
      size += c.length;
      // Parse only when the last frame could be complete (cheap check on big transfers).
      result = parseServerFrames(Buffer.concat(chunks, size));
      if (done(result)) {
        socket.removeListener('data', onData);
        socket.removeListener('close', onClose);
        resolve(result);
      }
    };
    const onClose = (): void => reject(new Error(`connection closed after ${size} bytes, ${result.length} frames`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
  socket.resume();
  return within(got, ms, 'server frames');
}

/**
 * Prints a measurement when WSCORE_SECURITY_REPORT is set (the numbers docs/security.md
 * quotes come from such a run); silent otherwise.
 */
export function note(what: string, values: Record<string, number | string>): void {
  if (!process.env.WSCORE_SECURITY_REPORT) return;
  const parts = Object.entries(values).map(([k, v]) => `${k}=${typeof v === 'number' && Math.abs(v) >= MiB ? mb(v) : String(v)}`);
  process.stdout.write(`[security ${process.env.WSCORE_BACKEND ?? '?'}] ${what}: ${parts.join(' ')}\n`);
}
