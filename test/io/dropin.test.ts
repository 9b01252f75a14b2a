/**
 * Drop-in: typical snippets from ws's documentation, written once against a `lib` object and
 * run with `lib = ws` and `lib = wscore`. Only the import differs; the observed behaviour
 * must be the same.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';
import * as ws from 'ws';

import * as wscore from '../../src/io';
import { cleanup, track } from './helpers';

afterEach(cleanup);

/* eslint-disable @typescript-eslint/no-explicit-any -- the snippets are untyped ws code */
type Lib = { WebSocket: any; WebSocketServer: any };
// ws's CommonJS entry, which is what `require('ws')` code sees (with WebSocket.Server).
const wsCjs = createRequire(import.meta.url)('ws') as typeof ws;
const libs: Array<[string, Lib]> = [
  ['ws', { WebSocket: wsCjs, WebSocketServer: wsCjs.WebSocketServer } as unknown as Lib],
  ['wscore', wscore as unknown as Lib],
];

function port(server: { address(): unknown }): number {
  return (server.address() as AddressInfo).port;
}

/** ws README: "Simple server" + "Sending and receiving text data" client. */
async function echoSnippet({ WebSocket, WebSocketServer }: Lib): Promise<string[]> {
  const log: string[] = [];
  const wss = track(new WebSocketServer({ port: 0, host: '127.0.0.1' }));
  await once(wss, 'listening');
  wss.on('connection', function connection(socket: any) {
    socket.on('error', console.error);
    socket.on('message', function message(data: any) {
      log.push(`server received: ${data}`);
      socket.send(`echo ${data}`);
    });
    socket.send('something');
  });
  const client = track(new WebSocket(`ws://127.0.0.1:${port(wss)}/path`));
  client.on('error', console.error);
  client.on('open', function open() {
    client.send('hello');
  });
  await new Promise<void>((resolve) => {
    client.on('message', function message(data: any) {
      log.push(`client received: ${data}`);
      if (String(data).startsWith('echo')) client.close();
    });
    client.on('close', function close(code: number) {
      log.push(`closed ${code}`);
      resolve();
    });
  });
  return log;
}

