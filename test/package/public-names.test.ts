/**
 * The public names of the package do not collide: `import { Message, ConnectionOptions }
 * from 'wscore'` gives the sans-IO core's (protocol/events.ts, protocol/connection.ts), and
 * io's async-API message and WebSocket options are ReceivedMessage and WebSocketOptions.
 * Checked by tsc on names/public-names.cts with 'wscore' mapped to src/index.ts.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

describe('public names', () => {
  it("Message and ConnectionOptions from 'wscore' are the sans-IO core's", () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'wscore-names-'));
    try {
      const config = path.join(dir, 'tsconfig.json');
      fs.writeFileSync(
        config,
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: 'es2022',
            lib: ['ES2022'],
            module: 'commonjs',
            moduleResolution: 'node10',
            types: ['node'],
            typeRoots: [path.join(root, 'node_modules', '@types')],
            skipLibCheck: true,
            baseUrl: root,
            paths: { wscore: ['src/index.ts'] },
          },
          files: [path.join(__dirname, 'names', 'public-names.cts')],
        }),
      );
      const r = spawnSync(process.execPath, [tsc, '-p', config], { cwd: root, encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
