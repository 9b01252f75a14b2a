/**
 * Transport selection (issue 14): the `transport` option and WSCORE_TRANSPORT, and the
 * choice after the handshake (native for plain TCP when available, else Node's).
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { NativeTransport } from '../../src/io/native-transport';
import { resolveTransportChoice, selectTransport } from '../../src/io/transport-select';
import { PairFactory, RecordingSink, collect } from './native-transport-helpers';

const native = backendName === 'native' && process.platform === 'linux';

describe('resolveTransportChoice', () => {
  it('defaults to auto; the option picks one; WSCORE_TRANSPORT overrides the option', () => {
    expect(resolveTransportChoice(undefined, {})).toBe('auto');
    expect(resolveTransportChoice('node', {})).toBe('node');
    expect(resolveTransportChoice('auto', { WSCORE_TRANSPORT: 'node' })).toBe('node');
    expect(resolveTransportChoice('node', { WSCORE_TRANSPORT: '' })).toBe('node');
  });

  it('rejects anything else with a TypeError naming the source', () => {
    expect(() => resolveTransportChoice('fast', {})).toThrow(/transport option must be "auto", "native" or "node"/);
    expect(() => resolveTransportChoice(1, {})).toThrow(TypeError);
    expect(() => resolveTransportChoice('auto', { WSCORE_TRANSPORT: 'uring' })).toThrow(/WSCORE_TRANSPORT must be/);
  });

  it(native ? "accepts 'native' where the native transport exists" : "refuses 'native' where it does not exist", () => {
    if (native) {
      expect(resolveTransportChoice('native', {})).toBe('native');
      expect(resolveTransportChoice(undefined, { WSCORE_TRANSPORT: 'native' })).toBe('native');
    } else {
      expect(() => resolveTransportChoice('native', {})).toThrow(/not available/);
      expect(() => resolveTransportChoice(undefined, { WSCORE_TRANSPORT: 'native' })).toThrow(/WSCORE_TRANSPORT is "native"/);
    }
  });
});

describe('selectTransport', () => {
  let factory: PairFactory;
  beforeEach(async () => {
    factory = new PairFactory();
    await factory.listen();
  });
  afterEach(() => factory.close());

  it("keeps Node's transport for 'node', and for a Duplex that is not a TCP socket", async () => {
    const { server } = await factory.pair();
    expect(selectTransport(server, Buffer.alloc(0), 'node')).toBeNull();
    expect(server.destroyed).toBe(false);
    expect(selectTransport(new PassThrough(), Buffer.alloc(0), 'auto')).toBeNull();
  });

  it(native ? "'auto' takes a plain TCP socket over natively" : "'auto' falls back to Node's on the js backend", async () => {
    const { server, client } = await factory.pair();
    const taken = selectTransport(server, Buffer.from('h'), 'auto');
    if (!native) {
      expect(taken).toBeNull();
      expect(server.destroyed).toBe(false);
      return;
    }
    expect(taken).not.toBeNull();
    expect(taken!.transport).toBeInstanceOf(NativeTransport);
    expect(taken!.transport.kind).toBe('native');
    const sink = new RecordingSink();
    taken!.transport.attach(sink, taken!.head);
    client.write('ello');
    await sink.receivedAtLeast(5);
    expect(sink.data().toString()).toBe('hello');
    const back = collect(client, 2);
    taken!.transport.write([Buffer.from('ok')]);
    expect((await back).toString()).toBe('ok');
    taken!.transport.destroy();
    await sink.closed();
  });
});
