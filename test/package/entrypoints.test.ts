// The published entry points: CommonJS and ESM resolve through package.json "exports" to
// one implementation (dist/cjs), so classes are shared and instanceof works across both.
// Needs dist/ (built by `npm install`'s prepare script or `npm run build:ts`).
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');

function runNode(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env } }).trim();
}

describe('package entry points', () => {
  it('require("wscore") and import "wscore" load the same module instance', () => {
    const cjs = runNode(['-e', 'const w = require("wscore"); console.log(w.backendName)']);
    const esm = runNode([
      '--input-type=module',
      '-e',
      'import { backendName, backend } from "wscore"; import { createRequire } from "node:module"; const r = createRequire(import.meta.url); console.log(backendName, backend === r("wscore").backend);',
    ]);
    expect(cjs).toBe(process.env.WSCORE_BACKEND);
    expect(esm).toBe(`${process.env.WSCORE_BACKEND} true`);
  });

  it('exports the API of SPEC.md from the package root', () => {
    const names = [
      'WebSocket', 'WebSocketServer', 'connect', 'serve', 'Headers', 'MultipleValuesError', 'Frame',
      'Close', 'Opcode', 'CloseCode', 'isValidCloseCode', 'parseUri', 'InvalidURI', 'http11',
      'generateKey', 'acceptKey', 'PerMessageDeflate', 'WSConnection', 'Connection', 'ConnectionType',
      'ConnectionState', 'FrameProtocol', 'FrameDecoder', 'MessageDecoder', 'ParseFailed',
      'LocalProtocolError', 'RemoteProtocolError', 'TextMessage', 'BytesMessage', 'CloseConnection',
    ];
    const out = runNode(['-e', `const w = require("wscore"); console.log(JSON.stringify(${JSON.stringify(names)}.filter((n) => w[n] === undefined)))`]);
    expect(JSON.parse(out)).toEqual([]);
    const http = runNode(['-e', 'const w = require("wscore"); console.log(typeof w.http11.Request, typeof w.http11.parseRequest)']);
    expect(http).toBe('function function');
  });

  it('npm pack ships built code, types, native sources and prebuilds, and no tests or benches', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    const files: string[] = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toContain('dist/cjs/index.js');
    expect(files).toContain('dist/cjs/index.d.ts');
    expect(files).toContain('dist/esm/index.mjs');
    expect(files).toContain('binding.gyp');
    expect(files).toContain('native/addon.cc');
    expect(files).toContain('scripts/install.js');
    expect(files.some((f) => f.startsWith('prebuilds/linux-x64/'))).toBe(true);
    const junk = files.filter((f) => /^(test|bench|fuzz|build|node_modules|src|\.ci)\//.test(f) || f.endsWith('.tsbuildinfo'));
    expect(junk).toEqual([]);
  });
});
