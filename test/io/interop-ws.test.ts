/**
 * The npm package `ws` as the peer, in both directions, with permessage-deflate on and off.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';
import WS, { WebSocketServer as WSServer } from 'ws';

import { WebSocket } from '../../src/io';
import { cleanup, closeEvent, nextMessage, openClient, startServer, track } from './helpers';

afterEach(cleanup);

const SIZES = [0, 1, 125, 126, 65535, 65536, 300_000];

function payloadOf(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Text that compresses: repeated words with a counter. */
function textOf(size: number): string {
  let s = '';
  for (let i = 0; s.length < size; i++) s += `message ${i} héllo wörld ☃ `;
  return s.slice(0, size);
}

for (const deflate of [false, true]) {
  describe(`ws interop, permessage-deflate ${deflate ? 'on' : 'off'}`, () => {
    it('a ws client talks to a wscore server', async () => {
      const { wss, url } = await startServer({ perMessageDeflate: deflate });
      wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
      const client = track(new WS(url, { perMessageDeflate: deflate }));
      await once(client, 'open');
      if (deflate) expect(client.extensions).toMatch(/permessage-deflate/);
      else expect(client.extensions).toBe('');
      for (const size of SIZES) {
        const bin = payloadOf(size, size);
        client.send(bin);
        const [echo, isBinary] = (await once(client, 'message')) as [Buffer, boolean];
        expect(isBinary).toBe(true);
        expect(echo.equals(bin)).toBe(true);
        const text = textOf(size);
        client.send(text);
        const [echoText, isBinary2] = (await once(client, 'message')) as [Buffer, boolean];
        expect(isBinary2).toBe(false);
        expect(echoText.toString()).toBe(text);
      }
      // ws's fragmented send, pings with payloads, close code and reason.
      client.send('frag', { fin: false });
      client.send('ment', { fin: true });
      expect(((await once(client, 'message')) as [Buffer])[0].toString()).toBe('fragment');
      client.ping('p');
      expect(((await once(client, 'pong')) as [Buffer])[0].toString()).toBe('p');
      client.close(4321, 'ws says bye');
      const [code, reason] = (await once(client, 'close')) as [number, Buffer];
      expect(code).toBe(4321);
      expect(reason.toString()).toBe('ws says bye');
    });

    it('a wscore client talks to a ws server', async () => {
      const server = track(new WSServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate }));
      await once(server, 'listening');
      server.on('connection', (ws) => {
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
        ws.on('close', () => undefined);
      });
      const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const client = await openClient(url, undefined, { perMessageDeflate: deflate });
      if (deflate) expect(client.extensions).toMatch(/permessage-deflate/);
      for (const size of SIZES) {
        const bin = payloadOf(size, size + 1);
        client.send(bin);
        const [echo, isBinary] = await nextMessage(client);
        expect(isBinary).toBe(true);
        expect(echo.equals(bin)).toBe(true);
        const text = textOf(size);
        client.send(text);
        const [echoText] = await nextMessage(client);
        expect(echoText.toString()).toBe(text);
      }
      const many: string[] = [];
      client.on('message', (d) => many.push((d as Buffer).toString()));
      for (let i = 0; i < 500; i++) client.send(`n${i}`);
      await new Promise<void>((resolve) => client.on('message', () => many.length === 500 && resolve()));
      expect(many).toEqual(Array.from({ length: 500 }, (_, i) => `n${i}`));
      const closed = closeEvent(client);
      client.close(1000, 'done');
      expect(await closed).toEqual([1000, 'done']);
    });

    it('a ws server closing first is answered', async () => {
      const server = track(new WSServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate }));
      await once(server, 'listening');
      server.on('connection', (ws) => {
        ws.send('bye soon');
        ws.close(1001, 'going away');
      });
      const client = track(new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: deflate }));
      const got = nextMessage(client);
      const closed = closeEvent(client);
      expect((await got)[0].toString()).toBe('bye soon');
      expect(await closed).toEqual([1001, 'going away']);
    });
  });
}
