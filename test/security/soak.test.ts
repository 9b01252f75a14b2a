/**
 * Load and soak (docs/security.md, "Load and soak"): many concurrent clients send random
 * messages with checksums through echo and broadcast, some disconnect abruptly (sometimes
 * in the middle of a fragmented message) and are replaced. Checked at the end:
 * - zero messages lost or corrupted: every echo came back, in order, byte for byte; every
 *   broadcast the server queued for a client that closed cleanly reached it, in order,
 *   intact; the server saw no corrupt message;
 * - no leaked sockets or handles (process.getActiveResourcesInfo() before/after), no
 *   server-side connection left;
 * - memory back near the baseline once everything closed. The baseline is taken after a
 *   short warm-up round with the same number of clients, so that what Node and the
 *   allocator keep once for reuse (HTTP parser free lists, malloc arenas, V8 heap pages) is
 *   in it; after the measured round the JS heap and Buffers (exact after a collection) and
 *   the RSS must be back near it — a per-connection or per-message leak would show as
 *   growth proportional to the 1,000+ connections or the tens of thousands of messages.
 *
 * Bounded for CI (both backends run this file, each in its own process): by default 1,000
 * clients, a 2 s warm-up and 6 s of measured traffic, ~25-35 s per backend. Longer by hand:
 *   WSCORE_SOAK_CLIENTS=2000 WSCORE_SOAK_SECONDS=600 npx vitest run test/security/soak.test.ts
 * Set WSCORE_SECURITY_REPORT=1 to print the numbers.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import { afterEach, expect, it } from 'vitest';
import WsWebSocket from 'ws';

import { WebSocket, WebSocketServer } from '../../src/io';
import { activeResources, cleanup, collectGarbage, memory, MiB, mb, note, sleep, track, within } from './helpers';

afterEach(cleanup);

const CLIENTS = Number(process.env.WSCORE_SOAK_CLIENTS ?? 1000);
const SECONDS = Number(process.env.WSCORE_SOAK_SECONDS ?? 6);
const WARMUP_SECONDS = 2;
/** Broadcasts per second (each goes to every client: CLIENTS deliveries). */
const BROADCASTS_PER_SECOND = Number(process.env.WSCORE_SOAK_BROADCASTS ?? 20);
/** Chance per step that a client disconnects abruptly (and is replaced). */
const ABRUPT = 0.002;
/** Mean pause between a client's echoes, in ms: 1,000 clients make ~5,000 echoes/s. */
const PAUSE_MS = 200;

// Message kinds (first byte of a binary message).
const ECHO = 1;
const BROADCAST_REQUEST = 2;
const BROADCAST = 3;
const WELCOME = 4;

const DIGEST = 20; // sha1

function seal(body: Buffer): Buffer {
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}
function intact(msg: Buffer): boolean {
  if (msg.length < DIGEST + 1) return false;
  const body = msg.subarray(0, msg.length - DIGEST);
  return createHash('sha1').update(body).digest().equals(msg.subarray(msg.length - DIGEST));
}
/** Text messages: `T|<seq>|<random text>|<sha1 hex of the part before>`. */
function sealText(seq: number, text: string): string {
  const body = `T|${seq}|${text}`;
  return `${body}|${createHash('sha1').update(body).digest('hex')}`;
}
function intactText(msg: string): boolean {
  const at = msg.lastIndexOf('|');
  return at > 0 && createHash('sha1').update(msg.slice(0, at)).digest('hex') === msg.slice(at + 1);
}

const rand = (n: number): number => Math.floor(Math.random() * n);

/**
 * Random bytes without a CSPRNG call per message: a random slice of a 1 MiB random pool.
 * (The header and checksum make every message distinct; the slice makes contents vary.)
 */
const POOL = randomBytes(1024 * 1024);
function randomPayload(n: number): Buffer {
  const at = rand(POOL.length - n);
  return POOL.subarray(at, at + n);
}

/** A random payload size: mostly small, sometimes a few KiB, rarely 64-256 KiB (split frames). */
function randomSize(): number {
  const r = Math.random();
  if (r < 0.8) return rand(512);
  if (r < 0.995) return 512 + rand(8192);
  return 65536 + rand(196608);
}

