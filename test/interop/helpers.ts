/**
 * Shared pieces of the interop suite (test/interop/): running the Python peers, the
 * "command protocol" every scenario server speaks (ours, Python websockets', ws's), a
 * wscore server that records what each connection saw, and the deterministic payloads both
 * sides generate.
 *
 * The command protocol (text messages; anything else is echoed with its type):
 *   cmd:fragment:<n>:<text>    reply <text> as a text message in n frames
 *   cmd:pattern:<size>:<n>     reply pattern(size) as a binary message in n frames
 *   cmd:ping:<payload>         send a ping; when its pong arrives, reply "pong:<payload>"
 *   cmd:close:<code>:<reason>  close with that code and reason
 *   cmd:digest                 (our server only) answer the next binary message with
 *                              "digest:<sha-256 hex>" instead of echoing it: a 16 MiB
 *                              message is checked without compressing it back
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';

import { expect } from 'vitest';

import { WebSocket, WebSocketServer, type ServerOptions } from '../../src/io';
import { PYTHON } from './peers';

export { PYTHON };

/** The path of a peer script in this folder. */
export function peerScript(name: string): string {
  return join(__dirname, name);
}

/** Rejects with "timed out: what" unless `promise` settles within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// --- deterministic payloads ---------------------------------------------------------------

/**
 * pattern(size): byte i is (i * 7 + 3) & 0xff. Every peer (Python, the browser page) builds
 * the same bytes, so a large message is checked without shipping a copy around.
 */
export function pattern(size: number): Buffer {
  const period = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) period[i] = (i * 7 + 3) & 0xff;
  const out = Buffer.allocUnsafe(size);
  for (let at = 0; at < size; at += 256) period.copy(out, at, 0, Math.min(256, size - at));
  return out;
}

const WORDS = (
  'alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike november ' +
  'oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu héllo wörld ' +
  '☃ snow €uro {"id": [1, 2, 3]} <tag attr="v"/> 0123456789 lorem ipsum dolor sit amet'
).split(' ');

/**
 * `size` characters of words picked by a linear congruential generator from `seed`: text
 * with repeats at every distance, so a compressor that used a larger window than agreed
 * (RFC 7692 §7.1.2) emits matches the peer's smaller window cannot resolve. Mirrored in
 * websockets_peer.py (same constants) so both sides build the same messages.
 */
export function words(size: number, seed: number): string {
  let x = seed >>> 0;
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const w = WORDS[(x >>> 16) % WORDS.length]!;
    parts.push(w);
    length += w.length + 1;
  }
  return parts.join(' ').slice(0, size);
}

// --- Python peers -------------------------------------------------------------------------

/** One JSON line a peer printed on stdout. */
export interface PeerLine {
  [key: string]: unknown;
}

/** A running Python peer: its JSON lines so far, and its end. */
export class PythonPeer {
  readonly lines: PeerLine[] = [];
  stderr = '';
  private readonly exited: Promise<number | null>;
  private readonly proc;
  private partial = '';
  private waiters: Array<() => void> = [];

  constructor(script: string, args: readonly string[]) {
    // -u: unbuffered, so lines arrive as printed; -B: no __pycache__ in the source tree.
    this.proc = spawn(PYTHON, ['-u', '-B', peerScript(script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (data: string) => this.onStdout(data));
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (data: string) => (this.stderr += data));
    this.proc.stdin.on('error', () => undefined); // a dead peer shows up as its exit code
    this.exited = new Promise((resolve) => {
      this.proc.on('error', (err) => {
        this.stderr += `spawn failed: ${err.message}\n`;
        resolve(-1);
      });
      this.proc.on('close', (code) => {
        this.wakeAll();
        resolve(code);
      });
    });
  }

  private onStdout(data: string): void {
    const text = this.partial + data;
    const pieces = text.split('\n');
    this.partial = pieces.pop()!;
    for (const line of pieces) {
      if (!line.startsWith('{')) continue;
      try {
        this.lines.push(JSON.parse(line) as PeerLine);
      } catch {
        this.stderr += `(unparsable stdout line) ${line}\n`;
      }
    }
    this.wakeAll();
  }

  private wakeAll(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }

  /** The first line (from the start) that satisfies `match`, waiting up to `ms`. */
  async waitFor(match: (line: PeerLine) => boolean, ms: number, what: string): Promise<PeerLine> {
    const found = async (): Promise<PeerLine> => {
      for (;;) {
        const line = this.lines.find(match);
        if (line !== undefined) return line;
        if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
          throw new Error(`peer ended before ${what}:\n${this.report()}`);
        }
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    };
    return within(found(), ms, `${what}\n${this.report()}`);
  }

  /** Ends the peer's stdin (servers exit on it), waits up to `ms` for the exit. */
  async finish(ms = 15_000): Promise<{ code: number | null; lines: PeerLine[] }> {
    this.proc.stdin.end();
    let code: number | null;
    try {
      code = await within(this.exited, ms, `the Python peer to exit\n${this.report()}`);
    } catch (err) {
      this.kill();
      throw err;
    }
    return { code, lines: this.lines };
  }

  /** Kills the peer (cleanup after a failure); only this process, by its pid. */
  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }

  /** What the peer said so far, for failure messages. */
  report(): string {
    return `stdout: ${this.lines.map((l) => JSON.stringify(l)).join('\n')}\nstderr: ${this.stderr}`;
  }
}

/**
 * Runs a Python peer to its end and checks it exited 0 (it exits non-zero on any mismatch
 * it detected, and with 3 when an import fails: the test then fails, never skips).
 */
export async function runPeer(script: string, args: readonly string[], ms = 30_000): Promise<PeerLine[]> {
  const peer = new PythonPeer(script, args);
  const { code, lines } = await peer.finish(ms);
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${code}\n${peer.report()}`);
  return lines;
}

/** A Python server peer: started, and its port read from its {"event": "listening"} line. */
export async function startPythonServer(script: string, args: readonly string[]): Promise<{ peer: PythonPeer; port: number; url: string }> {
  const peer = new PythonPeer(script, args);
  try {
    const line = await peer.waitFor((l) => l.event === 'listening', 10_000, 'the Python server to listen');
    const port = line.port as number;
    return { peer, port, url: `ws://127.0.0.1:${port}` };
  } catch (err) {
    peer.kill();
    throw err;
  }
}

// --- our scenario server ------------------------------------------------------------------

/** What our server saw on one connection. */
export interface ConnectionRecord {
  /** The request path: the peers put `/<peer>/<scenario>` there. */
  path: string;
  /** The negotiated Sec-WebSocket-Extensions. */
  extensions: string;
  /** Payloads of pings and pongs received. */
  pings: string[];
  pongs: string[];
  /** Data frames received, and how many had RSV1 (compressed, RFC 7692 §6). */
  dataFrames: number;
  compressedFrames: number;
  /** The code and reason of the 'close' event, once closed. */
  close: { code: number; reason: string } | null;
  /** Bytes our side wrote to the socket (to see that compression happened). */
  bytesWritten: () => number;
  /** Resolves with this record when the connection is closed. */
  closed: Promise<ConnectionRecord>;
}

/** Answers the command protocol on `ws` (our server side); everything else is echoed. */
export function speakCommands(ws: WebSocket): void {
  const pendingPongs = new Set<string>();
  ws.on('pong', (data) => {
    const payload = data.toString();
    if (pendingPongs.delete(payload)) ws.send(`pong:${payload}`);
  });
  let digestNext = false;
  ws.on('message', (data, isBinary) => {
    const buf = data as Buffer;
    if (isBinary && digestNext) {
      digestNext = false;
      ws.send(`digest:${createHash('sha256').update(buf).digest('hex')}`);
      return;
    }
    if (isBinary || buf.length < 4 || buf.toString('latin1', 0, 4) !== 'cmd:') {
      ws.send(buf, { binary: isBinary });
      return;
    }
    const text = buf.toString();
    const [, name, a = '', ...rest] = text.split(':');
    const b = rest.join(':');
    switch (name) {
      case 'fragment':
        sendFragments(ws, Buffer.from(b), Number(a), false);
        break;
      case 'pattern':
        sendFragments(ws, pattern(Number(a)), Number(b), true);
        break;
      case 'ping':
        pendingPongs.add(a);
        ws.ping(a);
        break;
      case 'close':
        ws.close(Number(a), b);
        break;
      case 'digest':
        digestNext = true;
        break;
      default:
        ws.send(`error:unknown command ${text}`);
    }
  });
}

/** Sends `data` as one message in `n` frames (ws's `fin: false` on all but the last). */
function sendFragments(ws: WebSocket, data: Buffer, n: number, binary: boolean): void {
  const step = Math.ceil(data.length / n);
  for (let i = 0; i < n; i++) {
    const piece = data.subarray(i * step, Math.min(data.length, (i + 1) * step));
    ws.send(piece, { binary, fin: i === n - 1 });
  }
}