/** ws README: "Server broadcast" to every other client. */
async function broadcastSnippet({ WebSocket, WebSocketServer }: Lib): Promise<string[]> {
  const wss = track(new WebSocketServer({ port: 0, host: '127.0.0.1' }));
  await once(wss, 'listening');
  wss.on('connection', function connection(socket: any) {
    socket.on('error', console.error);
    socket.on('message', function message(data: any, isBinary: boolean) {
      wss.clients.forEach(function each(client: any) {
        if (client !== socket && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
      });
    });
  });
  const url = `ws://127.0.0.1:${port(wss)}`;
  const clients = [0, 1, 2].map(() => track(new WebSocket(url)));
  await Promise.all(clients.map((c) => once(c, 'open')));
  await new Promise((r) => setTimeout(r, 20));
  const got: string[] = [];
  const done = Promise.all(
    clients.slice(1).map((c, i) => new Promise<void>((resolve) => c.once('message', (d: any, isBinary: boolean) => resolve(void got.push(`${i + 1}:${d}:${isBinary}`))))),
  );
  clients[0].send('to everyone else');
  await done;
  return got.sort();
}

/** ws README: "Client authentication" with noServer and an http server. */
async function noServerSnippet({ WebSocket, WebSocketServer }: Lib): Promise<string[]> {
  const log: string[] = [];
  function onSocketError(err: Error): void {
    console.error(err);
  }
  function authenticate(request: IncomingMessage, next: (err: Error | null, client?: string) => void): void {
    const token = request.headers.authorization;
    if (token === 'Bearer good') next(null, 'alice');
    else next(new Error('denied'));
  }
  const server = track(createServer());
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', function connection(socket: any, request: IncomingMessage, client: string) {
    socket.on('error', console.error);
    socket.on('message', function message(data: any) {
      log.push(`Received message ${data} from user ${client}`);
      socket.close(1000);
    });
  });
  server.on('upgrade', function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', onSocketError);
    authenticate(request, function next(err, client) {
      if (err || !client) {
        socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
        socket.destroy();
        return;
      }
      socket.removeListener('error', onSocketError);
      wss.handleUpgrade(request, socket, head, function done(s: any) {
        wss.emit('connection', s, request, client);
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `ws://127.0.0.1:${port(server)}`;
  const denied = new WebSocket(url, { headers: { Authorization: 'Bearer bad' } });
  await new Promise<void>((resolve) => {
    denied.on('error', (e: Error) => log.push(`denied: ${e.message}`));
    denied.on('close', () => resolve());
  });
  const good = new WebSocket(url, { headers: { Authorization: 'Bearer good' } });
  good.on('open', () => good.send('hi'));
  await new Promise<void>((resolve) => good.on('close', (code: number) => resolve(void log.push(`closed ${code}`))));
  return log;
}

/** ws README: "How to detect and close broken connections?" (isAlive + ping interval). */
async function heartbeatSnippet({ WebSocket, WebSocketServer }: Lib): Promise<string[]> {
  const log: string[] = [];
  function heartbeat(this: any): void {
    this.isAlive = true;
  }
  const wss = track(new WebSocketServer({ port: 0, host: '127.0.0.1' }));
  await once(wss, 'listening');
  wss.on('connection', function connection(socket: any) {
    socket.isAlive = true;
    socket.on('error', console.error);
    socket.on('pong', heartbeat);
  });
  const interval = setInterval(function ping() {
    wss.clients.forEach(function each(socket: any) {
      if (socket.isAlive === false) return socket.terminate();
      socket.isAlive = false;
      socket.ping();
    });
  }, 20);
  wss.on('close', function close() {
    clearInterval(interval);
  });
  const alive = track(new WebSocket(`ws://127.0.0.1:${port(wss)}`));
  const dead = track(new WebSocket(`ws://127.0.0.1:${port(wss)}`, { autoPong: false }));
  await Promise.all([once(alive, 'open'), once(dead, 'open')]);
  const [code] = (await once(dead, 'close')) as [number];
  log.push(`dead closed ${code}`, `alive state ${alive.readyState}`);
  clearInterval(interval);
  return log;
}

/** ws README: "Use the Node.js streams API" + the `WebSocket.Server` alias of CommonJS code. */
async function streamSnippet({ WebSocket }: Lib): Promise<string[]> {
  const log: string[] = [];
  const wss = track(new WebSocket.Server({ port: 0, host: '127.0.0.1' }));
  await once(wss, 'listening');
  wss.on('connection', (socket: any) => {
    socket.on('message', (data: any) => {
      log.push(`server got ${data}`);
      if (String(data) === 'two') socket.close(1000, 'enough');
      else socket.send(`ack ${data}`);
    });
  });
  const client = new WebSocket(`ws://127.0.0.1:${port(wss)}`);
  const duplex = WebSocket.createWebSocketStream(client, { encoding: 'utf8' });
  duplex.on('error', console.error);
  duplex.write('one');
  const first: string = await new Promise((resolve) => duplex.once('data', resolve));
  log.push(`stream read ${first}`);
  duplex.write('two');
  await new Promise((resolve) => {
    duplex.on('end', resolve);
    duplex.resume();
  });
  log.push('stream ended');
  return log;
}

describe('ws snippets run unchanged on wscore', () => {
  for (const [name, snippet] of Object.entries({ echoSnippet, broadcastSnippet, noServerSnippet, heartbeatSnippet, streamSnippet })) {
    it(name, async () => {
      const results: Record<string, string[]> = {};
      for (const [libName, lib] of libs) {
        results[libName] = await snippet(lib);
        await cleanup();
      }
      expect(results.wscore).toEqual(results.ws);
      expect(results.wscore!.length).toBeGreaterThan(0);
    });
  }
});
