/**
 * permessage-deflate (RFC 7692) over real sockets with implementations nobody here wrote:
 * Python websockets (which implements every parameter of §7.1) and ws (npm), both
 * directions, over a matrix of parameters: server_no_context_takeover,
 * client_no_context_takeover, server_max_window_bits and client_max_window_bits (with a
 * value, and offered without one), window bits 8, 9, 10, 11, 15, parameters asked by the
 * client and imposed by the server, and a declined first offer (our §5 fallback).
 *
 * Each case echoes the same messages both ways (large text with repeats at every distance,
 * the same message twice, tiny, empty, binary, fragmented) with threshold 0, so everything
 * either side can compress is compressed; a compressor that used more window or more context
 * than agreed would emit data the peer's inflater rejects. The tests also check that the
 * response carries the expected parameters, that the peer agrees on them, and that the
 * messages really crossed compressed (RSV1 counts, or byte counts for ws).
 *
 * Window bits 8 on the Python side's compressor is not in the matrix: Python's zlib refuses
 * a raw deflate stream with an 8-bit window ("Invalid initialization option"), so
 * websockets cannot compress with it. Our compressor at 8 is tested against both peers'
 * inflaters, and ws's compressor at 8 (Node's zlib uses 9 for it) against ours.
 */
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';

import { afterAll, describe, expect, it } from 'vitest';
import WS, { WebSocketServer as WSServer, type PerMessageDeflateOptions as WSDeflateOptions } from 'ws';

import type { PerMessageDeflateOptions } from '../../src/io';
import { open } from './client-scenarios';
import { pattern, runPeer, ScenarioServer, startPythonServer, within, words, type PeerLine, type PythonPeer } from './helpers';
import { describeWithPeer } from './peers';

const PEER = 'websockets_peer.py';

/** The messages of a case, mirrored from pmd_messages() in websockets_peer.py. */
function pmdMessages(seed: number): Array<string | Buffer | string[]> {
  const big = words(200_000, seed);
  return [big, big, 'hi', '', Buffer.from(words(3000, seed + 1)), pattern(70000), [words(5000, seed + 2), '-', words(7000, seed + 3)]];
}

function messageBytes(messages: ReturnType<typeof pmdMessages>): number {
  return messages.reduce<number>((n, m) => n + (Array.isArray(m) ? Buffer.byteLength(m.join('')) : Buffer.byteLength(m)), 0);
}

/** The parameters of a Sec-WebSocket-Extensions value, sorted ("name" or "name=value"). */
function params(header: string | null | undefined): string[] | null {
  if (header === null || header === undefined || header === '') return null;
  const [name, ...rest] = header.split(';').map((p) => p.trim().replace(/\s*=\s*/, '='));
  expect(name).toBe('permessage-deflate');
  return rest.sort();
}

/** What an endpoint should believe was agreed, from the response parameters. */
function expectedView(response: string[], role: 'client' | 'server'): Record<string, unknown> {
  const bits = (name: string): number => Number(response.find((p) => p.startsWith(`${name}=`))?.split('=')[1] ?? 15);
  const server = { nct: response.includes('server_no_context_takeover'), bits: bits('server_max_window_bits') };
  const client = { nct: response.includes('client_no_context_takeover'), bits: bits('client_max_window_bits') };
  const [local, remote] = role === 'client' ? [client, server] : [server, client];
  return {
    local_no_context_takeover: local.nct,
    local_max_window_bits: local.bits,
    remote_no_context_takeover: remote.nct,
    remote_max_window_bits: remote.bits,
  };
}

/** Sends the messages with our client and checks the echoes; returns the compressed count. */
async function exchangeAsClient(url: string, ours: PerMessageDeflateOptions, seed: number): Promise<{ extensions: string; compressedFrames: number }> {
  const inbox = await open(url, { perMessageDeflate: { threshold: 0, ...ours } });
  for (const [i, msg] of pmdMessages(seed).entries()) {
    if (Array.isArray(msg)) {
      msg.forEach((piece, j) => inbox.ws.send(piece, { fin: j === msg.length - 1 }));
      await inbox.expectText(msg.join(''), `echo of message ${i} (fragmented)`);
    } else {
      inbox.ws.send(msg);
      if (typeof msg === 'string') await inbox.expectText(msg, `echo of message ${i}`);
      else await inbox.expectBinary(msg, `echo of message ${i}`);
    }
  }
  inbox.ws.close(1000);
  expect((await inbox.closed)[0]).toBe(1000);
  return { extensions: inbox.ws.extensions, compressedFrames: inbox.compressedFrames };
}

