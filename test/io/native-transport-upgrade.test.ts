/**
 * The takeover on the path it is made for (issue 14): an http server's 'upgrade' event,
 * the 101 response written by Node, then the socket moved to the native transport. The
 * client's first bytes after the request arrive in the same packet (Node hands them over
 * as `head`); none may be lost or reordered.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { selectTransport } from '../../src/io/transport-select';
import type { TransportSink } from '../../src/io/transport';
import { pattern } from './native-transport-helpers';

const native = backendName === 'native' && process.platform === 'linux';

/** Echoes every byte back (the chunk is borrowed: write() copies what the kernel does not take). */
class EchoSink implements TransportSink {
  closed: Promise<boolean>;
  private resolve!: (hadError: boolean) => void;
  constructor(
    private readonly write: (chunk: Uint8Array) => void,
    private readonly end: () => void,
  ) {
    this.closed = new Promise((r) => (this.resolve = r));
  }
  onData(chunk: Buffer): void {
    this.write(chunk);
  }
  onDrain(): void {}
  onEnd(): void {
    this.end();
  }
  onClose(hadError: boolean): void {
    this.resolve(hadError);
  }
}

describe('takeover after an HTTP upgrade', () => {
  it(native ? 'echoes head and later bytes through the native transport' : "keeps Node's socket on the js backend", async () => {
    const kinds: string[] = [];
    const heads: number[] = [];
    const sinks: EchoSink[] = [];
    const server = http.createServer();
    server.on('upgrade', (_req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      heads.push(head.length);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
      const taken = selectTransport(socket, head, 'auto');
      if (taken === null) {
        kinds.push('node');
        if (head.length > 0) socket.write(head);
        socket.pipe(socket);
        return;
      }
      const { transport } = taken;
      kinds.push(transport.kind);
      const sink = new EchoSink(
        (chunk) => transport.write([chunk]),
        () => transport.end(),
      );
      sinks.push(sink);
      transport.attach(sink, taken.head);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const client = net.connect(port, '127.0.0.1');
      await once(client, 'connect');
      const first = pattern(700, 1);
      const later = pattern(300_000, 2);
      // The request and the first bytes in one write: they reach the server in one packet.
      client.write(Buffer.concat([Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n`), first]));
      const parts: Buffer[] = [];
      client.on('data', (c: Buffer) => parts.push(c));
      const response = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n';
      const expected = Buffer.concat([Buffer.from(response), first, later]);
      while (Buffer.concat(parts).length < response.length + first.length) await once(client, 'data');
      client.write(later);
      while (Buffer.concat(parts).length < expected.length) await once(client, 'data');
      expect(Buffer.concat(parts).equals(expected)).toBe(true);
      expect(kinds).toEqual([native ? 'native' : 'node']);
      expect(heads).toEqual([first.length]); // the case under test: Node read past the request
      // The peer's FIN reaches the sink as onEnd, which ends our side: a clean close.
      const clientClosed = once(client, 'close');
      client.end();
      await clientClosed;
      if (native) expect(await sinks[0].closed).toBe(false);
    } finally {
      server.close();
    }
  });
});
