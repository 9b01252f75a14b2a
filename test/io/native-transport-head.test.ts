/**
 * NativeTransport keeps the attach() head while reading is paused (a client's connect()
 * pauses in its 'open' listener so that the frames that came with the 101 wait for the
 * listeners added after `await connect()`): as bytes unshifted into a paused net.Socket,
 * the head is delivered only after resume(), on a later tick, and before the socket's bytes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { takeOverSocket } from '../../src/io/native-transport';
import { PairFactory, RecordingSink } from './native-transport-helpers';

const native = backendName === 'native' && process.platform === 'linux';
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe.runIf(native)('NativeTransport head and pause', () => {
  let factory: PairFactory;
  beforeEach(async () => {
    factory = new PairFactory();
    await factory.listen();
  });
  afterEach(() => factory.close());

  it('a pause() right after attach() holds the head until resume(), which delivers it on a later tick', async () => {
    const pair = await factory.pair();
    const taken = takeOverSocket(pair.server, Buffer.from('head'))!;
    const { transport } = taken;
    const sink = new RecordingSink();
    transport.attach(sink, taken.head);
    transport.pause();
    pair.client.write('later');
    await tick();
    await tick();
    expect(sink.received).toBe(0);
    transport.resume();
    expect(sink.received).toBe(0);
    // Paused again before the tick: still nothing.
    transport.pause();
    await tick();
    expect(sink.received).toBe(0);
    transport.resume();
    await sink.receivedAtLeast(9);
    expect(sink.data().toString()).toBe('headlater');
    transport.destroy();
    await sink.closed();
  });
});
