/**
 * What the takeover leaves in the kernel (issue 14), checked from outside by a Python peer
 * handed the very descriptor the addon polls: exactly one descriptor of this process
 * refers to the connection (Node's was closed, the dup remains) and it has TCP_NODELAY
 * (the sender batches frames itself; Nagle would only delay them).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { takeOverSocket } from '../../src/io/native-transport';
import { describeWithPeer, PYTHON } from '../interop/peers';
import { PairFactory, RecordingSink } from './native-transport-helpers';

const native = backendName === 'native' && process.platform === 'linux';

/** The descriptors of this process that refer to socket `inode`. */
function fdsOf(inode: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${name}`) === inode) out.push(Number(name));
    } catch {
      // closed meanwhile (readdir's own descriptor)
    }
  }
  return out;
}

// python3 itself comes with the python3-websockets peer package.
describeWithPeer('python3-websockets', 'NativeTransport socket options', () => {
  it.runIf(native)('one descriptor per connection after the takeover, with TCP_NODELAY set', async () => {
    const factory = new PairFactory();
    await factory.listen();
    try {
      const pair = await factory.pair();
      const nodeFd = (pair.server as unknown as { _handle: { fd: number } })._handle.fd;
      const inode = fs.readlinkSync(`/proc/self/fd/${nodeFd}`);
      expect(inode).toMatch(/^socket:\[\d+\]$/);
      const taken = takeOverSocket(pair.server, Buffer.alloc(0))!;
      const sink = new RecordingSink();
      taken.transport.attach(sink, Buffer.alloc(0));
      const fds = fdsOf(inode);
      expect(fds).toHaveLength(1);
      expect(fds[0]).not.toBe(nodeFd);
      // The child gets the descriptor as its fd 3 (spawn dup2()s it, dropping CLOEXEC).
      const script = 'import socket\ns = socket.socket(fileno=3)\nprint(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))\ns.detach()';
      const result = spawnSync(PYTHON, ['-c', script], { stdio: ['ignore', 'pipe', 'pipe', fds[0]], encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(Number(result.stdout.trim())).not.toBe(0);
      taken.transport.destroy();
      await sink.closed();
      expect(fdsOf(inode)).toEqual([]);
    } finally {
      await factory.close();
    }
  });
});
