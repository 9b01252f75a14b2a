'use strict';
// npm run prebuild: an N-API prebuild for this platform into prebuilds/<platform>-<arch>/,
// stripped. One N-API binary serves every Node version >= 20. Commit it after changing
// native/ (test/package/prebuild.test.ts fails while a committed prebuild is stale).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const prefix = path.resolve(path.dirname(process.execPath), '..');
const env = { ...process.env };
if (!env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  env.npm_config_nodedir = prefix;
}
const bin = require.resolve('prebuildify/bin.js', { paths: [root] });
const result = spawnSync(process.execPath, [bin, '--napi', '--strip', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env,
});
process.exit(result.status ?? 1);