interface Case<Peer> {
  name: string;
  /** Our options (threshold 0 is added). */
  ours: PerMessageDeflateOptions;
  /** The peer's options. */
  peer: Peer;
  /** The response's parameters, sorted; null: no permessage-deflate. */
  response: string[] | null;
}

const servers: ScenarioServer[] = [];
const peers: PythonPeer[] = [];
const wsServers: WSServer[] = [];
afterAll(async () => {
  for (const p of peers) p.kill();
  for (const s of wsServers) {
    for (const c of s.clients) c.terminate();
    s.close();
  }
  await Promise.all(servers.map((s) => s.close()));
});

// --- Python websockets ----------------------------------------------------------------------

/** ClientPerMessageDeflateFactory arguments. */
type PyClientFactory = Record<string, boolean | number | null>;

describeWithPeer('python3-websockets', 'permessage-deflate with Python websockets', () => {
  describe('a websockets client (ClientPerMessageDeflateFactory) against our server', () => {
    const cases: Array<Case<PyClientFactory>> = [
      { name: 'defaults (client offers client_max_window_bits without a value)', ours: {}, peer: {}, response: [] },
      {
        name: 'client asks server_ and client_no_context_takeover',
        ours: {},
        peer: { server_no_context_takeover: true, client_no_context_takeover: true },
        response: ['client_no_context_takeover', 'server_no_context_takeover'],
      },
      {
        name: 'client asks server_max_window_bits=8, client_max_window_bits=9',
        ours: {},
        peer: { server_max_window_bits: 8, client_max_window_bits: 9 },
        response: ['client_max_window_bits=9', 'server_max_window_bits=8'],
      },
      {
        name: 'our server imposes every parameter (windows 9 and 10)',
        ours: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 10 },
        peer: {},
        response: ['client_max_window_bits=10', 'client_no_context_takeover', 'server_max_window_bits=9', 'server_no_context_takeover'],
      },
      {
        name: 'client_max_window_bits without a value, limited by our server to 11; server_no_context_takeover',
        ours: { clientMaxWindowBits: 11 },
        peer: { server_no_context_takeover: true, client_max_window_bits: true },
        response: ['client_max_window_bits=11', 'server_no_context_takeover'],
      },
      {
        name: 'windows of 15 both ways (our compressor at 15 too)',
        ours: { zlibDeflateOptions: { windowBits: 15 } },
        peer: { server_max_window_bits: 15, client_max_window_bits: 15 },
        response: ['client_max_window_bits=15', 'server_max_window_bits=15'],
      },
    ];
    it.each(cases.map((c, i) => [c.name, c, i + 1] as const))('%s', async (_name, c, seed) => {
      const server = await ScenarioServer.start({ perMessageDeflate: { threshold: 0, ...c.ours } });
      servers.push(server);
      const [line] = await runPeer(PEER, ['pmd-client', server.url, '--config', JSON.stringify({ factory: c.peer, seed })]);
      expect(line!.failures).toEqual([]);
      expect(params(line!.response as string)).toEqual(c.response);
      const rec = await server.closedConnection('/websockets/pmd');
      expect(params(rec.extensions)).toEqual(c.response);
      expect(line!.agreed).toMatchObject(expectedView(c.response!, 'client'));
      // Every message crossed compressed both ways: websockets compresses all of them, and so
      // do we with threshold 0 (our echo of the fragmented one is a single frame).
      const n = line!.messages as number;
      expect(rec.compressedFrames, 'compressed messages we received').toBe(n);
      expect((line!.agreed as Record<string, number>).compressed_in, 'compressed messages websockets received').toBe(n);
    });
  });

  describe('our client against a websockets server (ServerPerMessageDeflateFactory)', () => {
    const cases: Array<Case<PyClientFactory>> = [
      { name: 'defaults', ours: {}, peer: {}, response: [] },
      {
        name: 'we ask server_ and client_no_context_takeover',
        ours: { serverNoContextTakeover: true, clientNoContextTakeover: true },
        peer: {},
        response: ['client_no_context_takeover', 'server_no_context_takeover'],
      },
      {
        name: 'we ask server_max_window_bits=9 and promise client_max_window_bits=8',
        ours: { serverMaxWindowBits: 9, clientMaxWindowBits: 8 },
        peer: {},
        response: ['client_max_window_bits=8', 'server_max_window_bits=9'],
      },
      {
        name: 'the server imposes every parameter (windows 10 and 9)',
        ours: {},
        peer: { server_no_context_takeover: true, client_no_context_takeover: true, server_max_window_bits: 10, client_max_window_bits: 9 },
        response: ['client_max_window_bits=9', 'client_no_context_takeover', 'server_max_window_bits=10', 'server_no_context_takeover'],
      },
      {
        name: 'windows of 15 both ways (our compressor at 15 too)',
        ours: { serverMaxWindowBits: 15, clientMaxWindowBits: 15, zlibDeflateOptions: { windowBits: 15 } },
        peer: {},
        response: ['client_max_window_bits=15', 'server_max_window_bits=15'],
      },
      {
        name: 'the server requires client_max_window_bits, we do not offer it: no compression',
        ours: { clientMaxWindowBits: false },
        peer: { client_max_window_bits: 10, require_client_max_window_bits: true },
        response: null,
      },
    ];
    it.each(cases.map((c, i) => [c.name, c, i + 1] as const))('%s', async (_name, c, seed) => {
      const { peer, url } = await startPythonServer(PEER, ['server', '--config', JSON.stringify({ factory: c.peer })]);
      peers.push(peer);
      const result = await exchangeAsClient(`${url}/wscore/pmd`, c.ours, seed);
      const line: PeerLine = await peer.waitFor((l) => l.event === 'closed', 10_000, 'the report of the connection');
      expect(params(result.extensions)).toEqual(c.response);
      expect(params(line.response as string | null)).toEqual(c.response);
      const n = pmdMessages(seed).length;
      if (c.response === null) {
        expect(line.agreed).toBeNull();
        expect(result.compressedFrames).toBe(0);
      } else {
        expect(line.agreed).toMatchObject(expectedView(c.response, 'server'));
        // We compress whole messages only: the fragmented one goes out uncompressed.
        expect((line.agreed as Record<string, number>).compressed_in, 'compressed messages websockets received').toBe(n - 1);
        expect(result.compressedFrames, 'compressed messages we received').toBe(n);
      }
      const { code } = await peer.finish();
      expect(code, peer.report()).toBe(0);
    });
  });
});

