/**
 * The interop peers (Debian packages): finding them, and what a suite does when one is
 * missing. No vitest import here: the global setup (peers-report.ts) uses this module.
 *
 * On a fresh machine with only Node and npm, `npm test` must pass: a suite whose peer is
 * missing is reported as skipped, and one loud line (peers-report.ts, once per run) names
 * the packages to install. Under `WSCORE_REQUIRE_PEERS=1` (set by .ci/run) nothing is
 * skipped: the suite runs, and its first test fails naming the missing package.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const PYTHON = '/usr/bin/python3';
export const CHROMIUM = '/usr/bin/chromium';
/** Proxies for the client's proxy tests (issue 16): an HTTP CONNECT proxy and a SOCKS5 server. */
export const TINYPROXY = '/usr/bin/tinyproxy';
export const DANTED = '/usr/sbin/danted';

/** The peers, by their Debian package name. */
export const PEERS = ['python3-websockets', 'python3-wsproto', 'python3-websocket', 'python3-hypercorn', 'chromium', 'openssl', 'build-essential', 'tinyproxy', 'dante-server', 'redis-server'] as const;
export type PeerName = (typeof PEERS)[number];

/** Where the peers are looked for (tests of this module point it elsewhere). */
export interface PeerPlaces {
  python: string;
  chromium: string;
  /** The PATH searched for openssl and the compiler. */
  path: string | undefined;
}
const HERE: PeerPlaces = { python: PYTHON, chromium: CHROMIUM, path: process.env.PATH };

const PYTHON_MODULE: Partial<Record<PeerName, string>> = {
  'python3-websockets': 'websockets',
  'python3-wsproto': 'wsproto',
  'python3-websocket': 'websocket',
  'python3-hypercorn': 'hypercorn',
};

/** Why `peer` cannot be used, or null when it can. */
export function whyMissing(peer: PeerName, where: PeerPlaces = HERE): string | null {
  const module = PYTHON_MODULE[peer];
  if (module !== undefined) {
    const r = spawnSync(where.python, ['-c', `import ${module}`], { encoding: 'utf8' });
    if (r.error !== undefined) return `cannot run ${where.python}: ${r.error.message}`;
    if (r.status !== 0) return `${where.python} cannot import ${module}: ${r.stderr.trim().split('\n').at(-1) ?? ''}`;
    return null;
  }
  if (peer === 'chromium' || peer === 'tinyproxy' || peer === 'dante-server') {
    const binary = peer === 'chromium' ? where.chromium : peer === 'tinyproxy' ? TINYPROXY : DANTED;
    try {
      accessSync(binary, constants.X_OK);
      return null;
    } catch {
      return `${binary} is missing`;
    }
  }
  if (peer === 'build-essential') {
    // Only to build zlib-sync, a native devDependency npm 11 installs without building it.
    if (zlibSyncBuilt()) return null;
    const lacking = ['g++', 'make', 'python3'].filter((cmd) => !onPath(cmd, ['--version'], where.path));
    return lacking.length > 0 ? `zlib-sync is not built, and ${lacking.join(', ')} (to build it) not on PATH` : null;
  }
  if (peer === 'redis-server') return onPath('redis-server', ['--version'], where.path) ? null : 'redis-server is not on PATH';
  return onPath('openssl', ['version'], where.path) ? null : 'openssl is not on PATH';
}

/** Whether `cmd args` runs and succeeds, looked up in `path` (Node searches the env's PATH). */
function onPath(cmd: string, args: string[], path: string | undefined): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PATH: path ?? '' } });
  return r.error === undefined && r.status === 0;
}

function zlibSyncBuilt(): boolean {
  try {
    const dir = dirname(createRequire(__filename).resolve('zlib-sync/package.json'));
    return existsSync(join(dir, 'build', 'Release', 'zlib_sync.node'));
  } catch {
    return false;
  }
}

/** What a suite needing `peer` does: skip (peer missing, not required) or run. */
export interface PeerGate {
  skip: boolean;
  /** Why the peer is missing (null when present): a required missing peer fails the suite. */
  missing: string | null;
}

export function peerGate(peer: PeerName, env: NodeJS.ProcessEnv = process.env, where: PeerPlaces = HERE): PeerGate {
  const missing = whyMissing(peer, where);
  return { skip: missing !== null && env.WSCORE_REQUIRE_PEERS !== '1', missing };
}

/** The one line printed when peers are missing. */
export function missingPeersLine(missing: readonly PeerName[], env: NodeJS.ProcessEnv = process.env): string {
  const install = `sudo apt-get install ${missing.join(' ')}`;
  return env.WSCORE_REQUIRE_PEERS === '1'
    ? `wscore: interop peers MISSING (${missing.join(', ')}): their suites FAIL because WSCORE_REQUIRE_PEERS=1. Install: ${install}`
    : `wscore: interop suites SKIPPED, peers missing (${missing.join(', ')}). Install them to run every test: ${install}`;
}
