/**
 * Graceful shutdown (RFC 6455 §7.1.2, §7.1.3): 100 clients stream numbered messages while
 * the server closes. Every message a client sent before it saw the server's close frame
 * must arrive, in order, once.
 */
import { afterEach, expect, it } from 'vitest';

import { WebSocket } from '../../src/io';
import { cleanup, startServer, track } from './helpers';

afterEach(cleanup);

const CLIENTS = 100;
const MESSAGES = 1000;

it('delivers every message sent before the close frame, in order, none lost or duplicated', async () => {
  const { wss, url } = await startServer();
  const received = new Map<number, number[]>();
  let total = 0;
  let closing: Promise<void> | null = null;
  wss.on('connection', (ws, req) => {
    const id = Number(req.url!.slice(1));
    const list: number[] = [];
    received.set(id, list);
    ws.on('message', (data) => {
      list.push(Number((data as Buffer).toString()));
      // Start the shutdown while the clients are in the middle of sending.
      if (++total === (CLIENTS * MESSAGES) / 4) closing = wss.close();
    });
  });

  const sent = new Array<number>(CLIENTS).fill(0);
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, (_, id) => {
      const ws = track(new WebSocket(`${url}/${id}`));
      return new Promise<WebSocket>((resolve) => ws.once('open', () => resolve(ws)));
    }),
  );
  const closeCodes = clients.map((ws) => new Promise<number>((resolve) => ws.once('close', resolve)));
  // Each client sends in small bursts, one burst per turn of the event loop, until done or
  // until it has seen the server's close frame (then send() no longer sends).
  await Promise.all(
    clients.map(
      (ws, id) =>
        new Promise<void>((resolve) => {
          const burst = (): void => {
            for (let k = 0; k < 20 && sent[id]! < MESSAGES; k++) {
              if (ws.readyState !== WebSocket.OPEN) return resolve();
              ws.send(String(sent[id]!));
              sent[id]!++;
            }
            if (sent[id]! >= MESSAGES) resolve();
            else setImmediate(burst);
          };
          burst();
        }),
    ),
  );
  const codes = await Promise.all(closeCodes);
  await closing;
  expect(closing).not.toBeNull();
  expect(new Set(codes)).toEqual(new Set([1001]));
  let interrupted = 0;
  for (let id = 0; id < CLIENTS; id++) {
    const got = received.get(id)!;
    // In order, no gap, no duplicate: exactly 0..sent-1.
    expect(got.length).toBe(sent[id]);
    for (let i = 0; i < got.length; i++) if (got[i] !== i) expect(got[i]).toBe(i);
    if (sent[id]! < MESSAGES) interrupted++;
  }
  // The shutdown really happened mid-stream for most clients.
  expect(interrupted).toBeGreaterThan(CLIENTS / 2);
});