/** Random text with multi-byte characters (exercises UTF-8 validation across fragments). */
function randomText(n: number): string {
  const alphabet = ['a', 'b', 'é', 'ß', '中', '文', '😀', ' ', '|'];
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rand(alphabet.length)]!;
  return s;
}

interface Stats {
  echoes: number;
  broadcastsReceived: number;
  corrupt: number;
  outOfOrder: number;
  lost: number;
  abrupt: number;
  clients: number;
  bytes: number;
}

/** One soak client: our WebSocket or ws's, with the checks of what it receives. */
class SoakClient {
  ws: WebSocket | WsWebSocket;
  /** Echoes expected, in order (what was sent). */
  private expected: Array<Buffer | string> = [];
  private waiter: (() => void) | null = null;
  private seq = 0;
  conn = -1;
  broadcasts = 0;
  private lastBroadcast = -1;
  abrupt = false;
  readonly closed: Promise<number>;
  readonly opened: Promise<void>;

  constructor(
    url: string,
    readonly useWs: boolean,
    deflate: boolean,
    private readonly stats: Stats,
  ) {
    // One in four of our clients negotiates permessage-deflate (zlib streams created and
    // freed per connection: native memory a leak check must cover too).
    this.ws = useWs ? new WsWebSocket(url, { perMessageDeflate: false }) : new WebSocket(url, { perMessageDeflate: deflate });
    const ws = this.ws as WebSocket;
    ws.on('error', () => undefined); // abrupt ends are expected; losses are counted below
    this.closed = new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('close', () => reject(new Error('closed before open')));
    });
    this.opened.catch(() => undefined);
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const stats = this.stats;
    stats.bytes += data.length;
    if (!isBinary) {
      const text = data.toString();
      const want = this.expected.shift();
      if (!intactText(text)) stats.corrupt++;
      else if (want !== text) stats.outOfOrder++;
      else stats.echoes++;
      this.wake();
      return;
    }
    if (!intact(data)) {
      stats.corrupt++;
      return;
    }
    const kind = data[0]!;
    if (kind === WELCOME) {
      this.conn = data.readUInt32BE(1);
    } else if (kind === BROADCAST) {
      const bseq = data.readUInt32BE(1);
      if (bseq <= this.lastBroadcast) stats.outOfOrder++;
      this.lastBroadcast = bseq;
      this.broadcasts++;
      stats.broadcastsReceived++;
    } else if (kind === ECHO) {
      const want = this.expected.shift();
      if (!(want instanceof Buffer) || !want.equals(data)) stats.outOfOrder++;
      else stats.echoes++;
      this.wake();
    } else {
      stats.corrupt++;
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  get open(): boolean {
    return this.ws.readyState === 1;
  }

  /** Sends one echo request (maybe as text, maybe in fragments) and waits for its echo. */
  async echo(): Promise<boolean> {
    const ws = this.ws as WebSocket;
    const seq = this.seq++;
    let message: Buffer | string;
    if (Math.random() < 0.1) {
      message = sealText(seq, randomText(rand(300)));
    } else {
      const head = Buffer.alloc(9);
      head[0] = ECHO;
      head.writeUInt32BE(this.conn >>> 0, 1);
      head.writeUInt32BE(seq, 5);
      message = seal(Buffer.concat([head, randomPayload(randomSize())]));
    }
    this.expected.push(message);
    const answered = new Promise<void>((resolve) => (this.waiter = resolve));
    if (Math.random() < 0.1 && message.length > 4) {
      // Fragmented: 2-5 frames, all sent in this tick (no other send can interleave).
      const bytes = Buffer.from(message);
      const n = 2 + rand(4);
      const step = Math.ceil(bytes.length / n);
      const binary = typeof message !== 'string';
      // Cut text on a byte boundary anyway: the receiver must validate UTF-8 across frames.
      for (let at = 0; at < bytes.length; at += step) {
        ws.send(bytes.subarray(at, at + step), { binary, fin: at + step >= bytes.length });
      }
    } else {
      ws.send(message);
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 30_000)));
    const ok = await Promise.race([answered.then(() => true), timedOut, this.closed.then(() => false)]);
    clearTimeout(timer);
    return ok;
  }

  /** Asks the server to broadcast a random message to everyone. */
  requestBroadcast(): void {
    const head = Buffer.alloc(5);
    head[0] = BROADCAST_REQUEST;
    head.writeUInt32BE(this.conn >>> 0, 1);
    (this.ws as WebSocket).send(seal(Buffer.concat([head, randomPayload(rand(2048))])));
  }

  /** Ends the connection without a closing handshake, sometimes in a fragmented message. */
  vanish(): void {
    this.abrupt = true;
    const ws = this.ws as WebSocket;
    if (Math.random() < 0.5) {
      ws.send(Buffer.from([ECHO, 0, 0]), { fin: false }); // a message that will never end
      setImmediate(() => ws.terminate());
    } else {
      ws.terminate();
    }
  }

  /** How many echoes are still owed. */
  get owed(): number {
    return this.expected.length;
  }
}

