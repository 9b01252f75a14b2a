/**
 * The shipped prebuild (prebuilds/<platform>-<arch>/wscore.node, made by `npm run prebuild`):
 * (a) an installed package without build/ loads it, and it works;
 * (b) it was built from the native sources in this tree. This fails while a committed
 *     prebuild is stale, on purpose: regenerate it (npm run prebuild) before committing
 *     changes under native/ or binding.gyp.
 * (c) so was every other committed prebuild (npm run prebuild:arm64 for linux-arm64). Those
 *     cannot be loaded on this host, so their bytes must hold the hash binding.gyp bakes in.
 */
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { NativeAddon } from '../../src/backend/native-addon';

const requireHere = createRequire(__filename);
const root = path.resolve(__dirname, '../..');
const nodeGypBuild = requireHere('node-gyp-build') as { path(dir: string): string };
const { sourceHash } = requireHere('../../scripts/source-hash.js') as { sourceHash(): string };

describe('prebuild', () => {
  let installed: string;

  beforeAll(() => {
    // What a consumer gets from the npm tarball, minus build/: package.json + prebuilds/.
    installed = fs.mkdtempSync(path.join(os.tmpdir(), 'wscore-prebuild-'));
    fs.copyFileSync(path.join(root, 'package.json'), path.join(installed, 'package.json'));
    fs.cpSync(path.join(root, 'prebuilds'), path.join(installed, 'prebuilds'), { recursive: true });
  });
  afterAll(() => {
    fs.rmSync(installed, { recursive: true, force: true });
  });

  it('exists for this platform', () => {
    expect(fs.existsSync(path.join(root, 'prebuilds', `${process.platform}-${process.arch}`))).toBe(true);
  });

  it('is what node-gyp-build loads when build/ is absent, and it works', () => {
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
    const file = nodeGypBuild.path(installed);
    expect(path.relative(path.join(installed, 'prebuilds'), file).startsWith('..')).toBe(false);
    const addon = requireHere(file) as NativeAddon;
    const data = Uint8Array.of(1, 2, 3, 4, 5, 6);
    const out = new Uint8Array(6);
    addon.mask(data, Uint8Array.of(0xff, 0x00, 0x0f, 0xf0), out, 0, 0);
    expect(Array.from(out)).toEqual([0xfe, 0x02, 0x0c, 0xf4, 0xfa, 0x06]);
    expect(addon.isUtf8(Buffer.from('héllo €'))).toBe(true);
  });

  it('was built from the native sources in this tree (regenerate with npm run prebuild)', () => {
    const addon = requireHere(nodeGypBuild.path(installed)) as NativeAddon;
    expect(addon.sourceHash).toBe(sourceHash());
  });

  it('every committed prebuild carries the source hash of this tree (cross builds: npm run prebuild:<arch>)', () => {
    const dirs = fs.readdirSync(path.join(root, 'prebuilds'));
    expect(dirs).toContain(`${process.platform}-${process.arch}`);
    const hash = Buffer.from(`${sourceHash()}\0`, 'latin1');
    const stale = dirs.filter((dir) => !fs.readFileSync(path.join(root, 'prebuilds', dir, 'wscore.node')).includes(hash));
    expect(stale).toEqual([]);
  });
});
