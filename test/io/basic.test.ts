import { afterEach, describe, expect, it } from 'vitest';

import { WebSocket } from '../../src/io';
import { cleanup, closeEvent, nextMessage, openClient, startServer } from './helpers';

afterEach(cleanup);

describe('echo over loopback', () => {
  it('echoes text and binary, then closes cleanly', async () => {
    const { wss, url } = await startServer();
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    });
    const ws = await openClient(url);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.send('hello');
    const [text, isBinary] = await nextMessage(ws);
    expect(text.toString()).toBe('hello');
    expect(isBinary).toBe(false);
    ws.send(Buffer.from([1, 2, 3]));
    const [bin, isBin2] = await nextMessage(ws);
    expect([...bin]).toEqual([1, 2, 3]);
    expect(isBin2).toBe(true);
    const closed = closeEvent(ws);
    ws.close(1000, 'bye');
    expect(await closed).toEqual([1000, 'bye']);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });
});