interface PhaseResult {
  stats: Stats;
  seconds: number;
  connectMs: number;
  broadcasts: number;
  missing: number;
  serverCorrupt: number;
  serverErrors: Map<string, number>;
  serverCloses: Map<number, number>;
  peakRss: number;
}

/**
 * One round: a server, `clients` concurrent clients (replaced when they vanish), `seconds`
 * of echo and broadcast traffic, then every client closes; resolves once all is closed.
 */
async function phase(clients: number, seconds: number): Promise<PhaseResult> {
  const stats: Stats = { echoes: 0, broadcastsReceived: 0, corrupt: 0, outOfOrder: 0, lost: 0, abrupt: 0, clients: 0, bytes: 0 };

  // ---- the server ----
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: 4096, perMessageDeflate: true });
  await once(wss, 'listening');
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  let connNo = 0;
  let bseq = 0;
  const sentTo = new Map<number, number>(); // server connection number -> broadcasts queued
  const connOf = new WeakMap<object, number>();
  const serverCloses = new Map<number, number>(); // close code -> count
  let serverCorrupt = 0;
  const serverErrors = new Map<string, number>(); // error message -> count
  let serverOpen = 0;
  wss.on('connection', (ws) => {
    const n = connNo++;
    serverOpen++;
    connOf.set(ws, n);
    sentTo.set(n, 0);
    ws.on('error', (e) => serverErrors.set(e.message.slice(0, 60), (serverErrors.get(e.message.slice(0, 60)) ?? 0) + 1));
    const welcome = Buffer.alloc(5);
    welcome[0] = WELCOME;
    welcome.writeUInt32BE(n, 1);
    ws.send(seal(welcome));
    ws.on('message', (data, isBinary) => {
      const buf = data as Buffer;
      if (!isBinary) {
        if (!intactText(buf.toString())) serverCorrupt++;
        ws.send(buf, { binary: false });
        return;
      }
      if (!intact(buf)) {
        // An abrupt client's unfinished message never completes, so never arrives here.
        serverCorrupt++;
        return;
      }
      if (buf[0] === ECHO) {
        ws.send(buf);
      } else if (buf[0] === BROADCAST_REQUEST) {
        const head = Buffer.alloc(9);
        head[0] = BROADCAST;
        head.writeUInt32BE(bseq++, 1);
        head.writeUInt32BE(n, 5);
        const message = seal(Buffer.concat([head, buf.subarray(5, buf.length - DIGEST)]));
        wss.broadcast(message, {
          filter: (client) => {
            const c = connOf.get(client)!;
            sentTo.set(c, sentTo.get(c)! + 1);
            return true;
          },
        });
      } else {
        serverCorrupt++;
      }
    });
    ws.on('close', (code) => {
      serverOpen--;
      serverCloses.set(code, (serverCloses.get(code) ?? 0) + 1);
    });
  });

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

  // ---- the clients ----
  const all: SoakClient[] = [];
  const loops: Array<Promise<void>> = [];
  let stopping = false;
  let start: () => void = () => undefined;
  const go = new Promise<void>((resolve) => (start = resolve));
  const started = performance.now();

  const run = async (client: SoakClient): Promise<void> => {
    try {
      await within(client.opened, 30_000, 'a client to connect');
    } catch {
      stats.lost++; // a client that could not even connect counts as a failure
      return;
    }
    while (client.conn < 0 && client.open) await sleep(5);
    await go; // traffic starts once every first-wave client is connected
    while (!stopping && client.open) {
      if (Math.random() < ABRUPT) {
        client.vanish();
        stats.abrupt++;
        if (!stopping) spawn(); // keep the concurrency
        return;
      }
      if (!(await client.echo())) {
        if (!stopping || client.open) stats.lost++;
        return;
      }
      await sleep(rand(2 * PAUSE_MS));
    }
  };
  const spawn = (): void => {
    // One in five is a ws client; one in four of ours offers permessage-deflate.
    const client = new SoakClient(url, all.length % 5 === 4, all.length % 4 === 1, stats);
    all.push(client);
    stats.clients++;
    loops.push(run(client));
  };

  // Connect in waves of 100 (a burst of 1,000 SYNs would only measure the listen backlog).
  for (let i = 0; i < clients; i += 100) {
    for (let j = i; j < Math.min(clients, i + 100); j++) spawn();
    await Promise.allSettled(all.slice(i).map((c) => c.opened));
  }
  const connectMs = performance.now() - started;
  start();
  const trafficStarted = performance.now();

  // Broadcasts: a random open client asks for one every 1/BROADCASTS_PER_SECOND s.
  const ticker = setInterval(() => {
    for (let tries = 0; tries < 10; tries++) {
      const c = all[rand(all.length)]!;
      if (c.open && !c.abrupt && c.conn >= 0) {
        c.requestBroadcast();
        return;
      }
    }
  }, 1000 / BROADCASTS_PER_SECOND);

  await sleep(seconds * 1000);
  clearInterval(ticker);
  stopping = true;
  await within(Promise.all(loops), 60_000, 'every client loop to finish');

  // Clean clients close with a closing handshake once nothing is owed.
  const clean = all.filter((c) => !c.abrupt && c.open);
  let owed = 0;
  for (const c of clean) owed += c.owed;
  stats.lost += owed;
  await sleep(200); // the last broadcasts in flight
  const closing = all.map((c) => c.closed);
  for (const c of clean) (c.ws as WebSocket).close(1000);
  await within(Promise.all(closing), 60_000, 'every client to close');
  await within(
    (async () => {
      while (serverOpen > 0) await sleep(10);
    })(),
    30_000,
    'every server-side connection to close',
  );
  clearInterval(sampler);
  const trafficSeconds = (performance.now() - trafficStarted) / 1000;
  let missing = 0;
  for (const c of clean) {
    const queued = sentTo.get(c.conn) ?? -1;
    if (queued !== c.broadcasts) missing += Math.abs(queued - c.broadcasts);
  }
  expect(wss.clients!.size).toBe(0);
  await wss.close();
  return { stats, seconds: trafficSeconds, connectMs, broadcasts: bseq, missing, serverCorrupt, serverErrors, serverCloses, peakRss };
}

