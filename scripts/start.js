'use strict';
// `npm start`: an echo server on 127.0.0.1:8080 (`npm start -- --port 9000 --deflate` passes
// options to `wscore serve`). Compiles the TypeScript first when dist/ is missing or older
// than src/ (npm install does it through `prepare`; a fresh checkout may not have run it).
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'cjs', 'cli.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

if (!fs.existsSync(cli) || fs.statSync(cli).mtimeMs < newestSource(path.join(root, 'src'))) {
  const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-ts.js')], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

require(cli)
  .main(['serve', '--echo', '--host', '127.0.0.1', '--port', '8080', ...process.argv.slice(2)])
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
