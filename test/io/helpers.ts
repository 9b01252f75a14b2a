/**
 * Helpers for the I/O tests: servers on 127.0.0.1 with an ephemeral port, waiting for
 * events, and cleanup of everything a test opened.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

import { acceptKey } from '../../src/handshake/handshake';
import { FrameWriter } from '../../src/protocol/frame-writer';

import { WebSocket, WebSocketServer, type ServerOptions } from '../../src/io';
import { kConnection } from '../../src/io/transport-connection';

/** Things to close after each test. */
const open = new Set<{ close(): unknown } | { terminate(): unknown }>();

/** Registers something to close in afterEach (returns it). */
export function track<T extends { close(): unknown } | { terminate(): unknown }>(thing: T): T {
  open.add(thing);
  return thing;
}

/** Closes everything tracked (servers close, sockets terminate). */
export async function cleanup(): Promise<void> {
  const waits: Array<Promise<unknown>> = [];
  for (const thing of open) {
    if (thing instanceof WebSocket) {
      thing.terminate();
    } else if ('close' in thing) {
      const r = thing.close();
      if (r instanceof Promise) waits.push(r.catch(() => undefined));
    } else {
      thing.terminate();
    }
  }
  open.clear();
  await Promise.all(waits);
}

/** A standalone server on 127.0.0.1:0, listening. */
export async function startServer(options: Omit<ServerOptions, 'port'> = {}): Promise<{ wss: WebSocketServer; url: string; port: number }> {
  const wss = track(new WebSocketServer({ host: '127.0.0.1', port: 0, ...options }));
  await once(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  return { wss, url: `ws://127.0.0.1:${port}`, port };
}

/** A client WebSocket, tracked for cleanup, resolved when open. */
export async function openClient(url: string, protocols?: string | string[], options?: ConstructorParameters<typeof WebSocket>[2]): Promise<WebSocket> {
  const ws = track(new WebSocket(url, protocols, options));
  await once(ws, 'open');
  return ws;
}

/** The next 'message' of `ws` as [data, isBinary]. */
export function nextMessage(ws: WebSocket): Promise<[Buffer, boolean]> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve([data as Buffer, isBinary])));
}

/** Resolves with [code, reason] on 'close'. */
export function closeEvent(ws: WebSocket): Promise<[number, string]> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
}

/** A raw TCP client that performed the opening handshake by hand; for bad-peer tests. */
export async function rawClient(port: number, path = '/', extraHeaders = ''): Promise<{ socket: net.Socket; head: Buffer }> {
  const socket = net.connect(port, '127.0.0.1');
  track({ close: () => socket.destroy() });
  await once(socket, 'connect');
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`,
  );
  let buf = Buffer.alloc(0);
  for (;;) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    buf = Buffer.concat([buf, chunk]);
    const end = buf.indexOf('\r\n\r\n');
    if (end !== -1) {
      const head = buf.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) throw new Error(`handshake refused: ${head}`);
      return { socket, head: buf.subarray(end + 4) };
    }
  }
}

/** Sends raw bytes and returns everything the peer sends until it closes the socket. */
export async function readAll(socket: net.Socket, initial: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  const chunks: Buffer[] = [initial];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined); // a reset after the last bytes still ends the read
  if (!socket.destroyed) await new Promise((resolve) => socket.once('close', resolve));
  return Buffer.concat(chunks);
}

/** A masked client frame (RFC 6455 §5.3), optionally with custom header bits. */
export function clientFrame(opcode: number, payload: Buffer | string, fin = true, rsv = 0): Buffer {
  return Buffer.from(new FrameWriter({ mask: true }).frame(opcode, payload, { fin, rsv }));
}

/** Parses unmasked server frames from a byte stream: [opcode, payload, fin][]. */
export function parseServerFrames(bytes: Buffer): Array<{ opcode: number; fin: boolean; payload: Buffer }> {
  const out: Array<{ opcode: number; fin: boolean; payload: Buffer }> = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const b0 = bytes[at]!;
    let len = bytes[at + 1]! & 0x7f;
    let p = at + 2;
    if (len === 126) {
      len = bytes.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      len = Number(bytes.readBigUInt64BE(p));
      p += 8;
    }
    if (p + len > bytes.length) break;
    out.push({ opcode: b0 & 0x0f, fin: (b0 & 0x80) !== 0, payload: bytes.subarray(p, p + len) });
    at = p + len;
  }
  return out;
}

/** A valid 101 answer to a request with Sec-WebSocket-Key `key`; `extra` is more header lines, each ending in CRLF. */
export function switchingProtocols(key: string, extra = ''): string {
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n${extra}\r\n`;
}

/**
 * A raw TCP server that answers the handshake (a valid 101, or `response(key)`: a peer that
 * misbehaves), then calls `onSocket`.
 */
export async function rawServer(
  onSocket: (socket: net.Socket, head: Buffer) => void,
  response?: (key: string) => string | Uint8Array,
): Promise<{ url: string; port: number }> {
  const server = net.createServer((socket) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.removeListener('data', onData);
      const head = buf.subarray(0, end).toString('latin1');
      const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '';
      socket.write(response ? response(key) : switchingProtocols(key));
      onSocket(socket, buf.subarray(end + 4));
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  track({
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return { url: `ws://127.0.0.1:${port}`, port };
}

/**
 * Records every batch `ws` hands to its transport (Transport.write, one writev of the
 * native transport or one corked write of a Node socket), whichever transport it runs on:
 * a batch of one chunk is recorded as that chunk, a larger one as the list of its chunks.
 */
export function recordTransportWrites(ws: WebSocket): unknown[] {
  const batches: unknown[] = [];
  const transport = ws[kConnection].transport!;
  const original = transport.write.bind(transport);
  transport.write = (chunks, cb) => {
    batches.push(chunks.length === 1 ? chunks[0] : [...chunks]);
    return original(chunks, cb);
  };
  return batches;
}