// --- ws (npm) ----------------------------------------------------------------------------------

/** Echoes the messages through `client` (a ws client); checks every echo. */
async function exchangeWithWsClient(client: WS, seed: number): Promise<void> {
  const queue: Array<[Buffer, boolean]> = [];
  let wake: (() => void) | null = null;
  let closed: string | null = null;
  client.on('message', (data, isBinary) => {
    queue.push([data as Buffer, isBinary]);
    wake?.();
  });
  client.on('close', (code, reason) => {
    closed = `${code} ${reason.toString()}`;
    wake?.();
  });
  const next = (): Promise<[Buffer, boolean]> =>
    within(
      (async () => {
        while (queue.length === 0) {
          if (closed !== null) throw new Error(`closed (${closed}) while an echo was awaited`);
          await new Promise<void>((resolve) => (wake = resolve));
        }
        return queue.shift()!;
      })(),
      20_000,
      'an echo from our server',
    );
  for (const [i, msg] of pmdMessages(seed).entries()) {
    if (Array.isArray(msg)) msg.forEach((piece, j) => client.send(piece, { fin: j === msg.length - 1 }));
    else client.send(msg);
    const want = Array.isArray(msg) ? Buffer.from(msg.join('')) : Buffer.from(msg);
    const [data, isBinary] = await next();
    expect(isBinary, `message ${i}`).toBe(Buffer.isBuffer(msg));
    expect(data.equals(want), `echo of message ${i}: ${data.length} bytes, want ${want.length}`).toBe(true);
  }
}

