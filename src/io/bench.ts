/**
 * `wscore bench`: a short self-benchmark on loopback — the backend's kernels, then echo
 * round trips of small and large messages between a wscore client and a wscore server in
 * this process. A smoke measurement for a user's machine, not the comparison of
 * docs/benchmarks.md (that one runs peers in separate processes on pinned cores).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import { backend, backendName } from '../backend';
import { WebSocketServer } from './server';
import { WebSocket } from './websocket';

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Seconds per measurement (default 1). */
  seconds?: number;
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
}

function rate(n: number, ms: number): string {
  const perSec = (n * 1000) / ms;
  return perSec >= 1e6 ? `${(perSec / 1e6).toFixed(2)} M` : perSec >= 1e3 ? `${(perSec / 1e3).toFixed(1)} k` : perSec.toFixed(0);
}

function kernel(name: string, seconds: number, size: number, fn: () => void): string {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < seconds * 250) {
    fn();
    n++;
  }
  const ms = performance.now() - start;
  return `  ${name.padEnd(28)} ${((n * size) / ms / 1e3).toFixed(0)} MB/s`;
}

/** Echo round trips of `payload` for about `seconds`, `window` messages in flight. */
async function echo(url: string, payload: Buffer, window: number, seconds: number): Promise<{ n: number; ms: number }> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await once(ws, 'open');
  let received = 0;
  let sent = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await new Promise<void>((resolve) => {
    // Keep about `window` messages in flight: refill when half of them came back, so the
    // sends of one refill leave in one write.
    const refill = (): void => {
      while (sent - received < window) {
        ws.send(payload);
        sent++;
      }
    };
    ws.on('message', () => {
      received++;
      if (performance.now() >= deadline) {
        if (received === sent) resolve();
      } else if (sent - received <= window / 2) {
        refill();
      }
    });
    refill();
  });
  const ms = performance.now() - start;
  ws.close();
  await once(ws, 'close');
  return { n: received, ms };
}

/** Runs the benchmark and prints a few lines. */
export async function runBench(options: BenchOptions = {}): Promise<void> {
  const seconds = options.seconds && options.seconds > 0 ? options.seconds : 1;
  const log = options.log ?? ((line: string) => console.log(line));
  log(`wscore bench — backend: ${backendName}, node ${process.version}, ${process.platform}-${process.arch}`);
  log('kernels (1 MiB buffers):');
  const big = Buffer.alloc(1 << 20, 'abcdefghij');
  const key = Buffer.from([1, 2, 3, 4]);
  log(kernel('mask', seconds, big.length, () => backend.unmask(big, key)));
  backend.unmask(big, key);
  log(kernel('utf8 validation', seconds, big.length, () => backend.isUtf8(big)));

  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  try {
    log('echo round trips (client and server in this process):');
    const small = await echo(url, Buffer.alloc(16, 1), 1000, seconds);
    log(`  ${'16 B messages'.padEnd(28)} ${rate(small.n, small.ms)} msg/s`);
    const large = await echo(url, Buffer.alloc(64 * 1024, 2), 32, seconds);
    log(`  ${'64 KiB messages'.padEnd(28)} ${rate(large.n, large.ms)} msg/s, ${((large.n * 64 * 1024) / large.ms / 1e3).toFixed(0)} MB/s`);
  } finally {
    await wss.close();
  }
}
