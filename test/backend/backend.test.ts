import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { backend, backendName, jsBackend, nativeLoadError } from '../../src/backend';
import { loadNativeAddon } from '../../src/backend/native';
import { createNativeBackend, NATIVE_KERNELS } from '../../src/backend/native-backend';

describe('backend selection', () => {
  it('honours WSCORE_BACKEND', () => {
    const wanted = process.env.WSCORE_BACKEND;
    expect(wanted === 'native' || wanted === 'js').toBe(true);
    expect(backendName).toBe(wanted);
    expect(backend.name).toBe(wanted);
    if (wanted === 'native') expect(nativeLoadError).toBeUndefined();
    else expect(backend).toBe(jsBackend);
  });
});

describe('a stale addon', () => {
  it('missing any kernel of the native backend is refused, naming it', () => {
    const real = loadNativeAddon();
    const dir = mkdtempSync(join(tmpdir(), 'wscore-stale-'));
    const saved = process.env.WSCORE_ADDON_PATH;
    try {
      for (const missing of NATIVE_KERNELS) {
        // A module standing in for an old binary: the real exports minus one.
        const file = join(dir, `without-${missing}.cjs`);
        (globalThis as Record<string, unknown>).__wscoreRealAddon = real;
        writeFileSync(file, `module.exports = { ...globalThis.__wscoreRealAddon, ${missing}: undefined };\n`);
        process.env.WSCORE_ADDON_PATH = file;
        expect(() => createNativeBackend(), missing).toThrow(`the native addon has no ${missing}: it is stale`);
      }
      process.env.WSCORE_ADDON_PATH = '';
      expect(createNativeBackend().name).toBe('native');
    } finally {
      if (saved === undefined) delete process.env.WSCORE_ADDON_PATH;
      else process.env.WSCORE_ADDON_PATH = saved;
      delete (globalThis as Record<string, unknown>).__wscoreRealAddon;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
