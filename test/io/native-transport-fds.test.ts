/**
 * NativeTransport fd hygiene (issue 14): 1,200 connections taken over and closed every way
 * (peer half-close then end(), destroy(), peer reset) leave exactly the fds they found:
 * the dup is closed in the poll handle's close callback, and Node's own fd on destroy.
 */
import { describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { nativeSocketBinding } from '../../src/backend/socket-binding';
import { takeOverSocket } from '../../src/io/native-transport';
import { PairFactory, RecordingSink, openFds } from './native-transport-helpers';

const native = backendName === 'native' && process.platform === 'linux';

describe.runIf(native)('NativeTransport fds', () => {
  it('1,200 connections opened, taken over and closed leak no fd', async () => {
    // Warm up (the binding, the loop's epoll set) before counting.
    const warmFactory = new PairFactory();
    await warmFactory.listen();
    const warm = await warmFactory.pair();
    const w = takeOverSocket(warm.server, Buffer.alloc(0))!;
    const ws = new RecordingSink();
    w.transport.attach(ws, Buffer.alloc(0));
    w.transport.destroy();
    await ws.closed();
    await warmFactory.close();
    const before = openFds();
    const binding = nativeSocketBinding()!;
    const liveBefore = binding.live();
    const factory = new PairFactory();
    await factory.listen();
    const cleanCloseErrors: number[] = [];
    const batch = 100;
    for (let round = 0; round < 12; round++) {
      const closes: Array<Promise<[number, boolean]>> = [];
      for (let i = 0; i < batch; i++) {
        const pair = await factory.pair();
        const taken = takeOverSocket(pair.server, Buffer.alloc(0));
        expect(taken).not.toBeNull();
        const { transport } = taken!;
        const sink = new RecordingSink();
        transport.attach(sink, Buffer.alloc(0));
        const kind = i % 3;
        closes.push(sink.closed().then((hadError) => [kind, hadError]));
        switch (kind) {
          case 0: // the peer ends, we end: a clean close both ways
            void sink.ended().then(() => transport.end());
            pair.client.end();
            pair.client.resume();
            break;
          case 1: // we destroy
            transport.write([Buffer.from('x')]);
            transport.destroy();
            pair.client.resume();
            pair.client.on('end', () => pair.client.end());
            break;
          default: // the peer resets
            pair.client.resetAndDestroy();
        }
      }
      for (const [kind, hadError] of await Promise.all(closes)) if (kind !== 2 && hadError) cleanCloseErrors.push(kind);
    }
    await factory.close();
    // Every client socket and accepted Node socket is closed by now; our dups closed in
    // their close callbacks, before onClose.
    expect(openFds()).toBe(before);
    // And every connection's C++ state was freed (in the same close callback).
    expect(binding.live()).toBe(liveBefore);
    // Only a peer's reset may close with an error; a clean end or our destroy() never does.
    expect(cleanCloseErrors).toEqual([]);
  });
});
