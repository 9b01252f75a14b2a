// permessage-deflate against implementations nobody here wrote, byte-level (no sockets):
// ws's PerMessageDeflate (negotiation + its async zlib streams), python-websockets'
// PerMessageDeflate over pipes (test/interop/pmd_peer.py), and zlib-sync's inflater.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { backend, backendName } from '../../src/backend';
import { PerMessageDeflate, type PerMessageDeflateOptions } from '../../src/extensions/permessage-deflate';
import { Opcode } from '../../src/frames/frame';
import { describeWithPeer, peerGate, PYTHON } from '../interop/peers';

const requireHere = createRequire(__filename);
const BIG = 1 << 30;
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

afterAll(() => PerMessageDeflate.releaseSharedStreams());

function json(n: number, seed: number): Buffer {
  const items: string[] = [];
  for (let i = 0, len = 0; len < n; i++) len += items[items.push(`{"id":${i + seed},"sym":"S${(i * seed) % 97}","px":${(i * 31 + seed) % 1000}.5}`) - 1]!.length + 1;
  return Buffer.from(`[${items.join(',')}]`.slice(0, n));
}
const MESSAGES = [json(600, 1), json(600, 1), json(3000, 2), Buffer.alloc(0), json(40, 3)];

// --- ws ---------------------------------------------------------------------------------------

interface WsPmd {
  offer(): Record<string, unknown>;
  accept(configurations: unknown[]): Record<string, unknown>;
  compress(data: Buffer, fin: boolean, cb: (err: Error | null, result?: Buffer) => void): void;
  decompress(data: Buffer, fin: boolean, cb: (err: Error | null, result?: Buffer) => void): void;
  cleanup(): void;
}
const wsDir = path.dirname(requireHere.resolve('ws/package.json'));
const WsPerMessageDeflate = requireHere(path.join(wsDir, 'lib/permessage-deflate.js')) as new (options: object) => WsPmd;
const wsExtension = requireHere(path.join(wsDir, 'lib/extension.js')) as {
  parse(header: string): Record<string, unknown[]>;
  format(extensions: Record<string, unknown[]>): string;
};

/** ws's params object -> our parameter string (the element without its name). */
function wsParamsToString(params: Record<string, unknown>): string {
  return wsExtension.format({ 'permessage-deflate': [params] }).replace(/^permessage-deflate;? ?/, '');
}
function stringToWsConfigs(elements: Array<string | boolean>): unknown[] {
  const header = elements.map((p) => (p === true || p === '' ? 'permessage-deflate' : `permessage-deflate; ${String(p)}`)).join(', ');
  return wsExtension.parse(header)['permessage-deflate']!;
}
const wsCall = (fn: WsPmd['compress'], pmd: WsPmd, data: Buffer, fin: boolean): Promise<Buffer> =>
  new Promise((resolve, reject) => fn.call(pmd, data, fin, (err, out) => (err ? reject(err) : resolve(out!))));

const wsCombos: PerMessageDeflateOptions[] = [];
for (const serverNoContextTakeover of [undefined, true])
  for (const clientNoContextTakeover of [undefined, true])
    for (const serverMaxWindowBits of [undefined, 8, 9, 10, 11, 12, 13, 14, 15])
      for (const clientMaxWindowBits of [true, 8, 9, 10, 11, 12, 13, 14, 15])
        wsCombos.push({ serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits });

