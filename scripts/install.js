'use strict';
// `npm install` hook of wscore's own package (npm 11 runs the root package's scripts, not
// its dependencies'). Order:
//   1. a prebuild or an earlier build that loads and matches the native sources: done;
//   2. else build with node-gyp;
//   3. if that fails (no compiler, no headers), warn and succeed: the js backend is used.
// `--force` (npm run build:native) always rebuilds and fails loudly.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const force = process.argv.includes('--force');
const extraArgs = process.argv.slice(2).filter((a) => a !== '--force');

function log(msg) {
  process.stderr.write(`wscore: ${msg}\n`);
}

function currentAddonMatches() {
  try {
    const { sourceHash } = require('./source-hash.js');
    const addon = require('node-gyp-build')(root);
    return addon.sourceHash === sourceHash();
  } catch {
    return false;
  }
}

function nodeGypCommand() {
  // Prefer the node-gyp of our devDependencies, then the one npm bundles (exported to
  // lifecycle scripts as npm_config_node_gyp), then whatever is on PATH.
  const candidates = [];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] }));
  } catch {}
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  const npmBundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  candidates.push(npmBundled);
  for (const c of candidates) if (fs.existsSync(c)) return [process.execPath, c];
  return ['node-gyp'];
}

function nodedirArgs() {
  // With no network, node-gyp must find Node's headers locally instead of downloading them.
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function build() {
  const [cmd, ...pre] = nodeGypCommand();
  const args = [...pre, 'rebuild', ...nodedirArgs(), ...extraArgs];
  log(`building the native addon: ${path.basename(cmd)} ${args.map((a) => path.basename(a)).join(' ')}`);
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  return result.status === 0;
}

if (process.env.WSCORE_SKIP_BUILD) {
  log('WSCORE_SKIP_BUILD is set: not building; the js backend is used unless an addon exists');
  process.exit(0);
}
if (!force && currentAddonMatches()) {
  log('a prebuilt native addon matches the sources: nothing to build');
  process.exit(0);
}
if (build() && currentAddonMatches()) {
  log('native addon built');
  process.exit(0);
}
if (force) {
  log('native build failed');
  process.exit(1);
}
log('could not build the native addon; wscore will use its pure-JS backend (slower)');
process.exit(0);