function report(what: string, r: PhaseResult): void {
  note(what, {
    clients: r.stats.clients,
    concurrent: CLIENTS,
    seconds: Math.round(r.seconds),
    connectMs: Math.round(r.connectMs),
    echoes: r.stats.echoes,
    broadcasts: r.broadcasts,
    broadcastDeliveries: r.stats.broadcastsReceived,
    abrupt: r.stats.abrupt,
    bytesReceivedByClients: r.stats.bytes,
    corrupt: r.stats.corrupt + r.serverCorrupt,
    outOfOrder: r.stats.outOfOrder,
    lost: r.stats.lost,
    missingBroadcasts: r.missing,
    serverErrors: JSON.stringify(Object.fromEntries(r.serverErrors)),
    serverCloses: JSON.stringify(Object.fromEntries(r.serverCloses)),
  });
}

/** Everything a round must satisfy: nothing lost, corrupted or out of order. */
function checkPhase(r: PhaseResult): void {
  expect(r.stats.corrupt).toBe(0);
  expect(r.serverCorrupt).toBe(0);
  expect(r.stats.outOfOrder).toBe(0);
  expect(r.stats.lost).toBe(0);
  expect(r.missing).toBe(0);
  expect(r.stats.echoes).toBeGreaterThan(0); // traffic actually flowed
  expect(r.broadcasts).toBeGreaterThan(0);
  // Clean clients closed 1000; abrupt ones are 1006 on the server side (no close frame).
  expect([...r.serverCloses.keys()].filter((code) => code !== 1000 && code !== 1006)).toEqual([]);
}