describe(`interop with ws's PerMessageDeflate (${backendName})`, () => {
  it('ws client <-> wscore server, every parameter combination', async () => {
    for (const options of wsCombos) {
      const wsClient = new WsPerMessageDeflate({ ...options, isServer: false });
      const server = new PerMessageDeflate({ threshold: 0 });
      const answer = server.accept(wsParamsToString(wsClient.offer()));
      expect(answer).not.toBeNull();
      wsClient.accept(stringToWsConfigs([answer as string | boolean]));
      for (const m of MESSAGES) {
        expect(Buffer.from(server.decompressMessage(await wsCall(wsClient.compress, wsClient, m, true), BIG)).equals(m)).toBe(true);
        expect((await wsCall(wsClient.decompress, wsClient, Buffer.from(server.compressMessage(m)), true)).equals(m)).toBe(true);
      }
      wsClient.cleanup();
      server.dispose();
    }
  });

  it('wscore client <-> ws server, every parameter combination', async () => {
    for (const options of wsCombos) {
      const client = new PerMessageDeflate({ ...options, threshold: 0 });
      const wsServer = new WsPerMessageDeflate({ isServer: true });
      const accepted = wsServer.accept(stringToWsConfigs(client.offers()));
      client.finalize(wsParamsToString(accepted));
      for (const m of MESSAGES) {
        expect((await wsCall(wsServer.decompress, wsServer, Buffer.from(client.compressMessage(m)), true)).equals(m)).toBe(true);
        expect(Buffer.from(client.decompressMessage(await wsCall(wsServer.compress, wsServer, m, true), BIG)).equals(m)).toBe(true);
      }
      // ws compresses fragments with a flush each; our frame hooks take them frame by frame.
      const m = json(5000, 9);
      const parts = [await wsCall(wsServer.compress, wsServer, m.subarray(0, 2000), false), await wsCall(wsServer.compress, wsServer, m.subarray(2000), true)];
      client.frameInboundHeader(Opcode.TEXT, { rsv1: true, rsv2: false, rsv3: false }, parts[0]!.length);
      const got = [client.frameInboundPayloadData(parts[0]!, BIG), client.frameInboundComplete(false, BIG) ?? new Uint8Array(0)];
      client.frameInboundHeader(Opcode.CONT, { rsv1: false, rsv2: false, rsv3: false }, parts[1]!.length);
      got.push(client.frameInboundPayloadData(parts[1]!, BIG), client.frameInboundComplete(true, BIG) ?? new Uint8Array(0));
      expect(Buffer.concat(got).equals(m)).toBe(true);
      wsServer.cleanup();
      client.dispose();
    }
  });
});

// --- python-websockets ------------------------------------------------------------------------

