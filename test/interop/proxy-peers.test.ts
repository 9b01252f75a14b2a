/**
 * The client through real proxy servers from Debian: tinyproxy (HTTP CONNECT, with
 * BasicAuth) and Dante's danted (SOCKS5, no authentication: its username method checks
 * system accounts, so RFC 1929 is tested against test/helpers/proxies.ts instead). Each is
 * started by the test on a free port with a config written for it, and killed after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, expect, it } from 'vitest';

import { connect, isRetryable, ProxyStatusError, type WebSocket } from '../../src/io';
import { cleanup, startServer, track } from '../io/helpers';
import { DANTED, describeWithPeer, TINYPROXY } from './peers';

afterEach(cleanup);

const dir = mkdtempSync(join(tmpdir(), 'wscore-proxies-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill();
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `command args` and resolves once `port` accepts connections (rejects if it exits). */
async function startDaemon(command: string, args: string[], port: number): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${command} exited: ${stderr}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function echoServer(): Promise<string> {
  const { wss, port } = await startServer();
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data as Buffer, { binary: false })));
  return `ws://localhost:${port}/`;
}

async function echo(ws: WebSocket, text: string): Promise<string> {
  ws.send(text);
  return String(await ws.recv());
}

describeWithPeer('tinyproxy', 'through tinyproxy (HTTP CONNECT)', () => {
  it('tunnels with BasicAuth credentials; without them it is a 407 ProxyStatusError', async () => {
    const port = await freePort();
    const config = join(dir, 'tinyproxy.conf');
    // No ConnectPort line: CONNECT to any port is allowed (the default config allows 443 and 563).
    writeFileSync(config, `Port ${port}\nListen 127.0.0.1\nTimeout 60\nAllow 127.0.0.1\nBasicAuth alice s3cret\nLogLevel Critical\n`);
    await startDaemon(TINYPROXY, ['-d', '-c', config], port);
    const url = await echoServer();
    const ws = track(await connect(url, { proxy: `http://alice:s3cret@127.0.0.1:${port}` }));
    expect(await echo(ws, 'via tinyproxy')).toBe('via tinyproxy');
    const err = await connect(url, { proxy: `http://127.0.0.1:${port}` }).then(
      (w) => (track(w), null),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProxyStatusError);
    expect([(err as ProxyStatusError).statusCode, isRetryable(err as Error)]).toEqual([407, false]);
  });
});

describeWithPeer('dante-server', 'through Dante (SOCKS5)', () => {
  it('tunnels with socks5: (name resolved here) and socks5h: (name resolved by danted)', async () => {
    const port = await freePort();
    const config = join(dir, 'danted.conf');
    const root = process.getuid?.() === 0;
    writeFileSync(
      config,
      [
        'logoutput: stderr',
        `internal: 127.0.0.1 port = ${port}`,
        'external: 127.0.0.1',
        'clientmethod: none',
        'socksmethod: none',
        ...(root ? ['user.privileged: root', 'user.unprivileged: nobody'] : []),
        'client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }',
        'socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }',
        '',
      ].join('\n'),
    );
    await startDaemon(DANTED, ['-f', config, '-N', '1'], port);
    const url = await echoServer();
    for (const scheme of ['socks5', 'socks5h']) {
      const ws = track(await connect(url, { proxy: `${scheme}://127.0.0.1:${port}`, family: 4 }));
      expect(await echo(ws, scheme)).toBe(scheme);
    }
  });
});
