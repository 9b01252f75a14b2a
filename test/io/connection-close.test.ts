/**
 * The connection class over an in-memory transport (issue 13): the closing handshake in
 * both directions (RFC 6455 §7.1.2-§7.1.5), failing the connection (§7.1.7), a peer that
 * goes away without a close frame (1006), and the transport destroyed or reset while
 * writes are queued.
 */
import { describe, expect, it } from 'vitest';

import { openMemoryConnection } from '../helpers/memory-transport';
import { wire } from '../helpers/wire';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function fromPeer(role: 'server' | 'client', opcode: number, payload: string | Uint8Array = ''): Uint8Array {
  return wire({ opcode, payload, mask: role === 'server' });
}

function closePayload(code: number, reason = ''): Buffer {
  const out = Buffer.alloc(2 + Buffer.byteLength(reason));
  out.writeUInt16BE(code, 0);
  out.write(reason, 2);
  return out;
}

describe.each(['server', 'client'] as const)('closing a %s connection over a MemoryTransport', (role) => {
  it('close(): messages sent before leave first, then the close frame; the peer echo completes it', async () => {
    const { ws, transport } = openMemoryConnection({ role });
    const closed = new Promise<[number, string]>((resolve) => ws.on('close', (code, reason) => resolve([code, String(reason)])));
    ws.send('last words');
    ws.close(4000, 'bye');
    expect(ws.readyState).toBe(ws.CLOSING);
    await tick();
    const frames = transport.takeFrames();
    expect(frames.map((f) => f.opcode)).toEqual([1, 8]);
    expect(frames[1]!.payload).toEqual(closePayload(4000, 'bye'));
    // Data frames of the peer still arrive until its close frame (§7.1.2).
    const got: string[] = [];
    ws.on('message', (data) => got.push(String(data)));
    transport.push(fromPeer(role, 1, 'in flight'));
    transport.push(fromPeer(role, 8, closePayload(4000, 'bye')));
    expect(got).toEqual(['in flight']);
    expect(await closed).toEqual([4000, 'bye']);
    expect(ws.readyState).toBe(ws.CLOSED);
    expect(transport.ended).toBe(true);
    expect(transport.takeFrames()).toEqual([]);
  });

  it("echoes the peer's close frame (§5.5.1), ends the transport and ignores what follows", async () => {
    const { ws, transport } = openMemoryConnection({ role });
    const closed = new Promise<[number, string]>((resolve) => ws.on('close', (code, reason) => resolve([code, String(reason)])));
    const got: string[] = [];
    ws.on('message', (data) => got.push(String(data)));
    transport.push(Buffer.concat([fromPeer(role, 8, closePayload(1001, 'going')), fromPeer(role, 1, 'after close')]));
    expect(await closed).toEqual([1001, 'going']);
    expect(got).toEqual([]);
    const frames = transport.takeFrames();
    expect(frames.map((f) => [f.opcode, f.masked])).toEqual([[8, role === 'client']]);
    expect(frames[0]!.payload).toEqual(closePayload(1001, 'going'));
    expect(transport.ended).toBe(true);
  });

  it('fails the connection with 1002 on a protocol error (§7.1.7) and reports it', async () => {
    const { ws, transport } = openMemoryConnection({ role });
    const errors: Error[] = [];
    ws.on('error', (err) => errors.push(err));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    // RSV1 without an extension that defines it (§5.2).
    transport.push(wire({ opcode: 1, payload: 'x', rsv: 4, mask: role === 'server' }));
    await tick();
    expect(errors).toHaveLength(1);
    const frames = transport.takeFrames();
    expect(frames.map((f) => f.opcode)).toEqual([8]);
    expect(frames[0]!.payload.readUInt16BE(0)).toBe(1002);
    expect(await closed).toBe(1002);
  });

  it('reports 1006 when the peer ends without a close frame', async () => {
    const { ws, transport } = openMemoryConnection({ role });
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    transport.pushEnd();
    expect(await closed).toBe(1006);
    expect(transport.ended).toBe(true);
  });

  it('terminate() destroys the transport: queued send callbacks get an error, close is 1006', async () => {
    const { ws, transport } = openMemoryConnection({ role });
    transport.block();
    const results: Array<Error | undefined> = [];
    const big = Buffer.alloc(64 * 1024, 1);
    ws.send(big, (err) => results.push(err));
    await tick();
    expect(transport.bufferedBytes).toBeGreaterThan(0);
    ws.send('queued behind', (err) => results.push(err));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.terminate();
    expect(await closed).toBe(1006);
    await tick();
    expect(results).toHaveLength(2);
    expect(results.every((err) => err instanceof Error)).toBe(true);
    expect(transport.takeWritten().length).toBe(0);
  });

  it('a reset while writes are buffered fails their callbacks and closes with 1006', async () => {
    const { ws, transport } = openMemoryConnection({ role });
    transport.block();
    const failed = new Promise<Error | undefined>((resolve) => ws.send(Buffer.alloc(32 * 1024), resolve));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await tick();
    transport.reset();
    expect(await failed).toBeInstanceOf(Error);
    expect(await closed).toBe(1006);
    expect(ws.readyState).toBe(ws.CLOSED);
  });

  it('destroys the transport when the peer does not answer the close frame within closeTimeout', async () => {
    const { ws, transport } = openMemoryConnection({ role, options: { closeTimeout: 20 } });
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.close(1000);
    expect(await closed).toBe(1006);
    expect(transport.destroyed).toBe(true);
  });
});
