/**
 * Runs a table case through the ws-style {@link WebSocket} of src/io, socket-free.
 *
 * The one place that knows how a WebSocket is put on an in-memory byte stream is
 * {@link openIoConnection}. Its contract, which any replacement must keep:
 * - it returns `ws`, a WebSocket of `role` that is OPEN (its opening handshake is done, with
 *   the permessage-deflate agreement `deflate.agreed` when given, `maxPayload` applied),
 *   and `peer`, the other end of its byte stream ({@link PeerEnd});
 * - `head` (bytes that came with the handshake) reaches `ws` as its first read, on a later
 *   tick (after the caller attached its listeners);
 * - each `peer.write(bytes)` reaches `ws` as one read (one `onData`), on a later tick at
 *   the latest;
 * - every byte `ws` writes ends up in `peer.received()`, in order, once the event loop ran;
 * - `peer.end()` is the peer's FIN: `ws` sees the end of its input;
 * - `ws` emits 'close' once both directions ended (or the stream was destroyed).
 * Today it runs on a Duplex pair (test/helpers/duplex-pair.ts) attached to the connection
 * the way the server and the client attach an upgraded socket (`core.attach`). To move it
 * to the transport seam (issue 13), only the body of openIoConnection changes: make a
 * MemoryTransport pair, attach one end where `ours` is attached, and wrap the other end in
 * a PeerEnd (write, end, collect what arrives). Nothing else in this file touches a stream.
 */
import type { Extension } from '../../../src/extensions/extension';
import { negotiateExtensions } from '../../../src/handshake/handshake';
import { kConnection } from '../../../src/io/transport-connection';
import { createDeflate } from '../../../src/io/deflate-glue';
import { WebSocket } from '../../../src/io';
import { MemoryTransport } from '../../helpers/memory-transport';
import { canonicalBytes, describeFrames, payloadText, peerBytes, reads, splitHead, type Case, type DeflateSetup, type Outcome, type Role } from './script';

/** The peer's side of the byte stream under the WebSocket. */
export interface PeerEnd {
  /** Sends bytes to the WebSocket, as one read. */
  write(bytes: Uint8Array): void;
  /** The peer's FIN. */
  end(): void;
  /** Every byte the WebSocket wrote so far. */
  received(): Buffer;
}

export interface IoConnection {
  ws: WebSocket;
  peer: PeerEnd;
}

/** An OPEN WebSocket of `role` on an in-memory stream, and the peer's end (see the file comment). */
export function openIoConnection(role: Role, setup: { deflate?: DeflateSetup; maxPayload?: number; head?: Uint8Array }): IoConnection {
  const transport = new MemoryTransport();
  const ws = new WebSocket(null, undefined, setup.maxPayload === undefined ? {} : { maxPayload: setup.maxPayload });
  const connection = ws[kConnection];
  let extensions = '';
  let deflate: ReturnType<typeof createDeflate> | null = null;
  if (setup.deflate !== undefined) {
    const ext = createDeflate(setup.deflate.options ?? {}, role === 'server', setup.maxPayload ?? Infinity);
    if (role === 'server') {
      const result = negotiateExtensions(setup.deflate.agreed, [ext as Extension]);
      if (result.extensions.length !== 1) throw new Error(`the server declined ${setup.deflate.agreed}`);
      extensions = result.header ?? '';
    } else {
      ext.offer();
      ext.finalize(setup.deflate.agreed.replace(/^permessage-deflate\s*;?\s*/, ''));
      extensions = setup.deflate.agreed;
    }
    deflate = ext;
  }
  connection.setNegotiated('', extensions, deflate);
  connection.attach(transport, Buffer.from(setup.head ?? []), role);
  const received: Buffer[] = [];
  return {
    ws,
    peer: {
      // After the transport closed, the peer's bytes go nowhere (as on a closed TCP socket).
      write: (bytes) => {
        if (!transport.closed && !transport.peerEnded) transport.push(bytes);
      },
      end: () => transport.pushEnd(),
      received: () => {
        received.push(transport.takeWritten());
        return Buffer.concat(received);
      },
    },
  };
}

/** Lets the streams and the sender's nextTick flush run: a few turns of the event loop. */
async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Runs `c`; `split` 'bytes' delivers every peer byte as its own read. */
export async function runIo(c: Case, split?: 'bytes'): Promise<Outcome> {
  const { head, steps } = splitHead(c);
  const { ws, peer } = openIoConnection(c.role, {
    deflate: c.deflate,
    maxPayload: c.maxPayload,
    head,
  });
  const events: string[] = [];
  let failed: number | null = null;
  ws.on('message', (data, isBinary) => {
    const b = data as Buffer;
    events.push(isBinary ? `binary:${b.toString('hex')}` : `text:${b.toString()}`);
  });
  ws.on('ping', (p: Buffer) => events.push(`ping:${payloadText(p)}`));
  ws.on('pong', (p: Buffer) => events.push(`pong:${payloadText(p)}`));
  ws.on('error', (err: Error & { closeCode?: number }) => {
    failed = err.closeCode ?? -1;
  });
  const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  await settle();

  for (const step of steps) {
    if ('peer' in step) {
      for (const piece of reads(peerBytes(c.role, step.peer), split === 'bytes' ? 'bytes' : step.cuts)) {
        if (isClosed) break;
        peer.write(piece);
        await new Promise((resolve) => setImmediate(resolve));
      }
    } else if ('send' in step) {
      ws.send(step.send, { fin: step.fin !== false });
    } else if ('ping' in step) {
      ws.ping(step.ping);
    } else if ('pong' in step) {
      ws.pong(step.pong);
    } else {
      ws.close(step.close, step.reason);
    }
    await settle();
  }
  peer.end();
  const [code, reason] = await closed;
  await settle();

  const bytes = peer.received();
  return {
    events,
    bytes: canonicalBytes(bytes),
    out: describeFrames(bytes, c.role),
    closed: [code, failed === null ? reason : ''],
    failed,
  };
}
