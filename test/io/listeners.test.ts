/**
 * Exceptions thrown by listeners of the ws-style WebSocket surface as with ws: uncaught,
 * from the socket callback that emitted the event. Our own state stays consistent: a
 * connection whose read was cut short by a throw is failed (1011), the others go on, and
 * the `closed` promise and the server's client set are settled before a 'close' listener runs.
 *
 * vitest treats an uncaught exception as handled when the test has its own
 * 'uncaughtException' listener, which {@link nextUncaught} installs for one exception.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { WebSocket } from '../../src/io';
import { cat } from '../helpers/wire';
import { cleanup, closeEvent, nextMessage, openClient, startServer } from './helpers';
import { FrameLog, rawPair, type Role } from './raw-peer';

afterEach(cleanup);

/** The next uncaught exception of the process (handled here, so the test run goes on). */
function nextUncaught(): Promise<unknown> {
  return new Promise((resolve) => {
    const onUncaught = (err: unknown): void => {
      process.off('uncaughtException', onUncaught);
      resolve(err);
    };
    process.on('uncaughtException', onUncaught);
  });
}

const TEXT = 0x1;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

describe.each<Role>(['server', 'client'])('listener exceptions, our %s', (role) => {
  it.each(['message', 'ping', 'pong'] as const)("an exception thrown by a '%s' listener is uncaught, and the connection is failed with 1011", async (event) => {
    const pair = await rawPair(role);
    const log = new FrameLog(pair.peer, pair.head);
    const bug = new Error(`${event} listener bug`);
    const errors: Error[] = [];
    pair.ours.on('error', (e) => errors.push(e));
    pair.ours.on(event, () => {
      throw bug;
    });
    const received: string[] = [];
    pair.ours.on('message', (d) => received.push((d as Buffer).toString()));
    const uncaught = nextUncaught();
    const opcode = event === 'message' ? TEXT : event === 'ping' ? PING : PONG;
    // The throwing frame and a message after it, in one chunk.
    pair.peer.write(cat(pair.frame({ opcode, payload: 'first' }), pair.frame({ opcode: TEXT, payload: 'second' })));
    expect(await uncaught).toBe(bug);
    const frames = await log.until((f) => f.some((x) => x.opcode === CLOSE));
    const close = frames.find((f) => f.opcode === CLOSE)!;
    expect(close.payload.readUInt16BE(0)).toBe(1011);
    // Nothing after the throw was processed (not even the listeners after the throwing one,
    // as with any EventEmitter), and the exception was not also an 'error' event.
    expect(received).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("an exception thrown by an 'error' listener is uncaught; the connection keeps the protocol error's close code", async () => {
    const pair = await rawPair(role);
    const log = new FrameLog(pair.peer, pair.head);
    const bug = new Error('error listener bug');
    pair.ours.on('error', () => {
      throw bug;
    });
    const uncaught = nextUncaught();
    const closed = closeEvent(pair.ours);
    // A reserved opcode: 1002 (RFC 6455 §5.2).
    pair.peer.write(pair.frame({ opcode: 0x3, payload: 'x' }));
    expect(await uncaught).toBe(bug);
    const frames = await log.until((f) => f.some((x) => x.opcode === CLOSE));
    expect(frames.find((f) => f.opcode === CLOSE)!.payload.readUInt16BE(0)).toBe(1002);
    pair.peer.end();
    expect((await closed)[0]).toBe(1002);
  });

  it("an exception thrown by a 'close' listener is uncaught, after `closed` and readyState are settled", async () => {
    const pair = await rawPair(role);
    const bug = new Error('close listener bug');
    let stateSeen = -1;
    pair.ours.on('close', () => {
      stateSeen = pair.ours.readyState;
      throw bug;
    });
    const uncaught = nextUncaught();
    const closed = pair.ours.closed;
    pair.peer.destroy();
    expect(await uncaught).toBe(bug);
    expect(stateSeen).toBe(WebSocket.CLOSED);
    await expect(closed).resolves.toMatchObject({ code: 1006 });
  });
});

describe('listener exceptions and the rest of the server', () => {
  it("a throwing 'message' listener: that connection closes 1011, the server and other connections go on", async () => {
    const { wss, url } = await startServer();
    wss.on('connection', (ws) => {
      ws.on('message', (data) => {
        if ((data as Buffer).toString() === 'boom') throw new Error('handler bug');
        ws.send('fine');
      });
    });
    const bad = await openClient(url);
    const uncaught = nextUncaught();
    const closed = closeEvent(bad);
    bad.send('boom');
    expect(((await uncaught) as Error).message).toBe('handler bug');
    expect((await closed)[0]).toBe(1011);
    const good = await openClient(url);
    good.send('hello');
    expect((await nextMessage(good))[0].toString()).toBe('fine');
  });

  it("a throwing 'drain' listener is uncaught; the connection goes on", async () => {
    const { wss, url } = await startServer({ highWaterMark: 1024 });
    const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const client = await openClient(url);
    const ws = await serverSide;
    const bug = new Error('drain listener bug');
    ws.once('drain', () => {
      throw bug;
    });
    const uncaught = nextUncaught();
    expect(ws.send(Buffer.alloc(64 * 1024))).toBe(false);
    expect(await uncaught).toBe(bug);
    const echoed = nextMessage(ws);
    client.send('still there');
    expect((await echoed)[0].toString()).toBe('still there');
  });
});
