/**
 * Issue 17: websocket-client's recv_frame / recv_data_frame as `ws.recvFrame()` /
 * `ws.recvDataFrame()`, on a live connection (both backends).
 */
import { once } from 'node:events';

import { afterEach, describe, expect, it } from 'vitest';

import { LocalProtocolError } from '../../src/errors';
import { Frame, Opcode } from '../../src/frames/frame';
import type { WebSocket } from '../../src/io';
import { ConnectionClosedError } from '../../src/io/message-queue';
import { cleanup, openClient, startServer } from './helpers';

afterEach(cleanup);

async function pair(clientOptions = {}, serverOptions = {}): Promise<{ client: WebSocket; server: WebSocket }> {
  const { wss, url } = await startServer(serverOptions);
  const serverSide = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = await openClient(url, undefined, clientOptions);
  const [server] = await serverSide;
  return { client, server };
}

describe('recvFrame() / recvDataFrame()', () => {
  it('recvFrame() returns each frame as it came, with mask_value by role', async () => {
    const { client, server } = await pair({ rawFrames: true }, { rawFrames: true });
    client.sendFrame(Frame.create('Hel', Opcode.TEXT, 0));
    client.sendFrame(Frame.create('lo', Opcode.CONT, 1));
    const first = await server.recvFrame();
    const second = await server.recvFrame();
    expect([first.opcode, first.fin, first.masked, Buffer.from(first.data).toString()]).toEqual([Opcode.TEXT, false, true, 'Hel']);
    expect([second.opcode, second.fin, Buffer.from(second.data).toString()]).toEqual([Opcode.CONT, true, 'lo']);
    server.send('back');
    const echo = await client.recvFrame();
    expect([echo.opcode, echo.masked, Buffer.from(echo.data).toString()]).toEqual([Opcode.TEXT, false, 'back']);
  });

  it('recvDataFrame() assembles fragments and skips control frames unless asked', async () => {
    const { client, server } = await pair({ rawFrames: true });
    const message = 'This is a long message that will be sent in fragments';
    const pending = client.recvDataFrame();
    server.ping('p1');
    server.send(message.slice(0, 10), { fin: false });
    server.send(message.slice(10, 30), { fin: false });
    server.send(message.slice(30));
    const [opcode, frame] = await pending;
    expect(opcode).toBe(Opcode.TEXT);
    expect(Buffer.from(frame.data).toString()).toBe(message);
    server.ping('p2');
    const [pingOpcode, ping] = await client.recvDataFrame(true);
    expect([pingOpcode, Buffer.from(ping.data).toString()]).toEqual([Opcode.PING, 'p2']);
  });

  it('returns the close frame, then rejects with ConnectionClosedError', async () => {
    const { client, server } = await pair({ rawFrames: true });
    const pending = client.recvDataFrame();
    server.close(3000, 'custom');
    const [opcode, frame] = await pending;
    expect(opcode).toBe(Opcode.CLOSE);
    expect(frame.data[0]! * 256 + frame.data[1]!).toBe(3000);
    expect(Buffer.from(frame.data.subarray(2)).toString()).toBe('custom');
    await client.closed;
    const err = await client.recvFrame().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect((err as ConnectionClosedError).code).toBe(3000);
  });

  it('needs rawFrames: true', async () => {
    const { client } = await pair();
    await expect(client.recvFrame()).rejects.toBeInstanceOf(LocalProtocolError);
    await expect(client.recvDataFrame()).rejects.toBeInstanceOf(LocalProtocolError);
  });
});
