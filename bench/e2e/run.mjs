// npm run bench:e2e — end-to-end WebSocket benchmark: a C load generator (loadgen.c) against
// one echo server at a time (wscore native, wscore js, ws + bufferutil, ws plain, uWS.js),
// server and generator pinned to different cores. Suites: throughput, latency, idle
// connection scale, broadcast. Writes bench/results/e2e-<time>.json, prints markdown tables
// with ratios, and with --docs rewrites the "## End-to-end" section of docs/benchmarks.md.
// See bench/e2e/README.md and --help.
import fs from 'node:fs';
import path from 'node:path';

import { ROOT, buildLoadgen, checkWscore, prepareUws } from './lib/build.mjs';
import { machineInfo } from './lib/machine.mjs';
import { HELP, parseOptions } from './lib/options.mjs';
import { allTables, fmtRate, fmtSize, fmtUs } from './lib/report.mjs';
import { SERVERS, SERVER_ORDER } from './lib/servers.mjs';
import { summarizeBroadcast, summarizeEcho, summarizeScale } from './lib/stats.mjs';
import { broadcastRun, echoRun, inflightFor, scaleRun } from './lib/suites.mjs';

const log = (...a) => console.error(...a);

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(HELP);
    return;
  }
  if (opts.report) {
    const results = JSON.parse(fs.readFileSync(opts.report, 'utf8'));
    console.log(allTables(results));
    if (opts.docs) await writeDocs(results, opts.report);
    return;
  }

  // --- what can run ---
  const prereq = { loadgen: buildLoadgen() };
  const skipped = {};
  const wscore = checkWscore();
  if (wscore.error) skipped.wscore = wscore.error;
  if (!process.env.WSCORE_BASE) skipped['wscore-base'] = 'WSCORE_BASE is not set (the path of a built checkout of an earlier commit)';
  else if (!fs.existsSync(path.join(process.env.WSCORE_BASE, 'dist/cjs/index.js'))) skipped['wscore-base'] = `no dist/cjs in ${process.env.WSCORE_BASE}: run npm run build:ts there`;
  const uws = prepareUws();
  if (uws.error) skipped.uws = uws.error;
  else prereq.uws = uws;
  const wanted = opts.servers ?? SERVER_ORDER;
  for (const s of wanted) if (!SERVERS[s]) throw new Error(`unknown server ${s} (known: ${SERVER_ORDER.join(', ')})`);
  const servers = wanted.filter((s) => {
    const need = SERVERS[s].needs;
    if (need && skipped[need]) {
      log(`skipping ${SERVERS[s].label}: ${skipped[need]}`);
      return false;
    }
    return true;
  });
  if (!servers.length) throw new Error('no server to run');
  if (prereq.uws) log(`uWS.js: ${prereq.uws.how}`);

  const nofile = machineInfo().nofile;
  const maxConns = Math.max(...(opts.suites.includes('scale') ? opts.scaleConns : [1]), ...(opts.suites.includes('broadcast') ? opts.bcastConns : [1]), ...opts.conns);
  if (nofile && maxConns + 200 > nofile)
    throw new Error(`${maxConns} connections need more open files than ulimit -n (${nofile}) allows, in both the server and the load generator`);

  const ctx = { opts, prereq, loadgen: prereq.loadgen, cpus: opts.cpus };
  const results = {
    meta: {
      started: new Date().toISOString(),
      command: `npm run bench:e2e -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine: machineInfo(),
      options: opts,
      servers,
      skipped,
      uws: prereq.uws ? { how: prereq.uws.how } : null,
      pinning: `server on cpu ${opts.cpus.server}, load generator on cpu ${opts.cpus.loadgen} (taskset)`,
    },
    echo: [],
    scale: [],
    broadcast: [],
  };
  const out = opts.out ?? path.join(ROOT, 'bench/results', `e2e-${results.meta.started.replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const save = () => fs.writeFileSync(out, JSON.stringify(results, null, 1));

  // --- the plan: cells in order, every server once per repeat (interleaved, so a noisy
  // minute hits all servers alike rather than one) ---
  const plan = [];
  for (const suite of ['throughput', 'latency']) {
    if (!opts.suites.includes(suite)) continue;
    const modes = suite === 'throughput' ? opts.deflate : opts.latencyDeflate;
    const connsList = suite === 'throughput' ? opts.conns : opts.latencyConns;
    for (const deflate of modes)
      for (const conns of connsList)
        for (const size of opts.payloads) {
          const inflight = suite === 'latency' ? 1 : inflightFor(opts, conns, size);
          plan.push({ kind: 'echo', cell: { suite, deflate, conns, size, inflight } });
        }
  }
  if (opts.suites.includes('scale')) for (const conns of opts.scaleConns) plan.push({ kind: 'scale', cell: { conns } });
  if (opts.suites.includes('broadcast')) for (const conns of opts.bcastConns) plan.push({ kind: 'broadcast', cell: { conns, size: opts.bcastSize } });

  const total = plan.length * opts.repeat * servers.length;
  let done = 0;
  for (const { kind, cell } of plan) {
    const entry = { ...cell, servers: {} };
    results[kind].push(entry);
    for (let rep = 0; rep < opts.repeat; rep++)
      for (const s of servers) {
        done++;
        const tag = `[${done}/${total}] ${describe(kind, cell)} ${SERVERS[s].label}${opts.repeat > 1 ? ` #${rep + 1}` : ''}`;
        let r;
        try {
          if (kind === 'echo') r = await echoRun(s, ctx, cell);
          else if (kind === 'scale') r = await scaleRun(s, ctx, cell.conns);
          else r = await broadcastRun(s, ctx, cell.conns);
        } catch (err) {
          log(`${tag}: FAILED: ${err.message}`);
          r = { failed: err.message, error_total: 1 };
        }
        (entry.servers[s] ??= { runs: [] }).runs.push(r);
        if (!r.failed) log(`${tag}: ${oneLine(kind, r)}`);
        const runs = entry.servers[s].runs;
        entry.servers[s].summary = kind === 'echo' ? summarizeEcho(runs) : kind === 'scale' ? summarizeScale(runs) : summarizeBroadcast(runs);
        save();
      }
  }
  results.meta.finished = new Date().toISOString();
  results.meta.loadavg_end = machineInfo().loadavg;
  save();
  console.log(allTables(results));
  log(`\nresults: ${path.relative(ROOT, out)}`);
  if (opts.docs) await writeDocs(results, out);
}

function describe(kind, c) {
  if (kind === 'echo') return `${c.suite} ${c.deflate} ${c.conns}c ${fmtSize(c.size)}`;
  if (kind === 'scale') return `scale ${c.conns} idle`;
  return `broadcast ${c.conns}c ${fmtSize(c.size)}`;
}

function oneLine(kind, r) {
  const errs = r.error_total ? ` ERRORS ${r.error_total} ${JSON.stringify(r.errors)}` : '';
  if (kind === 'echo')
    return `${fmtRate(r.msgs_per_s)} msg/s ${r.MBps.toFixed(1)} MB/s p50 ${fmtUs(r.rtt_us.p50)} p99 ${fmtUs(r.rtt_us.p99)} cpu gen ${r.loadgen_cpu.toFixed(2)} srv ${r.server_cpu?.toFixed(2) ?? '?'}${errs}`;
  if (kind === 'scale')
    return `${r.opened} open in ${r.open_ms.toFixed(0)} ms, RSS/conn ${((r.rss_per_conn ?? 0) / 1024).toFixed(1)} KiB, heap/conn ${((r.heap_per_conn ?? 0) / 1024).toFixed(1)} KiB${errs}`;
  return `${r.method}: all in ${r.broadcast.median_all_ms.toFixed(2)} ms (first ${r.broadcast.median_first_ms.toFixed(2)} ms)${errs}`;
}

async function writeDocs(results, file) {
  const { writeDocsSection } = await import('./lib/docs.mjs');
  const written = writeDocsSection(results, path.relative(ROOT, file));
  log(`wrote ${written.map((f) => path.relative(ROOT, f)).join(', ')}`);
}

main().catch((err) => {
  console.error(`bench:e2e: ${err.message}`);
  process.exitCode = 1;
});

