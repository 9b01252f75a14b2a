// The "## End-to-end" section of docs/benchmarks.md, generated from a results file. Other
// sections of that file belong to other benchmarks: only ours is replaced (or appended).
import fs from 'node:fs';
import path from 'node:path';

import { writePlots } from '../plots.mjs';
import { ROOT } from './build.mjs';
import { allTables } from './report.mjs';

const DOC = path.join(ROOT, 'docs/benchmarks.md');
const IMG = path.join(ROOT, 'docs/img');
const HEADING = '## End-to-end';

const rel = (p) => (typeof p === 'string' && p.startsWith(ROOT) ? path.relative(ROOT, p) : p);
const cmdLine = (argv) => argv.map(rel).map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ');

function machineTable(meta) {
  const m = meta.machine;
  const rows = [
    ['CPU', `${m.cpu} (${m.cores} cores)`],
    ['memory', `${m.memory_gib} GiB`],
    ['OS / kernel', `${m.os} / ${m.kernel}`],
    ['Node.js', m.node],
    ['libc / compiler', `${m.glibc} / ${m.cc}`],
    ['packages', `ws ${m.versions.ws}, bufferutil ${m.versions.bufferutil}, @btc-vision/uwebsockets.js ${m.versions.uws}`],
    ['wscore', `${m.git}${m.git_dirty ? ' + uncommitted src/native changes' : ''}`],
    ['pinning', meta.pinning],
    ['load average', `${m.loadavg.join(' ')} at the start, ${(meta.loadavg_end ?? []).join(' ')} at the end`],
    ['uWS.js loaded as', meta.uws?.how ?? 'not run'],
    ['date', `${meta.started} – ${meta.finished ?? '(unfinished)'}`],
  ];
  return ['| | |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

function exampleCommands(results) {
  const lines = [];
  const pick = (arr, f) => {
    for (const c of arr ?? []) for (const s of Object.values(c.servers)) for (const r of s.runs) if (!r.failed && f(r)) return r;
    return null;
  };
  const echo = pick(results.echo, (r) => r.server_argv && r.argv);
  if (echo) lines.push('# one echo run (server first, then the load generator)', cmdLine(echo.server_argv), cmdLine(echo.argv));
  const scale = pick(results.scale, (r) => r.loadgen_argv);
  if (scale) lines.push('# idle scale', cmdLine(scale.server_argv), cmdLine(scale.loadgen_argv));
  const bc = pick(results.broadcast, (r) => r.argv);
  if (bc) lines.push('# broadcast', cmdLine(bc.server_argv), cmdLine(bc.argv));
  return lines.join('\n');
}

// Cells replaced by a later run (bench/e2e/merge.mjs): say which, when and how loaded.
function mergedNote(meta) {
  if (!meta.merged?.length) return [];
  const lines = meta.merged.map((m) => {
    const kinds = [...new Set(m.cells.map((c) => c.split('/')[0]))].join(', ');
    return `- ${m.cells.length} cells (${kinds}) from a rerun, ${m.started} – ${m.finished}, load average ${(m.loadavg ?? []).join(' ')} at its start (\`${m.file}\`).`;
  });
  return ['Merged results: these cells replace the ones of the main run.', '', ...lines, ''];
}

export function renderSection(results, resultsFile, plots) {
  const meta = results.meta;
  const noisy = meta.machine.loadavg[0] > meta.machine.cores * 0.5;
  const skipped = Object.entries(meta.skipped ?? {}).map(([k, v]) => `${k}: ${v}`);
  const imgs = plots.map((p) => `![${p.title}](img/${path.basename(p.file)})`);
  return [
    HEADING,
    '',
    'A C load generator (`bench/e2e/loadgen.c`, one thread, epoll) against one echo server at a time, ' +
      'each implementation with the same behaviour (`bench/e2e/servers/`): every message goes back to its ' +
      'sender with the same opcode. The server runs on one core and the generator on the other (taskset). The generator sends masked ' +
      'frames, keeps K messages in flight per connection (throughput) or one (latency), and checks every ' +
      'echo byte for byte and in order. msgs/s counts verified echoes in the measured window; MB/s is msgs/s × payload. ' +
      'With permessage-deflate every message is compressed both ways. Each cell was run ' +
      `${meta.options.repeat} time(s) per server, servers interleaved; the tables show medians. How it works and how to run it: \`bench/e2e/README.md\`.`,
    '',
    noisy
      ? `**Caution: the machine was busy during this run (load average ${meta.machine.loadavg[0]} on ${meta.machine.cores} cores): the numbers are noisy and only indicative.**`
      : '',
    noisy ? '' : null,
    meta.options.quick
      ? 'This was a `--quick` run (short windows, one repeat, part of the matrix): a check that everything works, not a measurement to quote.'
      : '',
    meta.options.quick ? '' : null,
    skipped.length ? `Not run: ${skipped.join('; ')}.` : '',
    skipped.length ? '' : null,
    ...mergedNote(meta),
    '### Machine',
    '',
    machineTable(meta),
    '',
    '### Commands',
    '',
    '```sh',
    'npm install && npm run build:ts # ws, bufferutil, uWS.js; wscore in dist/cjs',
    meta.command,
    ...(meta.merged ?? []).map((m) => `${m.command ?? '# then a rerun'}   # -> ${m.file}, merged by bench/e2e/merge.mjs`),
    '```',
    '',
    `Results: \`${resultsFile}\` (not committed). The tables and plots below are regenerated from it with ` +
      `\`node bench/e2e/run.mjs --report ${resultsFile} --docs\`. The processes it ran, for example:`,
    '',
    '```sh',
    exampleCommands(results),
    '```',
    '',
    allTables(results).replace(/^####/gm, '###'),
    '',
    imgs.length ? '### Plots\n\n' + imgs.join('\n\n') : '',
    '',
  ]
    .filter((x) => x !== null)
    .filter((x, i, a) => !(x === '' && a[i - 1] === ''))
    .join('\n');
}

export function writeDocsSection(results, resultsFile) {
  // plots of an earlier run that this one does not redraw would be left unreferenced
  if (fs.existsSync(IMG))
    for (const f of fs.readdirSync(IMG)) if (/^e2e-.*\.svg$/.test(f)) fs.rmSync(path.join(IMG, f));
  const plots = writePlots(results, IMG);
  const section = renderSection(results, resultsFile, plots).trimEnd() + '\n';
  let doc = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '# Benchmarks\n';
  const start = doc.search(/^## End-to-end[ \t]*$/m);
  if (start < 0) {
    doc = doc.trimEnd() + '\n\n' + section;
  } else {
    const after = doc.slice(start + HEADING.length);
    const next = after.search(/^## /m);
    const end = next < 0 ? doc.length : start + HEADING.length + next;
    doc = doc.slice(0, start) + section + (next < 0 ? '' : '\n' + doc.slice(end));
  }
  fs.writeFileSync(DOC, doc);
  return [DOC, ...plots.map((p) => p.file)];
}
