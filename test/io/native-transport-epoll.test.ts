/**
 * The takeover leaves no stale epoll registration (issue 14). epoll registrations belong to
 * the open file description, which the addon's dup keeps open: a registration of Node's fd
 * that survives its close keeps reporting events under a dead or reused fd number. libuv
 * removes it before closing, except when the removal is batched through io_uring
 * (UV_USE_IO_URING=1, during a poll callback, as in a 'data' or 'upgrade' handler): then it
 * runs after the close and fails. Checked in a child process (libuv reads the variable at
 * start-up) from /proc/self/fdinfo of the loop's epoll fd, which lists every registration.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { backendName } from '../../src/backend';
import { packageRoot } from '../../src/backend/native';

const native = backendName === 'native' && process.platform === 'linux';

// Plain JS: the raw addon, taken over inside a 'data' callback (libuv is mid-poll there).
const CHILD = `
const fs = require('node:fs');
const net = require('node:net');
const addon = require(process.env.ADDON);
addon.transportSetup(function () {}, function () {}, function () {}, function () {});
function registrations(inodeHex) {
  const out = [];
  for (const name of fs.readdirSync('/proc/self/fd')) {
    let link;
    try { link = fs.readlinkSync('/proc/self/fd/' + name); } catch { continue; }
    if (link !== 'anon_inode:[eventpoll]') continue;
    let info;
    try { info = fs.readFileSync('/proc/self/fdinfo/' + name, 'utf8'); } catch { continue; }
    for (const line of info.split('\\n')) {
      const m = /^tfd:\\s*(\\d+).*ino:([0-9a-f]+)/.exec(line);
      if (m !== null && m[2] === inodeHex) out.push(Number(m[1]));
    }
  }
  return out;
}
let client;
const server = net.createServer((socket) => {
  socket.once('data', () => {
    const fd = socket._handle.fd;
    const inode = Number(/socket:\\[(\\d+)\\]/.exec(fs.readlinkSync('/proc/self/fd/' + fd))[1]).toString(16);
    const before = registrations(inode);
    const handle = new addon.NativeSocket(fd, {}, 1 << 20);
    socket.destroy();
    setImmediate(() => setImmediate(() => {
      process.stdout.write(JSON.stringify({ nodeFd: fd, before, after: registrations(inode) }));
      handle.destroy();
      client.destroy();
      server.close();
    }));
  });
});
server.listen(0, '127.0.0.1', () => {
  client = net.connect(server.address().port, '127.0.0.1', () => client.write('x'));
});
`;

function addonPath(): string {
  const override = process.env.WSCORE_ADDON_PATH;
  if (override !== undefined && override !== '') return override;
  const gypBuild = require('node-gyp-build') as { path(dir: string): string };
  return gypBuild.path(packageRoot());
}

describe.runIf(native)('NativeTransport and the loop epoll set', () => {
  for (const ioUring of ['0', '1']) {
    it(`takeover leaves only the dup registered (UV_USE_IO_URING=${ioUring})`, () => {
      const result = spawnSync(process.execPath, ['-e', CHILD], {
        env: { ...process.env, ADDON: addonPath(), UV_USE_IO_URING: ioUring },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(result.stderr).toBe('');
      const { nodeFd, before, after } = JSON.parse(result.stdout) as { nodeFd: number; before: number[]; after: number[] };
      expect(before).toEqual([nodeFd]); // Node's handle was registered: the case under test
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(nodeFd);
    });
  }
});
