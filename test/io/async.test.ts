/**
 * The async API in the style of Python websockets: serve(handler), connect(), for await,
 * recv(), closed.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { connect, ConnectionClosedError, serve, WebSocket } from '../../src/io';
import { cleanup, track } from './helpers';

afterEach(cleanup);

describe('serve() and connect()', () => {
  it('runs an async echo handler with for await', async () => {
    const server = track(
      await serve(async (ws) => {
        for await (const msg of ws) ws.send(msg);
      }),
    );
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const ws = track(await connect(server.url));
    ws.send('hello');
    expect(await ws.recv()).toBe('hello');
    ws.send(Buffer.from([1, 2, 3]));
    expect(await ws.recv()).toEqual(Buffer.from([1, 2, 3]));
    ws.close();
    await expect(ws.closed).resolves.toEqual({ code: 1005, reason: '' });
  });

  it('queues messages that arrive before the handler starts reading', async () => {
    const server = track(
      await serve(async (ws) => {
        await new Promise((r) => setTimeout(r, 30));
        const got: string[] = [];
        for await (const msg of ws) {
          got.push(msg as string);
          if (got.length === 3) break;
        }
        ws.send(got.join(','));
      }),
    );
    const ws = track(await connect(server.url));
    ws.send('a');
    ws.send('b');
    ws.send('c');
    expect(await ws.recv()).toBe('a,b,c');
    // The handler returned: the server closes the connection normally.
    await expect(ws.closed).resolves.toMatchObject({ code: 1000 });
  });

  it('delivers the first server message to listeners added right after await connect()', async () => {
    const server = track(
      await serve(async (ws) => {
        ws.send('welcome');
        await ws.closed;
      }),
    );
    const ws = track(await connect(server.url));
    const got = await new Promise<string>((resolve) => ws.on('message', (d) => resolve((d as Buffer).toString())));
    expect(got).toBe('welcome');
  });

  it('closes with 1011 when a handler throws, and reports the error', async () => {
    const errors: Error[] = [];
    const server = track(
      await serve(
        async (ws) => {
          await ws.recv();
          throw new Error('handler failed');
        },
        { onError: (e) => errors.push(e) },
      ),
    );
    const ws = track(await connect(server.url));
    ws.send('x');
    await expect(ws.closed).resolves.toMatchObject({ code: 1011 });
    expect(errors.map((e) => e.message)).toEqual(['handler failed']);
  });

  it('recv() rejects with ConnectionClosedError after an abnormal closure; iteration throws', async () => {
    const server = track(
      await serve(async (ws) => {
        await ws.recv();
        ws.terminate();
      }),
    );
    const ws = track(await connect(server.url));
    ws.send('go');
    const err = await ws.recv().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect((err as ConnectionClosedError).code).toBe(1006);
    await expect(
      (async () => {
        for await (const _ of ws) void _;
      })(),
    ).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('close() of the server waits for handlers and sends 1001', async () => {
    let handlerDone = false;
    const server = await serve(async (ws) => {
      for await (const _ of ws) void _;
      handlerDone = true;
    });
    const clients = await Promise.all([connect(server.url), connect(server.url)]);
    await server.close();
    expect(handlerDone).toBe(true);
    for (const c of clients) await expect(c.closed).resolves.toMatchObject({ code: 1001 });
  });

  it('pauses reading when the queue is full (maxQueue) and resumes when drained', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const server = track(
      await serve(
        async (ws) => {
          await gate;
          let n = 0;
          for await (const _ of ws) if (++n === 50) ws.send(`got ${n}`);
        },
        { maxQueue: 4 },
      ),
    );
    const ws = track(await connect(server.url));
    for (let i = 0; i < 50; i++) ws.send(`m${i}`);
    await new Promise((r) => setTimeout(r, 30));
    release();
    expect(await ws.recv()).toBe('got 50');
  });

  it('connect() resolves to a ws-compatible WebSocket', async () => {
    const server = track(await serve(async (ws) => void (await ws.closed)));
    const ws = track(await connect(server.url, { protocols: ['p1'] }));
    expect(ws).toBeInstanceOf(WebSocket);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(ws.protocol).toBe('p1');
  });
});
