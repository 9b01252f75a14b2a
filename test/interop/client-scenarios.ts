/**
 * Our client against a command-protocol server written by someone else (Python websockets,
 * ws): the same scenarios the Python clients run against our server (messages, ping,
 * client-close, server-close, server-going-away), each on its own connection to
 * `<url>/wscore/<scenario>` so the peer's per-connection report can be matched.
 */
import { expect } from 'vitest';

import { WebSocket, type ClientOptions } from '../../src/io';
import { pattern, within, words } from './helpers';

const WAIT = 20_000;

/** Every message of one connection, in order, awaited one at a time with a timeout. */
export class Inbox {
  private readonly queue: Array<[Buffer, boolean]> = [];
  private wake: (() => void) | null = null;
  closed: Promise<[number, string]>;
  /** Data frames received and how many were compressed (needs rawFrames). */
  compressedFrames = 0;
  /** Set once closed: a message awaited after that can never come. */
  private closeInfo: [number, string] | null = null;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.queue.push([data as Buffer, isBinary]);
      this.wake?.();
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = [code, reason.toString()];
      this.wake?.();
    });
    ws.on('frame', (f) => {
      if (f.opcode < 8 && f.rsv1) this.compressedFrames++;
    });
    this.closed = within(
      new Promise((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()]))),
      WAIT,
      'the close event',
    );
    this.closed.catch(() => undefined); // awaited (or not needed) by the scenario
  }

  async next(): Promise<[Buffer, boolean]> {
    const take = async (): Promise<[Buffer, boolean]> => {
      while (this.queue.length === 0) {
        // Fail at once (with the peer's code, e.g. 1007 for data it could not inflate)
        // rather than at the timeout.
        if (this.closeInfo !== null) throw new Error(`closed (${this.closeInfo.join(' ')}) while a message was awaited`);
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
      this.wake = null;
      return this.queue.shift()!;
    };
    return within(take(), WAIT, 'the next message');
  }

  /** The next message is text `text`. */
  async expectText(text: string, what: string): Promise<void> {
    const [data, isBinary] = await this.next();
    expect(isBinary, what).toBe(false);
    expect(data.toString() === text, `${what}: got ${data.length} bytes ${JSON.stringify(data.toString().slice(0, 40))}`).toBe(true);
  }

  /** The next message is binary `bytes`. */
  async expectBinary(bytes: Buffer, what: string): Promise<void> {
    const [data, isBinary] = await this.next();
    expect(isBinary, what).toBe(true);
    expect(data.equals(bytes), `${what}: got ${data.length} bytes, want ${bytes.length}`).toBe(true);
  }
}

/** Opens our client to `url` (resolves once open; rejects on error or timeout). */
export async function open(url: string, options: ClientOptions): Promise<Inbox> {
  const ws = new WebSocket(url, { rawFrames: true, ...options });
  const inbox = new Inbox(ws);
  ws.on('error', () => undefined); // failures show up as a rejected open or a close code
  await within(
    new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('close', (code) => reject(new Error(`closed (${code}) before opening`)));
    }),
    WAIT,
    `opening ${url}`,
  );
  return inbox;
}

/** What the scenarios observed, for checks specific to a peer. */
export interface ClientScenarioResult {
  extensions: string;
  /** Compressed data frames our client received in the messages scenario. */
  compressedFrames: number;
}

/** The messages our client sends in the messages scenario and expects back. */
function clientMessages(): Array<[string, string | Buffer]> {
  return [
    ['text', 'héllo ☃ from wscore'],
    ['empty text', ''],
    ['empty binary', Buffer.alloc(0)],
    ['binary 0..255', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
    ['binary 125', pattern(125)],
    ['binary 126', pattern(126)],
    ['binary 65535', pattern(65535)],
    ['binary 65536', pattern(65536)],
    ['text 70000', words(70000, 1)],
    ['binary 4 MiB', pattern(4 * 1024 * 1024)],
  ];
}

/** Runs the client scenarios against `base` (a command-protocol server). */
export async function runClientScenarios(base: string, options: ClientOptions): Promise<ClientScenarioResult> {
  // messages: every size class, fragments both ways, then a normal closure.
  const m = await open(`${base}/wscore/messages`, options);
  for (const [name, msg] of clientMessages()) {
    m.ws.send(msg);
    if (typeof msg === 'string') await m.expectText(msg, `echo of ${name}`);
    else await m.expectBinary(msg, `echo of ${name}`);
  }
  m.ws.send('frag', { fin: false });
  m.ws.send('ment ', { fin: false });
  m.ws.send('€', { fin: true });
  await m.expectText('fragment €', 'echo of a fragmented text');
  m.ws.send(Buffer.from('ab'), { fin: false });
  m.ws.send(Buffer.alloc(0), { fin: false });
  m.ws.send(Buffer.from('cd'), { fin: true });
  await m.expectBinary(Buffer.from('abcd'), 'echo of a fragmented binary');
  const text = words(10000, 2);
  m.ws.send(`cmd:fragment:5:${text}`);
  await m.expectText(text, 'a text message the server sent in 5 frames');
  m.ws.send('cmd:pattern:1000000:7');
  await m.expectBinary(pattern(1000000), 'a binary message the server sent in 7 frames');
  m.ws.close(1000, 'done');
  expect(await m.closed).toEqual([1000, 'done']);

  // ping: ours is answered; the server's is answered automatically.
  const p = await open(`${base}/wscore/ping`, options);
  const pong = within(new Promise<string>((resolve) => p.ws.once('pong', (d) => resolve(d.toString()))), WAIT, 'the pong');
  const ping = within(new Promise<string>((resolve) => p.ws.once('ping', (d) => resolve(d.toString()))), WAIT, "the server's ping");
  p.ws.ping('node-ping');
  expect(await pong).toBe('node-ping');
  p.ws.send('cmd:ping:srv-ping');
  expect(await ping).toBe('srv-ping');
  await p.expectText('pong:srv-ping', 'the server saw our automatic pong');
  p.ws.close(1000);
  expect((await p.closed)[0]).toBe(1000);

  // client-close: our code and reason come back in the server's close frame.
  const c = await open(`${base}/wscore/client-close`, options);
  c.ws.close(4000, 'client bye');
  expect(await c.closed).toEqual([4000, 'client bye']);

  // server-close and server-going-away: the server's code and reason reach us.
  for (const [path, code, reason] of [['server-close', 4001, 'server bye'], ['server-going-away', 1001, 'going away']] as const) {
    const s = await open(`${base}/wscore/${path}`, options);
    s.ws.send(`cmd:close:${code}:${reason}`);
    expect(await s.closed, path).toEqual([code, reason]);
  }
  return { extensions: m.ws.extensions, compressedFrames: m.compressedFrames };
}