/** One python process, requests answered in order over length-prefixed pipes. */
class PythonPeer {
  private readonly proc = spawn(PYTHON, [path.join(__dirname, '..', 'interop', 'pmd_peer.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
  private buf = Buffer.alloc(0);
  private readonly waiting: Array<(reply: Buffer) => void> = [];
  stderr = '';
  constructor() {
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.proc.stdout.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readUInt32BE(0)) {
        const n = this.buf.readUInt32BE(0);
        const reply = this.buf.subarray(4, 4 + n);
        this.buf = this.buf.subarray(4 + n);
        this.waiting.shift()!(Buffer.from(reply));
      }
    });
  }
  request(cmd: string, ...parts: Array<Uint8Array | number[]>): Promise<Buffer> {
    const body = Buffer.concat([Buffer.from(cmd), ...parts.map((p) => Buffer.from(p))]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    return new Promise((resolve, reject) => {
      this.waiting.push(resolve);
      this.proc.stdin.write(Buffer.concat([head, body]), (err) => err && reject(err));
      this.proc.once('exit', (code) => reject(new Error(`python exited (${String(code)}): ${this.stderr}`)));
    });
  }
  close(): void {
    this.proc.stdin.end();
  }
}

describeWithPeer('python3-websockets', `interop with python-websockets (${backendName})`, () => {
  let py: PythonPeer;
  beforeAll(() => {
    py = new PythonPeer();
  });
  afterAll(() => py?.close());

  it('both directions, both roles, every parameter combination', async () => {
    let pythonCannot8 = 0;
    for (const snct of [false, true])
      for (const cnct of [false, true])
        for (let smwb = 8; smwb <= 15; smwb++)
          for (let cmwb = 8; cmwb <= 15; cmwb++) {
            const response = `${snct ? 'server_no_context_takeover; ' : ''}${cnct ? 'client_no_context_takeover; ' : ''}server_max_window_bits=${smwb}; client_max_window_bits=${cmwb}`;
            for (const role of ['server', 'client'] as const) {
              const ours = new PerMessageDeflate({ threshold: 0 });
              if (role === 'server') expect(ours.accept(response)).toBe(response);
              else ours.finalize(response);
              // python plays the other side: its "local" is the peer of our role.
              const [pyLocalNct, pyRemoteNct, pyLocalBits, pyRemoteBits] = role === 'server' ? [cnct, snct, cmwb, smwb] : [snct, cnct, smwb, cmwb];
              const setup = await py.request('S', Buffer.from(JSON.stringify({
                remote_no_context_takeover: pyRemoteNct,
                local_no_context_takeover: pyLocalNct,
                remote_max_window_bits: pyRemoteBits,
                local_max_window_bits: pyLocalBits,
              })));
              const canCompress = pyLocalBits !== 8; // zlib >= 1.2.9 refuses a raw 256-byte window
              if (setup.toString() !== '+') {
                expect(canCompress, setup.toString()).toBe(false);
                pythonCannot8++;
                // python's encoder cannot exist; decode-only peer for this combination.
                await py.request('S', Buffer.from(JSON.stringify({ remote_no_context_takeover: pyRemoteNct, local_no_context_takeover: true, remote_max_window_bits: pyRemoteBits, local_max_window_bits: 9 })));
              }
              for (const m of MESSAGES) {
                // us -> python
                const c = ours.compressMessage(m);
                const decoded = await py.request('D', [1, Opcode.BINARY, 1], c);
                expect(decoded.subarray(0, 1).toString(), decoded.toString()).toBe('+');
                expect(decoded.subarray(1).equals(m)).toBe(true);
                // python -> us (one frame), then a fragmented message
                if (!canCompress) continue;
                const enc = await py.request('E', [1, Opcode.BINARY], m);
                expect(enc[0]).toBe(1);
                expect(Buffer.from(ours.decompressMessage(enc.subarray(1), BIG)).equals(m)).toBe(true);
              }
              if (canCompress) {
                const m = json(4000, smwb * cmwb);
                const f1 = await py.request('E', [0, Opcode.TEXT], m.subarray(0, 1500));
                const f2 = await py.request('E', [1, Opcode.CONT], m.subarray(1500));
                expect([f1[0], f2[0]]).toEqual([1, 0]);
                expect(Buffer.from(ours.decompressMessage([f1.subarray(1), f2.subarray(1)], BIG)).equals(m)).toBe(true);
              }
              ours.dispose();
            }
          }
    expect(pythonCannot8).toBeGreaterThan(0);
  });
});

// --- zlib-sync --------------------------------------------------------------------------------

interface ZlibSyncInflate {
  push(data: Buffer, flush: number): void;
  readonly result: Buffer | null;
  readonly err: number;
  readonly msg: string | null;
}
type ZlibSync = { Inflate: new (options: { windowBits: number; chunkSize: number }) => ZlibSyncInflate; Z_SYNC_FLUSH: number };

/**
 * zlib-sync is a native package that npm 11 installs without building (dependency install
 * scripts are skipped): build it once here, under a lock (both backend projects run at once).
 */
function loadZlibSync(): ZlibSync | string {
  try {
    return requireHere('zlib-sync') as ZlibSync;
  } catch {
    const dir = path.dirname(requireHere.resolve('zlib-sync/package.json'));
    const gyp = requireHere.resolve('node-gyp/bin/node-gyp.js');
    const nodedir = path.resolve(path.dirname(process.execPath), '..');
    const node = process.execPath;
    const script = `"${node}" -e "require('./build/Release/zlib_sync.node')" 2>/dev/null || "${node}" "${gyp}" rebuild --nodedir="${nodedir}"`;
    const r = spawnSync('flock', ['/tmp/wscore-zlib-sync.lock', 'sh', '-c', script], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
    try {
      return requireHere('zlib-sync') as ZlibSync;
    } catch (err) {
      return `zlib-sync could not be built: ${String(err)} ${r.stderr ?? ''}`.slice(0, 500);
    }
  }
}

const zlibSyncGate = peerGate('build-essential');
describeWithPeer('build-essential', `interop with zlib-sync (${backendName})`, () => {
  const zs = zlibSyncGate.skip ? 'skipped' : loadZlibSync();
  it('inflates what our deflater sends, every window size and context mode', () => {
    if (typeof zs === 'string') throw new Error(zs);
    const large = json(70000, 5);
    for (let windowBits = 8; windowBits <= 15; windowBits++) {
      for (const noContextTakeover of [false, true]) {
        const d = backend.createDeflater({ windowBits, noContextTakeover });
        let inf = new zs.Inflate({ windowBits: -windowBits, chunkSize: 1 << 20 });
        for (const m of [...MESSAGES, large]) {
          if (noContextTakeover) inf = new zs.Inflate({ windowBits: -windowBits, chunkSize: 1 << 20 });
          inf.push(Buffer.concat([d.deflate(m, true), TAIL]), zs.Z_SYNC_FLUSH);
          expect(inf.err, String(inf.msg)).toBe(0);
          expect(inf.result!.equals(m)).toBe(true);
        }
        d.close();
      }
    }
  });
}, zlibSyncGate);
