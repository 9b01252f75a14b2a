// In-process publish to many subscribers (issue 15's first target): wscore `wss.publish(topic,
// data)` against uWS.js `app.publish(topic, data)`, in the same run, interleaved.
//
//   npm run build:ts && node bench/topics/publish.mjs [--subscribers 10000] [--size 1024]
//        [--rounds 100] [--repeat 3] [--servers wscore-native,uws] [--cpus 0,1] [--src 127.0.0.2,...]
//        [--out FILE]
// (--src: spread the connections over these source addresses, as in bench/e2e, when one
// address's ephemeral ports run short.)
//
// It is the e2e broadcast measurement with topics: the servers are bench/e2e/servers/*.mjs in
// `--mode publish` (every connection subscribes to one topic when it opens; a message from any
// connection is published to that topic, the sender included), each a fresh process pinned
// with taskset to the first cpu; the subscribers are the C load generator of bench/e2e
// (`--mode broadcast`) pinned to the second: per round one connection sends a 1 KiB message
// and the generator records the time until every subscriber has it (and checks every copy).
// uWS.js loads through bench/e2e's glibc shim (lib/build.mjs prepareUws()).
// Reported per server: time until all delivered, p50 and p99 over the rounds of a run, then
// the median over --repeat runs; deliveries/s = subscribers / p50 time.
// Needs `ulimit -n` above subscribers + 200 in both processes (checked).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { ROOT, buildLoadgen, checkWscore, prepareUws } from '../e2e/lib/build.mjs';
import { runLoadgen, startServer, freePort } from '../e2e/lib/proc.mjs';
import { SERVERS, serverEnv, serverScript } from '../e2e/lib/servers.mjs';

const { values: o } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '10000' },
    size: { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '100' },
    repeat: { type: 'string', default: '3' },
    servers: { type: 'string', default: 'wscore-native,uws' },
    cpus: { type: 'string', default: '0,1' },
    src: { type: 'string' },
    out: { type: 'string' },
  },
});
const subscribers = Number(o.subscribers);
const size = Number(o.size);
const rounds = Number(o.rounds);
const repeat = Number(o.repeat);
const [serverCpu, loadgenCpu] = o.cpus.split(',').map(Number);
const log = (...a) => console.error(...a);

const nofile = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
if (nofile && subscribers + 200 > nofile) {
  log(`${subscribers} subscribers need ulimit -n >= ${subscribers + 200} (it is ${nofile}): raise it (ulimit -n 20000) or lower --subscribers`);
  process.exit(2);
}

const prereq = { loadgen: buildLoadgen() };
const servers = [];
for (const name of o.servers.split(',')) {
  if (!SERVERS[name]) throw new Error(`unknown server ${name}`);
  if (SERVERS[name].needs === 'wscore') {
    const w = checkWscore();
    if (w.error) throw new Error(w.error);
  } else if (SERVERS[name].needs === 'uws') {
    const u = prepareUws();
    if (u.error) throw new Error(`uWS.js: ${u.error}`);
    prereq.uws = u;
  }
  servers.push(name);
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : null;
}
const median = (xs) => percentile([...xs].sort((a, b) => a - b), 50);

async function oneRun(name) {
  const port = await freePort();
  const server = await startServer({
    name,
    script: serverScript(name),
    env: serverEnv(name, prereq),
    args: ['--port', String(port), '--mode', 'publish', '--deflate', 'off'],
    cpu: serverCpu,
  });
  try {
    const warm = 3;
    const r = await runLoadgen({
      bin: prereq.loadgen,
      args: [
        '--port', String(server.port), '--mode', 'broadcast', '--conns', String(subscribers), '--size', String(size),
        '--rounds', String(rounds + warm), '--warmup-rounds', String(warm), '--round-gap', '0.05', '--round-timeout', '20',
        '--server-pid', String(server.pid), '--max-seconds', '400',
        ...(o.src ? ['--src', o.src] : []),
      ],
      cpu: loadgenCpu,
      timeoutMs: 420_000,
    });
    const all = [...(r.broadcast?.all_ms ?? [])].sort((a, b) => a - b);
    return { server: name, info: server.info, errors: r.error_total, p50_ms: percentile(all, 50), p99_ms: percentile(all, 99), rounds: all.length, raw: r };
  } finally {
    await server.stop();
  }
}

const runs = [];
for (let i = 0; i < repeat; i++) {
  for (const name of servers) {
    const r = await oneRun(name);
    runs.push(r);
    log(`run ${i + 1}/${repeat} ${name} (${r.info.broadcast}): ${r.rounds} rounds, all delivered p50 ${r.p50_ms?.toFixed(3)} ms, p99 ${r.p99_ms?.toFixed(3)} ms, errors ${r.errors}`);
  }
}

const rows = servers.map((name) => {
  const mine = runs.filter((r) => r.server === name && r.errors === 0 && r.rounds > 0);
  const p50 = mine.length ? median(mine.map((r) => r.p50_ms)) : null;
  const p99 = mine.length ? median(mine.map((r) => r.p99_ms)) : null;
  return { name, label: SERVERS[name].label, p50, p99, deliveriesPerSec: p50 ? subscribers / (p50 / 1000) : null, ok: mine.length };
});
console.log(`\npublish of ${size} B to ${subscribers} subscribers, medians of ${repeat} runs x ${rounds} rounds (server cpu ${serverCpu}, load generator cpu ${loadgenCpu})\n`);
console.log('| server | time until all delivered p50 | p99 | deliveries/s | clean runs |');
console.log('|-|-|-|-|-|');
for (const r of rows) console.log(`| ${r.label} | ${r.p50?.toFixed(2) ?? 'failed'} ms | ${r.p99?.toFixed(2) ?? '-'} ms | ${r.deliveriesPerSec ? Math.round(r.deliveriesPerSec).toLocaleString('en-US') : '-'} | ${r.ok}/${repeat} |`);
const w = rows.find((r) => r.name === 'wscore-native');
const u = rows.find((r) => r.name === 'uws');
if (w?.p50 && u?.p50) console.log(`\nwscore / uWS.js time (p50): ${(w.p50 / u.p50).toFixed(2)}x (target: <= 1.00, i.e. >= uWS.js publish)`);

const out = o.out ?? path.join(ROOT, 'bench/results', `topics-publish-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ subscribers, size, rounds, repeat, cpus: [serverCpu, loadgenCpu], rows, runs }, null, 1));
log(`results: ${path.relative(ROOT, out)}`);
