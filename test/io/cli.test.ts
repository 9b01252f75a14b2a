/**
 * The `wscore` command, run in-process with test streams: serve, connect (wscat-like), and
 * the exit status mapping.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

  it('prints usage for --help and fails on an unknown command with status 2', async () => {
    const help = testIO();
    await main(['--help'], help);
    expect(help.out()).toContain('wscore serve');
    expect(help.out()).toContain('wscore --version');
    expect(help.code()).toBeUndefined();
    const unknown = testIO();
    await main(['nope'], unknown);
    expect(unknown.out()).toContain('unknown command "nope"');
    expect(unknown.code()).toBe(2);
  });

  it('prints the help of a command, without running it', async () => {
    for (const [command, option] of [['serve', '--verbose'], ['connect', '--subprotocol'], ['bench', '--seconds']] as const) {
      const io = testIO();
      await main([command, '--port', '1', '--help'], io);
      expect(io.out(), command).toMatch(new RegExp(`^wscore ${command} `));
      expect(io.out(), command).toContain(option);
      expect(io.code(), command).toBeUndefined();
    }
  });

  it('prints the version of the package', async () => {
    const io = testIO();
    await main(['--version'], io);
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(io.out()).toBe(`${pkg.version}\n`);
    expect(io.code()).toBeUndefined();
  });

  it('a port in use is one line of error and status 1, not the usage text', async () => {
    const { port } = await startServer();
    const io = testIO();
    await main(['serve', '--port', String(port), '--host', '127.0.0.1'], io);
    expect(io.out()).toBe(`wscore serve: cannot listen on 127.0.0.1:${port}: the port is already in use (EADDRINUSE)\n`);
    expect(io.code()).toBe(1);
  });

  it('a bad option is a usage error: the message, the command\'s usage, status 2', async () => {
    const io = testIO();
    await main(['serve', '--port', 'eighty'], io);
    expect(io.out()).toMatch(/^wscore serve: invalid port eighty\nwscore serve \[options\]/);
    expect(io.code()).toBe(2);
    const unknown = testIO();
    await main(['serve', '--colour'], unknown);
    expect(unknown.out()).toContain("Unknown option '--colour'");
    expect(unknown.code()).toBe(2);
  });

  it('serve --verbose logs each connection as it opens and closes', async () => {
    const io = testIO();
    const wss = track(await serveCommand(['--port', '0', '--verbose'], io));
    const served = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const ws = await openClient(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/room`);
    ws.close(4000, 'done');
    // The server side's 'close' (which the log line follows) has happened once it is closed.
    await (await served).closed;
    const lines = io.out().trim().split('\n').slice(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^open 127\.0\.0\.1:\d+ \/room$/);
    expect(lines[1]).toMatch(/^close 127\.0\.0\.1:\d+ 4000 done$/);
    expect(lines[0]!.split(' ')[1]).toBe(lines[1]!.split(' ')[1]);
  });
});
