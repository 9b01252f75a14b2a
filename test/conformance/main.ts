/**
 * `npm run conformance`: both modes on both backends (one child process per backend, since
 * the backend is chosen when src/ is first imported), a table on stdout, and a JSON report
 * in bench/results/. Exit code 1 when any case FAILED.
 *
 *   npm run conformance -- [--profile ci|full] [--cases '1.*,5.19'] [--modes server,client]
 *                          [--backends native,js] [--concurrency 4] [--verbose]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { allCases, PROFILES, selectCases, type Profile } from './cases';
import { describeFailure, summaryLine, table } from './report';
import { isFailure } from './result';
import { runMode, type Mode, type ModeRun } from './runner';

const root = path.resolve(__dirname, '..', '..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const profile: Profile = PROFILES[arg('profile', 'ci') as Profile['name']] ?? PROFILES.ci;
const patterns = arg('cases', '*').split(',');
const modes = arg('modes', 'server,client').split(',') as Mode[];
const concurrency = Number(arg('concurrency', '4'));
const verbose = process.argv.includes('--verbose');

/** In a child: run the modes on this process's backend, write the runs to `--out`. */
async function child(out: string): Promise<void> {
  const cases = selectCases(allCases(profile), patterns);
  const runs: ModeRun[] = [];
  for (const mode of modes) {
    const run = await runMode(mode, cases, profile, {
      concurrency,
      onResult: verbose ? (r) => console.log(`  ${r.id} ${r.behavior} / ${r.behaviorClose} (${r.durationMs} ms)`) : undefined,
    });
    console.log(summaryLine(run));
    runs.push(run);
  }
  fs.writeFileSync(out, JSON.stringify(runs));
}

function parent(): number {
  const backends = arg('backends', 'native,js').split(',');
  const viteNode = path.join(root, 'node_modules', 'vite-node', 'vite-node.mjs');
  const runs: ModeRun[] = [];
  const started = Date.now();
  for (const backend of backends) {
    const out = path.join(os.tmpdir(), `wscore-conformance-${process.pid}-${backend}.json`);
    const res = spawnSync(process.execPath, [viteNode, __filename, ...process.argv.slice(2), '--child', out], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, WSCORE_BACKEND: backend },
    });
    if (res.status !== 0 || !fs.existsSync(out)) {
      console.error(`conformance run on the ${backend} backend did not finish (exit ${res.status ?? res.signal})`);
      return 2;
    }
    runs.push(...(JSON.parse(fs.readFileSync(out, 'utf8')) as ModeRun[]));
    fs.rmSync(out);
  }
  console.log(`\n${table(runs)}\n`);
  const failures = runs.flatMap((r) => r.results.filter(isFailure).map((x) => `[${r.mode}/${r.backend}] ${describeFailure(x)}`));
  if (failures.length > 0) console.log(`FAILED cases:\n${failures.join('\n')}\n`);
  const dir = path.join(root, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `conformance-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ profile: profile.name, node: process.version, wallMs: Date.now() - started, runs }, null, 1));
  console.log(`report: ${path.relative(root, file)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return failures.length > 0 ? 1 : 0;
}

const childOut = process.argv.indexOf('--child');
if (childOut >= 0) {
  child(process.argv[childOut + 1]).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(2);
    },
  );
} else {
  process.exitCode = parent();
}
