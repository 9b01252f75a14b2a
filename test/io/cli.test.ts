/**
 * The `wscore` command, run in-process with test streams: serve, connect (wscat-like), and
 * the exit status mapping.
 */
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { connectCommand, exitStatusFor, main, serveCommand, type CliIO } from '../../src/cli';
import { WebSocket } from '../../src/io';
import { cleanup, nextMessage, openClient, startServer, track } from './helpers';

afterEach(cleanup);

function testIO(): CliIO & { out: () => string; stdinStream: PassThrough; code: () => number | undefined } {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stdout.on('data', (d: Buffer) => (text += d.toString()));
  stderr.on('data', (d: Buffer) => (text += d.toString()));
  let exit: number | undefined;
  return {
    stdin,
    stdout,
    stderr,
    setExitCode: (c) => (exit = c),
    out: () => text,
    stdinStream: stdin,
    code: () => exit,
  };
}

describe('wscore CLI', () => {
  it('maps close codes to exit statuses', () => {
    expect(exitStatusFor(1000)).toBe(0);
    expect(exitStatusFor(1001)).toBe(1);
    expect(exitStatusFor(1006)).toBe(6);
    expect(exitStatusFor(1011)).toBe(11);
    expect(exitStatusFor(4000)).toBe(1);
  });

  it('serve --echo prints the URL and the backend, and echoes', async () => {
    const io = testIO();
    const wss = track(await serveCommand(['--port', '0', '--host', '127.0.0.1', '--echo'], io));
    const port = (wss.address() as AddressInfo).port;
    expect(io.out()).toContain(`ws://127.0.0.1:${port}/`);
    expect(io.out()).toContain(`backend: ${backendName}`);
    const ws = await openClient(`ws://127.0.0.1:${port}`);
    ws.send('ping me');
    expect((await nextMessage(ws))[0].toString()).toBe('ping me');
  });

  it('serve --broadcast --deflate sends every message to every client', async () => {
    const io = testIO();
    const wss = track(await serveCommand(['--port', '0', '--broadcast', '--deflate'], io));
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const a = await openClient(url);
    const b = await openClient(url);
    expect(a.extensions).toMatch(/permessage-deflate/);
    const got = nextMessage(b);
    a.send('to all');
    expect((await got)[0].toString()).toBe('to all');
  });

  it('connect sends typed lines, prints messages as JSON, and exits with the close code', async () => {
    const { wss, url } = await startServer();
    const headers: Array<string | undefined> = [];
    wss.on('connection', (ws, req) => {
      headers.push(req.headers['x-test'] as string | undefined, req.headers['sec-websocket-protocol']);
      ws.on('message', (data) => {
        const text = (data as Buffer).toString();
        if (text === 'quit') ws.close(1001, 'bye');
        else ws.send(`you said ${text}`);
      });
    });
    const io = testIO();
    const done = connectCommand([url, '-H', 'X-Test: 1', '-s', 'chat', '--json'], io);
    io.stdinStream.write('hello\n');
    // Wait for the echo before ending the session.
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (io.out().includes('you said hello')) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    io.stdinStream.write('quit\n');
    const ws = await done;
    expect(ws).toBeInstanceOf(WebSocket);
    const lines = io.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ type: 'open', protocol: 'chat' });
    expect(lines).toContainEqual({ type: 'message', binary: false, data: 'you said hello' });
    expect(lines.at(-1)).toEqual({ type: 'close', code: 1001, reason: 'bye' });
    expect(io.code()).toBe(1);
    expect(headers).toEqual(['1', 'chat']);
  });

  it('connect closes normally (exit 0) at the end of input', async () => {
    const { url } = await startServer();
    const io = testIO();
    const done = connectCommand([url], io);
    io.stdinStream.end();
    await done;
    expect(io.out()).toContain('disconnected (code 1000)');
    expect(io.code()).toBe(0);
  });

  it('connect reports a refused connection with status 1', async () => {
    const io = testIO();
    expect(await connectCommand(['ws://127.0.0.1:1'], io)).toBeNull();
    expect(io.out()).toMatch(/error: .*ECONNREFUSED/);
    expect(io.code()).toBe(1);
  });

  it('prints usage for help and fails on an unknown command', async () => {
    const write = process.stdout.write;
    const errWrite = process.stderr.write;
    let text = '';
    process.stdout.write = ((s: string) => ((text += s), true)) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => ((text += s), true)) as typeof process.stderr.write;
    const before = process.exitCode;
    try {
      await main(['--help']);
      await main(['nope']);
      expect(process.exitCode).toBe(2);
    } finally {
      process.stdout.write = write;
      process.stderr.write = errWrite;
      process.exitCode = before;
    }
    expect(text).toContain('wscore serve');
    expect(text).toContain('unknown command');
  });
});
