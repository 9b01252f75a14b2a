/**
 * The package as users get it: `npm pack`'s tarball unpacked into a fresh project (by hand:
 * offline, its three dependencies linked from this checkout), then
 * - the five import forms of ws users (fixtures/form-*), compiled with tsc and run;
 * - the `wscore/web` entry (fixtures/web-*): imported (ESM, type-checked by tsc) and required;
 * - ws-README-style code (fixtures/readme-*) type-checked with tsc --strict under module
 *   node16, nodenext and bundler, against the package's own declarations;
 * - a CommonJS app bundled with esbuild (--bundle --platform=node) and run on both backends;
 * - no source map in the tarball names a file the tarball lacks.
 * Packs the current dist/: it fails (never skips) when dist/ is older than src/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.join(__dirname, 'fixtures');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let tmp = '';
let app = '';
let pkg = '';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? files(full) : [full];
  });
}

/** Runs node on `file` in the test project; returns stdout, stderr and the exit status. */
function node(file: string, env: Record<string, string> = {}): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [file], { cwd: path.dirname(file), encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function runTsc(args: string[]): string {
  const r = spawnSync(process.execPath, [tsc, ...args], { cwd: app, encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim() + (r.status === 0 ? '' : `\n(tsc exited ${r.status})`);
}

beforeAll(() => {
  const built = path.join(root, 'dist', 'cjs', 'main.js');
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newestMtime(path.join(root, 'src'))) {
    throw new Error('dist/ is missing or older than src/: run `npm run build:ts` first');
  }
  tmp = fs.mkdtempSync(path.join(tmpdir(), 'wscore-pack-'));
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: root, encoding: 'utf8' });
  const tarball = path.join(tmp, (JSON.parse(out) as Array<{ filename: string }>)[0]!.filename);
  app = path.join(tmp, 'app');
  pkg = path.join(app, 'node_modules', 'wscore');
  fs.mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', pkg, '--strip-components=1']);
  // The runtime dependencies, and the compiler with Node's types for the type checks.
  for (const dep of ['node-addon-api', 'node-gyp-build', 'pako', 'typescript', '@types/node']) {
    fs.mkdirSync(path.dirname(path.join(app, 'node_modules', dep)), { recursive: true });
    fs.symlinkSync(path.join(root, 'node_modules', dep), path.join(app, 'node_modules', dep));
  }
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  for (const f of fs.readdirSync(fixtures)) fs.copyFileSync(path.join(fixtures, f), path.join(app, f));
}, 60_000);

