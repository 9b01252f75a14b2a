/**
 * The native transport in worker threads (issue 14): each worker has its own loop, state
 * and read buffer, and a worker that ends with sockets still open (writes queued, reads
 * active) tears down cleanly: the addon's cleanup hook closes every poll handle, so Node's
 * check that the loop has no open handles passes, and every duplicated fd is closed.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { packageRoot } from '../../src/backend/native';
import { openFds } from './native-transport-helpers';

const native = backendName === 'native' && process.platform === 'linux';

// Plain JS (a worker does not go through vitest's TypeScript transform): the raw addon.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const addon = require(workerData.addonPath);
let received = 0;
addon.transportSetup(function (n) { received += n; this.got += n; }, function () {}, function () {}, function () {});
const peers = [];
const handles = [];
const server = net.createServer((s) => {
  const owner = { got: 0 };
  const h = new addon.NativeSocket(s._handle.fd, owner, 1 << 30);
  s.destroy();
  handles.push(h);
  // Queue more than the kernel takes: the peer never reads.
  const chunk = Buffer.alloc(1 << 20, 7);
  for (let i = 0; i < 8; i++) h.write([chunk]);
  if (handles.length === workerData.count) {
    for (const p of peers) p.write('x');
    const wait = () => (received >= workerData.count ? parentPort.postMessage('ready') : setImmediate(wait));
    wait();
  }
});
server.listen(0, '127.0.0.1', () => {
  for (let i = 0; i < workerData.count; i++) {
    const c = net.connect(server.address().port, '127.0.0.1');
    c.pause();
    peers.push(c);
  }
});
`;

function addonPath(): string {
  const override = process.env.WSCORE_ADDON_PATH;
  if (override !== undefined && override !== '') return override;
  const gypBuild = require('node-gyp-build') as { path(dir: string): string };
  return gypBuild.path(packageRoot());
}

describe.runIf(native)('NativeTransport in worker threads', () => {
  it('a worker terminated with open, busy sockets tears down without a crash or an fd leak', async () => {
    const before = openFds();
    for (let round = 0; round < 2; round++) {
      const worker = new Worker(WORKER, { eval: true, workerData: { addonPath: addonPath(), count: 10 } });
      const [msg] = (await once(worker, 'message')) as [string];
      expect(msg).toBe('ready');
      const exited = once(worker, 'exit');
      await worker.terminate();
      const [code] = (await exited) as [number];
      expect(code).toBe(1); // terminated, not crashed (an abort would kill this process)
    }
    expect(openFds()).toBe(before);
  });
});