describe('a ws client against our server', () => {
  const cases: Array<Case<WSDeflateOptions>> = [
    { name: 'defaults', ours: {}, peer: {}, response: [] },
    {
      name: 'client asks server_ and client_no_context_takeover',
      ours: {},
      peer: { serverNoContextTakeover: true, clientNoContextTakeover: true },
      response: ['client_no_context_takeover', 'server_no_context_takeover'],
    },
    {
      name: 'client asks server_max_window_bits=8, client_max_window_bits=9',
      ours: {},
      peer: { serverMaxWindowBits: 8, clientMaxWindowBits: 9 },
      response: ['client_max_window_bits=9', 'server_max_window_bits=8'],
    },
    {
      name: 'our server imposes every parameter (ws compresses with a window of 8)',
      ours: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 8 },
      peer: {},
      response: ['client_max_window_bits=8', 'client_no_context_takeover', 'server_max_window_bits=10', 'server_no_context_takeover'],
    },
    {
      name: 'windows of 15 both ways (our compressor at 15 too)',
      ours: { zlibDeflateOptions: { windowBits: 15 } },
      peer: { serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
      response: ['client_max_window_bits=15', 'server_max_window_bits=15'],
    },
  ];
  it.each(cases.map((c, i) => [c.name, c, i + 1] as const))('%s', async (_name, c, seed) => {
    const server = await ScenarioServer.start({ perMessageDeflate: { threshold: 0, ...c.ours } });
    servers.push(server);
    const client = new WS(`${server.url}/ws/pmd`, { perMessageDeflate: { threshold: 0, ...c.peer } });
    let socket: Socket | null = null;
    let response: string | undefined;
    client.on('upgrade', (res) => {
      socket = res.socket;
      response = res.headers['sec-websocket-extensions'];
    });
    client.on('error', () => undefined); // shows up as a failed echo or close code
    await within(once(client, 'open'), 10_000, 'the ws client to open');
    // ws's `extensions` holds only the names: read the response header itself.
    expect(params(response)).toEqual(c.response);
    await exchangeWithWsClient(client, seed);
    client.close(1000);
    const rec = await server.closedConnection('/ws/pmd');
    expect(rec.close?.code).toBe(1000);
    expect(params(rec.extensions)).toEqual(c.response);
    const n = pmdMessages(seed).length;
    expect(rec.compressedFrames, 'compressed messages we received').toBe(n);
    // ws cannot tell which frames were compressed; the bytes on the wire can.
    const payload = messageBytes(pmdMessages(seed));
    expect(socket).not.toBeNull();
    expect((socket as Socket | null)!.bytesRead, 'bytes ws received').toBeLessThan(payload / 2);
  });
});

describe('our client against a ws server', () => {
  const cases: Array<Case<WSDeflateOptions>> = [
    { name: 'defaults', ours: {}, peer: {}, response: [] },
    {
      name: 'we ask server_ and client_no_context_takeover',
      ours: { serverNoContextTakeover: true, clientNoContextTakeover: true },
      peer: {},
      response: ['client_no_context_takeover', 'server_no_context_takeover'],
    },
    {
      name: 'we ask server_max_window_bits=8 and promise client_max_window_bits=9',
      ours: { serverMaxWindowBits: 8, clientMaxWindowBits: 9 },
      peer: {},
      response: ['client_max_window_bits=9', 'server_max_window_bits=8'],
    },
    {
      name: 'the server imposes every parameter (we compress with a window of 8)',
      ours: {},
      peer: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 8 },
      response: ['client_max_window_bits=8', 'client_no_context_takeover', 'server_max_window_bits=10', 'server_no_context_takeover'],
    },
    {
      name: 'windows of 15 both ways (our compressor at 15 too)',
      ours: { serverMaxWindowBits: 15, clientMaxWindowBits: 15, zlibDeflateOptions: { windowBits: 15 } },
      peer: {},
      response: ['client_max_window_bits=15', 'server_max_window_bits=15'],
    },
    {
      name: 'the server declines our first offer (server_no_context_takeover): the fallback offer is taken',
      ours: { serverNoContextTakeover: true },
      peer: { serverNoContextTakeover: false },
      response: [],
    },
  ];
  it.each(cases.map((c, i) => [c.name, c, i + 1] as const))('%s', async (_name, c, seed) => {
    const server = new WSServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0, ...c.peer } });
    wsServers.push(server);
    await within(once(server, 'listening'), 5_000, 'the ws server to listen');
    let socket: Socket | null = null;
    const closed = new Promise<number>((resolve) => {
      server.on('connection', (ws, req) => {
        socket = req.socket;
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
        ws.on('close', (code) => resolve(code));
      });
    });
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/wscore/pmd`;
    const result = await exchangeAsClient(url, c.ours, seed);
    expect(params(result.extensions)).toEqual(c.response);
    expect(await within(closed, 10_000, 'the ws server to see the close')).toBe(1000);
    const n = pmdMessages(seed).length;
    expect(result.compressedFrames, 'compressed messages we received').toBe(n);
    expect((socket as Socket | null)!.bytesRead, 'bytes ws received').toBeLessThan(messageBytes(pmdMessages(seed)) / 2);
  });
});
