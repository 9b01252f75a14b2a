/**
 * The connection class over an in-memory transport (issue 13): backpressure through the
 * transport's needsDrain/bufferedBytes — send() returns false past highWaterMark and
 * 'drain' follows once the peer reads, maxBufferedAmount drops a peer that does not read
 * (1008), and automatic pongs wait for 'drain' while the peer does not read (§5.5.3).
 */
import { describe, expect, it } from 'vitest';

import { openMemoryConnection } from '../helpers/memory-transport';
import { wire } from '../helpers/wire';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function fromPeer(role: 'server' | 'client', opcode: number, payload: string | Uint8Array = ''): Uint8Array {
  return wire({ opcode, payload, mask: role === 'server' });
}

describe.each(['server', 'client'] as const)('backpressure of a %s connection over a MemoryTransport', (role) => {
  it('send() returns false past highWaterMark, and drain comes once the peer reads', async () => {
    const { ws, transport } = openMemoryConnection({ role, options: { highWaterMark: 1024 }, transport: { highWaterMark: 1024 } });
    transport.block();
    expect(ws.send(Buffer.alloc(100))).toBe(true);
    expect(ws.send(Buffer.alloc(2000))).toBe(false);
    await tick();
    // Handed to the transport, which holds it while the peer does not read.
    expect(transport.bufferedBytes).toBeGreaterThan(2000);
    expect(ws.bufferedAmount).toBe(transport.bufferedBytes);
    let drains = 0;
    ws.on('drain', () => drains++);
    await tick();
    expect(drains).toBe(0);
    transport.unblock();
    await tick();
    expect(drains).toBe(1);
    expect(ws.bufferedAmount).toBe(0);
    expect(transport.takeFrames().map((f) => f.payload.length)).toEqual([100, 2000]);
  });

  it('drops a peer whose backlog passes maxBufferedAmount (1008, WS_ERR_BUFFER_LIMIT)', async () => {
    const { ws, transport } = openMemoryConnection({ role, options: { maxBufferedAmount: 8192 } });
    transport.block();
    const errors: Array<Error & { code?: string }> = [];
    ws.on('error', (err) => errors.push(err));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.send(Buffer.alloc(6000));
    await tick();
    ws.send(Buffer.alloc(6000));
    expect(errors.map((e) => e.code)).toEqual(['WS_ERR_BUFFER_LIMIT']);
    expect(transport.destroyed).toBe(true);
    expect(await closed).toBe(1008);
  });

  it('keeps only the latest ping while the peer does not read, and answers it at drain', async () => {
    const { ws, transport } = openMemoryConnection({ role, transport: { highWaterMark: 1024 } });
    transport.block();
    ws.send(Buffer.alloc(4096));
    await tick();
    expect(transport.needsDrain).toBe(true);
    transport.push(fromPeer(role, 9, 'one'));
    transport.push(fromPeer(role, 9, 'two'));
    await tick();
    transport.unblock();
    await tick();
    await tick();
    expect(transport.takeFrames().map((f) => [f.opcode, f.payload.length === 4096 ? 'data' : f.payload.toString()])).toEqual([
      [2, 'data'],
      [10, 'two'],
    ]);
    expect(ws.readyState).toBe(ws.OPEN);
  });

  it('drops a ping flood while the peer does not read (1008, WS_ERR_TOO_MANY_PENDING_PONGS)', async () => {
    const { ws, transport } = openMemoryConnection({ role, options: { maxPendingAutoPongs: 3 }, transport: { highWaterMark: 1024 } });
    transport.block();
    ws.send(Buffer.alloc(4096));
    await tick();
    const errors: Array<Error & { code?: string }> = [];
    ws.on('error', (err) => errors.push(err));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    transport.push(Buffer.concat([1, 2, 3, 4].map((i) => fromPeer(role, 9, String(i)))));
    expect(errors.map((e) => e.code)).toEqual(['WS_ERR_TOO_MANY_PENDING_PONGS']);
    expect(await closed).toBe(1008);
  });

  it('pause() stops reading from the transport; resume() delivers what came meanwhile', async () => {
    const { ws, transport } = openMemoryConnection({ role });
    const got: string[] = [];
    ws.on('message', (data) => got.push(String(data)));
    ws.pause();
    transport.push(fromPeer(role, 1, 'held'));
    await tick();
    expect(got).toEqual([]);
    ws.resume();
    await tick();
    expect(got).toEqual(['held']);
  });
});
