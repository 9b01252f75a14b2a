/**
 * Interop with Python's wsproto (Debian python3-wsproto), a sans-IO implementation nobody
 * here wrote: our WSConnection against theirs, both directions, over pipes (no sockets).
 * test/interop/wsproto_peer.py describes the chunk framing and the peer's scenarios.
 * Without python3-wsproto the suite is skipped, or fails under WSCORE_REQUIRE_PEERS=1 (CI):
 * see test/interop/peers.ts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  AcceptConnection,
  BytesMessage,
  CloseConnection,
  ConnectionState,
  ConnectionType,
  type Event,
  Ping,
  Pong,
  RejectConnection,
  RejectData,
  Request,
  TextMessage,
  WSConnection,
} from '../../src/protocol';
import { describeWithPeer, PYTHON } from './peers';

const PEER = join(__dirname, 'wsproto_peer.py');

interface PeerLog {
  event: string;
  [key: string]: unknown;
}

/** The Python process and the length-prefixed chunk streams in both directions. */
class Peer {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private readonly chunks: Array<Uint8Array | null> = [];
  private wake: (() => void) | null = null;
  private stderr = '';
  private readonly exited: Promise<number | null>;

  constructor(args: string[], private readonly split: boolean) {
    this.proc = spawn(PYTHON, [PEER, ...args, ...(split ? ['--split'] : [])], { stdio: 'pipe' });
    this.proc.stdout.on('data', (data: Buffer) => this.onData(data));
    this.proc.stderr.on('data', (data: Buffer) => (this.stderr += data.toString()));
    this.proc.on('error', (err) => (this.stderr += `spawn failed: ${err.message}\n`));
    this.proc.stdin.on('error', () => {}); // a dead peer shows up as its exit code
    this.exited = new Promise((resolve) => this.proc.on('close', (code) => {
      this.chunks.push(null);
      this.wake?.();
      resolve(code);
    }));
  }

  private onData(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    while (this.buffer.length >= 4) {
      const n = this.buffer.readUInt32BE(0);
      if (this.buffer.length < 4 + n) break;
      this.chunks.push(n === 0 ? null : new Uint8Array(this.buffer.subarray(4, 4 + n)));
      this.buffer = this.buffer.subarray(4 + n);
    }
    this.wake?.();
  }

  /** Sends our bytes (one byte per chunk when splitting). */
  send(data: Uint8Array): void {
    if (data.length === 0) return;
    const pieces = this.split ? Array.from(data, (b) => Uint8Array.of(b)) : [data];
    for (const piece of pieces) {
      const head = Buffer.alloc(4);
      head.writeUInt32BE(piece.length);
      this.proc.stdin.write(Buffer.concat([head, piece]));
    }
  }

  /** The next chunk from the peer, or null at its end of stream. */
  async next(): Promise<Uint8Array | null> {
    while (this.chunks.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = null;
    return this.chunks.shift()!;
  }

  /** Ends our stream, waits for the process, and returns what it logged. */
  async finish(): Promise<{ exitCode: number | null; log: PeerLog[] }> {
    this.proc.stdin.end(Buffer.alloc(4));
    const exitCode = await this.exited;
    const log = this.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as PeerLog);
    if (exitCode !== 0) throw new Error(`wsproto peer exited with ${exitCode}:\n${this.stderr}`);
    return { exitCode, log };
  }
}

/** Feeds the peer's chunks to `ws` until `until()` holds, handing each event to `onEvent`. */
async function run(peer: Peer, ws: WSConnection, onEvent: (ev: Event) => void, until: () => boolean): Promise<void> {
  while (!until()) {
    const chunk = await peer.next();
    ws.receiveData(chunk);
    for (const ev of ws.events()) onEvent(ev);
    if (chunk === null) break;
  }
}

const texts = (events: Event[]) => events.filter((e): e is TextMessage => e instanceof TextMessage);

