// Contestants of the send benchmark (messages -> frame bytes) sharing one process, their
// runs alternating (see recv-worker.mjs). argv[2]: comma-separated impls (ws, wscore).
// Server side (unmasked: buffers for writev) and client side (masked into one buffer).
import path from 'node:path';

import { SIZES, loadWscore, payload, require, root } from './common.mjs';

const impls = process.argv[2].split(',');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
// Warm-up until the JIT settles: at least 10 runs and 1 s of CPU (optimizing compiles run
// on background threads and land late on a busy machine). No gc() between runs: the
// concurrent sweeping it leaves behind is charged to the next run's CPU time.
const WARMUP_RUNS = 10;
const WARMUP_SECONDS = 1;

function makeWs() {
  const Sender = require(path.join(root, 'node_modules', 'ws', 'lib', 'sender.js'));
  return (mask) => (data, text) => Sender.frame(data, { fin: true, opcode: text ? 1 : 2, mask, readOnly: true, rsv1: false });
}

function makeWscore() {
  const { FrameWriter } = loadWscore();
  return (mask) => {
    const w = new FrameWriter({ mask });
    return (data, text) => w.frameParts(text ? 1 : 2, data);
  };
}

const makers = { ws: makeWs, wscore: makeWscore };
const factories = Object.fromEntries(impls.map((i) => [i, makers[i]()]));

function measure(frame, messages, text) {
  let sink = 0;
  // CPU time, not wall time (see recv-worker.mjs).
  const c0 = process.cpuUsage();
  for (let i = 0; i < messages.length; i++) {
    const out = frame(messages[i], text);
    sink += out.length;
  }
  const cpu = process.cpuUsage(c0);
  if (sink === 0) throw new Error('nothing framed');
  return (cpu.user + cpu.system) / 1e6;
}

const results = Object.fromEntries(impls.map((i) => [i, []]));
for (const side of ['server', 'client']) {
  for (const size of SIZES) {
    for (const kind of ['text', 'binary']) {
      const text = kind === 'text';
      const count = Math.max(64, Math.floor(((size <= 125 ? 2 : 8) * 1024 * 1024) / size));
      // Text is sent as strings (as an application does), binary as Buffers.
      const base = Array.from({ length: 8 }, (_, i) => payload(size, text, i));
      const messages = Array.from({ length: count }, (_, i) => (text ? base[i & 7].toString() : base[i & 7]));
      const frames = Object.fromEntries(impls.map((i) => [i, factories[i](side === 'client')]));
      for (const impl of impls) {
        for (let i = 0, spent = 0; i < WARMUP_RUNS || spent < WARMUP_SECONDS; i++) spent += measure(frames[impl], messages, text);
      }
      const seconds = Object.fromEntries(impls.map((i) => [i, []]));
      for (let i = 0; i < RUNS; i++) for (const impl of impls) seconds[impl].push(measure(frames[impl], messages, text));
      for (const impl of impls) results[impl].push({ side, size, kind, msgs: count, bytes: count * size, seconds: seconds[impl] });
    }
  }
}
process.stdout.write(JSON.stringify({ results }) + '\n');
