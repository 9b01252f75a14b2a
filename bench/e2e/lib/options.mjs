// Command-line options of run.mjs. Defaults are the full matrix of the issue; --quick is a
// short smoke run (about two minutes) for checking that everything works.
const KiB = 1024;
const MiB = 1024 * KiB;

export const HELP = `npm run bench:e2e -- [options]

  --quick                 short run: 16 B + 1 KiB, 1 + 100 connections, compression off,
                          1.5 s windows, 1 repeat, scale/broadcast at 1,000 connections
  --suites LIST           throughput,latency,scale,broadcast (default: all)
  --servers LIST          wscore-native,wscore-js,ws,ws-plain,uws (default: all that load)
  --payloads LIST         message sizes, e.g. 16,1k,64k (default 16,1k,64k)
  --conns LIST            connections for throughput (default 1,100,1000)
  --deflate LIST          throughput compression modes: off,nctx,ctx (default off,nctx;
                          nctx = no context takeover both ways, ctx = context takeover)
  --latency-conns LIST    connections for latency (default 1,100)
  --latency-deflate LIST  compression modes for latency (default off)
  --duration S --warmup S measured window and warm-up per run (default 3 and 1)
  --repeat N              runs per cell and server, servers interleaved (default 3)
  --inflight K            messages in flight per connection, throughput (default 32)
  --inflight-budget BYTES cap on K x connections x payload (default 16m)
  --inflight-total N      cap on K x connections (default 4096)
  --scale-conns LIST      idle connections (default 10000; up to ~19000 with --src)
  --src LIST              client source addresses, e.g. 127.0.0.2,127.0.0.3
  --bcast-conns LIST      broadcast receivers (default 1000,10000)
  --bcast-size BYTES      broadcast payload (default 1k)
  --bcast-rounds N        measured broadcast rounds (default 20, after 3 warm-up rounds)
  --cpus S,L              cores for the server and the load generator (default 0,1)
  --text                  send text frames instead of binary
  --out FILE              results file (default bench/results/e2e-<time>.json)
  --docs                  also write the "## End-to-end" section of docs/benchmarks.md and
                          its SVG plots (docs/img/e2e-*.svg)
  --report FILE           do not run: print the tables of an earlier results file
                          (with --docs: regenerate the docs section from it)
`;

export function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?$/i.exec(String(s).trim());
  if (!m) throw new Error(`bad size: ${s}`);
  const unit = (m[2] || 'b').toLowerCase()[0];
  return Math.round(Number(m[1]) * (unit === 'k' ? KiB : unit === 'm' ? MiB : 1));
}

const list = (s) => String(s).split(',').map((x) => x.trim()).filter(Boolean);
const ints = (s) => list(s).map((x) => parseSize(x));