describeWithPeer('python3-wsproto', 'wsproto over pipes', () => {
  describe.each([
    ['whole chunks', false],
    ['1-byte chunks', true],
  ])('our client vs a wsproto server (%s)', (_how, split) => {
    it('handshake, text, binary, fragmented, ping/pong, close', async () => {
      const peer = new Peer(['server'], split);
      const ws = new WSConnection(ConnectionType.CLIENT);
      peer.send(ws.send(new Request({ host: 'localhost', target: '/chat?x=1', subprotocols: ['x', 'chat'], extraHeaders: { 'X-Client': 'wscore' } })));
      const events: Event[] = [];
      let pongs = 0;
      await run(
        peer,
        ws,
        (ev) => {
          events.push(ev);
          if (ev instanceof AcceptConnection) {
            peer.send(ws.send(new TextMessage({ data: 'hello ☃' })));
            peer.send(ws.send(new BytesMessage({ data: Uint8Array.of(0, 1, 2, 255) })));
            peer.send(ws.send(new TextMessage({ data: 'frag', messageFinished: false })));
            peer.send(ws.send(new Ping({ payload: Buffer.from('in-between') })));
            peer.send(ws.send(new TextMessage({ data: 'ment €' })));
            peer.send(ws.send(new Ping({ payload: Buffer.from('last') })));
          } else if (ev instanceof Pong && ++pongs === 2) {
            peer.send(ws.send(new CloseConnection({ code: 1000, reason: 'bye' })));
          }
        },
        () => ws.state === ConnectionState.CLOSED,
      );
      expect(ws.state).toBe(ConnectionState.CLOSED);
      const accept = events[0] as AcceptConnection;
      expect(accept).toBeInstanceOf(AcceptConnection);
      expect(accept.subprotocol).toBe('chat');
      expect(accept.extraHeaders.get('x-peer')).toBe('wsproto');
      expect(texts(events).map((e) => e.data).join('')).toBe('hello ☃fragment €');
      const echoed = events.filter((e): e is BytesMessage => e instanceof BytesMessage);
      expect(Buffer.concat(echoed.map((e) => e.data))).toEqual(Buffer.of(0, 1, 2, 255));
      expect(events.filter((e) => e instanceof Pong).map((e) => Buffer.from((e as Pong).payload).toString())).toEqual(['in-between', 'last']);
      expect(events.at(-1)).toEqual(expect.objectContaining({ type: 'close', code: 1000, reason: 'bye' }));

      const { log } = await peer.finish();
      const request = log.find((l) => l.event === 'Request')!;
      expect(request).toEqual(expect.objectContaining({ host: 'localhost', target: '/chat?x=1', subprotocols: ['x', 'chat'] }));
      expect((request.headers as Record<string, string>)['x-client']).toBe('wscore');
      const got = log.filter((l) => l.event === 'TextMessage').map((l) => l.data).join('');
      expect(got).toBe('hello ☃fragment €');
      expect(log.filter((l) => l.event === 'Ping').map((l) => Buffer.from(l.payload as string, 'hex').toString())).toEqual(['in-between', 'last']);
      expect(log.find((l) => l.event === 'CloseConnection')).toEqual(expect.objectContaining({ code: 1000, reason: 'bye' }));
      expect(log.at(-1)).toEqual({ event: 'done', state: 'CLOSED' });
    });
  });

  it('our client vs a wsproto server that closes first', async () => {
    const peer = new Peer(['server', '--scenario', 'close'], false);
    const ws = new WSConnection(ConnectionType.CLIENT);
    peer.send(ws.send(new Request({ host: 'localhost', target: '/', subprotocols: ['chat'] })));
    const events: Event[] = [];
    await run(
      peer,
      ws,
      (ev) => {
        events.push(ev);
        if (ev instanceof AcceptConnection) peer.send(ws.send(new TextMessage({ data: 'please close' })));
        if (ev instanceof CloseConnection && ws.state === ConnectionState.REMOTE_CLOSING) peer.send(ws.send(ev.response()));
      },
      () => ws.state === ConnectionState.CLOSED,
    );
    expect(events.map((e) => e.type)).toEqual(['accept', 'text', 'close']);
    expect(events[2]).toEqual(expect.objectContaining({ code: 4000, reason: 'as you wish' }));
    const { log } = await peer.finish();
    expect(log.find((l) => l.event === 'CloseConnection')).toEqual(expect.objectContaining({ code: 4000, reason: 'as you wish' }));
    expect(log.at(-1)).toEqual({ event: 'done', state: 'CLOSED' });
  });

  it('our client vs a wsproto server that rejects the handshake', async () => {
    const peer = new Peer(['server', '--scenario', 'reject'], false);
    const ws = new WSConnection(ConnectionType.CLIENT);
    peer.send(ws.send(new Request({ host: 'localhost', target: '/' })));
    const events: Event[] = [];
    await run(peer, ws, (ev) => events.push(ev), () => ws.state === ConnectionState.CLOSED);
    expect(events).toHaveLength(2);
    const [reject, data] = events as [RejectConnection, RejectData];
    expect(reject).toBeInstanceOf(RejectConnection);
    expect([reject.statusCode, reject.hasBody, reject.headers.get('x-why')]).toEqual([403, true, 'policy']);
    expect(Buffer.from(data.data).toString()).toBe('forbidden!');
    await peer.finish();
  });

  describe.each([
    ['whole chunks', false],
    ['1-byte chunks', true],
  ])('a wsproto client vs our server (%s)', (_how, split) => {
    it('handshake, text, binary, fragmented, ping/pong, close', async () => {
      const peer = new Peer(['client'], split);
      const ws = new WSConnection(ConnectionType.SERVER);
      const events: Event[] = [];
      await run(
        peer,
        ws,
        (ev) => {
          events.push(ev);
          if (ev instanceof Request) {
            peer.send(ws.send(new AcceptConnection({ subprotocol: ev.subprotocols.includes('chat') ? 'chat' : null, extraHeaders: { 'X-Server': 'wscore' } })));
          } else if (ev instanceof TextMessage || ev instanceof BytesMessage) {
            // Echo each part as it arrives: fragments stay fragments.
            const part = ev instanceof TextMessage ? new TextMessage({ data: ev.data, messageFinished: ev.messageFinished }) : new BytesMessage({ data: ev.data, messageFinished: ev.messageFinished });
            peer.send(ws.send(part));
          } else if (ev instanceof Ping) {
            peer.send(ws.send(ev.response()));
          } else if (ev instanceof CloseConnection && ws.state === ConnectionState.REMOTE_CLOSING) {
            peer.send(ws.send(ev.response()));
          }
        },
        () => ws.state === ConnectionState.CLOSED,
      );
      const request = events[0] as Request;
      expect([request.host, request.target, request.subprotocols]).toEqual(['localhost', '/interop?x=1', ['chat', 'other']]);
      expect(request.extraHeaders.get('x-peer')).toBe('wsproto');
      expect(texts(events).map((e) => e.data).join('|')).toBe('hello from wsproto ☃|frag|ment €');
      const binary = Buffer.concat(events.filter((e): e is BytesMessage => e instanceof BytesMessage).map((e) => e.data));
      const repeat = split ? 4 : 300;
      expect(binary.length).toBe(256 * repeat);
      expect(binary.subarray(0, 256)).toEqual(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
      expect(events.find((e) => e instanceof Ping)).toEqual(expect.objectContaining({ payload: expect.anything() }));
      expect(events.at(-1)).toEqual(expect.objectContaining({ type: 'close', code: 1000, reason: 'bye' }));
      expect(ws.state).toBe(ConnectionState.CLOSED);

      const { log } = await peer.finish();
      const accept = log.find((l) => l.event === 'AcceptConnection')!;
      expect(accept).toEqual(expect.objectContaining({ subprotocol: 'chat' }));
      expect((accept.headers as Record<string, string>)['x-server']).toBe('wscore');
      expect(log.filter((l) => l.event === 'TextMessage').map((l) => l.data).join('')).toBe('hello from wsproto ☃fragment €');
      const echoedBinary = log.filter((l) => l.event === 'BytesMessage').map((l) => l.data as string).join('');
      expect(echoedBinary.length).toBe(2 * 256 * repeat);
      expect(log.find((l) => l.event === 'Pong')).toEqual({ event: 'Pong', payload: Buffer.from('cli-ping').toString('hex') });
      expect(log.find((l) => l.event === 'CloseConnection')).toEqual(expect.objectContaining({ code: 1000, reason: 'bye' }));
      expect(log.at(-1)).toEqual({ event: 'done', state: 'CLOSED' });
    });
  });
});
