#!/usr/bin/env node
'use strict';
// npm run fuzz -- [--seconds N] [--target NAME]... [--no-build] [--regressions]
//
// Builds the libFuzzer targets (fuzz/build.sh) and runs each for N seconds (default 60) with
// -max_total_time=N, one after the other (they are CPU-bound; running them side by side
// only splits the cores). Each target fuzzes a working corpus, fuzz/corpus-work/<target>/
// (gitignored: libFuzzer adds thousands of files there), seeded from the small checked-in
// fuzz/corpus/<target>/, which is passed read-only as a second corpus directory.
//
// mask and utf8 pick a SIMD kernel once per process, so their N seconds are shared between
// one run per kernel level this CPU has (WSCORE_FUZZ_CPU=native|avx2|sse2, see
// fuzz/cpu_override.cc).
//
// --regressions also replays every file under fuzz/regressions/<target>/ once.
// Exit status: 0 when every target ran clean, 1 when one crashed (the crash input's path is
// printed), 2 when the build failed. Every run is appended to fuzz/out/history.jsonl
// (target, kernel level, seconds, executions) for the fuzz-hours record in fuzz/README.md.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const fuzzDir = __dirname;
const root = path.resolve(fuzzDir, '..');
const out = path.join(fuzzDir, 'out');

const TARGETS = {
  parse_frames: { maxLen: 4096 },
  utf8: { maxLen: 2048, kernels: true },
  inflate: { maxLen: 8192 },
  mask: { maxLen: 1200, kernels: true },
};

