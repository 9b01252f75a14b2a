'use strict';
// Hash of the native sources an addon is built from. binding.gyp bakes it into the
// addon (WSCORE_SOURCE_HASH) and test/package/prebuild.test.ts compares a committed prebuild's
// hash with the sources in the tree, so a prebuild that no longer matches is caught.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function nativeSourceFiles() {
  const dir = path.join(root, 'native');
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.(cc|cpp|c|h|hpp)$/.test(f))
    .map((f) => `native/${f}`);
  files.push('binding.gyp');
  return files.sort();
}

function sourceHash() {
  const hash = crypto.createHash('sha256');
  for (const file of nativeSourceFiles()) {
    // Normalise line endings so a checkout with CRLF conversion hashes the same.
    const text = fs.readFileSync(path.join(root, file), 'utf8').replace(/\r\n/g, '\n');
    hash.update(file).update('\0').update(text).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

module.exports = { sourceHash, nativeSourceFiles };

if (require.main === module) process.stdout.write(sourceHash());
