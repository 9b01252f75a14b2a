/**
 * Backend selection when the addon cannot load: the js backend with one WSCORE_NO_NATIVE
 * warning (naming the load error and the fix), unless WSCORE_BACKEND asked for a backend.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { jsBackend, NO_NATIVE_WARNING, selectBackend, type Backend } from '../../src/backend';

const root = path.resolve(__dirname, '../..');

function recorder(): { warn: (w: string, o: { code: string; detail: string }) => void; calls: Array<{ warning: string; code: string; detail: string }> } {
  const calls: Array<{ warning: string; code: string; detail: string }> = [];
  return { calls, warn: (warning, o) => calls.push({ warning, ...o }) };
}
const missingAddon = (): Backend => {
  throw new Error("Cannot find module '/nowhere/wscore.node'");
};
const fakeNative = { ...jsBackend, name: 'native' } as Backend;

describe('selectBackend', () => {
  it('falls back to js with one WSCORE_NO_NATIVE warning carrying the load error and the fix', () => {
    const r = recorder();
    const choice = selectBackend({}, missingAddon, r.warn);
    expect(choice.backend).toBe(jsBackend);
    expect(choice.nativeLoadError?.message).toContain('/nowhere/wscore.node');
    expect(r.calls).toHaveLength(1);
    expect(r.calls[0]!.code).toBe(NO_NATIVE_WARNING);
    expect(r.calls[0]!.warning).toContain("Cannot find module '/nowhere/wscore.node'");
    expect(r.calls[0]!.detail).toContain('npm install-scripts approve wscore && npm rebuild wscore');
  });

  it('does not warn when WSCORE_BACKEND=js was asked for (and does not try the addon)', () => {
    const r = recorder();
    let tried = false;
    const choice = selectBackend({ WSCORE_BACKEND: 'js' }, () => ((tried = true), fakeNative), r.warn);
    expect(choice.backend).toBe(jsBackend);
    expect(tried).toBe(false);
    expect(r.calls).toEqual([]);
  });

  it('throws instead of warning when WSCORE_BACKEND=native cannot be honoured', () => {
    const r = recorder();
    expect(() => selectBackend({ WSCORE_BACKEND: 'native' }, missingAddon, r.warn)).toThrow(/WSCORE_BACKEND=native but the native addon could not be loaded/);
    expect(r.calls).toEqual([]);
  });

  it('does not warn when the addon loads', () => {
    const r = recorder();
    expect(selectBackend({}, () => fakeNative, r.warn).backend).toBe(fakeNative);
    expect(r.calls).toEqual([]);
  });
});

describe('the built package without its addon (needs dist/: npm run build:ts)', () => {
  // WSCORE_ADDON_PATH at a missing file makes the load fail as on a platform without a prebuild.
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['-e', 'const w = require("./dist/cjs/index.js"); require("./dist/cjs/index.js"); console.log(w.backendName)'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, WSCORE_BACKEND: '', WSCORE_ADDON_PATH: '/nowhere/wscore.node', ...env },
    });

  it('runs the js backend and prints the warning once on stderr', () => {
    const r = run({});
    expect(r.stdout.trim()).toBe('js');
    expect(r.stderr.match(/\[WSCORE_NO_NATIVE\]/g)).toHaveLength(1);
    expect(r.stderr).toContain('/nowhere/wscore.node');
  });

  it('is silent with WSCORE_BACKEND=js', () => {
    const r = run({ WSCORE_BACKEND: 'js' });
    expect(r.stdout.trim()).toBe('js');
    expect(r.stderr).toBe('');
  });
});
