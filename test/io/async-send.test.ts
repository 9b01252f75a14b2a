/**
 * send() on a closed connection: the async API (connect, serve) raises ConnectionClosedError
 * as Python websockets does; the ws-style API keeps ws's behaviour (no throw, the callback
 * gets the error).
 */
import { afterEach, describe, expect, it } from 'vitest';

import { connect, ConnectionClosedError, NotOpenError, serve, WebSocket } from '../../src/io';
import { cleanup, openClient, startServer, track } from './helpers';

afterEach(cleanup);

describe('send() after close', () => {
  it('raises ConnectionClosedError on a connect() client, with the close code and reason', async () => {
    const server = track(await serve(async (ws) => ws.close(4001, 'go away')));
    const ws = track(await connect(server.url));
    expect(await ws.closed).toEqual({ code: 4001, reason: 'go away' });
    let error: unknown;
    try {
      ws.send('too late');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(error).toMatchObject({ code: 4001, reason: 'go away' });
  });

  it('raises in a serve() handler once its connection is closing', async () => {
    const seen: unknown[] = [];
    const server = track(
      await serve(async (ws) => {
        ws.send('first');
        ws.close(1000);
        try {
          ws.send('after close()');
        } catch (err) {
          seen.push(err);
        }
      }),
    );
    const ws = track(await connect(server.url));
    expect(await ws.recv()).toBe('first');
    await ws.closed;
    expect(seen).toHaveLength(1);
    // No close frame has come back yet: as in websockets, the code is 1006 until one does.
    expect(seen[0]).toBeInstanceOf(ConnectionClosedError);
  });

  it('still sends on an open async connection', async () => {
    const server = track(await serve(async (ws) => ws.send(String(await ws.recv()).toUpperCase())));
    const ws = track(await connect(server.url));
    expect(ws.send('hi')).toBe(true);
    expect(await ws.recv()).toBe('HI');
  });

  it('keeps ws behaviour on a ws-style WebSocket: no throw, the callback gets the error', async () => {
    const { url } = await startServer();
    const ws: WebSocket = await openClient(url);
    ws.close();
    await ws.closed;
    const errors: Array<Error | undefined> = [];
    expect(() => ws.send('late', (err) => errors.push(err))).not.toThrow();
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(NotOpenError);
  });
});
