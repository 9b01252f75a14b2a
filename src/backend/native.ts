/**
 * Loads the C++ addon. The only module that touches it; ./index.ts decides whether it is
 * used. node-gyp-build looks in build/Release (a local build, deliberately preferred: it
 * is what a developer just compiled) and then prebuilds/<platform>-<arch>/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { NativeAddon } from './native-addon';

/** The package root: the nearest folder upwards holding wscore's package.json. */
export function packageRoot(from: string = __dirname): string {
  let dir = from;
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
    if (parent === dir) throw new Error(`wscore: cannot find the package root above ${from}`);
    dir = parent;
  }
}

/**
 * Where to look for build/Release and prebuilds/: the package root, or, when wscore was
 * bundled into an application (esbuild, webpack: no wscore package.json above this file),
 * the bundle's own folder, so that copying wscore's prebuilds/ next to the bundle is enough.
 */
function addonRoot(): string {
  try {
    return packageRoot();
  } catch {
    return __dirname;
  }
}

/**
 * Loads the addon or throws the loader's error. `WSCORE_ADDON_PATH=/path/to/wscore.node`
 * loads that exact binary instead (used by scripts/test-asan.sh to run the suite against a
 * sanitizer build kept outside build/, and by bundled applications).
 */
export function loadNativeAddon(root: string = addonRoot()): NativeAddon {
  const override = process.env.WSCORE_ADDON_PATH;
  // A computed path: bundlers leave it to Node's require at run time, which loads .node files.
  if (override !== undefined && override !== '') return require(path.resolve(override)) as NativeAddon;
  // A literal require, so that a bundler includes node-gyp-build along with wscore.
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeAddon;
  return nodeGypBuild(root);
}