/** Starts recording `ws` (rawFrames must be on to count compressed frames). */
export function record(ws: WebSocket, req: IncomingMessage): ConnectionRecord {
  const socket = req.socket as Socket;
  let resolveClosed!: (r: ConnectionRecord) => void;
  const rec: ConnectionRecord = {
    path: req.url ?? '',
    extensions: ws.extensions,
    pings: [],
    pongs: [],
    dataFrames: 0,
    compressedFrames: 0,
    close: null,
    bytesWritten: () => socket.bytesWritten,
    closed: new Promise((resolve) => (resolveClosed = resolve)),
  };
  ws.on('ping', (d) => rec.pings.push(d.toString()));
  ws.on('pong', (d) => rec.pongs.push(d.toString()));
  ws.on('frame', (f) => {
    if (f.opcode >= 8) return;
    rec.dataFrames++;
    if (f.rsv1) rec.compressedFrames++;
  });
  ws.on('error', () => undefined); // the close code tells; the record is what the tests read
  ws.on('close', (code, reason) => {
    rec.close = { code, reason: reason.toString() };
    resolveClosed(rec);
  });
  return rec;
}

/** Our command-protocol server, recording every connection by its request path. */
export class ScenarioServer {
  readonly connections: ConnectionRecord[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    readonly wss: WebSocketServer,
    readonly port: number,
  ) {
    wss.on('connection', (ws, req) => {
      this.connections.push(record(ws, req));
      speakCommands(ws);
      const w = this.waiters;
      this.waiters = [];
      for (const wake of w) wake();
    });
  }

  static async start(options: Omit<ServerOptions, 'port' | 'host'> = {}): Promise<ScenarioServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, rawFrames: true, ...options });
    await within(new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    }), 5_000, 'our server to listen');
    return new ScenarioServer(wss, (wss.address() as AddressInfo).port);
  }

  /** Records the connections of a server that is already listening on `port`. */
  static attach(wss: WebSocketServer, port: number): ScenarioServer {
    return new ScenarioServer(wss, port);
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** The record of the connection to `path`, once it is closed (waits up to `ms`). */
  async closedConnection(path: string, ms = 10_000): Promise<ConnectionRecord> {
    const find = async (): Promise<ConnectionRecord> => {
      for (;;) {
        const rec = this.connections.find((c) => c.path === path);
        if (rec !== undefined) return rec.closed;
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    };
    return within(find(), ms, `our server to see ${path} closed (seen: ${this.connections.map((c) => c.path).join(', ')})`);
  }

  async close(): Promise<void> {
    await within(this.wss.close(), 10_000, 'our server to close');
  }
}

// --- checks shared by the Python client suites ------------------------------------------------

/** The scenarios every Python client peer runs against our server, in order. */
export const CLIENT_SCENARIOS = ['messages', 'ping', 'client-close', 'server-close', 'server-going-away'] as const;

/** Fails with the peer's own words for every scenario that did not pass. */
export function expectScenariosPassed(lines: PeerLine[]): Map<string, PeerLine> {
  const byName = new Map(lines.filter((l) => typeof l.scenario === 'string').map((l) => [l.scenario as string, l]));
  for (const name of CLIENT_SCENARIOS) {
    const line = byName.get(name);
    expect(line, `scenario ${name} did not report`).toBeDefined();
    expect(line!.failures, `scenario ${name}`).toEqual([]);
    expect(line!.ok, `scenario ${name}`).toBe(true);
  }
  return byName;
}

/**
 * What our server must have seen from a Python client's scenarios at `/<peer>/<scenario>`.
 * `closeReply`: the code the peer answers our close frame with ('echo': ours, as RFC 6455
 * §5.5.1 suggests; websocket-client always answers 1000).
 */
export async function expectServerSaw(server: ScenarioServer, peer: string, o: { deflate: boolean; closeReply: 'echo' | number }): Promise<ConnectionRecord> {
  const messages = await server.closedConnection(`/${peer}/messages`);
  expect(messages.close?.code).toBe(1000);
  if (o.deflate) {
    expect(messages.extensions).toMatch(/^permessage-deflate/);
    // The peer compresses every message (fragmented ones carry RSV1 on the first frame).
    expect(messages.compressedFrames, 'compressed messages we received').toBeGreaterThanOrEqual(12);
  } else {
    expect(messages.extensions).toBe('');
    expect(messages.compressedFrames).toBe(0);
  }
  const ping = await server.closedConnection(`/${peer}/ping`);
  expect(ping.pings).toEqual(['py-ping']);
  expect(ping.pongs).toEqual(['srv-ping']);
  expect((await server.closedConnection(`/${peer}/client-close`)).close).toEqual({ code: 4000, reason: 'client bye' });
  // We closed first: the close event reports the code of the peer's answer.
  const reply = (code: number, reason: string) => (o.closeReply === 'echo' ? { code, reason } : { code: o.closeReply, reason: '' });
  expect((await server.closedConnection(`/${peer}/server-close`)).close).toEqual(reply(4001, 'server bye'));
  expect((await server.closedConnection(`/${peer}/server-going-away`)).close).toEqual(reply(1001, 'going away'));
  return messages;
}