afterAll(() => {
  if (tmp !== '') fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('ships the LICENSE, and no source map names a file it lacks', () => {
    expect(fs.readFileSync(path.join(pkg, 'LICENSE'), 'utf8')).toContain('MIT License');
    const maps = files(pkg).filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const dangling: string[] = [];
    for (const map of maps) {
      const m = JSON.parse(fs.readFileSync(map, 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null>; sourceRoot?: string };
      m.sources.forEach((source, i) => {
        const inline = typeof m.sourcesContent?.[i] === 'string';
        if (!inline && !fs.existsSync(path.resolve(path.dirname(map), m.sourceRoot ?? '', source))) dangling.push(`${map}: ${source}`);
      });
    }
    expect(dangling).toEqual([]);
  });

  it('runs the five import forms of ws users', () => {
    const forms = ['form-import-require.cts', 'form-default.mts', 'form-named.mts'];
    expect(runTsc(['--strict', '--module', 'node16', '--target', 'es2022', '--types', 'node', '--outDir', 'out', ...forms])).toBe('');
    const backend = process.env.WSCORE_BACKEND!;
    const expected: Array<[string, string]> = [
      ['out/form-import-require.cjs', `import-require hello ${backend} true`],
      ['out/form-default.mjs', `default hello ${backend} true`],
      ['out/form-named.mjs', `named hello ${backend} true`],
      ['form-require.cjs', `require hello ${backend} function`],
      ['form-server.cjs', `server hello ${backend} true`],
    ];
    for (const [file, line] of expected) {
      const r = node(path.join(app, file));
      expect({ file, out: r.stdout.trim(), err: r.stderr, status: r.status }).toEqual({ file, out: line, err: '', status: 0 });
    }
  }, 120_000);
});

describe('the wscore/web entry', () => {
  it('is imported (ESM, type-checked under node16 and bundler resolution) and required (CommonJS)', () => {
    const common = ['--strict', '--target', 'es2022', '--types', 'node', '--skipLibCheck', 'false'];
    expect(runTsc([...common, '--noEmit', '--module', 'preserve', '--moduleResolution', 'bundler', 'web-esm.mts'])).toBe('');
    expect(runTsc([...common, '--module', 'node16', '--outDir', 'out', 'web-esm.mts'])).toBe('');
    for (const [file, line] of [
      ['out/web-esm.mjs', 'web-esm hello 1000 true true'],
      ['web-require.cjs', 'web-require hello ws: true'],
    ]) {
      const r = node(path.join(app, file));
      expect({ file, out: r.stdout.trim(), err: r.stderr, status: r.status }).toEqual({ file, out: line, err: '', status: 0 });
    }
  }, 120_000);
});

describe('ws-README-style code type-checks with tsc --strict against the package', () => {
  const common = ['--strict', '--noEmit', '--target', 'es2022', '--types', 'node'];
  const sources = ['readme-cjs.cts', 'readme-esm.mts'];
  // Our own declarations are checked too (skipLibCheck false) once; the other modes skip
  // library files, as most projects do, to keep the run short.
  it('module node16 (CommonJS and ESM files), with the declarations themselves checked', () => {
    expect(runTsc([...common, '--skipLibCheck', 'false', '--module', 'node16', '--moduleResolution', 'node16', ...sources])).toBe('');
  }, 120_000);

  it('module nodenext', () => {
    expect(runTsc([...common, '--skipLibCheck', 'true', '--module', 'nodenext', '--moduleResolution', 'nodenext', ...sources])).toBe('');
  }, 120_000);

  it('moduleResolution bundler', () => {
    // `import x = require()` needs module preserve under bundler resolution (TS 5.4+).
    expect(runTsc([...common, '--skipLibCheck', 'true', '--module', 'preserve', '--moduleResolution', 'bundler', ...sources])).toBe('');
  }, 120_000);
});

describe('an app bundled with esbuild (--bundle --platform=node)', () => {
  let bundle = '';
  beforeAll(async () => {
    const esbuild = await import('esbuild');
    bundle = path.join(tmp, 'bundle', 'app.js');
    // Out of the project: the bundle must run without node_modules.
    const result = await esbuild.build({ entryPoints: [path.join(app, 'bundle-app.cjs')], bundle: true, platform: 'node', outfile: bundle, logLevel: 'silent' });
    expect(result.errors).toEqual([]);
  }, 60_000);

  it('runs on the js backend, warning WSCORE_NO_NATIVE once when the addon is not next to it', () => {
    const asked = node(bundle, { WSCORE_BACKEND: 'js' });
    expect({ out: asked.stdout.trim(), err: asked.stderr, status: asked.status }).toEqual({ out: 'bundle js permessage-deflate 5000', err: '', status: 0 });
    const fallback = node(bundle, { WSCORE_BACKEND: '' });
    expect(fallback.stdout.trim()).toBe('bundle js permessage-deflate 5000');
    expect(fallback.stderr.match(/\[WSCORE_NO_NATIVE\]/g)).toHaveLength(1);
  });

  it('runs on the native backend with prebuilds/ copied next to the bundle', () => {
    fs.cpSync(path.join(pkg, 'prebuilds'), path.join(path.dirname(bundle), 'prebuilds'), { recursive: true });
    const r = node(bundle, { WSCORE_BACKEND: 'native' });
    expect({ out: r.stdout.trim(), err: r.stderr, status: r.status }).toEqual({ out: 'bundle native permessage-deflate 5000', err: '', status: 0 });
  });
});
