/**
 * Where the native transport cannot be (the js backend, a platform other than Linux): there
 * is no binding, and a takeover declines, leaving the socket to Node. The js vitest project
 * runs this file; the native project runs the NativeTransport suites instead (vitest.config.ts).
 */
import { describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { nativeSocketBinding } from '../../src/backend/socket-binding';
import { takeOverSocket } from '../../src/io/native-transport';
import { PairFactory, collect } from './native-transport-helpers';

const native = backendName === 'native' && process.platform === 'linux';

describe.runIf(!native)('native transport unavailable (js backend or not Linux)', () => {
  it('has no binding, and takeover declines, leaving the socket to Node', async () => {
    expect(nativeSocketBinding()).toBeNull();
    const factory = new PairFactory();
    await factory.listen();
    try {
      const { server, client } = await factory.pair();
      expect(takeOverSocket(server, Buffer.alloc(0))).toBeNull();
      // Still Node's: bytes flow as before.
      const got = collect(server, 5);
      client.write('hello');
      expect((await got).toString()).toBe('hello');
    } finally {
      await factory.close();
    }
  });
});

