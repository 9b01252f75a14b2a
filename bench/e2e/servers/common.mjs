// Shared plumbing of the e2e echo servers (one file per implementation beside this one).
//
// Every server: listens on --host/--port (default 127.0.0.1, $PORT), prints
// "ready <port> <json-info>" on stdout once listening, and answers lines on stdin:
//   stats  -> "stats <json>": process.memoryUsage() after a full GC (run with --expose-gc,
//             so heapUsed is live data, not garbage), the number of open connections and
//             any messages the implementation reported it dropped
//   exit   -> exits (so does EOF on stdin: a crashed runner never leaves a server behind)
// Modes (--mode): echo (every message goes back to its sender, same opcode), idle (the same
// echo server: idle scale measures what an echo server holds per connection),
// broadcast (every message goes to every connection, the sender included), publish (every
// connection subscribes to one topic on connect; every message is published to it: the same
// fan-out through each implementation's topics, bench/topics/publish.mjs).
// --deflate off|nctx|ctx: permessage-deflate off, or on (each implementation is configured
// to compress every message; nctx/ctx lets one that has separate modes pick the matching
// one, e.g. uWS's shared vs dedicated compressor). The client's offer decides the rest.
// --preload LIST: also load code the server does not use before it starts (wscore: wscore's
// package index; client: wscore's io/client.js; builtins: 16 of Node's own modules). The
// runner never passes it; it reproduces the GC regime experiment of docs/benchmarks.md
// ("Throughput at 1,000 connections"): how much code a process has loaded changes V8's
// collections at 1,000 connections x 64 KiB.
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PRELOADS = {
  wscore: ['dist/cjs/index.js'],
  client: ['dist/cjs/io/client.js'],
  builtins: ['repl', 'inspector', 'http2', 'zlib', 'worker_threads', 'child_process', 'readline', 'dgram', 'cluster', 'vm', 'url', 'querystring', 'assert', 'util', 'dns', 'tty'].map((m) => `node:${m}`),
};

/** Loads what --preload names (see the comment at the top). */
export function preload(list) {
  const require = createRequire(import.meta.url);
  for (const name of list) {
    for (const mod of PRELOADS[name]) require(mod.startsWith('node:') ? mod : path.join(ROOT, mod));
  }
}

export function parseArgs(argv = process.argv.slice(2)) {
  const opts = {
    host: process.env.HOST || '127.0.0.1',
    port: Number(process.env.PORT || 0),
    mode: 'echo',
    deflate: 'off',
    maxPayload: 64 * 1024 * 1024,
    preload: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--host') opts.host = v;
    else if (k === '--port') opts.port = Number(v);
    else if (k === '--mode') opts.mode = v;
    else if (k === '--deflate') opts.deflate = v;
    else if (k === '--max-payload') opts.maxPayload = Number(v);
    else if (k === '--preload') opts.preload = v.split(',').filter(Boolean);
    else throw new Error(`unknown option ${k}`);
    i++;
  }
  if (!['echo', 'idle', 'broadcast', 'publish'].includes(opts.mode)) throw new Error(`bad --mode ${opts.mode}`);
  if (!['off', 'nctx', 'ctx'].includes(opts.deflate)) throw new Error(`bad --deflate ${opts.deflate}`);
  if (!Number.isInteger(opts.port) || opts.port <= 0 || opts.port > 65535) throw new Error('need --port');
  if (!opts.host.startsWith('127.')) throw new Error('loopback addresses only');
  for (const name of opts.preload) if (!(name in PRELOADS)) throw new Error(`bad --preload ${name} (one of ${Object.keys(PRELOADS).join(', ')})`);
  preload(opts.preload);
  return opts;
}

// Counters the implementation-specific code updates.
export const counters = { clients: 0, dropped: 0 };

export function ready(port, info) {
  process.stdout.write(`ready ${port} ${JSON.stringify(info)}\n`);
}

export function serveControl(extra = () => ({})) {
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'stats') {
      if (typeof globalThis.gc === 'function') globalThis.gc();
      const mem = process.memoryUsage();
      process.stdout.write(`stats ${JSON.stringify({ ...mem, ...counters, ...extra() })}\n`);
    } else if (cmd === 'exit') {
      process.exit(0);
    }
  });
  rl.on('close', () => process.exit(0));
}

// A connection error must not crash a benchmark server, but it should be seen: the first
// few go to stderr, which the runner keeps with the results of a run that had errors.
let errorsLogged = 0;
export function connectionError(err) {
  if (errorsLogged++ < 5) process.stderr.write(`server: connection error: ${err?.stack || err}\n`);
}

export function fatal(err) {
  process.stderr.write(`server: ${err?.stack || err}\n`);
  process.exit(1);
}