export function parseOptions(argv) {
  const o = {
    suites: ['throughput', 'latency', 'scale', 'broadcast'],
    servers: null,
    payloads: [16, 1 * KiB, 64 * KiB],
    conns: [1, 100, 1000],
    deflate: ['off', 'nctx'],
    latencyConns: [1, 100],
    latencyDeflate: ['off'],
    duration: 3,
    warmup: 1,
    repeat: 3,
    inflight: 32,
    inflightBudget: 16 * MiB,
    inflightTotal: 4096,
    scaleConns: [10000],
    src: null,
    bcastConns: [1000, 10000],
    bcastSize: 1 * KiB,
    bcastRounds: 20,
    bcastWarmupRounds: 3,
    cpus: { server: 0, loadgen: 1 },
    text: false,
    out: null,
    docs: false,
    report: null,
    quick: false,
    connectConcurrency: 256,
    settleMs: 1500,
  };
  const explicit = new Set();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    explicit.add(a);
    switch (a) {
      case '--help': case '-h': o.help = true; break;
      case '--quick': o.quick = true; break;
      case '--suites': o.suites = list(next()); break;
      case '--servers': o.servers = list(next()); break;
      case '--payloads': o.payloads = ints(next()); break;
      case '--conns': o.conns = ints(next()); break;
      case '--deflate': o.deflate = list(next()); break;
      case '--latency-conns': o.latencyConns = ints(next()); break;
      case '--latency-deflate': o.latencyDeflate = list(next()); break;
      case '--duration': o.duration = Number(next()); break;
      case '--warmup': o.warmup = Number(next()); break;
      case '--repeat': o.repeat = Number(next()); break;
      case '--inflight': o.inflight = Number(next()); break;
      case '--inflight-budget': o.inflightBudget = parseSize(next()); break;
      case '--inflight-total': o.inflightTotal = parseSize(next()); break;
      case '--scale-conns': o.scaleConns = ints(next()); break;
      case '--src': o.src = next(); break;
      case '--bcast-conns': o.bcastConns = ints(next()); break;
      case '--bcast-size': o.bcastSize = parseSize(next()); break;
      case '--bcast-rounds': o.bcastRounds = Number(next()); break;
      case '--cpus': {
        const [s, l] = list(next()).map(Number);
        o.cpus = { server: s, loadgen: l };
        break;
      }
      case '--text': o.text = true; break;
      case '--out': o.out = next(); break;
      case '--docs': o.docs = true; break;
      case '--report': o.report = next(); break;
      default: throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  if (o.quick) {
    // only what the user did not set explicitly
    const q = {
      '--payloads': () => (o.payloads = [16, 1 * KiB]),
      '--conns': () => (o.conns = [1, 100]),
      '--deflate': () => (o.deflate = ['off']),
      '--duration': () => (o.duration = 1.5),
      '--warmup': () => (o.warmup = 0.5),
      '--repeat': () => (o.repeat = 1),
      '--scale-conns': () => (o.scaleConns = [1000]),
      '--bcast-conns': () => (o.bcastConns = [1000]),
      '--bcast-rounds': () => (o.bcastRounds = 10),
    };
    for (const [flag, set] of Object.entries(q)) if (!explicit.has(flag)) set();
    o.settleMs = 500;
  }
  validate(o);
  return o;
}

function validate(o) {
  const bad = (m) => {
    throw new Error(m);
  };
  for (const s of o.suites) if (!['throughput', 'latency', 'scale', 'broadcast'].includes(s)) bad(`unknown suite ${s}`);
  for (const d of [...o.deflate, ...o.latencyDeflate]) if (!['off', 'nctx', 'ctx'].includes(d)) bad(`unknown deflate mode ${d}`);
  if (!(o.duration > 0 && o.duration <= 600)) bad('--duration must be in (0, 600]');
  if (!(o.warmup >= 0 && o.warmup <= 60)) bad('--warmup must be in [0, 60]');
  if (!(Number.isInteger(o.repeat) && o.repeat >= 1 && o.repeat <= 20)) bad('--repeat must be 1..20');
  if (!(Number.isInteger(o.inflight) && o.inflight >= 1 && o.inflight <= 256)) bad('--inflight must be 1..256');
  if (!(o.inflightTotal >= 1 && o.inflightBudget >= 1)) bad('--inflight-total and --inflight-budget must be >= 1');
  if (!(Number.isInteger(o.bcastRounds) && o.bcastRounds >= 1 && o.bcastRounds <= 500)) bad('--bcast-rounds must be 1..500');
  for (const n of [...o.conns, ...o.latencyConns, ...o.scaleConns, ...o.bcastConns])
    if (!(n >= 1 && n <= 100000)) bad(`connection count ${n} out of range`);
  for (const p of [...o.payloads, o.bcastSize]) if (!(p >= 0 && p <= 4 * MiB)) bad(`payload ${p} out of range (max 4 MiB)`);
  if (o.src) for (const a of list(o.src)) if (!/^127\.\d+\.\d+\.\d+$/.test(a)) bad(`--src ${a}: loopback (127.0.0.0/8) only`);
}
