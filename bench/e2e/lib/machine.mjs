// What the numbers were measured on, for the results file and the docs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

import { ROOT } from './build.mjs';

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd: ROOT, timeout: 10_000 }).trim();
  } catch {
    return null;
  }
}

export function machineInfo() {
  const osRelease = (() => {
    try {
      return /PRETTY_NAME="([^"]+)"/.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? null;
    } catch {
      return null;
    }
  })();
  const pkgVersion = (p) => {
    try {
      return JSON.parse(fs.readFileSync(`${ROOT}/node_modules/${p}/package.json`, 'utf8')).version;
    } catch {
      return null;
    }
  };
  return {
    cpu: os.cpus()[0]?.model ?? null,
    cores: os.cpus().length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    os: osRelease,
    node: process.version,
    glibc: sh('ldd', ['--version'])?.split('\n')[0] ?? null,
    cc: sh(process.env.CC || 'cc', ['--version'])?.split('\n')[0] ?? null,
    nofile: Number(sh('sh', ['-c', 'ulimit -n'])) || null,
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    git: sh('git', ['rev-parse', '--short', 'HEAD']),
    git_dirty: (sh('git', ['status', '--porcelain', '--', 'src', 'native']) ?? '') !== '',
    versions: { ws: pkgVersion('ws'), bufferutil: pkgVersion('bufferutil'), uws: pkgVersion('@btc-vision/uwebsockets.js') },
  };
}
