/**
 * `wscore serve --workers N`: node:cluster workers sharing one port, and with `--redis` one
 * topic across them. The command runs as a real process from the built package (dist/cjs, made
 * by `npm run build:ts`, which `npm ci` runs): cluster forks process.argv[1], so it needs the
 * JavaScript the `wscore` bin runs. Each 101 response names its worker (X-Wscore-Worker),
 * which is how a client here knows it reached the other process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';

import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';

import { main, type CliIO } from '../../src/cli';
import { WebSocket } from '../../src/io';
import { describeWithPeer } from '../interop/peers';
import { freePort, useRedisServer } from '../helpers/redis-server';
import { cleanup, closeEvent, nextMessage, track } from './helpers';

const root = path.resolve(__dirname, '..', '..');
const cliJs = path.join(root, 'dist', 'cjs', 'cli.js');

interface Cli {
  readonly child: ChildProcess;
  readonly port: number;
  output(): string;
  /** SIGTERM to the primary; resolves with its exit code. */
  stop(): Promise<number | null>;
}

const running = new Set<ChildProcess>();
afterEach(async () => {
  await cleanup();
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
});

function spawnCli(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  if (!fs.existsSync(path.join(root, 'dist', 'cjs', 'cli-workers.js'))) throw new Error('dist/cjs is missing or stale: run npm run build:ts');
  const child = spawn(process.execPath, [cliJs, 'serve', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  running.add(child);
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => text, exited };
}

async function startCli(args: string[]): Promise<Cli> {
  const port = await freePort();
  const { child, output, exited } = spawnCli(['--port', String(port), ...args]);
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (/2 workers listening on port \d+/.test(output())) resolve();
    };
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`wscore serve exited (${code}) before listening:\n${output()}`)));
  });
  return {
    child,
    port,
    output,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Opens a client and returns it with the worker id its 101 response named. */
async function openOnWorker(url: string): Promise<{ ws: WebSocket; worker: string }> {
  const ws = track(new WebSocket(url));
  // 'open' follows 'upgrade' in the same turn: listen for both first
  const [[res]] = (await Promise.all([once(ws, 'upgrade'), once(ws, 'open')])) as [[{ headers: Record<string, string | undefined> }], unknown];
  const worker = res.headers['x-wscore-worker'];
  if (worker === undefined) throw new Error('no X-Wscore-Worker header');
  return { ws, worker };
}

/** One open client per worker: connects until both workers have one (round-robin: 2 or 3 tries). */
async function clientPerWorker(url: string): Promise<Map<string, WebSocket>> {
  const found = new Map<string, WebSocket>();
  for (let i = 0; i < 20 && found.size < 2; i++) {
    const { ws, worker } = await openOnWorker(url);
    if (found.has(worker)) ws.terminate();
    else found.set(worker, ws);
  }
  expect(found.size).toBe(2);
  return found;
}

function testIO(): CliIO & { out: () => string } {
  let text = '';
  const sink = new PassThrough();
  sink.on('data', (d: Buffer) => (text += d.toString()));
  return { stdin: new PassThrough(), stdout: sink, stderr: sink, setExitCode: () => undefined, out: () => text };
}

describe('wscore serve --workers', () => {
  it('lists --workers in serve --help, and refuses a bad count', async () => {
    const help = testIO();
    await main(['serve', '--help'], help);
    expect(help.out()).toMatch(/--workers N {4}N processes \(node:cluster\) sharing the port/);
    const bad = testIO();
    let status = 0;
    await main(['serve', '--workers', '0'], { ...bad, setExitCode: (c) => (status = c) });
    expect(bad.out()).toMatch(/--workers takes a count from 1 to 1024, not "0"/);
    expect(status).toBe(2);
  });

  it('--echo: both workers echo on one port; SIGTERM closes their clients and exits 0', async () => {
    const cli = await startCli(['--workers', '2', '--echo']);
    const clients = await clientPerWorker(`ws://127.0.0.1:${cli.port}`);
    for (const [worker, ws] of clients) {
      const reply = nextMessage(ws);
      ws.send(`to worker ${worker}`);
      expect((await reply)[0].toString()).toBe(`to worker ${worker}`);
    }
    const closes = [...clients.values()].map((ws) => closeEvent(ws));
    expect(await cli.stop()).toBe(0);
    // wss.close() in each worker: a close handshake with 1001 (going away), not a cut.
    for (const [code] of await Promise.all(closes)) expect(code).toBe(1001);
  });

  it('replaces a worker that dies after it listened', async () => {
    const cli = await startCli(['--workers', '2', '--echo']);
    const pids = /\(pids (\d+), (\d+)\)/.exec(cli.output())!.slice(1).map(Number);
    process.kill(pids[0]!, 'SIGKILL');
    await new Promise<void>((resolve) => {
      const check = (): void => void (/worker 3 \(pid \d+\) listening/.test(cli.output()) && resolve());
      cli.child.stdout!.on('data', check);
      check();
    });
    expect(cli.output()).toMatch(/worker 1 exited \(signal SIGKILL\); starting another/);
    const seen = new Set<string>();
    for (let i = 0; i < 20 && !seen.has('3'); i++) {
      const { ws, worker } = await openOnWorker(`ws://127.0.0.1:${cli.port}`);
      seen.add(worker);
      const reply = nextMessage(ws);
      ws.send('still there');
      expect((await reply)[0].toString()).toBe('still there');
    }
    expect(seen).toContain('3');
    expect(seen).not.toContain('1');
    expect(await cli.stop()).toBe(0);
  });

  it('stops with exit status 1 when the workers cannot listen (port in use)', async () => {
    const blocker = net.createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const { port } = blocker.address() as net.AddressInfo;
      const { output, exited } = spawnCli(['--port', String(port), '--workers', '2']);
      expect(await exited).toBe(1);
      expect(output()).toMatch(/the port is already in use/);
      expect(output()).toMatch(/exited \(code 1\) before it listened; stopping/);
    } finally {
      blocker.close();
    }
  });
});

describeWithPeer('redis-server', 'wscore serve --workers with --redis', () => {
  const redis = useRedisServer();

  /** Waits until both workers hold the topic's Redis subscription (subscribing is asynchronous). */
  async function untilBothSubscribed(topic: string): Promise<void> {
    const admin = createClient({ url: redis().url });
    await admin.connect();
    try {
      for (;;) {
        const reply = (await admin.sendCommand(['PUBSUB', 'SHARDNUMSUB', `wscore:{${topic}}`])) as [string, number];
        if (Number(reply[1]) === 2) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await admin.close();
    }
  }

  it('a topic spans the workers: clients on different workers get each other\'s publishes', async () => {
    const cli = await startCli(['--workers', '2', '--topic', 'room', '--redis', redis().url]);
    const clients = await clientPerWorker(`ws://127.0.0.1:${cli.port}`);
    await untilBothSubscribed('room');
    const [[w1, a], [w2, b]] = [...clients];
    const atB = nextMessage(b!);
    const atA = nextMessage(a!);
    a!.send(`from worker ${w1}`);
    expect((await atB)[0].toString()).toBe(`from worker ${w1}`);
    expect((await atA)[0].toString()).toBe(`from worker ${w1}`); // its own worker's subscriber too
    const again = nextMessage(a!);
    b!.send(Buffer.from([0, 255, 1]));
    const [data, isBinary] = await again;
    expect([...data]).toEqual([0, 255, 1]);
    expect(isBinary).toBe(true);
    expect(w1).not.toBe(w2);
    expect(await cli.stop()).toBe(0);
  });
});
