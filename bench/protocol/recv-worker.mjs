// Contestants of the receive benchmark sharing one process (ws reads WS_NO_BUFFER_UTIL /
// WS_NO_UTF_8_VALIDATE at require time, wscore reads WSCORE_BACKEND at import time, so
// the parent starts one process per environment). Their runs alternate, so that load from
// elsewhere hits them alike. argv[2]: comma-separated impls (ws, wscore, wscore-protocol).
// Prints one JSON line: { results: { impl: [{ size, kind, msgs, bytes, seconds: [...] }] } }.
import path from 'node:path';

import { CHUNK, SIZES, clientStream, fresh, loadWscore, require, root } from './common.mjs';

const impls = process.argv[2].split(',');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
// Warm-up until the JIT settles: at least 10 runs and 1 s of CPU (optimizing compiles run
// on background threads and land late on a busy machine). No gc() between runs: the
// concurrent sweeping it leaves behind is charged to the next run's CPU time.
const WARMUP_RUNS = 10;
const WARMUP_SECONDS = 1;

function makeWs() {
  const Receiver = require(path.join(root, 'node_modules', 'ws', 'lib', 'receiver.js'));
  return (onMessage) => {
    const r = new Receiver({ isServer: true, maxPayload: 64 * 1024 * 1024 });
    r.on('message', onMessage);
    r.on('error', (e) => {
      throw e;
    });
    return (chunk) => r.write(chunk);
  };
}

// `js: true`: the reader on the pure-TS parser in the same process as the native one, so
// their runs alternate too (it is what WSCORE_BACKEND=js selects).
function makeWscore(js = false) {
  const { FrameReader, FrameInfo, jsBackend } = loadWscore();
  return (onMessage) => {
    const reader = new FrameReader(js ? { role: 'server', backend: jsBackend } : { role: 'server' });
    // Message assembly as the connection does it: a FIN TEXT/BINARY frame is a message as
    // is (zero-copy); fragments are collected and joined once.
    let parts = null;
    let partsBinary = false;
    const onFrame = (info, payload) => {
      const op = info & FrameInfo.OPCODE;
      const fin = (info & FrameInfo.FIN) !== 0;
      if (op === 1 || op === 2) {
        if (fin) onMessage(payload, op === 2);
        else {
          parts = [payload];
          partsBinary = op === 2;
        }
      } else if (op === 0) {
        parts.push(payload);
        if (fin) {
          onMessage(Buffer.concat(parts), partsBinary);
          parts = null;
        }
      }
    };
    return (chunk) => reader.feed(chunk, onFrame);
  };
}

function makeWscoreProtocol() {
  const { FrameProtocol } = loadWscore();
  return (onMessage) => {
    const p = new FrameProtocol(false, []);
    return (chunk) => {
      p.receiveBytes(chunk);
      for (const f of p.receivedFrames()) if (f.messageFinished) onMessage(f.payload, f.opcode === 2);
    };
  };
}

const makers = { ws: makeWs, wscore: () => makeWscore(), 'wscore-js': () => makeWscore(true), 'wscore-protocol': makeWscoreProtocol };
const factories = Object.fromEntries(impls.map((i) => [i, makers[i]()]));

function measure(impl, stream) {
  const factory = factories[impl];
  let count = 0;
  let sink = 0;
  const write = factory((data) => {
    sink += data.length;
    count++;
  });
  const chunks = fresh(stream.chunks);
  // CPU time of the process, not wall time: on a shared machine preemption would otherwise
  // dominate; all contestants pay their GC and JIT threads alike.
  const c0 = process.cpuUsage();
  for (const c of chunks) write(c);
  const cpu = process.cpuUsage(c0);
  // Both deliver message events synchronously (ws: allowSynchronousEvents, its default).
  if (count !== stream.count || sink === 0) throw new Error(`${impl}: ${count} of ${stream.count} messages`);
  return (cpu.user + cpu.system) / 1e6;
}

const results = Object.fromEntries(impls.map((i) => [i, []]));
for (const size of SIZES) {
  for (const kind of ['text', 'binary']) {
    const target = size <= 125 ? 4 * 1024 * 1024 : 16 * 1024 * 1024;
    const stream = clientStream(size, kind === 'text', target);
    for (const impl of impls) {
      for (let i = 0, spent = 0; i < WARMUP_RUNS || spent < WARMUP_SECONDS; i++) spent += measure(impl, stream);
    }
    const seconds = Object.fromEntries(impls.map((i) => [i, []]));
    for (let i = 0; i < RUNS; i++) for (const impl of impls) seconds[impl].push(measure(impl, stream));
    for (const impl of impls) results[impl].push({ size, kind, msgs: stream.count, bytes: stream.bytes, seconds: seconds[impl], chunk: CHUNK });
  }
}
process.stdout.write(JSON.stringify({ results }) + '\n');