function usage(message) {
  if (message) console.error(`fuzz/run.js: ${message}`);
  console.error('usage: npm run fuzz -- [--seconds N] [--target NAME]... [--no-build] [--regressions]');
  console.error(`targets: ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { seconds: 60, targets: [], build: true, regressions: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--seconds') {
      opts.seconds = Number(value());
      if (!Number.isInteger(opts.seconds) || opts.seconds < 1) usage('--seconds must be a positive integer');
    } else if (a === '--target') {
      for (const t of value().split(',')) {
        const name = t.replace(/_fuzzer$/, '');
        if (!TARGETS[name]) usage(`unknown target ${t}`);
        opts.targets.push(name);
      }
    } else if (a === '--no-build') opts.build = false;
    else if (a === '--regressions') opts.regressions = true;
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  if (opts.targets.length === 0) opts.targets = Object.keys(TARGETS);
  return opts;
}

/** Kernel levels to rotate through: what this CPU can run (Linux /proc/cpuinfo flags). */
function kernelLevels() {
  let flags = '';
  try {
    flags = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    return ['native'];
  }
  const has = (f) => new RegExp(`\\b${f}\\b`).test(flags);
  const levels = ['native'];
  if (has('avx512f') && has('avx512bw')) levels.push('avx2');
  if (has('avx2')) levels.push('sse2');
  return levels;
}

function stat(log, name) {
  const m = log.match(new RegExp(`stat::${name}:\\s*(\\d+)`));
  return m ? Number(m[1]) : null;
}

function runOnce(target, level, seconds) {
  const bin = path.join(out, `${target}_fuzzer`);
  const work = path.join(fuzzDir, 'corpus-work', target);
  const seeds = path.join(fuzzDir, 'corpus', target);
  const artifacts = path.join(out, 'artifacts', target) + path.sep;
  const logs = path.join(out, 'logs');
  for (const d of [work, artifacts, logs]) fs.mkdirSync(d, { recursive: true });
  const args = [
    `-max_total_time=${seconds}`,
    `-max_len=${TARGETS[target].maxLen}`,
    '-timeout=30',
    '-rss_limit_mb=2048',
    '-print_final_stats=1',
    `-artifact_prefix=${artifacts}`,
    work,
  ];
  if (fs.existsSync(seeds)) args.push(seeds);
  const env = {
    ...process.env,
    WSCORE_FUZZ_CPU: level,
    UBSAN_OPTIONS: `print_stacktrace=1:halt_on_error=1${process.env.UBSAN_OPTIONS ? ':' + process.env.UBSAN_OPTIONS : ''}`,
  };
  const label = level === 'native' ? target : `${target} (kernels capped at ${level})`;
  console.log(`fuzz: ${label}: ${seconds} s ...`);
  const started = Date.now();
  const r = spawnSync(bin, args, { env, encoding: 'utf8', maxBuffer: 256 << 20 });
  const log = (r.stdout ?? '') + (r.stderr ?? '');
  const logFile = path.join(logs, `${target}-${level}.log`);
  fs.writeFileSync(logFile, log);
  const elapsed = (Date.now() - started) / 1000;
  const execs = stat(log, 'number_of_executed_units');
  const ok = r.status === 0;
  const entry = { date: new Date().toISOString(), target, level, seconds: elapsed, execs, ok };
  fs.appendFileSync(path.join(out, 'history.jsonl'), JSON.stringify(entry) + '\n');
  const cov = log.match(/cov: (\d+) ft: (\d+) corp: (\d+)/g)?.pop() ?? '';
  if (ok) {
    console.log(`fuzz: ${label}: clean, ${execs ?? '?'} execs in ${elapsed.toFixed(0)} s (${cov})`);
    return true;
  }
  console.error(log.split('\n').slice(-60).join('\n'));
  const unit = log.match(/Test unit written to (\S+)/)?.[1];
  console.error(`fuzz: ${label}: CRASH (exit ${r.status ?? r.signal}); full log: ${logFile}`);
  if (unit) {
    console.error(`fuzz: crash input: ${path.resolve(unit)}`);
    console.error(`fuzz: reproduce:   WSCORE_FUZZ_CPU=${level} ${bin} ${path.resolve(unit)}`);
  }
  return false;
}

function replayRegressions(target) {
  const dir = path.join(fuzzDir, 'regressions', target);
  if (!fs.existsSync(dir)) return true;
  const files = fs
    .readdirSync(dir)
    .filter((f) => !/\.(md|txt)$/.test(f)) // notes, not inputs
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile());
  if (files.length === 0) return true;
  const r = spawnSync(path.join(out, `${target}_fuzzer`), ['-runs=1', ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status === 0) {
    console.log(`fuzz: ${target}: ${files.length} regression input(s) pass`);
    return true;
  }
  console.error(((r.stdout ?? '') + (r.stderr ?? '')).split('\n').slice(-40).join('\n'));
  console.error(`fuzz: ${target}: a regression input in ${dir} fails`);
  return false;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.build) {
    const b = spawnSync('bash', [path.join(fuzzDir, 'build.sh')], { cwd: root, stdio: 'inherit' });
    if (b.status !== 0) {
      console.error('fuzz: build failed');
      process.exit(2);
    }
  }
  const levels = kernelLevels();
  const failed = [];
  for (const target of opts.targets) {
    if (!fs.existsSync(path.join(out, `${target}_fuzzer`))) usage(`fuzz/out/${target}_fuzzer is not built (drop --no-build)`);
    if (opts.regressions && !replayRegressions(target)) {
      failed.push(target); // a known crash: no need to fuzz for a new one
      continue;
    }
    let ok = true;
    const runs = TARGETS[target].kernels ? levels : ['native'];
    const share = Math.max(1, Math.floor(opts.seconds / runs.length));
    for (const level of runs) {
      if (!runOnce(target, level, share)) {
        ok = false;
        break;
      }
    }
    if (!ok) failed.push(target);
  }
  const clean = opts.targets.filter((t) => !failed.includes(t));
  console.log(`fuzz: targets clean: ${clean.join(', ') || '-'}; crashed: ${failed.join(', ') || '-'}`);
  process.exit(failed.length === 0 ? 0 : 1);
}

main();
