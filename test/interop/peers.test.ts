/**
 * A missing interop peer: skipped with one loud line on a fresh machine, a failure under
 * WSCORE_REQUIRE_PEERS=1 (CI). Checked on the detection itself (a missing interpreter, a
 * PATH without openssl) and end to end, with a child vitest whose PATH lacks openssl.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { missingPeersLine, peerGate, whyMissing, type PeerPlaces } from './peers';

const root = path.resolve(__dirname, '..', '..');
const emptyDir = mkdtempSync(path.join(tmpdir(), 'wscore-nopath-'));
afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

const nowhere: PeerPlaces = { python: '/nonexistent/python3', chromium: '/nonexistent/chromium', path: emptyDir };

describe('peer detection', () => {
  it('finds nothing with a missing interpreter, browser and an empty PATH', () => {
    expect(whyMissing('python3-websockets', nowhere)).toMatch(/cannot run \/nonexistent\/python3/);
    expect(whyMissing('python3-wsproto', nowhere)).toMatch(/cannot run/);
    expect(whyMissing('chromium', nowhere)).toBe('/nonexistent/chromium is missing');
    expect(whyMissing('openssl', nowhere)).toBe('openssl is not on PATH');
    expect(whyMissing('redis-server', nowhere)).toBe('redis-server is not on PATH');
    expect(peerGate('redis-server', { WSCORE_REQUIRE_PEERS: '1' }, nowhere)).toEqual({ skip: false, missing: 'redis-server is not on PATH' });
  });

  it('reports an interpreter that cannot import the module', () => {
    // /bin/false runs and fails, as a python3 without the package does.
    expect(whyMissing('python3-websocket', { ...nowhere, python: '/bin/false' })).toMatch(/^\/bin\/false cannot import websocket/);
  });

  it('skips a suite whose peer is missing, and runs it (to fail) under WSCORE_REQUIRE_PEERS=1', () => {
    expect(peerGate('openssl', {}, nowhere)).toEqual({ skip: true, missing: 'openssl is not on PATH' });
    expect(peerGate('openssl', { WSCORE_REQUIRE_PEERS: '1' }, nowhere)).toEqual({ skip: false, missing: 'openssl is not on PATH' });
    // A PATH with an `openssl` that works: the suite runs.
    const bin = path.join(emptyDir, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'openssl'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    expect(peerGate('openssl', {}, { ...nowhere, path: bin })).toEqual({ skip: false, missing: null });
  });

  it('names the Debian packages to install in its one line', () => {
    expect(missingPeersLine(['python3-wsproto', 'chromium'], {})).toMatch(/SKIPPED.*sudo apt-get install python3-wsproto chromium$/);
    expect(missingPeersLine(['openssl'], { WSCORE_REQUIRE_PEERS: '1' })).toMatch(/FAIL.*WSCORE_REQUIRE_PEERS=1.*apt-get install openssl$/);
  });
});

describe('a suite needing openssl, run by vitest with openssl off PATH', () => {
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  function runChild(env: Record<string, string>) {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, PATH: emptyDir, ...env };
    delete childEnv.WSCORE_PEERS_REPORTED; // set by this run's own global setup
    delete childEnv.VITEST; // a nested vitest must not think it is a worker
    delete childEnv.VITEST_POOL_ID;
    delete childEnv.VITEST_WORKER_ID;
    const r = spawnSync(
      process.execPath,
      [vitest, 'run', '--config', 'test/interop/fixtures/vitest.peers.config.ts', '--reporter=json'],
      { cwd: root, encoding: 'utf8', env: childEnv, timeout: 60_000 },
    );
    const start = r.stdout.indexOf('{');
    const report = JSON.parse(r.stdout.slice(start, r.stdout.lastIndexOf('}') + 1)) as { numPassedTests: number; numFailedTests: number; numPendingTests: number };
    return { status: r.status, stderr: r.stderr, report };
  }

  it('is reported skipped, with one line naming openssl, and the run passes', () => {
    const r = runChild({ WSCORE_REQUIRE_PEERS: '' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.report).toMatchObject({ numPassedTests: 0, numFailedTests: 0, numPendingTests: 2 });
    const lines = r.stderr.split('\n').filter((l) => l.includes('interop suites SKIPPED'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/apt-get install( [a-z0-9-]+)* openssl/);
  }, 90_000);

  it('fails under WSCORE_REQUIRE_PEERS=1', () => {
    const r = runChild({ WSCORE_REQUIRE_PEERS: '1' });
    expect(r.status).toBe(1);
    expect(r.report).toMatchObject({ numFailedTests: 1, numPendingTests: 0 });
    expect(r.stderr).toContain('interop peers MISSING');
  }, 90_000);
});