it(`soak: ${CLIENTS} concurrent clients, echo and broadcast with checksums, abrupt disconnects, for ${SECONDS} s`, { timeout: (WARMUP_SECONDS + SECONDS + 180) * 1000 }, async () => {
  expect(collectGarbage()).toBe(true); // exact heap/Buffer numbers below need it
  const resourcesBefore = activeResources();
  const initial = memory();

  // Warm-up round: fills the caches that stay (see the file comment); checked all the same.
  const warm = await phase(CLIENTS, WARMUP_SECONDS);
  report('soak warm-up', warm);
  checkPhase(warm);
  await sleep(100);
  const before = memory();

  const r = await phase(CLIENTS, SECONDS);
  report('soak', r);
  checkPhase(r);
  expect(r.stats.echoes).toBeGreaterThan(CLIENTS);

  // ---- no leaked handles ----
  await sleep(200);
  const resourcesAfter = activeResources();
  note('soak handles', { before: JSON.stringify(Object.fromEntries(resourcesBefore)), after: JSON.stringify(Object.fromEntries(resourcesAfter)) });
  expect(resourcesAfter.get('TCPSocketWrap') ?? 0).toBeLessThanOrEqual(resourcesBefore.get('TCPSocketWrap') ?? 0);
  expect(resourcesAfter.get('TCPServerWrap') ?? 0).toBeLessThanOrEqual(resourcesBefore.get('TCPServerWrap') ?? 0);
  // Timers: the shared timer wheel must not keep per-connection timers alive.
  expect(resourcesAfter.get('Timeout') ?? 0).toBeLessThanOrEqual((resourcesBefore.get('Timeout') ?? 0) + 2);

  // ---- memory back near the baseline ----
  await sleep(100);
  const after = memory();
  note('soak memory', {
    rssInitial: initial.rss,
    rssBaseline: before.rss,
    rssPeak: r.peakRss,
    rssAfter: after.rss,
    heapBaseline: before.heap,
    heapAfter: after.heap,
    buffersBaseline: before.buffers,
    buffersAfter: after.buffers,
  });
  // Heap and Buffers are exact after a collection. Leaking 1 KiB per connection or 100
  // bytes per message would already exceed these bounds.
  expect(after.heap - before.heap, `heap grew by ${mb(after.heap - before.heap)}`).toBeLessThan(4 * MiB);
  expect(after.buffers - before.buffers, `buffers grew by ${mb(after.buffers - before.buffers)}`).toBeLessThan(2 * MiB);
  // RSS covers native memory too (zlib streams, the addon), where a leak would not show in
  // the heap. The allocator keeps freed pages for reuse (fragmented by zlib's allocations it
  // takes several rounds to settle: by hand, 20 rounds of 500 deflate pairs grew RSS by
  // +140, +55, +19, +10, +8 MiB then nothing), so RSS is compared with the warm-up round
  // doing the same connections: a leak per connection repeats the warm-up's growth, and one
  // per message (3x the warm-up's traffic) exceeds it; settling allocator pages do neither.
  const warmGrowth = before.rss - initial.rss;
  const growth = after.rss - before.rss;
  expect(growth, `rss grew by ${mb(growth)} after a warm-up growth of ${mb(warmGrowth)}`).toBeLessThan(Math.max(32 * MiB, 0.75 * warmGrowth));
});
