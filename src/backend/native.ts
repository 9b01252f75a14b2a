/**
 * Loads the C++ addon. The only module that touches it; ./index.ts decides whether it is
 * used. node-gyp-build looks in build/Release (a local build, deliberately preferred: it
 * is what a developer just compiled) and then prebuilds/<platform>-<arch>/.
 */
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { NativeAddon } from './native-addon';

/** The package root: the nearest folder upwards holding wscore's package.json. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if ((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'wscore') return dir;
      } catch {
        // not ours or unreadable: keep looking upwards
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`wscore: cannot find the package root above ${__dirname}`);
    dir = parent;
  }
}

/**
 * Loads the addon or throws the loader's error. `WSCORE_ADDON_PATH=/path/to/wscore.node`
 * loads that exact binary instead (used by scripts/test-asan.sh to run the suite against a
 * sanitizer build kept outside build/).
 */
export function loadNativeAddon(root: string = packageRoot()): NativeAddon {
  const requireHere = createRequire(__filename);
  const override = process.env.WSCORE_ADDON_PATH;
  if (override !== undefined && override !== '') return requireHere(path.resolve(override)) as NativeAddon;
  const nodeGypBuild = requireHere('node-gyp-build') as (dir: string) => NativeAddon;
  return nodeGypBuild(root);
}
