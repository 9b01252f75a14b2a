/**
 * The connection class over an in-memory transport (issue 13): no socket, the test is the
 * peer and checks the bytes. Opening, echo, fragmentation, ping/pong, permessage-deflate,
 * on both sides (a server writes unmasked frames and reads masked ones, a client the
 * reverse: RFC 6455 §5.1).
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

import { openMemoryConnection } from '../helpers/memory-transport';
import { wire } from '../helpers/wire';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A frame as the peer of `role` sends it: masked towards a server (§5.1). */
function fromPeer(role: 'server' | 'client', opcode: number, payload: string | Uint8Array = '', fin = true, rsv = 0): Uint8Array {
  return wire({ opcode, payload, fin, rsv, mask: role === 'server' });
}

describe.each(['server', 'client'] as const)('a %s connection over a MemoryTransport', (role) => {
  it('is OPEN at once, reports the negotiated subprotocol, and delivers the head after the open handlers ran', async () => {
    const { ws, transport } = openMemoryConnection({ role, protocol: 'chat', head: fromPeer(role, 1, 'early') });
    expect(ws.readyState).toBe(ws.OPEN);
    expect(ws.protocol).toBe('chat');
    expect(transport.remoteAddress).toBeUndefined();
    // Attached after attach() returned, as a 'connection' handler would: it still gets the head.
    const got: string[] = [];
    ws.on('message', (data) => got.push(String(data)));
    await tick();
    expect(got).toEqual(['early']);
  });

  it('echoes text and binary messages, masked exactly when it is the client', async () => {
    const { ws, transport } = openMemoryConnection({ role });
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    transport.push(fromPeer(role, 1, 'héllo'));
    transport.push(fromPeer(role, 2, Uint8Array.of(0, 1, 2, 255)));
    await tick();
    const frames = transport.takeFrames();
    expect(frames.map((f) => [f.opcode, f.fin, f.masked])).toEqual([
      [1, true, role === 'client'],
      [2, true, role === 'client'],
    ]);
    expect(frames[0]!.payload.toString()).toBe('héllo');
    expect([...frames[1]!.payload]).toEqual([0, 1, 2, 255]);
  });

  it('answers every frame of one read in one write', async () => {
    const { ws, transport } = openMemoryConnection({ role });
    ws.on('message', (data) => ws.send(String(data)));
    const before = transport.writes;
    transport.push(Buffer.concat([fromPeer(role, 1, 'a'), fromPeer(role, 9, 'p'), fromPeer(role, 1, 'b')]));
    await tick();
    expect(transport.writes - before).toBe(1);
    expect(transport.takeFrames().map((f) => [f.opcode, f.payload.toString()])).toEqual([
      [1, 'a'],
      [10, 'p'],
      [1, 'b'],
    ]);
  });

  it('sends a message in fragments (fin: false), then CONT frames, and reassembles received fragments', async () => {
    const { ws, transport } = openMemoryConnection({ role });
    ws.send('ab', { fin: false });
    ws.send('cd', { fin: false });
    ws.send('ef');
    ws.send(Buffer.from('whole'));
    await tick();
    expect(transport.takeFrames().map((f) => [f.opcode, f.fin, f.payload.toString()])).toEqual([
      [1, false, 'ab'],
      [0, false, 'cd'],
      [0, true, 'ef'],
      [2, true, 'whole'],
    ]);
    const got: Array<[string, boolean]> = [];
    ws.on('message', (data, isBinary) => got.push([String(data), isBinary]));
    // A ping between fragments is answered at once (§5.4: control frames may be interleaved).
    transport.push(Buffer.concat([fromPeer(role, 1, 'fr', false), fromPeer(role, 9, 'x'), fromPeer(role, 0, 'ag', false), fromPeer(role, 0, 'ment')]));
    expect(got).toEqual([['fragment', false]]);
    await tick();
    expect(transport.takeFrames().map((f) => [f.opcode, f.payload.toString()])).toEqual([[10, 'x']]);
  });

  it('answers pings with the same payload, reports pongs, and sends pings', async () => {
    const { ws, transport } = openMemoryConnection({ role });
    const pings: string[] = [];
    const pongs: string[] = [];
    ws.on('ping', (data) => pings.push(String(data)));
    ws.on('pong', (data) => pongs.push(String(data)));
    transport.push(fromPeer(role, 9, 'are you there'));
    transport.push(fromPeer(role, 10, 'unsolicited'));
    const sent = new Promise<Error | undefined>((resolve) => ws.ping('mine', undefined, resolve));
    expect(await sent).toBeUndefined();
    expect(pings).toEqual(['are you there']);
    expect(pongs).toEqual(['unsolicited']);
    expect(transport.takeFrames().map((f) => [f.opcode, f.payload.toString()])).toEqual([
      [10, 'are you there'],
      [9, 'mine'],
    ]);
  });

  it('compresses and inflates messages with permessage-deflate (RFC 7692)', async () => {
    const params = role === 'server' ? 'client_no_context_takeover; server_no_context_takeover' : 'server_no_context_takeover; client_no_context_takeover';
    const { ws, transport } = openMemoryConnection({ role, deflate: { threshold: 0 }, deflateParams: params });
    expect(ws.extensions).toMatch(/^permessage-deflate/);
    const text = 'compress me '.repeat(50);
    ws.send(text);
    await tick();
    const [frame] = transport.takeFrames();
    expect(frame!.rsv).toBe(4);
    expect(frame!.payload.length).toBeLessThan(text.length);
    const tail = Buffer.from([0, 0, 0xff, 0xff]);
    expect(inflateRawSync(Buffer.concat([frame!.payload, tail]), { finishFlush: constants.Z_SYNC_FLUSH }).toString()).toBe(text);
    const got: string[] = [];
    ws.on('message', (data) => got.push(String(data)));
    const compressed = deflateRawSync(Buffer.from('from the peer'), { finishFlush: constants.Z_SYNC_FLUSH });
    transport.push(fromPeer(role, 1, compressed.subarray(0, compressed.length - 4), true, 4));
    expect(got).toEqual(['from the peer']);
  });
});
