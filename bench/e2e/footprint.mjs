// Memory per idle connection, measured inside the server process (no runner, no taskset):
// N idle connections from the load generator (--mode idle), then process.memoryUsage()
// after a full GC, minus the same before. Besides wscore and ws it measures two floors:
// a bare net.Server and a bare http.Server 'upgrade' handler that answer the handshake and
// hold the socket — what Node itself costs per WebSocket before any library code runs.
//
//   npm run build:ts && node bench/e2e/run.mjs --quick --suites scale   # builds the loadgen
//   node --expose-gc bench/e2e/footprint.mjs wscore|ws|net|http [--conns 2000] [--snapshot f.heapsnapshot]
//
// --snapshot writes a V8 heap snapshot once the connections are open (open it in Chrome
// DevTools' Memory tab, or count objects per constructor to see what a connection holds).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

const require = createRequire(import.meta.url);
const E2E = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(E2E, '../..');
const args = process.argv.slice(2);
const kind = args[0] ?? 'wscore';
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args[i + 1];
};
const conns = Number(opt('--conns', 2000));
const snapshot = opt('--snapshot', null);
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const accept = (key) => createHash('sha1').update(key + GUID).digest('base64');
const answer = (key) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`;
const held = new Set();

function listen() {
  const host = '127.0.0.1';
  if (kind === 'net') {
    // Reads the request in one chunk (the load generator sends it in one write).
    const server = net.createServer((socket) =>
      socket.once('data', (head) => {
        socket.write(answer(/sec-websocket-key: *(\S+)/i.exec(String(head))[1]));
        held.add(socket);
        socket.on('data', () => {});
      }),
    );
    return new Promise((resolve) => server.listen(0, host, () => resolve(server.address().port)));
  }
  if (kind === 'http') {
    const server = http.createServer();
    server.on('upgrade', (req, socket) => {
      socket.write(answer(req.headers['sec-websocket-key']));
      held.add(socket);
      socket.on('data', () => {});
    });
    return new Promise((resolve) => server.listen(0, host, () => resolve(server.address().port)));
  }
  const lib = kind === 'ws' ? require('ws') : require(path.join(ROOT, 'dist/cjs/index.js'));
  const wss = new lib.WebSocketServer({ host, port: 0, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', () => {});
  });
  return new Promise((resolve) => wss.on('listening', () => resolve(wss.address().port)));
}

const port = await listen();
globalThis.gc();
const before = process.memoryUsage();
const loadgen = spawn(path.join(E2E, 'build/loadgen'), ['--port', String(port), '--mode', 'idle', '--conns', String(conns)], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
loadgen.stdout.on('data', async (chunk) => {
  if (!String(chunk).includes('event open')) return;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  globalThis.gc();
  const after = process.memoryUsage();
  const per = (k) => `${((after[k] - before[k]) / conns / 1024).toFixed(2)} KiB`;
  console.log(`${kind}: ${conns} idle connections, per connection: rss ${per('rss')}, heap ${per('heapUsed')}, external ${per('external')}`);
  if (snapshot) console.log(`heap snapshot: ${v8.writeHeapSnapshot(snapshot)}`);
  loadgen.stdin.end();
  setTimeout(() => process.exit(0), 300);
});
